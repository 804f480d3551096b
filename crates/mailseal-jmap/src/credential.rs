//! How the client signs in.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use base64::Engine as _;

use crate::error::Error;
use crate::oauth::tokens::OAuthTokens;
use crate::secret::Secret;

/// Asks the user for the current two-factor (TOTP) code, when the server wants one.
///
/// Called from a blocking thread, so a prompt on the terminal or a dialog that waits for the
/// user is fine. `None` means the user gave up.
pub trait CodeProvider: Send + Sync {
    /// The current code from the authenticator app for `user`.
    fn totp_code(&self, user: &str) -> Option<Secret>;
}

impl<F> CodeProvider for F
where
    F: Fn(&str) -> Option<Secret> + Send + Sync,
{
    fn totp_code(&self, user: &str) -> Option<Secret> {
        self(user)
    }
}

/// Asks the user for the current two-factor code without blocking: a dialog on a phone, an
/// `async` function in Python. `None` means the user gave up.
pub trait AsyncCodeProvider: Send + Sync {
    /// The current code from the authenticator app for `user`.
    fn totp_code<'a>(
        &'a self,
        user: &'a str,
    ) -> Pin<Box<dyn Future<Output = Option<Secret>> + Send + 'a>>;
}

/// Where the two-factor code comes from: a blocking [`CodeProvider`] (run on a blocking
/// thread) or an [`AsyncCodeProvider`] (awaited). Made with `From` from either.
#[derive(Clone)]
pub struct Codes(CodesInner);

#[derive(Clone)]
enum CodesInner {
    Blocking(Arc<dyn CodeProvider>),
    Async(Arc<dyn AsyncCodeProvider>),
}

impl fmt::Debug for Codes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            CodesInner::Blocking(_) => "Codes(blocking)",
            CodesInner::Async(_) => "Codes(async)",
        })
    }
}

impl From<Arc<dyn CodeProvider>> for Codes {
    fn from(codes: Arc<dyn CodeProvider>) -> Self {
        Codes(CodesInner::Blocking(codes))
    }
}

impl From<Arc<dyn AsyncCodeProvider>> for Codes {
    fn from(codes: Arc<dyn AsyncCodeProvider>) -> Self {
        Codes(CodesInner::Async(codes))
    }
}

/// Asks `codes` for a code; a blocking provider runs off the async executor (it may wait on
/// a prompt).
pub(crate) async fn ask_code(codes: &Codes, user: &str) -> Result<Secret, Error> {
    let code = match &codes.0 {
        CodesInner::Blocking(codes) => {
            let codes = Arc::clone(codes);
            let user = user.to_owned();
            tokio::task::spawn_blocking(move || codes.totp_code(&user))
                .await
                .map_err(|e| Error::invalid(format!("the code prompt failed: {e}")))?
        }
        CodesInner::Async(codes) => codes.totp_code(user).await,
    };
    code.ok_or_else(|| Error::SignInRequired {
        reason: "two-factor authentication is on and no code was entered".into(),
    })
}

/// A credential for the server.
///
/// The client picks HTTP Basic or OAuth by itself and reports which it used
/// ([`Client::sign_in_method`](crate::Client::sign_in_method)).
#[derive(Clone)]
#[non_exhaustive]
pub enum Credential {
    /// The account password, sent with HTTP Basic. Fails with
    /// [`Error::TotpRequired`](Error::TotpRequired) once two-factor authentication is on.
    Password {
        /// The account address.
        user: String,
        /// The password.
        password: Secret,
    },
    /// An app password (`app_…`), sent with HTTP Basic; works with two-factor on.
    AppPassword {
        /// The account address.
        user: String,
        /// The app password.
        secret: Secret,
    },
    /// An API key (`API_…`), sent as a Bearer token.
    ApiKey(Secret),
    /// An OAuth access token alone, sent as a Bearer token; it cannot be refreshed.
    Bearer(Secret),
    /// OAuth tokens from an earlier sign-in (e.g. restored from the keychain); refreshed
    /// by the client before they expire.
    OAuth(OAuthTokens),
    /// The account password, with a way to ask for the two-factor code. Uses HTTP Basic
    /// while two-factor authentication is off; when the server wants a code, signs in
    /// through the server's OAuth service on 0.16 (`password$code` Basic on 0.15), asking
    /// `codes` for the code.
    PasswordAndCode {
        /// The account address.
        user: String,
        /// The password.
        password: Secret,
        /// Asks the user for the current code.
        codes: Codes,
    },
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Password { user, .. } => f
                .debug_struct("Password")
                .field("user", user)
                .finish_non_exhaustive(),
            Credential::AppPassword { user, .. } => f
                .debug_struct("AppPassword")
                .field("user", user)
                .finish_non_exhaustive(),
            Credential::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
            Credential::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Credential::OAuth(tokens) => f.debug_tuple("OAuth").field(tokens).finish(),
            Credential::PasswordAndCode { user, .. } => f
                .debug_struct("PasswordAndCode")
                .field("user", user)
                .finish_non_exhaustive(),
        }
    }
}

impl Credential {
    /// The account password.
    pub fn password(user: impl Into<String>, password: impl Into<Secret>) -> Self {
        Credential::Password {
            user: user.into(),
            password: password.into(),
        }
    }

    /// The account password with a provider of two-factor codes.
    pub fn password_and_code(
        user: impl Into<String>,
        password: impl Into<Secret>,
        codes: impl Into<Codes>,
    ) -> Self {
        Credential::PasswordAndCode {
            user: user.into(),
            password: password.into(),
            codes: codes.into(),
        }
    }

    /// A Bearer token of either kind, told apart by its form: Stalwart's API keys start with
    /// `API_` and become [`Credential::ApiKey`], anything else is an OAuth access token
    /// ([`Credential::Bearer`]). An empty token is refused before anything is sent.
    ///
    /// ```
    /// use mailseal_jmap::{Credential, Secret};
    /// assert!(matches!(Credential::token(Secret::new("API_abc")), Ok(Credential::ApiKey(_))));
    /// assert!(matches!(Credential::token(Secret::new("sw1.abc")), Ok(Credential::Bearer(_))));
    /// assert_eq!(Credential::token(Secret::new(" ")).unwrap_err().code(), "jmap.invalid_input");
    /// ```
    pub fn token(token: Secret) -> Result<Self, Error> {
        let trimmed = token.expose().trim();
        if trimmed.is_empty() {
            return Err(Error::invalid("the token is empty"));
        }
        let token = if trimmed.len() == token.expose().len() {
            token
        } else {
            Secret::new(trimmed)
        };
        Ok(if token.expose().starts_with("API_") {
            Credential::ApiKey(token)
        } else {
            Credential::Bearer(token)
        })
    }

    /// Refuses a credential with an empty secret or user name before anything is sent (an
    /// empty environment variable, end of input at a prompt).
    pub(crate) fn check_not_empty(&self) -> Result<(), Error> {
        let empty = |what: &str| {
            Err(Error::invalid(format!(
                "the {what} is empty; nothing was sent"
            )))
        };
        match self {
            Credential::Password { user, .. }
            | Credential::AppPassword { user, .. }
            | Credential::PasswordAndCode { user, .. }
                if user.trim().is_empty() =>
            {
                empty("user name")
            }
            Credential::Password { password, .. }
            | Credential::PasswordAndCode { password, .. }
                if password.expose().is_empty() =>
            {
                empty("password")
            }
            Credential::AppPassword { secret, .. } if secret.expose().trim().is_empty() => {
                empty("app password")
            }
            Credential::ApiKey(t) | Credential::Bearer(t) if t.expose().trim().is_empty() => {
                empty("token")
            }
            Credential::OAuth(t) if t.access_token().expose().is_empty() => empty("access token"),
            _ => Ok(()),
        }
    }

    /// The account name and password, when this credential holds them.
    pub fn password_of(&self) -> Option<(&str, &Secret)> {
        match self {
            Credential::Password { user, password }
            | Credential::PasswordAndCode { user, password, .. } => Some((user, password)),
            _ => None,
        }
    }

    /// The code provider, when this credential has one.
    pub(crate) fn codes(&self) -> Option<&Codes> {
        match self {
            Credential::PasswordAndCode { codes, .. } => Some(codes),
            _ => None,
        }
    }

    /// The same credential with another password (after a password change).
    pub(crate) fn with_password(&self, new: &Secret) -> Option<Credential> {
        match self {
            Credential::Password { user, .. } => Some(Credential::Password {
                user: user.clone(),
                password: new.clone(),
            }),
            Credential::PasswordAndCode { user, codes, .. } => Some(Credential::PasswordAndCode {
                user: user.clone(),
                password: new.clone(),
                codes: codes.clone(),
            }),
            _ => None,
        }
    }
}

/// How the client signs its requests at the moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignInMethod {
    /// The account password over HTTP Basic.
    Password,
    /// The password with a two-factor code appended (`password$code`, HTTP Basic; Stalwart
    /// 0.15 and older).
    PasswordWithCode,
    /// An app password over HTTP Basic.
    AppPassword,
    /// An API key (Bearer).
    ApiKey,
    /// An OAuth access token from the server's own sign-in (Bearer).
    OAuth,
}

impl SignInMethod {
    /// A stable name: `password`, `password+code`, `app_password`, `api_key`, `oauth`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignInMethod::Password => "password",
            SignInMethod::PasswordWithCode => "password+code",
            SignInMethod::AppPassword => "app_password",
            SignInMethod::ApiKey => "api_key",
            SignInMethod::OAuth => "oauth",
        }
    }

    /// For people: `password`, `app password`, `OAuth sign-in`, …
    pub fn describe(self) -> &'static str {
        match self {
            SignInMethod::Password => "password",
            SignInMethod::PasswordWithCode => "password and two-factor code",
            SignInMethod::AppPassword => "app password",
            SignInMethod::ApiKey => "API key",
            SignInMethod::OAuth => "OAuth sign-in",
        }
    }
}

/// `Basic base64(user:secret)`.
pub(crate) fn basic_header(user: &str, secret: &str) -> Secret {
    let raw = zeroize::Zeroizing::new(format!("{user}:{secret}"));
    Secret::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw.as_bytes())
    ))
}

/// `Bearer token`.
pub(crate) fn bearer_header(token: &Secret) -> Secret {
    Secret::new(format!("Bearer {}", token.expose()))
}
