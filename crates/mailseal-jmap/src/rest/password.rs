//! Password change on 0.15: `setPassword` with a `$6$` hash of the new password (the server
//! stores what it is sent), over HTTP Basic with the current password (`password$code` when
//! two-factor authentication is on). On 0.14–0.15 the server first removes every app
//! password and the TOTP secret (fixture 30): the answer says what went.

use crate::account::password::{
    PASSWORD_CHANGE_WARNING, PasswordChange, PasswordState, check_new_password, code_for_change,
};
use crate::client::Client;
use crate::error::Error;
use crate::secret::Secret;

use super::actions::AuthAction;
use super::envelope::AuthInfo;
use super::sha512_crypt::hash_new;
use super::{AUTH, app_names};

impl Client {
    /// [`Client::password_state`] on a REST server (a password is assumed: 0.15 does not
    /// say, and an external directory answers the change itself).
    pub(crate) async fn rest_password_state(&self) -> Result<PasswordState, Error> {
        let info: AuthInfo = self.rest_get(AUTH).await?;
        Ok(PasswordState {
            has_password: true,
            totp_enabled: info.otp_enabled,
        })
    }

    /// [`Client::change_password_reporting`] on a REST server.
    pub(crate) async fn rest_change_password(
        &self,
        current: &Secret,
        new: &Secret,
        totp_code: Option<&str>,
    ) -> Result<PasswordChange, Error> {
        check_new_password(current, new)?;
        let before: AuthInfo = self.rest_get(AUTH).await?;
        let code = code_for_change(before.otp_enabled, totp_code)?;
        let hashed = Secret::new(hash_new(new.expose().as_bytes()));
        let body = [AuthAction::SetPassword {
            password: hashed.expose(),
        }];
        self.rest_post_confirmed(current, code, &body).await?;
        self.password_changed(new);
        let after: Option<AuthInfo> = self.rest_get(AUTH).await.ok();
        let removed_app_passwords = before
            .app_passwords
            .iter()
            .filter(|name| {
                after
                    .as_ref()
                    .is_none_or(|a| !a.app_passwords.contains(name))
            })
            .map(|name| app_names::decode(name).0)
            .collect();
        Ok(PasswordChange {
            removed_app_passwords,
            totp_turned_off: before.otp_enabled && after.as_ref().is_none_or(|a| !a.otp_enabled),
            warning: Some(PASSWORD_CHANGE_WARNING),
        })
    }
}
