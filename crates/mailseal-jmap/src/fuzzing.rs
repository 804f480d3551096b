//! Entry point for the cargo-fuzz target `jmap_answers` (feature `fuzzing`): feeds bytes to
//! every parser of what a server (or the caller's keychain) sends back.

use serde_json::Value;

use crate::envelope::{self, GetResponse, QueryResponse, SetResponse};
use crate::http::{Server, answer_json};
use crate::objects::{AccountPassword, AccountSettings, CredentialObject, PublicKeyObject};

/// Parses `data` as each kind of answer: saved tokens, a token endpoint answer, an HTTP
/// error body, a session object, JMAP responses and the `x:` objects. Must never panic.
pub fn server_answers(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::oauth::OAuthTokens::from_json(text);
        let _ = crate::account::totp::validate_url(text);
    }
    crate::oauth::tokens::parse_token_answer(data, "alice@example.org", "mailseal", None).ok();
    for status in [400, 401, 402, 403, 429, 500] {
        let _ = answer_json(status, data);
    }
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Ok(server) = Server::new(
        "http://127.0.0.1:8080",
        &crate::options::ConnectOptions::default(),
    ) && let Ok(url) = server.url("/jmap/session")
    {
        let _ = crate::session::parse_session(&server, &url, &value);
    }
    let _ = envelope::read_response::<QueryResponse>(value.clone());
    let _ = envelope::read_response::<GetResponse<AccountPassword>>(value.clone());
    let _ = envelope::read_response::<GetResponse<AccountSettings>>(value.clone());
    let _ = envelope::read_response::<GetResponse<CredentialObject>>(value.clone());
    let _ = envelope::read_response::<GetResponse<PublicKeyObject>>(value.clone());
    if let Ok(set) = serde_json::from_value::<SetResponse<Value>>(value) {
        let _ = set.created("new1");
    }
}

/// Entry point for the cargo-fuzz target `totp_url`: the `otpauth://` URL validator that
/// guards every TOTP enrollment. Must never panic.
pub fn totp_url(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::account::totp::validate_url(text);
    }
}
