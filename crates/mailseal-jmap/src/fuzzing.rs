//! Entry points for the cargo-fuzz targets `jmap_answers` and `rest_answers` (feature
//! `fuzzing`): feed bytes to every parser of what a server (or the caller's keychain) sends
//! back.

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

/// Entry point for the cargo-fuzz target `rest_answers`: every parser of what a Stalwart
/// 0.11–0.15 REST server sends back (HTTP error bodies, the `data` / `error` envelope, the
/// `/api/account/auth`, `/api/account/crypto` and `/api/oauth` contents, the detection
/// check), the key inside a `STALWART CERTIFICATE` blob (the bytes as the blob's text, and
/// as its decoded payload) and app-password names. Must never panic.
pub fn rest_answers(data: &[u8]) {
    use base64::Engine as _;

    use crate::rest::envelope::{AuthInfo, CryptoInfo, OAuthInfo, data as rest_data, read};

    for status in [200, 400, 401, 402, 403, 404] {
        let _ = answer_json(status, data);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::rest::blob::leading_key(text);
        let _ = crate::rest::app_names::decode(text);
    }
    let payload = base64::engine::general_purpose::STANDARD.encode(data);
    let _ = crate::rest::blob::leading_key(&format!(
        "{}\r\n{payload}\r\n\r\n",
        crate::rest::blob::HEADER
    ));
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let _ = crate::rest::detect::is_rest_auth_answer(&value);
    let _ = rest_data(value.clone());
    let _ = read::<AuthInfo>(value.clone(), "auth");
    let _ = read::<OAuthInfo>(value.clone(), "oauth");
    if let Ok(CryptoInfo::Pgp(p) | CryptoInfo::Smime(p)) = read::<CryptoInfo>(value, "crypto") {
        let _ = crate::rest::blob::leading_key(&p.certs);
    }
}
