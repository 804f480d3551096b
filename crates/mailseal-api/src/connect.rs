//! How to reach the server ([`ConnectOptions`]) and the sign-ins that give tokens without a
//! session: [`sign_in`], device sign-in ([`DeviceSignIn`], [`approve_device`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use mailseal_jmap as jmap;
use mailseal_jmap::{Client, Secret};

use crate::account::OAuthTokens;
use crate::codes::{CodeProvider, codes};
use crate::error::ApiError;
use crate::runtime::run;

/// How to connect: timeouts, plain HTTP, and how the client presents itself to OAuth.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(get_all, frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct ConnectOptions {
    /// The limit for each request, in seconds (30 by default).
    #[cfg_attr(feature = "uniffi", uniffi(default = 30))]
    pub timeout_seconds: u32,
    /// Allow plain `http://` for a server that is not on this machine. Loopback addresses
    /// are always allowed; TLS certificates are always verified.
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub allow_insecure_http: bool,
    /// The OAuth client id (`mailseal` by default).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub oauth_client_id: Option<String>,
    /// The OAuth redirect URI the login names (mailseal's by default).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub oauth_redirect_uri: Option<String>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        let d = jmap::ConnectOptions::default();
        ConnectOptions {
            timeout_seconds: u32::try_from(d.timeout.as_secs()).unwrap_or(u32::MAX),
            allow_insecure_http: d.allow_insecure_http,
            oauth_client_id: None,
            oauth_redirect_uri: None,
        }
    }
}

impl ConnectOptions {
    /// mailseal-jmap's options for `o` (its defaults for `None`).
    pub(crate) fn jmap(o: Option<ConnectOptions>) -> jmap::ConnectOptions {
        let o = o.unwrap_or_default();
        let mut options = jmap::ConnectOptions {
            allow_insecure_http: o.allow_insecure_http,
            timeout: Duration::from_secs(u64::from(o.timeout_seconds.max(1))),
            ..jmap::ConnectOptions::default()
        };
        if let Some(id) = o.oauth_client_id {
            options.oauth.client_id = id;
        }
        if let Some(uri) = o.oauth_redirect_uri {
            options.oauth.redirect_uri = uri;
        }
        options
    }
}

/// Signs in through the server's OAuth service with the password (and a code from `codes`
/// when two-factor authentication is on) and returns the tokens to keep, without connecting.
#[cfg_attr(feature = "uniffi", uniffi::export)]
pub async fn sign_in(
    server_url: String,
    user: String,
    password: String,
    codes: Option<Arc<dyn CodeProvider>>,
    options: Option<ConnectOptions>,
) -> Result<Arc<OAuthTokens>, ApiError> {
    let password = Secret::new(password);
    let options = ConnectOptions::jmap(options);
    run(async move {
        let tokens = Client::sign_in(
            &server_url,
            &user,
            &password,
            codes.map(self::codes),
            &options,
        )
        .await?;
        Ok(Arc::new(OAuthTokens(tokens)))
    })
    .await
}

/// A device sign-in in progress (OAuth device flow): show [`user_code`](Self::user_code)
/// and [`verification_uri`](Self::verification_uri) to the user, who approves it on another
/// device, then [`wait_for_tokens`](Self::wait_for_tokens) for the tokens.
#[cfg_attr(feature = "uniffi", derive(uniffi::Object))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(frozen, module = "mailseal._mailseal")
)]
pub struct DeviceSignIn(pub(crate) Arc<jmap::DeviceSignIn>);

impl fmt::Debug for DeviceSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg_attr(feature = "uniffi", uniffi::export)]
impl DeviceSignIn {
    /// Starts a device sign-in for `user` (`jmap.not_available` when the server offers
    /// none).
    #[cfg_attr(feature = "uniffi", uniffi::constructor)]
    pub async fn start(
        server_url: String,
        user: String,
        options: Option<ConnectOptions>,
    ) -> Result<Self, ApiError> {
        let options = ConnectOptions::jmap(options);
        run(async move {
            let device = jmap::DeviceSignIn::start(&server_url, &user, &options).await?;
            Ok(DeviceSignIn(Arc::new(device)))
        })
        .await
    }

    /// The code the user enters on the other device.
    pub fn user_code(&self) -> String {
        self.0.user_code().to_owned()
    }

    /// Where the user enters it.
    pub fn verification_uri(&self) -> String {
        self.0.verification_uri().to_owned()
    }

    /// The same page with the code filled in, when the server gives one (for a QR code).
    pub fn verification_uri_complete(&self) -> Option<String> {
        self.0.verification_uri_complete().map(str::to_owned)
    }

    /// Waits until the user approved (or refused) the sign-in, polling at the server's
    /// interval, and returns the tokens.
    pub async fn wait_for_tokens(&self) -> Result<Arc<OAuthTokens>, ApiError> {
        let device = Arc::clone(&self.0);
        run(async move { Ok(Arc::new(OAuthTokens(device.wait().await?))) }).await
    }
}

/// Approves a device sign-in (`user_code`) with the password, and a code from `codes` when
/// two-factor authentication is on, as the server's `/device` page does.
#[cfg_attr(feature = "uniffi", uniffi::export)]
pub async fn approve_device(
    server_url: String,
    user: String,
    password: String,
    user_code: String,
    codes: Option<Arc<dyn CodeProvider>>,
    options: Option<ConnectOptions>,
) -> Result<(), ApiError> {
    let password = Secret::new(password);
    let options = ConnectOptions::jmap(options);
    run(async move {
        Ok(jmap::approve_device(
            &server_url,
            &user,
            &password,
            &user_code,
            codes.map(self::codes),
            &options,
        )
        .await?)
    })
    .await
}
