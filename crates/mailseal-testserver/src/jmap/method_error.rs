//! Method-level errors: `["error", {"type": …, "description": …}, callId]`.

use serde_json::{Map, Value};

/// A method-level error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MethodError {
    /// `accountNotFound`.
    AccountNotFound,
    /// `anchorNotFound`.
    AnchorNotFound,
    /// `forbidden` with Stalwart's text.
    Forbidden(String),
    /// `invalidArguments`.
    InvalidArguments(String),
    /// `invalidResultReference`.
    InvalidResultReference(String),
    /// `requestTooLarge`.
    RequestTooLarge,
    /// `serverUnavailable` (an internal failure such as an unparsable stored TOTP URL, or
    /// a brute-force ban).
    ServerUnavailable,
    /// `stateMismatch` (`ifInState` differs).
    StateMismatch,
    /// `unknownMethod`.
    UnknownMethod(String),
    /// `unsupportedFilter`.
    UnsupportedFilter(String),
    /// `unsupportedSort`.
    UnsupportedSort(String),
}

impl MethodError {
    /// `forbidden` "You are not authorized to perform this action".
    pub fn not_authorized() -> Self {
        MethodError::Forbidden("You are not authorized to perform this action".to_owned())
    }

    /// The `[type, description]` of the error.
    fn parts(&self) -> (&'static str, String) {
        match self {
            MethodError::AccountNotFound => (
                "accountNotFound",
                "The accountId does not correspond to a valid account".to_owned(),
            ),
            MethodError::AnchorNotFound => (
                "anchorNotFound",
                "An anchor argument was supplied, but it cannot be found in the results of the \
                 query."
                    .to_owned(),
            ),
            MethodError::Forbidden(d) => ("forbidden", d.clone()),
            MethodError::InvalidArguments(d) => ("invalidArguments", d.clone()),
            MethodError::InvalidResultReference(d) => ("invalidResultReference", d.clone()),
            MethodError::RequestTooLarge => (
                "requestTooLarge",
                "The number of ids requested by the client exceeds the maximum number the \
                 server is willing to process in a single method call."
                    .to_owned(),
            ),
            MethodError::ServerUnavailable => (
                "serverUnavailable",
                "This server is temporarily unavailable. Attempting this same operation later \
                 may succeed."
                    .to_owned(),
            ),
            MethodError::StateMismatch => ("stateMismatch", String::new()),
            MethodError::UnknownMethod(d) => ("unknownMethod", d.clone()),
            MethodError::UnsupportedFilter(d) => ("unsupportedFilter", d.clone()),
            MethodError::UnsupportedSort(d) => ("unsupportedSort", d.clone()),
        }
    }

    /// The JSON arguments of the `"error"` response.
    pub fn to_json(&self) -> Value {
        let (kind, description) = self.parts();
        let mut map = Map::new();
        map.insert("type".to_owned(), Value::from(kind));
        if !description.is_empty() {
            map.insert("description".to_owned(), Value::from(description));
        }
        Value::Object(map)
    }
}
