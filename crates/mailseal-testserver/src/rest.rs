//! Stalwart 0.15's REST API under `/api` (0.15 mode only), as recorded in
//! `tests/fixtures/stalwart-0.15.5/`:
//!
//! * `GET|POST /api/account/auth` ([`account`]): TOTP and app passwords, password change;
//! * `GET|POST /api/account/crypto` ([`crypto`]): encryption at rest;
//! * `POST /api/principal`, `GET|PATCH /api/principal/{name}` ([`principal`]): the admin API;
//! * `POST /api/oauth` ([`oauth`]): an authorization code, the permissions and the version.
//!
//! Answers come in three shapes ([`reply`]): `{"data": …}`, a management error with HTTP
//! 200 (`{"error": "other", …}`), and problem+json. Every request needs credentials
//! ([`auth`]), so an unknown path is 401 without them and 404 with them; `OPTIONS` is 204.

pub mod account;
pub mod auth;
pub mod blob;
pub mod crypto;
pub mod oauth;
pub mod permissions;
pub mod principal;
pub mod reply;
pub mod sha512_crypt;
pub mod store;

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};

use crate::problem::Problem;
use crate::state::Shared;

use self::auth::Caller;

/// Largest body read; a larger one is treated as empty, as on the server.
const MAX_BODY: usize = 1024 * 1024;

/// Handles a request whose path starts with `/api/` (`rest` is the path after it).
pub async fn dispatch(
    shared: &Shared,
    method: &Method,
    rest: &str,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    if method == Method::OPTIONS {
        return reply::options();
    }
    let caller = match auth::authenticate(shared, headers) {
        Ok(caller) => caller,
        Err(problem) => return problem.into_response(),
    };
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let body = to_bytes(body, MAX_BODY)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    match (segments.as_slice(), method) {
        (["account", "auth"], &Method::GET) => account::get(shared, &caller),
        (["account", "auth"], &Method::POST) => account::post(shared, &caller, &body),
        (["account", "crypto"], &Method::GET) => crypto::get(shared, &caller),
        (["account", "crypto"], &Method::POST) => crypto::post(shared, &caller, &body),
        (["principal"], &Method::POST) => principal::create(shared, &caller, &body),
        (["principal", name], &Method::GET) => principal::get(shared, &caller, name),
        (["principal", name], &Method::PATCH) => principal::patch(shared, &caller, name, &body),
        (["oauth"], &Method::POST) => oauth::post(shared, &caller, &body),
        _ => Problem::not_found().into_response(),
    }
}

/// Whether the caller holds `permission` (the fallback administrator holds every one).
pub fn has_permission(shared: &Shared, caller: &Caller, permission: &str) -> bool {
    match caller {
        Caller::FallbackAdmin => true,
        Caller::Principal { id, .. } => shared
            .rest()
            .principals
            .get(id)
            .is_some_and(|p| permissions::of(p).iter().any(|q| q == permission)),
    }
}
