//! Account security on Stalwart 0.11–0.15, whose REST API (`/api/account/auth`,
//! `/api/account/crypto`, `/api/oauth`) the 0.16 JMAP `x:` methods replaced. The
//! [`Client`] finds out on connect which one the server speaks ([`detect`]) and the
//! methods in [`crate::account`] hand over to the modules here, so callers do not change:
//!
//! ```text
//! detect         ServerApi: JMAP x: (urn:stalwart:jmap), REST (data.otpEnabled), or none
//! actions        the POST /api/account/auth actions, serialized from borrowed secrets
//! envelope       {"data"} / {"error"} (HTTP 200) answers and their typed contents
//! availability   which features (manage-passwords, manage-encryption; no API keys)
//! password       setPassword: $6$ hash, password$code Basic, what it wiped (0.14–0.15)
//! totp           enableOtpAuth / disableOtpAuth after the same local URL checks
//! app_passwords  add / list / remove exactly one (the removal is a prefix match)
//! encryption     pGP / sMIME / disabled with allow_spam_training, the same key checks
//! app_names      base64(label$time) names, as the 0.15 web admin makes them
//! blob           the key at the start of the opaque STALWART CERTIFICATE blob
//! sha512_crypt   the $6$ hash the server stores instead of the secret
//! ```

mod actions;
pub(crate) mod app_names;
mod app_passwords;
pub(crate) mod availability;
pub(crate) mod blob;
pub mod detect;
mod encryption;
pub(crate) mod envelope;
pub(crate) mod password;
pub(crate) mod sha512_crypt;
mod totp;

use serde::Serialize;
use serde_json::Value;

use crate::client::Client;
use crate::credential::basic_header;
use crate::error::Error;
use crate::http::{self, json_body, read_json};
use crate::secret::Secret;

pub use detect::ServerApi;

/// `POST /api/account/auth`.
pub(crate) const AUTH: &str = "/api/account/auth";
/// `GET|POST /api/account/crypto`.
pub(crate) const CRYPTO: &str = "/api/account/crypto";

impl Client {
    /// Whether account security goes through the 0.15 REST API.
    pub(crate) fn is_rest(&self) -> bool {
        self.server_api() == ServerApi::Rest
    }

    /// The login name for HTTP Basic: the credential's, or the session's user name.
    pub(crate) fn login_name(&self) -> String {
        self.credential()
            .password_of()
            .map(|(user, _)| user.to_owned())
            .unwrap_or_else(|| self.session().username.clone())
    }

    /// A signed GET of a REST path, its `data` read as `T`.
    pub(crate) async fn rest_get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, Error> {
        let value = self.get_json(self.url(path)?).await?;
        envelope::read(value, path)
    }

    /// A signed POST of JSON to a REST path (the body is wiped once sent); its `data`.
    pub(crate) async fn rest_post<B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Value, Error> {
        let url = self.url(path)?;
        let value = self
            .send(&url, |http, url| {
                Ok(http
                    .post(url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(json_body(body)?))
            })
            .await?;
        envelope::data(value)
    }

    /// A POST signed with HTTP Basic and `secret` (the current password, with `$code` when
    /// two-factor authentication is on): the password and TOTP actions need Basic, and the
    /// secret re-proves the password. Not retried.
    pub(crate) async fn rest_post_basic<B: Serialize>(
        &self,
        path: &str,
        secret: &Secret,
        body: &B,
    ) -> Result<Value, Error> {
        let header = basic_header(&self.login_name(), secret.expose());
        let resp = self
            .server()
            .http
            .post(self.url(path)?)
            .header(
                reqwest::header::AUTHORIZATION,
                http::authorization(&header)?,
            )
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json_body(body)?)
            .send()
            .await?;
        envelope::data(read_json(resp).await?)
    }

    /// Posts a password or TOTP action with `current_password` (and `code`) over Basic; a
    /// refusal says whether the password or the code was wrong.
    pub(crate) async fn rest_post_confirmed<B: Serialize>(
        &self,
        current_password: &Secret,
        code: Option<&str>,
        body: &B,
    ) -> Result<Value, Error> {
        let secret = match code {
            Some(code) => Secret::new(format!("{}${code}", current_password.expose())),
            None => current_password.clone(),
        };
        match self.rest_post_basic(AUTH, &secret, body).await {
            Err(Error::Unauthorized { .. }) => {
                if code.is_some() && self.password_is_right(current_password).await? {
                    Err(Error::WrongTotpCode)
                } else {
                    Err(Error::WrongPassword)
                }
            }
            Err(Error::TotpRequired { .. }) => Err(Error::invalid(
                "two-factor authentication is on: the current code from the authenticator app \
                 is needed",
            )),
            other => other,
        }
    }
}
