//! The OAuth / OIDC HTTP endpoints of Stalwart 0.16.19 (fixture 14):
//!
//! * discovery: `/.well-known/oauth-authorization-server` (RFC 8414),
//!   `/.well-known/openid-configuration`, `/.well-known/oauth-protected-resource`;
//! * `POST /auth/token`: grants `authorization_code`, `refresh_token` and
//!   `urn:ietf:params:oauth:grant-type:device_code`; the body is always read as a form;
//!   errors are 400 `{"error":…}`;
//! * `POST /auth/device` (device authorization), `POST /auth/introspect` and
//!   `GET|POST /auth/userinfo` (both need credentials), `POST /auth/register` (public
//!   clients, no credentials), `GET /auth/jwks.json`.
//!
//! Other `/auth/…` paths are 404.

use std::net::IpAddr;

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

use super::form::FormData;
use super::jwt::sha256;
use super::{DeviceStatus, Pkce, RegisteredClient, SUPPORTED_SCOPES, TokenKind, grant_scope};
use crate::auth::AccessToken;
use crate::http::{authenticate, json_response};
use crate::problem::Problem;
use crate::state::Shared;

/// Largest body the endpoints read.
const MAX_BODY: usize = 1024 * 1024;

/// The grant types the server supports.
const GRANT_TYPES: [&str; 3] = [
    "authorization_code",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
];

/// The device grant type.
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// `/.well-known/oauth-authorization-server` for a server at `base`.
pub fn authorization_server_metadata(base: &str) -> Value {
    json!({
        "issuer": base,
        "token_endpoint": format!("{base}/auth/token"),
        "authorization_endpoint": format!("{base}/login"),
        "device_authorization_endpoint": format!("{base}/auth/device"),
        "registration_endpoint": format!("{base}/auth/register"),
        "introspection_endpoint": format!("{base}/auth/introspect"),
        "grant_types_supported": GRANT_TYPES,
        "response_types_supported": ["code"],
        "scopes_supported": SUPPORTED_SCOPES,
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    })
}

/// `/.well-known/openid-configuration` for a server at `base`.
pub fn openid_configuration(base: &str) -> Value {
    json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/login"),
        "token_endpoint": format!("{base}/auth/token"),
        "userinfo_endpoint": format!("{base}/auth/userinfo"),
        "jwks_uri": format!("{base}/auth/jwks.json"),
        "registration_endpoint": format!("{base}/auth/register"),
        "device_authorization_endpoint": format!("{base}/auth/device"),
        "scopes_supported": SUPPORTED_SCOPES,
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "grant_types_supported": GRANT_TYPES,
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "id_token_signing_alg_values_supported": [
            "RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "PS384", "PS512", "HS256",
            "HS384", "HS512"
        ],
        "claims_supported": ["sub", "name", "preferred_username", "email", "email_verified"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    })
}

/// `/.well-known/oauth-protected-resource` for a server at `base`.
pub fn protected_resource(base: &str) -> Value {
    json!({
        "resource": base,
        "authorization_servers": [base],
        "scopes_supported": SUPPORTED_SCOPES,
        "bearer_methods_supported": ["header"],
    })
}

/// The discovery document named by the second path segment of `/.well-known/…`, if any.
pub fn discovery(shared: &Shared, name: &str) -> Option<Value> {
    let base = shared.base_url.as_str();
    let mut value = match name {
        "oauth-authorization-server" => authorization_server_metadata(base),
        "openid-configuration" => openid_configuration(base),
        "oauth-protected-resource" => protected_resource(base),
        _ => return None,
    };
    crate::session::apply_overrides(&mut value, &shared.config.oauth_metadata_overrides);
    Some(value)
}

/// Handles `/auth/<endpoint>`.
pub async fn dispatch(
    shared: &Shared,
    endpoint: &str,
    method: &Method,
    headers: &HeaderMap,
    body: Body,
    ip: IpAddr,
) -> Response {
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => return Problem::limit("maxSizeRequest").into_response(),
    };
    match (endpoint, method) {
        ("token", &Method::POST) => token(shared, headers, &bytes),
        ("device", &Method::POST) => device(shared, &bytes),
        ("register", &Method::POST) => register(shared, &bytes),
        ("jwks.json", &Method::GET) => jwks(shared),
        ("introspect", &Method::POST) => match authenticate(shared, headers, ip) {
            Ok(caller) => introspect(shared, &caller, &bytes),
            Err(problem) => problem.into_response(),
        },
        ("userinfo", &Method::GET | &Method::POST) => match authenticate(shared, headers, ip) {
            Ok(caller) => userinfo(shared, &caller),
            Err(problem) => problem.into_response(),
        },
        _ => Problem::not_found().into_response(),
    }
}

/// A JSON response with `status`.
fn json_with_status(status: StatusCode, value: &Value) -> Response {
    let mut response = json_response(value);
    *response.status_mut() = status;
    response
}

/// A 400 token endpoint error.
fn token_error(error: &str) -> Response {
    json_with_status(StatusCode::BAD_REQUEST, &json!({"error": error}))
}

fn secs(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The client id and secret: form parameters first, then HTTP Basic `id:secret`.
fn client_credentials(headers: &HeaderMap, form: &FormData) -> (Option<String>, Option<String>) {
    let mut client_id = form.get("client_id").map(str::to_owned);
    let mut client_secret = form.get("client_secret").map(str::to_owned);
    if client_id.is_none() || client_secret.is_none() {
        let basic = headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .and_then(|(_, token)| STANDARD.decode(token.trim()).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok());
        if let Some((id, secret)) = basic.as_deref().and_then(|text| text.split_once(':')) {
            client_id.get_or_insert_with(|| id.to_owned());
            client_secret.get_or_insert_with(|| secret.to_owned());
        }
    }
    (client_id, client_secret)
}

/// Checks a PKCE verifier against the stored challenge (RFC 7636).
fn verify_pkce(stored: &Pkce, verifier: Option<&str>) -> bool {
    let well_formed = |v: &str| {
        (43..=128).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    };
    match (stored, verifier) {
        (Pkce::None, None) => true,
        (Pkce::Plain(expected), Some(v)) if well_formed(v) => expected == v,
        (Pkce::S256(expected), Some(v)) if well_formed(v) => {
            sha256(v.as_bytes()).is_some_and(|d| URL_SAFE_NO_PAD.encode(d) == *expected)
        }
        _ => false,
    }
}

/// `POST /auth/token`.
pub fn token(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Response {
    let form = FormData::parse(body);
    let grant_type = form.get("grant_type").unwrap_or_default();
    let now = shared.clock.unix();
    let result = if grant_type.eq_ignore_ascii_case("authorization_code") {
        authorization_code_grant(shared, headers, &form, now)
    } else if grant_type.eq_ignore_ascii_case(DEVICE_GRANT) {
        device_code_grant(shared, &form, now)
    } else if grant_type.eq_ignore_ascii_case("refresh_token") {
        refresh_token_grant(shared, &form, now)
    } else {
        Err("invalid_grant")
    };
    match result {
        Ok(value) => json_response(&value),
        Err(error) => token_error(error),
    }
}

fn authorization_code_grant(
    shared: &Shared,
    headers: &HeaderMap,
    form: &FormData,
    now: i64,
) -> Result<Value, &'static str> {
    let (client_id, _secret) = client_credentials(headers, form);
    let (Some(code), Some(client_id), Some(redirect_uri)) =
        (form.get("code"), client_id, form.get("redirect_uri"))
    else {
        return Err("invalid_client");
    };
    let stored = shared.oauth.code(code, now).ok_or("access_denied")?;
    if client_id != stored.client_id || redirect_uri != stored.redirect_uri {
        return Err("invalid_client");
    }
    if !verify_pkce(&stored.code_challenge, form.get("code_verifier")) {
        return Err("invalid_grant");
    }
    shared.oauth.remove_code(code);
    issue_tokens(
        shared,
        stored.account_id,
        Some(&stored.client_id),
        stored.scope,
        stored.nonce,
        true,
        now,
    )
}

fn device_code_grant(shared: &Shared, form: &FormData, now: i64) -> Result<Value, &'static str> {
    let (Some(device_code), Some(client_id)) = (form.get("device_code"), form.get("client_id"))
    else {
        return Err("expired_token");
    };
    let grant = shared
        .oauth
        .device(device_code, now)
        .ok_or("expired_token")?;
    if grant.client_id != client_id {
        return Err("invalid_client");
    }
    match grant.status {
        DeviceStatus::Pending => Err("authorization_pending"),
        DeviceStatus::Authorized(account_id) => {
            shared.oauth.remove_device(device_code);
            issue_tokens(
                shared,
                account_id,
                Some(&grant.client_id),
                grant.scope,
                grant.nonce,
                true,
                now,
            )
        }
    }
}

fn refresh_token_grant(shared: &Shared, form: &FormData, now: i64) -> Result<Value, &'static str> {
    let refresh_token = form.get("refresh_token").ok_or("invalid_request")?;
    let info = shared
        .oauth
        .validate_token(refresh_token, TokenKind::Refresh, now)
        .ok_or("invalid_grant")?;
    let renew =
        info.expires_at.saturating_sub(now) <= secs(shared.config.oauth.refresh_token_renew_secs);
    issue_tokens(shared, info.account_id, None, None, None, renew, now)
}

/// The token answer: an access token, optionally a refresh token, the scope when one was
/// granted, and an `id_token` when `client_id` is given (not on refresh).
fn issue_tokens(
    shared: &Shared,
    account_id: u32,
    client_id: Option<&str>,
    scope: Option<String>,
    nonce: Option<String>,
    with_refresh_token: bool,
    now: i64,
) -> Result<Value, &'static str> {
    let (name, description) = {
        let dir = shared.directory();
        let account = dir.accounts.get(&account_id).ok_or("invalid_grant")?;
        (dir.email_of(account), account.description.clone())
    };
    let config = shared.config.oauth;
    let mut answer = Map::new();
    let access = shared.oauth.issue_token(
        TokenKind::Access,
        account_id,
        &name,
        now,
        config.access_token_ttl_secs,
    );
    answer.insert("access_token".to_owned(), json!(access));
    answer.insert("token_type".to_owned(), json!("bearer"));
    answer.insert("expires_in".to_owned(), json!(config.access_token_ttl_secs));
    if with_refresh_token {
        let refresh = shared.oauth.issue_token(
            TokenKind::Refresh,
            account_id,
            &name,
            now,
            config.refresh_token_ttl_secs,
        );
        answer.insert("refresh_token".to_owned(), json!(refresh));
    }
    if let Some(scope) = scope {
        answer.insert("scope".to_owned(), json!(scope));
    }
    if let Some(client_id) = client_id {
        let mut claims = vec![
            ("iss", json!(shared.base_url)),
            ("sub", json!(account_id.to_string())),
            ("aud", json!(client_id)),
            ("nbf", json!(now)),
            ("iat", json!(now)),
            (
                "exp",
                json!(now.saturating_add(secs(config.id_token_ttl_secs))),
            ),
        ];
        if let Some(nonce) = nonce {
            claims.push(("nonce", json!(nonce)));
        }
        claims.push(("preferred_username", json!(name)));
        claims.push(("email", json!(name)));
        if let Some(description) = description {
            claims.push(("description", json!(description)));
        }
        if let Some(id_token) = shared.oauth.signer().and_then(|s| s.sign(&claims)) {
            answer.insert("id_token".to_owned(), json!(id_token));
        }
    }
    Ok(Value::Object(answer))
}

/// `POST /auth/device` (form `client_id`, `scope`, `nonce`; no credentials).
pub fn device(shared: &Shared, body: &[u8]) -> Response {
    let form = FormData::parse(body);
    let Some(client_id) = form.get("client_id").filter(|id| id.len() <= 2048) else {
        return Problem::invalid_parameters("Client ID is missing.").into_response();
    };
    let config = shared.config.oauth;
    let now = shared.clock.unix();
    let (device_code, user_code) = shared.oauth.issue_device(
        client_id.to_owned(),
        grant_scope(form.get("scope"), u64::MAX),
        form.get("nonce").map(str::to_owned),
        now.saturating_add(secs(config.device_code_ttl_secs)),
    );
    let base = &shared.base_url;
    json_response(&json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": format!("{base}/device"),
        "verification_uri_complete": format!("{base}/device/?code={user_code}"),
        "expires_in": config.device_code_ttl_secs,
        "interval": config.device_interval_secs,
    }))
}

/// `POST /auth/introspect` (form `token`), for an authenticated caller: the token's
/// account, kind-independent `token_type` `bearer`, `exp` and `iat`; `{"active":false}`
/// for an unknown, expired or revoked token, or one of an account the caller may not act
/// on.
pub fn introspect(shared: &Shared, caller: &AccessToken, body: &[u8]) -> Response {
    let form = FormData::parse(body);
    let Some(token) = form.get("token") else {
        return Problem::invalid_parameters("Client ID is missing.").into_response();
    };
    let now = shared.clock.unix();
    let answer = shared
        .oauth
        .token(token, now)
        .filter(|info| caller.may_act_on(info.account_id))
        .and_then(|info| {
            let dir = shared.directory();
            let account = dir.accounts.get(&info.account_id)?;
            Some(json!({
                "active": true,
                "username": dir.email_of(account),
                "token_type": "bearer",
                "exp": info.expires_at,
                "iat": info.issued_at,
            }))
        })
        .unwrap_or_else(|| json!({"active": false}));
    json_response(&answer)
}

/// `GET /auth/userinfo`: the caller's OpenID claims.
pub fn userinfo(shared: &Shared, caller: &AccessToken) -> Response {
    let dir = shared.directory();
    let Some(account) = dir.accounts.get(&caller.account_id) else {
        return Problem::unauthorized().into_response();
    };
    let email = dir.email_of(account);
    let mut claims = Map::new();
    claims.insert("sub".to_owned(), json!(account.id.to_string()));
    if let Some(description) = &account.description {
        claims.insert("name".to_owned(), json!(description));
    }
    claims.insert("preferred_username".to_owned(), json!(email));
    claims.insert("email".to_owned(), json!(email));
    claims.insert("email_verified".to_owned(), json!(true));
    json_response(&Value::Object(claims))
}

/// `GET /auth/jwks.json`: the `id_token` signing key.
pub fn jwks(shared: &Shared) -> Response {
    json_response(
        &shared
            .oauth
            .signer()
            .map_or_else(|| json!({"keys": []}), super::jwt::Signer::jwks),
    )
}

/// The RFC 7591 metadata echoed in a registration answer.
const REGISTRATION_FIELDS: [&str; 15] = [
    "redirect_uris",
    "token_endpoint_auth_method",
    "grant_types",
    "response_types",
    "client_name",
    "client_uri",
    "logo_uri",
    "scope",
    "contacts",
    "tos_uri",
    "policy_uri",
    "jwks_uri",
    "software_id",
    "software_version",
    "application_type",
];

/// A 400 registration error (RFC 7591 §3.2.2).
fn registration_error(error: &str, description: &str) -> Response {
    json_with_status(
        StatusCode::BAD_REQUEST,
        &json!({"error": error, "error_description": description}),
    )
}

/// Whether `uri` may be registered: `https://`, `http://` to a loopback address, or a
/// private-use scheme; never with a fragment.
fn redirect_uri_problem(uri: &str) -> Option<&'static str> {
    if uri.contains('#') {
        return Some("Redirect URIs must not contain a fragment.");
    }
    if uri.starts_with("https://") {
        return None;
    }
    if uri.starts_with("http://") {
        return match loopback_parts(uri) {
            Some(_) => None,
            None => Some("HTTP redirect URIs are only allowed for loopback addresses."),
        };
    }
    let scheme = uri.split_once(':').map(|(s, _)| s).unwrap_or_default();
    let valid_scheme = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'));
    (!valid_scheme).then_some("Invalid redirect URI.")
}

/// `(host, rest)` of an `http://` URI to 127.0.0.1, `[::1]` or localhost (port dropped).
fn loopback_parts(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("http://")?;
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    let host = if authority.starts_with('[') {
        authority
            .find(']')
            .and_then(|end| authority.get(..=end))
            .unwrap_or(authority)
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    matches!(host, "127.0.0.1" | "[::1]" | "localhost").then_some((host, path))
}

/// Whether a redirect URI matches a registered one: exactly, or for a loopback `http://`
/// registration on any port (RFC 8252 §7.3).
pub fn redirect_uri_matches(registered: &str, given: &str) -> bool {
    registered == given
        || matches!(
            (loopback_parts(registered), loopback_parts(given)),
            (Some(a), Some(b)) if a == b
        )
}

/// `POST /auth/register`: registers a public client (`token_endpoint_auth_method` `none`
/// or absent) without credentials; 201 with a `swc1.…` client id and the metadata echoed.
pub fn register(shared: &Shared, body: &[u8]) -> Response {
    let request = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(request)) => request,
        Ok(_) => return Problem::invalid_parameters("JSON deserialization failed").into_response(),
        Err(err) => return Problem::invalid_parameters(&err.to_string()).into_response(),
    };
    let redirect_uris: Vec<String> = request
        .get("redirect_uris")
        .and_then(Value::as_array)
        .map(|uris| {
            uris.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if redirect_uris.is_empty() {
        return registration_error(
            "invalid_redirect_uri",
            "At least one redirect URI is required.",
        );
    }
    if let Some(problem) = redirect_uris
        .iter()
        .find_map(|uri| redirect_uri_problem(uri))
    {
        return registration_error("invalid_redirect_uri", problem);
    }
    match request
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
    {
        None | Some("none") => {}
        Some(_) => {
            return registration_error(
                "invalid_client_metadata",
                "This test server registers public clients only.",
            );
        }
    }
    let scope = request
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let client_id = shared.oauth.register_client(RegisteredClient {
        redirect_uris,
        scope_mask: super::scopes_to_mask(scope),
        client_name: request
            .get("client_name")
            .and_then(Value::as_str)
            .map(str::to_owned),
    });
    let mut answer = Map::new();
    answer.insert("client_id".to_owned(), json!(client_id));
    answer.insert("client_id_issued_at".to_owned(), json!(shared.clock.unix()));
    for field in REGISTRATION_FIELDS {
        if let Some(value) = request.get(field).filter(|v| !v.is_null()) {
            answer.insert(field.to_owned(), value.clone());
        }
    }
    json_with_status(StatusCode::CREATED, &Value::Object(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_checks() {
        let s256 = Pkce::S256("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned());
        assert!(verify_pkce(
            &s256,
            Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        ));
        assert!(!verify_pkce(
            &s256,
            Some("eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        ));
        assert!(!verify_pkce(&s256, None));
        let plain = Pkce::Plain("a".repeat(43));
        assert!(verify_pkce(&plain, Some(&"a".repeat(43))));
        assert!(!verify_pkce(&plain, Some("a")));
        assert!(verify_pkce(&Pkce::None, None));
        assert!(!verify_pkce(&Pkce::None, Some(&"a".repeat(43))));
    }

    #[test]
    fn loopback_redirects_match_on_any_port() {
        assert!(redirect_uri_matches(
            "http://127.0.0.1/callback",
            "http://127.0.0.1:53682/callback"
        ));
        assert!(redirect_uri_matches(
            "http://[::1]/cb",
            "http://[::1]:8080/cb"
        ));
        assert!(!redirect_uri_matches(
            "http://127.0.0.1/callback",
            "http://127.0.0.1:53682/other"
        ));
        assert!(!redirect_uri_matches(
            "https://client.example/cb",
            "https://client.example:8443/cb"
        ));
        assert!(redirect_uri_problem("http://example.org/cb").is_some());
        assert_eq!(redirect_uri_problem("com.example.app:/oauth"), None);
        assert!(redirect_uri_problem("https://a/#x").is_some());
    }
}
