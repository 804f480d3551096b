//! How the client signs in.

use base64::Engine as _;

use crate::secret::Secret;

/// A credential for the server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// The account password, sent with HTTP Basic. Fails with
    /// [`Error::TotpRequired`](crate::Error::TotpRequired) once two-factor authentication is on.
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
    /// An OAuth access token, sent as a Bearer token.
    Bearer(Secret),
}

impl Credential {
    /// The account password.
    pub fn password(user: impl Into<String>, password: impl Into<Secret>) -> Self {
        Credential::Password {
            user: user.into(),
            password: password.into(),
        }
    }

    /// The `Authorization` header value.
    pub(crate) fn header(&self) -> Secret {
        match self {
            Credential::Password {
                user,
                password: secret,
            }
            | Credential::AppPassword { user, secret } => {
                let raw = zeroize::Zeroizing::new(format!("{user}:{}", secret.expose()));
                Secret::new(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw.as_bytes())
                ))
            }
            Credential::ApiKey(token) | Credential::Bearer(token) => {
                Secret::new(format!("Bearer {}", token.expose()))
            }
        }
    }

    /// Which sign-in method this is, for people: `password`, `app password`, …
    pub fn method(&self) -> &'static str {
        match self {
            Credential::Password { .. } => "password",
            Credential::AppPassword { .. } => "app password",
            Credential::ApiKey(_) => "API key",
            Credential::Bearer(_) => "OAuth token",
        }
    }
}
