//! TOTP on 0.15: `enableOtpAuth` / `disableOtpAuth` over HTTP Basic with the current
//! password (`password$code` while TOTP is on). The server validates nothing, and a URL
//! that does not start with `otpauth://` silently *replaces the password* (fixture 28), so
//! the URL goes through the same local checks as on JMAP before anything is sent.

use crate::account::totp::{TotpEnrollment, code_to_replace, validate_url};
use crate::client::Client;
use crate::credential::SignInMethod;
use crate::error::Error;
use crate::secret::Secret;

use super::actions::AuthAction;

impl Client {
    /// [`Client::enable_totp`] on a REST server.
    pub(crate) async fn rest_enable_totp(
        &self,
        current_password: &Secret,
        enrollment: &TotpEnrollment,
        new_code: &str,
        current_code: Option<&str>,
    ) -> Result<(), Error> {
        validate_url(enrollment.url().expose())?;
        // Once TOTP is on, the server refuses the password without a code (402): a password
        // session can go on only if it can ask for codes.
        if self.sign_in_method() == SignInMethod::Password && self.credential().codes().is_none() {
            return Err(Error::NotAvailable {
                reason: "two-factor authentication was not turned on: once it is on, this \
                         server refuses the password without a code, and this session has no \
                         way to ask for one; sign in with the password and a code prompt, or \
                         with an app password, and try again"
                    .into(),
            });
        }
        enrollment.verify(new_code)?;
        let code = code_to_replace(self.totp_enabled().await?, current_code)?;
        let url = enrollment.url();
        let body = [AuthAction::EnableOtpAuth { url: url.expose() }];
        self.rest_post_confirmed(current_password, code, &body)
            .await
            .map(drop)
    }

    /// [`Client::disable_totp`] on a REST server.
    pub(crate) async fn rest_disable_totp(
        &self,
        current_password: &Secret,
        code: &str,
    ) -> Result<(), Error> {
        let body = [AuthAction::DisableOtpAuth];
        self.rest_post_confirmed(current_password, Some(code), &body)
            .await?;
        self.totp_turned_off();
        Ok(())
    }
}
