//! Secret strings: zeroized on drop, redacted in `Debug`, never logged.

use std::fmt;

use zeroize::Zeroizing;

/// A password, app-password secret, API key, TOTP seed or token.
///
/// ```
/// use mailseal_jmap::Secret;
/// let s = Secret::new("hunter2 but longer");
/// assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
/// assert_eq!(s.expose(), "hunter2 but longer");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    /// The secret value. Only pass it where it is needed (an HTTP header, a display the
    /// user asked for); never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

/// A secret that serializes as its value, for the request bodies that must carry it (which
/// are built in wiped buffers, see `http::json_body`). `Secret` itself never serializes.
#[derive(Clone, Copy)]
pub(crate) struct Exposed<'a>(pub(crate) &'a Secret);

impl serde::Serialize for Exposed<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.expose())
    }
}
