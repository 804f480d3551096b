//! The one error type of this crate. Every variant has a stable code ([`Error::code`]); the
//! server's own message is kept, and the `Display` text says what the user can do.

use std::fmt;

/// A SetError the server returned for one object (RFC 8620 §5.3, with Stalwart's extensions).
///
/// `Debug` leaves out the server's description, which may repeat what was sent.
#[derive(Clone, PartialEq, Eq)]
pub struct SetError {
    /// The error type as sent, e.g. `invalidProperties`, `overQuota`, `objectIsLinked`.
    pub kind: String,
    /// The server's description, if any.
    pub description: Option<String>,
    /// The properties concerned (`invalidProperties`, `invalidPatch`).
    pub properties: Vec<String>,
    /// Stalwart's `validationErrors` as `(type, property)` pairs (`validationFailed`).
    pub validation_errors: Vec<(String, String)>,
    /// What the user can do about it, added by this client where it knows (e.g. which key
    /// to delete when a quota is reached).
    pub hint: Option<String>,
}

impl SetError {
    /// The same error with advice for the user.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// What went wrong talking to the server.
///
/// `Debug` shows the variant and the stable code, never the server's own texts: Stalwart
/// echoes whole request bodies in some answers, and those can hold the current password.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The server answered 401: the credentials are wrong, expired or revoked.
    Unauthorized {
        /// The server's detail text.
        detail: String,
    },
    /// The server answered 402: the account has two-factor authentication on, and this
    /// sign-in method cannot carry a code.
    TotpRequired {
        /// The server's detail text.
        detail: String,
    },
    /// The server answered 403 (e.g. an app password used from an IP it is not allowed for).
    HttpForbidden {
        /// The server's detail text.
        detail: String,
    },
    /// The server answered 429: too many attempts (or uploads); wait before trying again.
    RateLimited {
        /// The server's detail text.
        detail: String,
        /// The seconds the server asked to wait (`Retry-After`), if it said.
        retry_after: Option<u64>,
    },
    /// The server (or a proxy before it) answered 502, 503 or 504: it cannot answer now.
    Unavailable {
        /// The HTTP status.
        status: u16,
        /// The seconds the server asked to wait (`Retry-After`), if it said.
        retry_after: Option<u64>,
    },
    /// The state file of a long job (see [`Client::encrypt_existing`](crate::Client::encrypt_existing))
    /// cannot be read, written, or belongs to another account or key.
    StateFile {
        /// The file.
        path: String,
        /// What is wrong, in words.
        reason: String,
    },
    /// Another HTTP-level refusal (problem+json), e.g. `notRequest` or `notJSON`.
    Request {
        /// The HTTP status.
        status: u16,
        /// The problem type, e.g. `urn:ietf:params:jmap:error:notRequest`.
        kind: String,
        /// The server's detail text.
        detail: String,
    },
    /// A method-level error: `forbidden`, `unknownMethod`, `serverUnavailable`, …
    Method {
        /// The error type as sent.
        kind: String,
        /// The server's description.
        description: Option<String>,
    },
    /// The server refused to create, update or destroy an object.
    Set(SetError),
    /// A feature is not available to this user on this server.
    NotAvailable {
        /// Why, in words (missing permissions, old server, external directory, …).
        reason: String,
    },
    /// The new password fails the policy checks made before sending it.
    WeakPassword {
        /// Why, with the strength checker's advice.
        reason: String,
    },
    /// An argument is invalid (a malformed IP range, a bad TOTP code, …).
    InvalidInput {
        /// What is wrong.
        reason: String,
    },
    /// A plain `http://` URL for a server that is not on this machine.
    InsecureUrl {
        /// The URL given.
        url: String,
    },
    /// The server sent the client to another origin (another host, port, or from `https` to
    /// `http`) for something that would carry the credentials; nothing was sent there.
    ForeignOrigin {
        /// What named the other origin: `apiUrl`, `uploadUrl`, `token_endpoint`, a redirect, …
        what: String,
        /// The origin of the server URL the user gave.
        expected: String,
        /// The origin the server named.
        found: String,
    },
    /// The server refused the current password given to confirm a change.
    WrongPassword,
    /// The server refused the two-factor code given to confirm a change (the password was
    /// right).
    WrongTotpCode,
    /// The key could not be used (from `mailseal-core`).
    Key(mailseal_core::Error),
    /// The connection failed or timed out.
    Transport {
        /// What the HTTP library reported.
        detail: String,
        /// Whether it was a timeout.
        timeout: bool,
    },
    /// The OAuth service refused (RFC 6749 §5.2): `invalid_grant` for a revoked or expired
    /// refresh token, `invalid_client`, `access_denied` for a code already used, …
    OAuth {
        /// The OAuth error code as sent.
        error: String,
        /// The server's description, if any (Stalwart sends none).
        description: Option<String>,
    },
    /// The user must sign in again: the tokens were revoked (a password change revokes every
    /// OAuth token), or a two-factor code is needed and none was given.
    SignInRequired {
        /// Why, in words.
        reason: String,
    },
    /// The server's answer was not what the protocol says.
    Protocol {
        /// What was unexpected.
        detail: String,
    },
}

impl Error {
    /// The stable machine code of this error, e.g. `jmap.totp_required`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthorized { .. } => "jmap.unauthorized",
            Error::TotpRequired { .. } => "jmap.totp_required",
            Error::HttpForbidden { .. } => "jmap.http_forbidden",
            Error::RateLimited { .. } => "jmap.rate_limited",
            Error::Request { .. } => "jmap.request_rejected",
            Error::Unavailable { .. } => "jmap.server_unavailable",
            Error::StateFile { .. } => "jmap.state_file",
            Error::Method { kind, .. } => match kind.as_str() {
                "forbidden" => "jmap.forbidden",
                "unknownMethod" => "jmap.unknown_method",
                "serverUnavailable" => "jmap.server_unavailable",
                "invalidArguments" => "jmap.invalid_arguments",
                "accountNotFound" => "jmap.account_not_found",
                _ => "jmap.method_error",
            },
            Error::Set(e) => match e.kind.as_str() {
                "forbidden" => "jmap.set.forbidden",
                "invalidProperties" => "jmap.set.invalid_properties",
                "invalidPatch" => "jmap.set.invalid_patch",
                "invalidForeignKey" => "jmap.set.invalid_foreign_key",
                "notFound" => "jmap.set.not_found",
                "objectIsLinked" => "jmap.set.object_is_linked",
                "overQuota" => "jmap.set.over_quota",
                "singleton" => "jmap.set.singleton",
                "validationFailed" => "jmap.set.validation_failed",
                _ => "jmap.set.other",
            },
            Error::NotAvailable { .. } => "jmap.not_available",
            Error::WeakPassword { .. } => "jmap.weak_password",
            Error::InvalidInput { .. } => "jmap.invalid_input",
            Error::InsecureUrl { .. } => "jmap.insecure_url",
            Error::ForeignOrigin { .. } => "jmap.foreign_origin",
            Error::WrongPassword => "jmap.wrong_password",
            Error::WrongTotpCode => "jmap.wrong_totp_code",
            Error::Key(e) => e.code(),
            Error::Transport { timeout: true, .. } => "jmap.timeout",
            Error::Transport { .. } => "jmap.transport",
            Error::OAuth { error, .. } => match error.as_str() {
                "invalid_grant" => "jmap.oauth.invalid_grant",
                "invalid_client" => "jmap.oauth.invalid_client",
                "invalid_request" => "jmap.oauth.invalid_request",
                "access_denied" => "jmap.oauth.access_denied",
                "expired_token" => "jmap.oauth.expired_token",
                "authorization_pending" => "jmap.oauth.authorization_pending",
                _ => "jmap.oauth.error",
            },
            Error::SignInRequired { .. } => "jmap.sign_in_required",
            Error::Protocol { .. } => "jmap.protocol",
        }
    }

    /// Whether trying the same request again later may succeed: the connection failed, the
    /// server asked to slow down (429, or 400 `limit` for too many requests in flight), was
    /// unavailable (500, 502, 503, 504) or said so (`serverUnavailable`).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::RateLimited { .. } | Error::Unavailable { .. } => true,
            // Stalwart answers 400 `limit` when too many requests or uploads of the account
            // are in flight (other mail programs count too).
            Error::Request {
                status: 400,
                kind,
                detail,
            } => kind.ends_with(":limit") && detail.contains("concurrent"),
            Error::Request { status, .. } => matches!(status, 500 | 502 | 503 | 504),
            Error::Method { kind, .. } => kind == "serverUnavailable",
            _ => false,
        }
    }

    /// The seconds the server asked to wait before the next try (`Retry-After` on a 429).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Error::RateLimited { retry_after, .. } | Error::Unavailable { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// The same error with the `Retry-After` the answer carried.
    pub(crate) fn with_retry_after(self, secs: Option<u64>) -> Self {
        match self {
            Error::RateLimited { detail, .. } => Error::RateLimited {
                detail,
                retry_after: secs,
            },
            Error::Unavailable { status, .. } => Error::Unavailable {
                status,
                retry_after: secs,
            },
            other => other,
        }
    }

    pub(crate) fn protocol(detail: impl Into<String>) -> Self {
        Error::Protocol {
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unauthorized { detail } => write!(
                f,
                "the server did not accept the credentials ({detail}); check the password, \
                 or sign in again if a token was revoked"
            ),
            Error::TotpRequired { detail } => write!(
                f,
                "two-factor authentication is on for this account ({detail}); sign in with \
                 the password and a code (--code; Credential::PasswordAndCode or \
                 connect_with_code in the API), or use an app password"
            ),
            Error::HttpForbidden { detail } => write!(
                f,
                "the server refused access ({detail}); an app password may not be allowed \
                 from this address"
            ),
            Error::RateLimited { detail, .. } => write!(
                f,
                "too many attempts ({detail}); wait a few minutes before trying again"
            ),
            Error::Unavailable { status, .. } => write!(
                f,
                "the server is unavailable right now (HTTP {status}); try again later"
            ),
            Error::StateFile { path, reason } => write!(f, "state file {path}: {reason}"),
            Error::Request {
                status,
                kind,
                detail,
            } => {
                // Stalwart echoes the whole request in `detail`; keep it out of messages.
                let _ = detail;
                write!(f, "the server rejected the request (HTTP {status}, {kind})")
            }
            Error::Method { kind, description } => match description {
                Some(d) => write!(f, "the server refused ({kind}): {d}"),
                None => write!(f, "the server refused ({kind})"),
            },
            Error::Set(e) => {
                write!(f, "the server refused the change ({})", e.kind)?;
                if let Some(d) = &e.description {
                    write!(f, ": {d}")?;
                }
                if !e.properties.is_empty() {
                    write!(f, " [{}]", e.properties.join(", "))?;
                }
                for (kind, property) in &e.validation_errors {
                    write!(f, " [{property}: {kind}]")?;
                }
                if let Some(hint) = &e.hint {
                    write!(f, "; {hint}")?;
                }
                Ok(())
            }
            Error::NotAvailable { reason } => f.write_str(reason),
            Error::WeakPassword { reason } => {
                write!(f, "the new password is not accepted: {reason}")
            }
            Error::InvalidInput { reason } => f.write_str(reason),
            Error::InsecureUrl { url } => write!(
                f,
                "{url} is not encrypted (http://); use https://, or allow plain HTTP explicitly \
                 for a server on a trusted network (--allow-http; allow_insecure_http in the \
                 API)"
            ),
            Error::ForeignOrigin {
                what,
                expected,
                found,
            } => write!(
                f,
                "the server at {expected} names {found} as its {what}: mailseal sends \
                 credentials only to the server you named, so nothing was sent there (check \
                 the server's public URL setting, or connect to {found} directly if that is \
                 the real server)"
            ),
            Error::WrongPassword => f.write_str(
                "the current password is not right: the change was not made; type the \
                 password you sign in with",
            ),
            Error::WrongTotpCode => f.write_str(
                "the two-factor code is not right (the password was): the change was not \
                 made; type the newest code your authenticator app shows (codes change every \
                 30 seconds)",
            ),
            Error::Key(e) => e.fmt(f),
            Error::Transport { detail, timeout } => {
                if *timeout {
                    write!(f, "the server did not answer in time ({detail})")
                } else {
                    write!(f, "cannot reach the server: {detail}")
                }
            }
            Error::OAuth { error, description } => {
                write!(f, "the server's sign-in service refused ({error})")?;
                if let Some(d) = description {
                    write!(f, ": {d}")?;
                }
                if error == "invalid_grant" {
                    f.write_str("; the sign-in was revoked or has expired: sign in again")?;
                }
                Ok(())
            }
            Error::SignInRequired { reason } => write!(f, "sign in again: {reason}"),
            Error::Protocol { detail } => write!(f, "unexpected answer from the server: {detail}"),
        }
    }
}

impl std::error::Error for Error {}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Error::Unauthorized { .. } => "Unauthorized",
            Error::TotpRequired { .. } => "TotpRequired",
            Error::HttpForbidden { .. } => "HttpForbidden",
            Error::RateLimited { .. } => "RateLimited",
            Error::Request { .. } => "Request",
            Error::Unavailable { .. } => "Unavailable",
            Error::StateFile { .. } => "StateFile",
            Error::Method { .. } => "Method",
            Error::Set(_) => "Set",
            Error::NotAvailable { .. } => "NotAvailable",
            Error::WeakPassword { .. } => "WeakPassword",
            Error::InvalidInput { .. } => "InvalidInput",
            Error::InsecureUrl { .. } => "InsecureUrl",
            Error::ForeignOrigin { .. } => "ForeignOrigin",
            Error::WrongPassword => "WrongPassword",
            Error::WrongTotpCode => "WrongTotpCode",
            Error::Key(_) => "Key",
            Error::Transport { .. } => "Transport",
            Error::OAuth { .. } => "OAuth",
            Error::SignInRequired { .. } => "SignInRequired",
            Error::Protocol { .. } => "Protocol",
        };
        let mut d = f.debug_struct(name);
        d.field("code", &self.code());
        match self {
            Error::Request { status, kind, .. } => {
                d.field("status", status).field("kind", kind);
            }
            Error::Method { kind, .. } => {
                d.field("kind", kind);
            }
            Error::Set(e) => {
                d.field("set_error", e);
            }
            Error::ForeignOrigin {
                what,
                expected,
                found,
            } => {
                d.field("what", what)
                    .field("expected", expected)
                    .field("found", found);
            }
            Error::InsecureUrl { url } => {
                d.field("url", url);
            }
            Error::Key(e) => {
                d.field("error", e);
            }
            Error::Transport { timeout, .. } => {
                d.field("timeout", timeout);
            }
            Error::OAuth { error, .. } => {
                d.field("error", error);
            }
            _ => {}
        }
        d.finish_non_exhaustive()
    }
}

impl fmt::Debug for SetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetError")
            .field("kind", &self.kind)
            .field("properties", &self.properties)
            .field("validation_errors", &self.validation_errors)
            .finish_non_exhaustive()
    }
}

impl From<mailseal_core::Error> for Error {
    fn from(e: mailseal_core::Error) -> Self {
        Error::Key(e)
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        Error::Transport {
            timeout: e.is_timeout(),
            detail: transport_cause(&e),
        }
    }
}

/// What really went wrong under a reqwest error, in words: the connection was refused, the
/// name did not resolve, TLS failed, … (reqwest's own text says only "error sending request").
fn transport_cause(e: &reqwest::Error) -> String {
    let mut chain = Vec::new();
    let mut refused = false;
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        chain.push(err.to_string());
        source = err.source();
    }
    let all = chain.join(": ").to_ascii_lowercase();
    let host = e
        .url()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|| "the server".into());
    let cause = chain.last().cloned().unwrap_or_default();
    if refused || all.contains("connection refused") {
        format!(
            "connection refused: nothing answers at {host}; is the server running, and is the port right?"
        )
    } else if all.contains("dns error") || all.contains("failed to lookup address") {
        format!("the name of {host} could not be resolved (DNS): {cause}")
    } else if all.contains("certificate") || all.contains("tls") || all.contains("ssl") {
        format!(
            "the TLS connection to {host} failed (its certificate is not trusted, or it does not speak TLS): {cause}"
        )
    } else if e.is_timeout() {
        format!("{host} did not answer in time")
    } else {
        format!("{host}: {cause}")
    }
}
