//! The device authorization grant (RFC 8628): a sign-in approved on another device (the
//! server's `/device` page) or with [`approve_device`].

use std::fmt;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use url::Url;

use super::discovery::{LOGIN_PATH, discover};
use super::login::{LoginAnswer, LoginRequest, login_with_code};
use super::tokens::{OAuthTokens, oauth_error, token_request};
use crate::credential::Codes;
use crate::error::Error;
use crate::http::Server;
use crate::secret::{Exposed, Secret};

/// A device sign-in in progress (RFC 8628): show [`DeviceSignIn::user_code`] and
/// [`DeviceSignIn::verification_uri`] to the user, then [`DeviceSignIn::wait`].
pub struct DeviceSignIn {
    server: Server,
    token: Url,
    device_code: Secret,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: Option<String>,
    expires_at: SystemTime,
    interval: Duration,
    client_id: String,
    user: String,
}

impl fmt::Debug for DeviceSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceSignIn")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl DeviceSignIn {
    /// Starts a device sign-in for `user` on the server at `base_url`.
    pub async fn start(
        base_url: &str,
        user: &str,
        options: &crate::options::ConnectOptions,
    ) -> Result<DeviceSignIn, Error> {
        let server = Server::new(base_url, options)?;
        let endpoints = discover(&server).await?;
        let device = endpoints.device.ok_or_else(|| Error::NotAvailable {
            reason: "the server offers no device sign-in".into(),
        })?;
        let mut form = vec![("client_id", options.oauth.client_id.as_str())];
        if let Some(scope) = &options.oauth.scope {
            form.push(("scope", scope.as_str()));
        }
        let resp = server.http.post(device).form(&form).send().await?;
        let status = resp.status();
        let value: Value = resp
            .json()
            .await
            .map_err(|e| Error::protocol(format!("device answer: {e}")))?;
        if !status.is_success() {
            return Err(oauth_error(
                status.as_u16(),
                value.get("error").and_then(Value::as_str),
                value.get("error_description").and_then(Value::as_str),
            ));
        }
        let text = |name: &str| {
            value
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| Error::protocol(format!("device answer without {name}")))
        };
        let verification_uri = server
            .base
            .join(&text("verification_uri")?)
            .map_err(|e| Error::protocol(format!("bad verification_uri: {e}")))?
            .to_string();
        let verification_uri_complete = match text("verification_uri_complete") {
            Ok(t) => server.base.join(&t).ok().map(|u| u.to_string()),
            Err(_) => None,
        };
        let expires_in = value
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(1800);
        let interval = value.get("interval").and_then(Value::as_u64).unwrap_or(5);
        Ok(DeviceSignIn {
            device_code: Secret::new(text("device_code")?),
            user_code: text("user_code")?,
            verification_uri,
            verification_uri_complete,
            expires_at: SystemTime::now() + Duration::from_secs(expires_in),
            interval: Duration::from_secs(interval),
            token: endpoints.token,
            server,
            client_id: options.oauth.client_id.clone(),
            user: user.to_owned(),
        })
    }

    /// The code the user enters on the verification page (`XXXX-XXXX`).
    pub fn user_code(&self) -> &str {
        &self.user_code
    }

    /// Where the user approves the sign-in.
    pub fn verification_uri(&self) -> &str {
        &self.verification_uri
    }

    /// The verification page with the code filled in, if the server gives one.
    pub fn verification_uri_complete(&self) -> Option<&str> {
        self.verification_uri_complete.as_deref()
    }

    /// How long to wait between polls, as the server asks.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Polls once: `Ok(None)` while the user has not approved yet.
    pub async fn poll(&self) -> Result<Option<OAuthTokens>, Error> {
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", self.device_code.expose()),
            ("client_id", self.client_id.as_str()),
        ];
        match token_request(
            &self.server,
            &self.token,
            &form,
            &self.user,
            &self.client_id,
            None,
        )
        .await
        {
            Ok(tokens) => Ok(Some(tokens)),
            Err(Error::OAuth { error, .. })
                if error == "authorization_pending" || error == "slow_down" =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Polls at the server's interval until the user approves, refuses, or the code expires.
    pub async fn wait(&self) -> Result<OAuthTokens, Error> {
        loop {
            if let Some(tokens) = self.poll().await? {
                return Ok(tokens);
            }
            if SystemTime::now() >= self.expires_at {
                return Err(Error::OAuth {
                    error: "expired_token".into(),
                    description: Some("the device code expired before it was approved".into()),
                });
            }
            tokio::time::sleep(self.interval).await;
        }
    }
}

/// Approves a device sign-in (`user_code`) with the password, and a code from `codes` when
/// two-factor authentication is on, as the server's `/device` page does.
pub async fn approve_device(
    base_url: &str,
    user: &str,
    password: &Secret,
    user_code: &str,
    codes: Option<Codes>,
    options: &crate::options::ConnectOptions,
) -> Result<(), Error> {
    let server = Server::new(base_url, options)?;
    let login = server.url(LOGIN_PATH)?;
    let request = LoginRequest::AuthDevice {
        account_name: user,
        account_secret: Exposed(password),
        mfa_token: None,
        code: user_code,
    };
    match login_with_code(&server, &login, request, user, codes.as_ref()).await? {
        LoginAnswer::Verified => Ok(()),
        _ => Err(Error::protocol("the device approval was not confirmed")),
    }
}
