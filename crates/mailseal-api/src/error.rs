//! The one public error of the facade: a family ([`ErrorKind`]), the stable code of the
//! underlying mailseal-core or mailseal-jmap error, and a sentence for people.

use std::fmt;

/// The family of an [`ApiError`]: what the caller can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(eq, eq_int, frozen, from_py_object, module = "mailseal._mailseal")
)]
pub enum ErrorKind {
    /// The key could not be read, is a private key, or cannot be used.
    InvalidKey,
    /// Encryption cannot be done (nothing was written in clear).
    Encryption,
    /// Decryption failed (wrong key, wrong password, damaged message).
    Decryption,
    /// An argument is invalid (bad name, weak password, bad TOTP URL, bad message).
    InvalidInput,
    /// The server did not accept the sign-in, or the user must sign in again.
    Authentication,
    /// The feature is not available to this user on this server, or refused for safety.
    NotAvailable,
    /// The server refused the request or answered something unexpected.
    Server,
    /// The server could not be reached, or did not answer in time.
    Transport,
}

impl ErrorKind {
    /// A stable name: `invalid_key`, `encryption`, `decryption`, `invalid_input`,
    /// `authentication`, `not_available`, `server`, `transport`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::InvalidKey => "invalid_key",
            ErrorKind::Encryption => "encryption",
            ErrorKind::Decryption => "decryption",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Authentication => "authentication",
            ErrorKind::NotAvailable => "not_available",
            ErrorKind::Server => "server",
            ErrorKind::Transport => "transport",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong behind the facade, one variant per [`ErrorKind`].
///
/// `code` is the stable dotted code of mailseal-core or mailseal-jmap (e.g.
/// `key.private_key`, `jmap.totp_required`, `jmap.sign_in_required`); `message` is for
/// people and may change. Messages never contain secrets or key material.
///
/// ```
/// use mailseal_api::{ErrorKind, inspect_key};
/// let err = inspect_key(b"-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n".to_vec(), None, None)
///     .unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidKey);
/// assert_eq!(err.code(), "key.private_key");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Error))]
pub enum ApiError {
    /// See [`ErrorKind::InvalidKey`].
    #[error("{reason}")]
    InvalidKey {
        /// The stable code.
        code: String,
        /// One sentence for people (named `reason`: `message` clashes with Kotlin's
        /// `Throwable.message`).
        reason: String,
        /// Technical detail for developers (what a parser reported), never shown as the
        /// reason.
        detail: Option<String>,
    },
    /// See [`ErrorKind::Encryption`].
    #[error("{reason}")]
    Encryption {
        /// The stable code.
        code: String,
        /// One sentence for people (named `reason`: `message` clashes with Kotlin's
        /// `Throwable.message`).
        reason: String,
        /// Technical detail for developers (what a parser reported), never shown as the
        /// reason.
        detail: Option<String>,
    },
    /// See [`ErrorKind::Decryption`].
    #[error("{reason}")]
    Decryption {
        /// The stable code.
        code: String,
        /// One sentence for people (named `reason`: `message` clashes with Kotlin's
        /// `Throwable.message`).
        reason: String,
        /// Technical detail for developers (what a parser reported), never shown as the
        /// reason.
        detail: Option<String>,
    },
    /// See [`ErrorKind::InvalidInput`].
    #[error("{reason}")]
    InvalidInput {
        /// The stable code.
        code: String,
        /// One sentence for people (named `reason`: `message` clashes with Kotlin's
        /// `Throwable.message`).
        reason: String,
        /// Technical detail for developers (what a parser reported), never shown as the
        /// reason.
        detail: Option<String>,
    },
    /// See [`ErrorKind::Authentication`].
    #[error("{reason}")]
    Authentication {
        /// The stable code.
        code: String,
        /// One sentence for people (named `reason`: `message` clashes with Kotlin's
        /// `Throwable.message`).
        reason: String,
        /// Technical detail for developers (what a parser reported), never shown as the
        /// reason.
        detail: Option<String>,
    },
    /// See [`ErrorKind::NotAvailable`].
    #[error("{reason}")]
    NotAvailable {
        /// The stable code.
        code: String,
        /// One sentence for people (named `reason`: `message` clashes with Kotlin's
        /// `Throwable.message`).
        reason: String,
        /// Technical detail for developers (what a parser reported), never shown as the
        /// reason.
        detail: Option<String>,
    },
    /// See [`ErrorKind::Server`].
    #[error("{reason}")]
    Server {
        /// The stable code.
        code: String,
        /// One sentence for people (named `reason`: `message` clashes with Kotlin's
        /// `Throwable.message`).
        reason: String,
        /// Technical detail for developers (what a parser reported), never shown as the
        /// reason.
        detail: Option<String>,
    },
    /// See [`ErrorKind::Transport`].
    #[error("{reason}")]
    Transport {
        /// The stable code.
        code: String,
        /// One sentence for people (named `reason`: `message` clashes with Kotlin's
        /// `Throwable.message`).
        reason: String,
        /// Technical detail for developers (what a parser reported), never shown as the
        /// reason.
        detail: Option<String>,
    },
}

impl ApiError {
    /// An error of `kind` with `code` and `reason`, without technical detail.
    pub fn new(kind: ErrorKind, code: impl Into<String>, reason: impl Into<String>) -> Self {
        ApiError::with_detail(kind, code, reason, None)
    }

    /// An error of `kind` with `code`, `reason` and technical `detail`.
    pub fn with_detail(
        kind: ErrorKind,
        code: impl Into<String>,
        reason: impl Into<String>,
        detail: Option<String>,
    ) -> Self {
        let (code, reason) = (code.into(), reason.into());
        match kind {
            ErrorKind::InvalidKey => ApiError::InvalidKey {
                code,
                reason,
                detail,
            },
            ErrorKind::Encryption => ApiError::Encryption {
                code,
                reason,
                detail,
            },
            ErrorKind::Decryption => ApiError::Decryption {
                code,
                reason,
                detail,
            },
            ErrorKind::InvalidInput => ApiError::InvalidInput {
                code,
                reason,
                detail,
            },
            ErrorKind::Authentication => ApiError::Authentication {
                code,
                reason,
                detail,
            },
            ErrorKind::NotAvailable => ApiError::NotAvailable {
                code,
                reason,
                detail,
            },
            ErrorKind::Server => ApiError::Server {
                code,
                reason,
                detail,
            },
            ErrorKind::Transport => ApiError::Transport {
                code,
                reason,
                detail,
            },
        }
    }

    /// The family.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ApiError::InvalidKey { .. } => ErrorKind::InvalidKey,
            ApiError::Encryption { .. } => ErrorKind::Encryption,
            ApiError::Decryption { .. } => ErrorKind::Decryption,
            ApiError::InvalidInput { .. } => ErrorKind::InvalidInput,
            ApiError::Authentication { .. } => ErrorKind::Authentication,
            ApiError::NotAvailable { .. } => ErrorKind::NotAvailable,
            ApiError::Server { .. } => ErrorKind::Server,
            ApiError::Transport { .. } => ErrorKind::Transport,
        }
    }

    /// The stable dotted code, e.g. `key.private_key` or `jmap.totp_required`.
    pub fn code(&self) -> &str {
        self.parts().0
    }

    /// The sentence for people.
    pub fn reason(&self) -> &str {
        self.parts().1
    }

    /// Technical detail for developers (e.g. what a parser reported), if any.
    pub fn detail(&self) -> Option<&str> {
        self.parts().2
    }

    fn parts(&self) -> (&str, &str, Option<&str>) {
        match self {
            ApiError::InvalidKey {
                code,
                reason,
                detail,
            }
            | ApiError::Encryption {
                code,
                reason,
                detail,
            }
            | ApiError::Decryption {
                code,
                reason,
                detail,
            }
            | ApiError::InvalidInput {
                code,
                reason,
                detail,
            }
            | ApiError::Authentication {
                code,
                reason,
                detail,
            }
            | ApiError::NotAvailable {
                code,
                reason,
                detail,
            }
            | ApiError::Server {
                code,
                reason,
                detail,
            }
            | ApiError::Transport {
                code,
                reason,
                detail,
            } => (code, reason, detail.as_deref()),
        }
    }
}

fn core_kind(e: &mailseal_core::Error) -> ErrorKind {
    use mailseal_core::Error as E;
    match e {
        E::Key(_) | E::Unusable { .. } => ErrorKind::InvalidKey,
        E::Encrypt(_) => ErrorKind::Encryption,
        E::Decrypt(_) => ErrorKind::Decryption,
        // A wrong algorithm or format name, a bad time: the caller's input (ValueError).
        E::Input(_) => ErrorKind::InvalidInput,
        _ => ErrorKind::InvalidInput,
    }
}

impl From<mailseal_core::Error> for ApiError {
    fn from(e: mailseal_core::Error) -> Self {
        ApiError::with_detail(
            core_kind(&e),
            e.code(),
            e.to_string(),
            e.detail().map(str::to_owned),
        )
    }
}

impl From<mailseal_jmap::Error> for ApiError {
    fn from(e: mailseal_jmap::Error) -> Self {
        use mailseal_jmap::Error as E;
        let kind = match &e {
            E::Key(inner) => core_kind(inner),
            E::Unauthorized { .. }
            | E::TotpRequired { .. }
            | E::HttpForbidden { .. }
            | E::OAuth { .. }
            | E::SignInRequired { .. }
            | E::WrongPassword
            | E::WrongTotpCode => ErrorKind::Authentication,
            E::NotAvailable { .. } => ErrorKind::NotAvailable,
            E::WeakPassword { .. }
            | E::InvalidInput { .. }
            | E::InsecureUrl { .. }
            | E::StateFile { .. } => ErrorKind::InvalidInput,
            E::Transport { .. } => ErrorKind::Transport,
            _ => ErrorKind::Server,
        };
        let detail = match &e {
            E::Key(inner) => inner.detail().map(str::to_owned),
            _ => None,
        };
        ApiError::with_detail(kind, e.code(), e.to_string(), detail)
    }
}
