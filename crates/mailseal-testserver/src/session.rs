//! The JMAP session object (`GET /jmap/session`).
//!
//! The capability objects are the ones the recorded servers sent (`session/v0_16.json`
//! from fixture 01 of 0.16.19, `session/v0_15.json` from the 0.15.5 fixtures), with the
//! server address replaced. On 0.16 `urn:stalwart:jmap` appears only per account and in
//! `primaryAccounts`; on 0.15 it appears nowhere.

use serde_json::{Map, Value, json};

use crate::config::ServerVersion;

const TEMPLATE_0_16: &str = include_str!("session/v0_16.json");
const TEMPLATE_0_15: &str = include_str!("session/v0_15.json");

/// The account a session is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionAccount {
    /// JMAP account id.
    pub id: String,
    /// Login address.
    pub name: String,
    /// Session state.
    pub state: String,
}

/// Builds the session object; `account` is `None` for a request without credentials
/// (capabilities only, no accounts, empty `username`, state `"0"`).
pub fn build(version: ServerVersion, base_url: &str, account: Option<&SessionAccount>) -> Value {
    let host = base_url
        .strip_prefix("http://")
        .unwrap_or(base_url)
        .trim_end_matches('/');
    let template = match version {
        ServerVersion::V0_16 => TEMPLATE_0_16,
        ServerVersion::V0_15 => TEMPLATE_0_15,
    };
    let account_id = account.map_or("", |a| a.id.as_str());
    let text = template
        .replace("{HOST}", host)
        .replace("{ACCOUNT}", account_id);
    let template: Value = serde_json::from_str(&text).unwrap_or_default();

    let capabilities = template.get("capabilities").cloned().unwrap_or_default();
    let mut accounts = Map::new();
    let mut primary = Map::new();
    if let Some(account) = account {
        accounts.insert(
            account.id.clone(),
            json!({
                "name": account.name,
                "isPersonal": true,
                "isReadOnly": false,
                "accountCapabilities": template.get("accountCapabilities").cloned().unwrap_or_default(),
            }),
        );
        if let Some(keys) = template.get("primaryAccounts").and_then(Value::as_array) {
            for key in keys.iter().filter_map(Value::as_str) {
                primary.insert(key.to_owned(), Value::from(account.id.as_str()));
            }
        }
    }
    let base = format!("http://{host}");
    json!({
        "capabilities": capabilities,
        "accounts": accounts,
        "primaryAccounts": primary,
        "username": account.map_or("", |a| a.name.as_str()),
        "apiUrl": format!("{base}/jmap/"),
        "downloadUrl": format!("{base}/jmap/download/{{accountId}}/{{blobId}}/{{name}}?accept={{type}}"),
        "uploadUrl": format!("{base}/jmap/upload/{{accountId}}/"),
        "eventSourceUrl": format!("{base}/jmap/eventsource/?types={{types}}&closeafter={{closeafter}}&ping={{ping}}"),
        "state": account.map_or("0", |a| a.state.as_str()),
    })
}

/// Replaces top-level fields of `value` (a session object or an OAuth metadata document) with
/// the configured strings.
pub fn apply_overrides(value: &mut Value, overrides: &std::collections::BTreeMap<String, String>) {
    if let Some(obj) = value.as_object_mut() {
        for (name, text) in overrides {
            obj.insert(name.clone(), Value::from(text.as_str()));
        }
    }
}

/// The capability URNs a request may list in `using` on this version.
pub fn known_capabilities(version: ServerVersion) -> &'static [&'static str] {
    // 0.15 knows the first `V0_15_LEN` of these; 0.16 adds the last three.
    const ALL: &[&str] = &[
        "urn:ietf:params:jmap:core",
        "urn:ietf:params:jmap:mail",
        "urn:ietf:params:jmap:submission",
        "urn:ietf:params:jmap:vacationresponse",
        "urn:ietf:params:jmap:contacts",
        "urn:ietf:params:jmap:contacts:parse",
        "urn:ietf:params:jmap:calendars",
        "urn:ietf:params:jmap:calendars:parse",
        "urn:ietf:params:jmap:websocket",
        "urn:ietf:params:jmap:sieve",
        "urn:ietf:params:jmap:blob",
        "urn:ietf:params:jmap:quota",
        "urn:ietf:params:jmap:principals",
        "urn:ietf:params:jmap:principals:owner",
        "urn:ietf:params:jmap:principals:availability",
        "urn:ietf:params:jmap:filenode",
        "urn:ietf:params:jmap:mail:share",
        "urn:ietf:params:jmap:webpush-vapid",
        "urn:ietf:params:jmap:emailpush",
        "urn:stalwart:jmap",
    ];
    const V0_15_LEN: usize = ALL.len() - 3;
    match version {
        ServerVersion::V0_16 => ALL,
        ServerVersion::V0_15 => ALL.split_at(V0_15_LEN).0,
    }
}

/// A stable 8-hex-digit state for an account and its permissions. The recorded state
/// did not change with password, TOTP or credential changes.
pub fn state_for(account_id: u32, permissions: &[String]) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u32::from(b);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    };
    feed(&account_id.to_be_bytes());
    for p in permissions {
        feed(p.as_bytes());
    }
    format!("{hash:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v0_16_lists_stalwart_capability_per_account_only() {
        let account = SessionAccount {
            id: "c".to_owned(),
            name: "alice@example.org".to_owned(),
            state: "1".to_owned(),
        };
        let session = build(
            ServerVersion::V0_16,
            "http://127.0.0.1:4000",
            Some(&account),
        );
        assert!(session["capabilities"].get("urn:stalwart:jmap").is_none());
        assert_eq!(
            session["accounts"]["c"]["accountCapabilities"]["urn:stalwart:jmap"],
            json!({})
        );
        assert_eq!(session["primaryAccounts"]["urn:stalwart:jmap"], json!("c"));
        assert_eq!(session["apiUrl"], json!("http://127.0.0.1:4000/jmap/"));
        assert_eq!(
            session["capabilities"]["urn:ietf:params:jmap:websocket"]["url"],
            json!("ws://127.0.0.1:4000/jmap/ws")
        );
    }

    #[test]
    fn v0_15_has_no_stalwart_capability_anywhere() {
        let account = SessionAccount {
            id: "c".to_owned(),
            name: "alice@example.org".to_owned(),
            state: "1".to_owned(),
        };
        let session = build(
            ServerVersion::V0_15,
            "http://127.0.0.1:4000",
            Some(&account),
        );
        assert!(!session.to_string().contains("urn:stalwart:jmap"));
    }

    #[test]
    fn anonymous_session_has_no_accounts() {
        let session = build(ServerVersion::V0_16, "http://127.0.0.1:4000", None);
        assert_eq!(session["accounts"], json!({}));
        assert_eq!(session["username"], json!(""));
        assert_eq!(session["state"], json!("0"));
    }
}
