//! The HTTP front: routing by path like Stalwart's `parse_http_request`, authentication,
//! and the endpoints `/.well-known/jmap`, `/jmap/session`, `/jmap/`, `/api/account` and
//! `/api/auth`; the OAuth discovery documents, `GET /authorize` (302) and `/auth/…` are in
//! [`crate::auth::oauth::endpoints`]; uploads and downloads are in [`crate::mail::blob`].
//! Everything else is 404 problem+json. Injected faults ([`crate::faults`]) are applied here,
//! before and after a request is handled.

pub mod connection;

use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth::{self, AccessToken, AuthMethod, parse_authorization};
use crate::config::ServerVersion;
use crate::faults::{Arrival, FaultAction};
use crate::jmap;
use crate::mail::blob;
use crate::permissions::PASSWORD_SELF_SERVICE;
use crate::problem::Problem;
use crate::rest::auth::Caller;
use crate::session::{self, SessionAccount, state_for};
use crate::state::Shared;

use self::connection::Peer;

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
    ConnectInfo(peer): ConnectInfo<Peer>,
    request: Request,
) -> Response {
    let ip = peer.addr.ip();
    if shared.ban.is_banned(ip) {
        return Problem::status_only(StatusCode::FORBIDDEN).into_response();
    }
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let mut segments = path.split('/').skip(1);
    let first = segments.next().unwrap_or_default();
    let second = segments.next().unwrap_or_default();

    // The JMAP body is read first: fault rules may name the methods it calls.
    let mut jmap_body = None;
    let mut body = Some(body);
    let arrival = match (first, second, &parts.method) {
        ("jmap", "", &Method::POST) => {
            let bytes = match body.take() {
                Some(body) => to_bytes(body, MAX_BODY).await.ok(),
                None => None,
            };
            let methods = bytes.as_deref().map(method_names).unwrap_or_default();
            jmap_body = Some(bytes);
            Some(Arrival::Jmap(methods))
        }
        ("jmap", "session", &Method::GET) => Some(Arrival::Session),
        ("jmap", "upload", &Method::POST) => Some(Arrival::Upload),
        ("jmap", "download", &Method::GET) => Some(Arrival::Download),
        _ => None,
    };
    let body = body.unwrap_or_else(Body::empty);
    let action = arrival.and_then(|a| shared.faults.arrive(a));
    match action {
        Some(FaultAction::Status {
            status,
            retry_after,
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut response = Problem::status_only(status).into_response();
            if let Some(secs) = retry_after
                && let Ok(value) = HeaderValue::from_str(&secs.to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
        Some(FaultAction::OverQuota) => {
            let limits = shared.config.uploads;
            return blob::over_quota_response(&limits, limits.upload_ttl_ms.div_ceil(1000));
        }
        Some(FaultAction::DropBefore) => {
            peer.kill.kill();
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Some(FaultAction::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(FaultAction::DropAfter) | None => {}
    }
    let response = route(&shared, parts, body, jmap_body, ip).await;
    if action == Some(FaultAction::DropAfter) {
        peer.kill.kill();
    }
    response
}

/// The method names of a JMAP request body (empty when it is not one).
fn method_names(body: &[u8]) -> Vec<String> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    value
        .get("methodCalls")
        .and_then(Value::as_array)
        .map(|calls| {
            calls
                .iter()
                .filter_map(|c| c.get(0).and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Handles a request by path; `jmap_body` is the already read body of `POST /jmap/`
/// (`Some(None)` when it was too large).
async fn route(
    shared: &Shared,
    parts: Parts,
    body: Body,
    jmap_body: Option<Option<Bytes>>,
    ip: IpAddr,
) -> Response {
    let path = parts.uri.path().to_owned();
    let mut segments = path.split('/').skip(1);
    let first = segments.next().unwrap_or_default();
    let second = segments.next().unwrap_or_default();
    let third = segments.next().unwrap_or_default();
    let fourth = segments.next().unwrap_or_default();
    let method = parts.method.clone();
    if !shared.config.oauth.enabled && is_oauth_path(first, second) {
        return StatusCode::NOT_FOUND.into_response();
    }

    if shared.config.version == ServerVersion::V0_15 && first == "api" {
        let rest = path.strip_prefix("/api").unwrap_or_default();
        return crate::rest::dispatch(shared, &method, rest, &parts.headers, body).await;
    }

    match (first, second, &method) {
        ("jmap", "", &Method::POST) => jmap_api(shared, &parts.headers, jmap_body.flatten(), ip),
        ("jmap", "session", &Method::GET) => session(shared, &parts.headers, ip),
        ("jmap", "upload", &Method::POST) if !third.is_empty() => {
            blob::upload(shared, &parts.headers, third, body, ip).await
        }
        ("jmap", "download", &Method::GET) if !third.is_empty() && !fourth.is_empty() => {
            blob::download(shared, &parts.headers, third, fourth, parts.uri.query(), ip)
        }
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
            match auth::login::handle(shared, &bytes, ip) {
                Ok(value) => json_response(&value),
                Err(problem) => problem.into_response(),
            }
        }
        ("api", "account", _) if shared.config.version == ServerVersion::V0_16 => {
            account_api(shared, &parts.headers, ip)
        }
        (
            ".well-known",
            name @ ("oauth-authorization-server"
            | "openid-configuration"
            | "oauth-protected-resource"),
            &Method::GET,
        ) => auth::oauth::endpoints::discovery(shared, name).map_or_else(
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
            auth::oauth::endpoints::dispatch(shared, endpoint, &method, &parts.headers, body, ip)
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
    if let Some(core) = value
        .get_mut("capabilities")
        .and_then(|c| c.get_mut("urn:ietf:params:jmap:core"))
        .and_then(Value::as_object_mut)
    {
        core.insert(
            "maxSizeUpload".to_owned(),
            Value::from(shared.config.uploads.max_upload_size),
        );
    }
    session::apply_overrides(&mut value, &shared.config.session_overrides);
    json_response(&value)
}

fn jmap_api(shared: &Shared, headers: &HeaderMap, body: Option<Bytes>, ip: IpAddr) -> Response {
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
    let Some(bytes) = body else {
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
