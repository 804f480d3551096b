//! The answers of Stalwart 0.15's REST API (spec §2): `{"data": …}` is the only success; a
//! management error comes with HTTP 200 as `{"error": …}`; problem+json (4xx) is mapped
//! before this by [`crate::http::answer_json`]. Anything else, such as the account-info
//! JSON a 0.16 server answers to the old URLs, is not a REST answer.

use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;

/// `GET /api/account/auth`'s `data`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuthInfo {
    /// Whether a TOTP URL is stored.
    pub(crate) otp_enabled: bool,
    /// The app-password names in stored order (duplicates possible).
    #[serde(default)]
    pub(crate) app_passwords: Vec<String>,
}

/// `GET /api/account/crypto`'s `data`, with the literal 0.15 tags and field names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type")]
pub(crate) enum CryptoInfo {
    /// Encryption at rest is off.
    #[serde(rename = "disabled")]
    Disabled,
    /// OpenPGP.
    #[serde(rename = "pGP")]
    Pgp(CryptoParams),
    /// S/MIME.
    #[serde(rename = "sMIME")]
    Smime(CryptoParams),
}

/// The fields of an enabled setting (`allow_spam_training` is absent before 0.15).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct CryptoParams {
    /// `Aes128` or `Aes256`.
    pub(crate) algo: String,
    /// The opaque `-----STALWART CERTIFICATE-----` blob.
    #[serde(default)]
    pub(crate) certs: String,
    /// Whether spam training sees the plaintext.
    #[serde(default)]
    pub(crate) allow_spam_training: bool,
}

/// `POST /api/oauth`'s `data` (what this client reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct OAuthInfo {
    /// The server version, e.g. `0.15.5`.
    #[serde(default)]
    pub(crate) version: Option<String>,
}

/// The `data` of a REST answer, or the error a management error stands for.
pub(crate) fn data(value: Value) -> Result<Value, Error> {
    let Value::Object(mut map) = value else {
        return Err(not_rest());
    };
    if let Some(data) = map.remove("data") {
        return Ok(data);
    }
    let Some(kind) = map.get("error").and_then(Value::as_str).map(str::to_owned) else {
        return Err(not_rest());
    };
    let text = |name: &str| map.get(name).and_then(Value::as_str).map(str::to_owned);
    let details = text("details");
    Err(match kind.as_str() {
        "unsupported" => Error::NotAvailable {
            reason: match details {
                Some(d) if d.contains("directory cannot be managed") => format!(
                    "the password and two-factor authentication are managed by the \
                     organisation's directory (LDAP, SQL or single sign-on), not by the mail \
                     server (server: {d})"
                ),
                Some(d) => format!("the server does not support this: {d}"),
                None => "the server does not support this".into(),
            },
        },
        "notFound" => Error::Method {
            kind,
            description: text("item").map(|i| format!("not found: {i}")),
        },
        "fieldAlreadyExists" => Error::Method {
            description: Some(format!(
                "{} {} exists already",
                text("field").unwrap_or_default(),
                text("value").unwrap_or_default()
            )),
            kind,
        },
        _ => Error::Method {
            description: match (details, text("reason")) {
                (Some(d), Some(r)) => Some(format!("{d}: {r}")),
                (d, r) => d.or(r),
            },
            kind,
        },
    })
}

/// The `data` of a REST answer read as `T`.
pub(crate) fn read<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> Result<T, Error> {
    let data = data(value)?;
    T::deserialize(&data).map_err(|e| Error::protocol(format!("{what}: {e}")))
}

fn not_rest() -> Error {
    Error::protocol("not an answer of Stalwart's REST API (no \"data\" and no \"error\")")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_data_is_success() {
        assert_eq!(data(json!({"data": null})).unwrap(), Value::Null);
        let info: AuthInfo = read(
            json!({"data": {"otpEnabled": true, "appPasswords": ["a", "a"]}}),
            "auth",
        )
        .unwrap();
        assert_eq!(info.app_passwords, ["a", "a"]);
        // 0.16 answers the old URLs with 200 and account-info JSON: not a success.
        let e = data(json!({"permissions": [], "edition": "oss", "locale": "en"})).unwrap_err();
        assert_eq!(e.code(), "jmap.protocol");
        assert_eq!(data(json!([1])).unwrap_err().code(), "jmap.protocol");
    }

    #[test]
    fn management_errors_are_typed() {
        let e = data(json!({"error": "other", "details": "Cannot mix OpenPGP and S/MIME certificates", "reason": null})).unwrap_err();
        assert_eq!(e.code(), "jmap.method_error");
        assert!(e.to_string().contains("Cannot mix"), "{e}");
        let e = data(json!({"error": "unsupported", "details": "LDAP directory cannot be managed. Only internal directories support inserts and update operations."})).unwrap_err();
        assert_eq!(e.code(), "jmap.not_available");
        assert!(e.to_string().contains("directory"));
        let e = data(json!({"error": "notFound", "item": "x"})).unwrap_err();
        assert!(e.to_string().contains("not found: x"), "{e}");
    }

    #[test]
    fn crypto_tags_are_literal() {
        let c: CryptoInfo = read(
            json!({"data": {"type": "sMIME", "algo": "Aes128", "certs": "x", "allow_spam_training": true}}),
            "crypto",
        )
        .unwrap();
        assert!(
            matches!(c, CryptoInfo::Smime(ref p) if p.allow_spam_training && p.algo == "Aes128")
        );
        assert!(read::<CryptoInfo>(json!({"data": {"type": "pgp"}}), "crypto").is_err());
        let old: CryptoInfo = read(
            json!({"data": {"type": "pGP", "algo": "Aes256", "certs": "x"}}),
            "c",
        )
        .unwrap();
        assert!(matches!(old, CryptoInfo::Pgp(p) if !p.allow_spam_training));
    }
}

/// Every answer recorded from a real 0.15.5 server reads into what the client expects.
#[cfg(test)]
mod recorded {
    use super::*;
    use crate::http::answer_json;

    fn fixtures() -> Vec<(String, Value)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/stalwart-0.15.5");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    serde_json::from_str(&text).unwrap(),
                ));
            }
        }
        out
    }

    #[test]
    fn every_recorded_rest_answer_is_understood() {
        let mut seen = 0;
        for (name, fixture) in fixtures() {
            let requests = fixture["requests"].as_array().unwrap();
            let responses = fixture["responses"].as_array().unwrap();
            for (request, response) in requests.iter().zip(responses) {
                let path = request["path"].as_str().unwrap().trim_end_matches('/');
                let method = request["method"].as_str().unwrap();
                if !path.starts_with("/api/account/") && path != "/api/oauth" {
                    continue;
                }
                let status = u16::try_from(response["status"].as_u64().unwrap()).unwrap();
                let body = match &response["body"] {
                    Value::String(s) => s.clone().into_bytes(),
                    other => other.to_string().into_bytes(),
                };
                let at = format!("{name} {method} {path}");
                let answer = answer_json(status, &body);
                let value = match (status, answer) {
                    (200, Ok(value)) => value,
                    (204, _) => continue,
                    (401, Err(e)) => {
                        assert_eq!(e.code(), "jmap.unauthorized", "{at}");
                        continue;
                    }
                    (402, Err(e)) => {
                        assert_eq!(e.code(), "jmap.totp_required", "{at}");
                        assert!(e.to_string().contains("secret$totp_token"), "{at}");
                        continue;
                    }
                    (403, Err(e)) => {
                        assert_eq!(e.code(), "jmap.http_forbidden", "{at}");
                        continue;
                    }
                    (_, Err(e)) => {
                        assert_eq!(e.code(), "jmap.request_rejected", "{at}");
                        continue;
                    }
                    (s, Ok(v)) => panic!("{at}: {s} read as {v}"),
                };
                seen += 1;
                if value.get("error").is_some() {
                    let e = data(value).unwrap_err();
                    assert!(
                        ["jmap.method_error", "jmap.not_available"].contains(&e.code()),
                        "{at}"
                    );
                    continue;
                }
                match (method, path) {
                    ("GET", "/api/account/auth") => {
                        read::<AuthInfo>(value, &at).unwrap();
                    }
                    ("GET", "/api/account/crypto") => match read::<CryptoInfo>(value, &at).unwrap()
                    {
                        CryptoInfo::Disabled => {}
                        CryptoInfo::Pgp(p) | CryptoInfo::Smime(p) => {
                            let key = crate::rest::blob::leading_key(&p.certs).unwrap();
                            assert!(key.starts_with("-----BEGIN "), "{at}");
                            let read = mailseal_core::RecipientKey::from_bytes(key.as_bytes());
                            // Fixture 46: 0.15 keeps an uploaded private key; it is shown as
                            // one, never as a usable recipient.
                            assert_eq!(read.is_ok(), !key.contains("PRIVATE KEY BLOCK"), "{at}");
                        }
                    },
                    ("POST", "/api/oauth") => {
                        let info: OAuthInfo = read(value, &at).unwrap();
                        assert_eq!(info.version.as_deref(), Some("0.15.5"), "{at}");
                    }
                    _ => {
                        data(value).unwrap();
                    }
                }
            }
        }
        assert!(seen > 100, "only {seen} answers read");
    }
}
