//! Changing the account password (`x:AccountPassword`, spec §4).
//!
//! The new password is checked here first with the server's default policy (8 to 128 bytes,
//! zxcvbn score 3 or more), so the user hears why at once; the server's verdict is reported
//! as it comes. When two-factor authentication is on, the server requires the current code
//! as well, which known clients forget: this client asks for it before sending anything.

use crate::client::Client;
use crate::envelope::{SetArgs, SetResponse};
use crate::error::Error;
use crate::objects::{ACCOUNT_PASSWORD, AccountPassword, AccountPasswordPatch, SINGLETON};
use crate::secret::{Exposed, Secret};

/// Stalwart's default `passwordMinLength`, in bytes.
pub const MIN_PASSWORD_BYTES: usize = 8;
/// Stalwart's default `passwordMaxLength`, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 128;
/// Stalwart's default `passwordMinStrength` (zxcvbn score `three`).
pub const MIN_PASSWORD_SCORE: u8 = 3;

/// Checks a new password against the server's default policy.
///
/// ```
/// use mailseal_jmap::account::password::check_password;
/// assert_eq!(check_password("password1").unwrap_err().code(), "jmap.weak_password");
/// assert!(check_password("correct horse battery staple 1987").is_ok());
/// ```
pub fn check_password(password: &str) -> Result<(), Error> {
    let len = password.len();
    if len < MIN_PASSWORD_BYTES {
        return Err(Error::WeakPassword {
            reason: format!("it must be at least {MIN_PASSWORD_BYTES} characters long"),
        });
    }
    if len > MAX_PASSWORD_BYTES {
        return Err(Error::WeakPassword {
            reason: format!("it must be at most {MAX_PASSWORD_BYTES} bytes long"),
        });
    }
    let estimate = zxcvbn::zxcvbn(password, &[]);
    if u8::from(estimate.score()) < MIN_PASSWORD_SCORE {
        let mut reason = "it is too easy to guess".to_owned();
        if let Some(feedback) = estimate.feedback() {
            if let Some(w) = feedback.warning() {
                reason.push_str(&format!(" ({w})"));
            }
            for s in feedback.suggestions() {
                reason.push_str(&format!("; {s}"));
            }
        }
        return Err(Error::WeakPassword { reason });
    }
    Ok(())
}

/// The state of the password credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordState {
    /// Whether the account has a password the server manages (not an external directory).
    pub has_password: bool,
    /// Whether two-factor authentication (TOTP) is on.
    pub totp_enabled: bool,
}

/// What a password change did besides changing the password.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PasswordChange {
    /// The app passwords (their labels) the server removed with the change: all of them on
    /// Stalwart 0.14–0.15, none on 0.16.
    pub removed_app_passwords: Vec<String>,
    /// Whether the server turned two-factor authentication off with the change (0.14–0.15).
    pub totp_turned_off: bool,
    /// What a person must hear about it, when the server drops other state on a password
    /// change ([`Client::password_change_warning`]).
    pub warning: Option<&'static str>,
}

impl Client {
    /// A warning to show *before* a password change when the server also drops other
    /// state with it (Stalwart 0.14–0.15 removes every app password and the TOTP secret);
    /// `None` when it does not.
    pub fn password_change_warning(&self) -> Option<&'static str> {
        self.is_rest().then_some(PASSWORD_CHANGE_WARNING)
    }

    /// Reads whether the account has a password and whether TOTP is on.
    pub async fn password_state(&self) -> Result<PasswordState, Error> {
        if self.is_rest() {
            return self.rest_password_state().await;
        }
        let object: Option<AccountPassword> = self.get_singleton(ACCOUNT_PASSWORD).await?;
        Ok(PasswordState {
            has_password: object.is_some(),
            totp_enabled: object.as_ref().is_some_and(AccountPassword::totp_enabled),
        })
    }

    /// Updates the `AccountPassword` singleton with `patch`, turning a `notUpdated` answer
    /// into an error. The body is wiped once sent.
    ///
    /// Stalwart answers a wrong password and a wrong two-factor code alike ("Current secret is
    /// incorrect."); when a code was sent, the password is checked on its own to say which.
    pub(crate) async fn update_password_object(
        &self,
        patch: AccountPasswordPatch<'_>,
    ) -> Result<(), Error> {
        let code_sent = patch.otp_code.is_some()
            || patch
                .otp_auth
                .as_ref()
                .is_some_and(|o| o.otp_code.is_some());
        let current = patch.current_secret.0.clone();
        let resp: SetResponse<serde_json::Value> = self
            .call(
                &format!("{ACCOUNT_PASSWORD}/set"),
                &SetArgs::update(SINGLETON, patch),
            )
            .await?;
        match resp.updated(SINGLETON) {
            Err(Error::Set(e))
                if e.description
                    .as_deref()
                    .is_some_and(|d| d.starts_with("Current secret is incorrect")) =>
            {
                if code_sent && self.password_is_right(&current).await? {
                    Err(Error::WrongTotpCode)
                } else {
                    Err(Error::WrongPassword)
                }
            }
            other => other,
        }
    }

    /// Changes the password. `totp_code` is required when two-factor authentication is on.
    /// On success, a client signed in with the password switches to the new one. The server
    /// then revokes every OAuth token of the account (the client sees only a generic 401):
    /// a client that holds the password signs in again by itself with the new one (asking
    /// its code provider for a code); one that holds only tokens answers
    /// [`Error::SignInRequired`] on its next request.
    ///
    /// On Stalwart 0.14–0.15 the server also removes every app password and turns
    /// two-factor authentication off; [`Client::change_password_reporting`] says what went.
    pub async fn change_password(
        &self,
        current: &Secret,
        new: &Secret,
        totp_code: Option<&str>,
    ) -> Result<(), Error> {
        self.change_password_reporting(current, new, totp_code)
            .await
            .map(drop)
    }

    /// [`Client::change_password`], saying what else the change removed (see
    /// [`PasswordChange`]).
    pub async fn change_password_reporting(
        &self,
        current: &Secret,
        new: &Secret,
        totp_code: Option<&str>,
    ) -> Result<PasswordChange, Error> {
        if self.is_rest() {
            return self.rest_change_password(current, new, totp_code).await;
        }
        check_new_password(current, new)?;
        let state = self.password_state().await?;
        if !state.has_password {
            return Err(Error::NotAvailable {
                reason: "this account has no password the mail server manages (it comes from \
                         an external directory or single sign-on); change it there"
                    .into(),
            });
        }
        let otp_code = code_for_change(state.totp_enabled, totp_code)?;
        self.update_password_object(AccountPasswordPatch {
            current_secret: Exposed(current),
            secret: Some(Exposed(new)),
            otp_code,
            otp_auth: None,
        })
        .await?;
        self.password_changed(new);
        Ok(PasswordChange::default())
    }
}

/// What callers are told before a password change on a REST server.
pub(crate) const PASSWORD_CHANGE_WARNING: &str = "on this server (Stalwart 0.14–0.15) changing \
    the password also removes every app password and turns two-factor authentication off; \
    set them up again afterwards";

/// What both APIs check before a password change: the local policy, and a new password.
pub(crate) fn check_new_password(current: &Secret, new: &Secret) -> Result<(), Error> {
    check_password(new.expose())?;
    if new == current {
        return Err(Error::invalid(
            "the new password is the same as the current one; choose another",
        ));
    }
    Ok(())
}

/// The TOTP code a password change sends: none when two-factor authentication is off, the
/// caller's when it is on (an error without one).
pub(crate) fn code_for_change(
    totp_enabled: bool,
    totp_code: Option<&str>,
) -> Result<Option<&str>, Error> {
    match (totp_enabled, totp_code) {
        (false, _) => Ok(None),
        (true, Some(code)) => Ok(Some(code)),
        (true, None) => Err(Error::invalid(
            "two-factor authentication is on: the current code from the authenticator app is \
             needed to change the password",
        )),
    }
}
