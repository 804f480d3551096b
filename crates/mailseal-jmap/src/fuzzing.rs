//! Entry point for the cargo-fuzz target `jmap_answers` (feature `fuzzing`): feeds bytes to
//! every parser of what a server (or the caller's keychain) sends back.

use serde_json::Value;

/// Parses `data` as each kind of answer: saved tokens, a token endpoint answer, a session
/// object and `/set` errors. Must never panic.
pub fn server_answers(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::oauth::OAuthTokens::from_json(text);
    }
    crate::oauth::parse_token_answer(data, "alice@example.org", "mailseal", None).ok();
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let _ = crate::client::parse_session(&value);
    for map in ["notCreated", "notUpdated", "notDestroyed"] {
        if let Some(ids) = value.get(map).and_then(Value::as_object) {
            for id in ids.keys() {
                let _ = crate::client::set_error(&value, map, id);
            }
        }
    }
}
