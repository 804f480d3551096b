//! The HTTP front: routing by path like Stalwart's `parse_http_request`, authentication,
//! and the endpoints `/.well-known/jmap`, `/jmap/session`, `/jmap/`, `/api/account` and
//! `/api/auth`; the OAuth discovery documents, `GET /authorize` (302) and `/auth/…` are in
//! [`crate::auth::oauth::endpoints`]. Everything else is 404 problem+json.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth::{self, AccessToken, AuthMethod, parse_authorization};
use crate::config::ServerVersion;
use crate::jmap;
use crate::permissions::PASSWORD_SELF_SERVICE;
use crate::problem::Problem;
use crate::rest::auth::Caller;
use crate::session::{self, SessionAccount, state_for};
use crate::state::Shared;

/// Largest body read (`maxSizeUpload`); larger ones are a `maxSizeRequest` limit error.
const MAX_BODY: usize = 50_000_000;
/// Largest `/api/auth` body.
const MAX_LOGIN_BODY: usize = 1024 * 1024;

/// The router of one server.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(dispatch).with_state(shared)
}

/// Whether a path belongs to the OAuth service (discovery, `/api/auth`, `/auth/…`).
fn is_oauth_path(first: &str, second: &str) -> bool {
    matches!(
        (first, second),
        (
            ".well-known",
            "oauth-authorization-server" | "openid-configuration" | "oauth-protected-resource"
        ) | ("api", "auth")
            | ("auth" | "authorize", _)
    )
}

async fn dispatch(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let ip = peer.ip();
    if shared.ban.is_banned(ip) {
        return Problem::status_only(StatusCode::FORBIDDEN).into_response();
    }
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let mut segments = path.split('/').skip(1);
    let first = segments.next().unwrap_or_default();
    let second = segments.next().unwrap_or_default();
    let method = parts.method.clone();
    if !shared.config.oauth.enabled && is_oauth_path(first, second) {
        return StatusCode::NOT_FOUND.into_response();
    }

    if shared.config.version == ServerVersion::V0_15 && first == "api" {
        let rest = path.strip_prefix("/api").unwrap_or_default();
        return crate::rest::dispatch(&shared, &method, rest, &parts.headers, body).await;
    }

    match (first, second, &method) {
        ("jmap", "", &Method::POST) => jmap_api(&shared, &parts.headers, body, ip).await,
        ("jmap", "session", &Method::GET) => session(&shared, &parts.headers, ip),
        ("jmap", _, &Method::OPTIONS) | ("api", _, &Method::OPTIONS) => {
            StatusCode::NO_CONTENT.into_response()
        }
        (".well-known", "jmap", &Method::GET) => {
            let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
            response
                .headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static("/jmap/session"));
            response
        }
        ("api", "auth", &Method::POST) => {
            let Ok(bytes) = to_bytes(body, MAX_LOGIN_BODY).await else {
                return Problem::limit("maxSizeRequest").into_response();
            };
            match auth::login::handle(&shared, &bytes, ip) {
                Ok(value) => json_response(&value),
                Err(problem) => problem.into_response(),
            }
        }
        ("api", "account", _) if shared.config.version == ServerVersion::V0_16 => {
            account_api(&shared, &parts.headers, ip)
        }
        (
            ".well-known",
            name @ ("oauth-authorization-server"
            | "openid-configuration"
            | "oauth-protected-resource"),
            &Method::GET,
        ) => auth::oauth::endpoints::discovery(&shared, name).map_or_else(
            || Problem::not_found().into_response(),
            |document| json_response(&document),
        ),
        ("authorize", "", &Method::GET) => {
            // Not the authorization endpoint (that is /login): the generic redirect.
            let mut response = StatusCode::FOUND.into_response();
            response
                .headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static("/authorize/"));
            response
        }
        ("auth", endpoint, _) => {
            auth::oauth::endpoints::dispatch(&shared, endpoint, &method, &parts.headers, body, ip)
                .await
        }
        _ => Problem::not_found().into_response(),
    }
}

/// A 200 JSON response as Stalwart writes it.
pub fn json_response(value: &Value) -> Response {
    let mut response = (StatusCode::OK, value.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// Authenticates a request; the error is the HTTP answer. In 0.15 mode the 0.15 principals
/// decide ([`crate::rest::auth`]: `password$code`, app passwords, the 0.15 402 text).
pub(crate) fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
    ip: IpAddr,
) -> Result<AccessToken, Problem> {
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok());
    let now = shared.clock.unix();
    if shared.config.version == ServerVersion::V0_15 {
        return match crate::rest::auth::authenticate(shared, headers)? {
            Caller::FallbackAdmin => Err(Problem::unauthorized_v0_15()),
            Caller::Principal { id, basic } => {
                let dir = shared.directory();
                let account = dir
                    .accounts
                    .get(&id)
                    .ok_or_else(Problem::unauthorized_v0_15)?;
                let method = if basic {
                    AuthMethod::Password
                } else {
                    AuthMethod::OAuth
                };
                Ok(auth::token_for(&dir, account, None, method))
            }
        };
    }
    let result = parse_authorization(header).and_then(|credentials| {
        let dir = shared.directory();
        auth::authenticate(&dir, &shared.oauth, &credentials, ip, now)
    });
    result.map_err(|failure| {
        if failure.counts_toward_ban() && shared.ban.record_failure(ip, now) {
            Problem::too_many_auth_attempts()
        } else {
            failure.problem()
        }
    })
}

fn session(shared: &Shared, headers: &HeaderMap, ip: IpAddr) -> Response {
    let version = shared.config.version;
    if !headers.contains_key(header::AUTHORIZATION) {
        let mut value = session::build(version, &shared.base_url, None);
        session::apply_overrides(&mut value, &shared.config.session_overrides);
        return json_response(&value);
    }
    let token = match authenticate(shared, headers, ip) {
        Ok(token) => token,
        Err(problem) => return problem.into_response(),
    };
    let account = {
        let dir = shared.directory();
        dir.accounts
            .get(&token.account_id)
            .map(|account| SessionAccount {
                id: account.jmap_id(),
                name: dir.email_of(account),
                state: state_for(token.account_id, &token.account_permissions.ordered()),
            })
    };
    let mut value = session::build(version, &shared.base_url, account.as_ref());
    session::apply_overrides(&mut value, &shared.config.session_overrides);
    json_response(&value)
}

async fn jmap_api(shared: &Shared, headers: &HeaderMap, body: Body, ip: IpAddr) -> Response {
    let token = match authenticate(shared, headers, ip) {
        Ok(token) => token,
        Err(problem) => return problem.into_response(),
    };
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        let is_json = content_type.to_str().ok().is_some_and(|ct| {
            ct.split_once(';')
                .map_or(ct, |(media, _)| media)
                .trim()
                .eq_ignore_ascii_case("application/json")
        });
        if !is_json {
            return Problem::not_json("The Content-Type header must be application/json.")
                .into_response();
        }
    }
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return Problem::limit("maxSizeRequest").into_response();
    };
    match jmap::handle(shared, &token, &bytes, ip) {
        Ok(value) => json_response(&value),
        Err(problem) => problem.into_response(),
    }
}

fn account_api(shared: &Shared, headers: &HeaderMap, ip: IpAddr) -> Response {
    let token = match authenticate(shared, headers, ip) {
        Ok(token) => token,
        Err(problem) => return problem.into_response(),
    };
    let dir = shared.directory();
    let Some(account) = dir.accounts.get(&token.account_id) else {
        return Problem::unauthorized().into_response();
    };
    let mut permissions = token.permissions.clone();
    if account.external_directory {
        for name in PASSWORD_SELF_SERVICE {
            permissions.remove(name);
        }
    }
    json_response(&json!({
        "permissions": permissions.ordered(),
        "edition": "oss",
        "locale": account.settings.locale,
    }))
}
