//! The JMAP session (RFC 8620 §2): found through `/.well-known/jmap`, read into [`Session`],
//! and checked so that every URL in it is on the server the user named.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::error::Error;
use crate::http::Server;

/// Stalwart's capability for the `x:` management methods (0.16 and later).
pub const STALWART_CAPABILITY: &str = "urn:stalwart:jmap";

/// What the session object says about the signed-in account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The signed-in user name.
    pub username: String,
    /// The personal account's id.
    pub account_id: String,
    /// Where JMAP requests go.
    pub api_url: String,
    /// Whether the server offers Stalwart's `x:` methods (0.16 and later).
    pub stalwart_jmap: bool,
    /// Where blobs are uploaded (`uploadUrl`, a template with `{accountId}`).
    pub upload_url: Option<String>,
    /// Where blobs are downloaded (`downloadUrl`, a template with `{accountId}`, `{blobId}`,
    /// `{name}` and `{type}`).
    pub download_url: Option<String>,
    /// The server's limits (`urn:ietf:params:jmap:core`).
    pub limits: Limits,
}

/// The limits a JMAP server announces in its session (RFC 8620 §2, `urn:ietf:params:jmap:core`).
///
/// Missing values are read as the RFC's minimum recommendations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Limits {
    /// Largest upload in bytes.
    pub max_size_upload: u64,
    /// Uploads in flight at once.
    pub max_concurrent_upload: usize,
    /// Largest request body in bytes.
    pub max_size_request: u64,
    /// Requests in flight at once.
    pub max_concurrent_requests: usize,
    /// Method calls in one request.
    pub max_calls_in_request: usize,
    /// Ids in one `/get`.
    pub max_objects_in_get: usize,
    /// Objects in one `/set` (or `Email/import`).
    pub max_objects_in_set: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_size_upload: 50_000_000,
            max_concurrent_upload: 4,
            max_size_request: 10_000_000,
            max_concurrent_requests: 4,
            max_calls_in_request: 16,
            max_objects_in_get: 500,
            max_objects_in_set: 500,
        }
    }
}

/// The parts of the session object the client reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionObject {
    #[serde(default)]
    username: String,
    #[serde(default)]
    accounts: BTreeMap<String, AccountObject>,
    #[serde(default)]
    primary_accounts: BTreeMap<String, Value>,
    api_url: Option<String>,
    #[serde(default)]
    upload_url: Option<String>,
    #[serde(default)]
    download_url: Option<String>,
    #[serde(default)]
    event_source_url: Option<String>,
    #[serde(default)]
    capabilities: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountObject {
    #[serde(default)]
    is_personal: bool,
    #[serde(default)]
    account_capabilities: BTreeMap<String, Value>,
}

/// Reads the session object fetched from `session_url` of `server`: picks the personal
/// account, and refuses the session when one of its URLs (`apiUrl`, `uploadUrl`,
/// `downloadUrl`, `eventSourceUrl`) is on another origin.
pub(crate) fn parse_session(
    server: &Server,
    session_url: &Url,
    value: &Value,
) -> Result<Session, Error> {
    let object = SessionObject::deserialize(value)
        .map_err(|e| Error::protocol(format!("session object: {e}")))?;
    let api_url = object
        .api_url
        .as_deref()
        .ok_or_else(|| Error::protocol("session without apiUrl"))?;
    let api_url = server.resolve(session_url, api_url, "apiUrl")?;
    for (what, template) in [
        ("uploadUrl", &object.upload_url),
        ("downloadUrl", &object.download_url),
        ("eventSourceUrl", &object.event_source_url),
    ] {
        if let Some(template) = template {
            // Only the part before the first `{variable}` decides the origin.
            let fixed = template.split('{').next().unwrap_or_default();
            server.resolve(session_url, fixed, what)?;
        }
    }
    let (account_id, account) = object
        .accounts
        .iter()
        .find(|(_, a)| a.is_personal)
        .ok_or_else(|| Error::protocol("session without a personal account"))?;
    let stalwart_jmap = account
        .account_capabilities
        .contains_key(STALWART_CAPABILITY)
        || object.primary_accounts.contains_key(STALWART_CAPABILITY);
    let limits = object
        .capabilities
        .get("urn:ietf:params:jmap:core")
        .and_then(|core| Limits::deserialize(core).ok())
        .unwrap_or_default();
    Ok(Session {
        username: object.username.clone(),
        account_id: account_id.clone(),
        api_url: api_url.to_string(),
        stalwart_jmap,
        upload_url: object.upload_url.clone(),
        download_url: object.download_url.clone(),
        limits,
    })
}

/// Where the session object is: `/.well-known/jmap`, or where its redirect points, on the
/// same origin only.
pub(crate) async fn session_url(server: &Server) -> Result<Url, Error> {
    let well_known = server.url("/.well-known/jmap")?;
    let resp = server.http.get(well_known.clone()).send().await?;
    if !resp.status().is_redirection() {
        return Ok(well_known);
    }
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .ok_or_else(|| Error::protocol("redirect without Location"))?;
    server.resolve(&well_known, location, "session redirect")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::options::ConnectOptions;

    fn session(api: &str, upload: &str) -> Value {
        json!({
            "accounts": {
                "g": {"isPersonal": false, "accountCapabilities": {}},
                "c": {"isPersonal": true, "accountCapabilities": {"urn:stalwart:jmap": {}}}
            },
            "primaryAccounts": {"urn:stalwart:jmap": "c"},
            "username": "alice@example.org",
            "apiUrl": api,
            "uploadUrl": upload,
            "downloadUrl": "http://127.0.0.1:1/jmap/download/{accountId}/{blobId}/{name}?accept={type}",
        })
    }

    fn server() -> (Server, Url) {
        let s = Server::new("http://127.0.0.1:1", &ConnectOptions::default()).unwrap();
        let url = s.url("/jmap/session").unwrap();
        (s, url)
    }

    #[test]
    fn session_picks_the_personal_account() {
        let (s, url) = server();
        let v = session("http://127.0.0.1:1/jmap/", "/jmap/upload/{accountId}/");
        let parsed = parse_session(&s, &url, &v).unwrap();
        assert_eq!(parsed.account_id, "c");
        assert_eq!(parsed.api_url, "http://127.0.0.1:1/jmap/");
        assert!(parsed.stalwart_jmap);
    }

    #[test]
    fn session_urls_on_another_origin_are_refused() {
        let (s, url) = server();
        let cases = [
            (
                "http://127.0.0.1:2/jmap/",
                "/jmap/upload/{accountId}/",
                "apiUrl",
            ),
            (
                "/jmap/",
                "http://127.0.0.2:1/jmap/upload/{accountId}/",
                "uploadUrl",
            ),
            ("https://127.0.0.1:1/jmap/", "/jmap/upload/", "apiUrl"),
        ];
        for (api, upload, what) in cases {
            let e = parse_session(&s, &url, &session(api, upload)).unwrap_err();
            match &e {
                Error::ForeignOrigin { what: w, .. } => assert_eq!(w, what),
                other => panic!("{other:?}"),
            }
        }
    }
}
