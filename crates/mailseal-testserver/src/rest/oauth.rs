//! `POST /api/oauth` (permission `authenticate-oauth`): `{"type": "code", "client_id",
//! "redirect_uri", "nonce"?}` issues an authorization code for `/auth/token` and tells the
//! caller's permission names and the server version (fixtures 03, 31, 51).

use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::auth::oauth::{AuthorizationCode, Pkce};
use crate::problem::Problem;
use crate::state::Shared;

use super::auth::Caller;
use super::{has_permission, permissions, reply};

/// The version `POST /api/oauth` reports.
pub const VERSION: &str = "0.15.5";
/// Longest client id.
const CLIENT_ID_MAX_LEN: usize = 20;

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum Request {
    Code {
        client_id: String,
        redirect_uri: String,
        #[serde(default)]
        nonce: Option<String>,
    },
}

/// Handles the request.
pub fn post(shared: &Shared, caller: &Caller, body: &[u8]) -> Response {
    if !has_permission(shared, caller, "authenticate-oauth") {
        return Problem::forbidden().into_response();
    }
    let Ok(Request::Code {
        client_id,
        redirect_uri,
        nonce,
    }) = serde_json::from_slice::<Request>(body)
    else {
        return Problem::invalid_parameters("JSON deserialization failed").into_response();
    };
    let Caller::Principal { id, .. } = caller else {
        return reply::other("Fallback administrator accounts cannot use OAuth", None);
    };
    if client_id.len() > CLIENT_ID_MAX_LEN {
        return reply::other("Client ID is invalid.", None);
    }
    if redirect_uri.starts_with("http://") {
        return reply::other("Redirect URI must be HTTPS.", None);
    }
    let granted = match shared.rest().principals.get(id) {
        Some(p) => permissions::of(p),
        None => return Problem::unauthorized().into_response(),
    };
    let now = shared.clock.unix();
    let ttl = i64::try_from(shared.config.oauth.client_code_ttl_secs).unwrap_or(i64::MAX);
    let code = shared.oauth.issue_code(AuthorizationCode {
        account_id: *id,
        client_id,
        redirect_uri,
        code_challenge: Pkce::None,
        scope: None,
        nonce,
        issued_at: now,
        expires_at: now.saturating_add(ttl),
    });
    reply::data(json!({
        "code": code,
        "permissions": granted,
        "version": VERSION,
        "isEnterprise": false,
    }))
}
