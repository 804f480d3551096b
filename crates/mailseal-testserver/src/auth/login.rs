//! `POST /api/auth`: the JSON login of Stalwart's OAuth flows, the only password login
//! that can carry a TOTP code (`mfaToken`).
//!
//! * `authCode` answers `{"type":"mfaRequired"}`, `{"type":"authenticated","client_code",
//!   "iss"}` or `{"type":"failure"}` with HTTP 200. The `client_code` is the authorization
//!   code for `/auth/token`. Requests refused before the password is checked get the
//!   generic 401: a client id over 2048 characters, no redirect URI, an `http://` redirect
//!   URI without a PKCE challenge, an unknown PKCE method, and for a registered client
//!   (`swc1.…`) a redirect URI it did not register or a missing S256 challenge (`plain` is
//!   refused too). A registered client gets only the registered part of the scope.
//! * `authDevice` approves a device grant by its user code: `failure` for an unknown or used
//!   user code (without checking the password), otherwise `mfaRequired`, `failure` or
//!   `{"type":"verified"}`.

use std::net::IpAddr;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::oauth::endpoints::redirect_uri_matches;
use crate::auth::oauth::{AuthorizationCode, Pkce, grant_scope};
use crate::auth::{AccessToken, AuthFailure, Credentials, authenticate};
use crate::problem::Problem;
use crate::state::Shared;

/// Longest accepted client id.
const CLIENT_ID_MAX_LEN: usize = 2048;

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum LoginRequest {
    #[serde(rename_all = "camelCase")]
    AuthCode {
        account_name: String,
        account_secret: String,
        #[serde(default)]
        mfa_token: Option<String>,
        client_id: String,
        #[serde(default)]
        redirect_uri: Option<String>,
        #[serde(default)]
        nonce: Option<String>,
        #[serde(default)]
        scope: Option<String>,
        #[serde(default)]
        code_challenge: Option<String>,
        #[serde(default)]
        code_challenge_method: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    AuthDevice {
        account_name: String,
        account_secret: String,
        #[serde(default)]
        mfa_token: Option<String>,
        code: String,
    },
}

/// Handles a login body from `ip`; `Ok` is the JSON answer, `Err` an HTTP problem.
pub fn handle(shared: &Shared, body: &[u8], ip: IpAddr) -> Result<Value, Problem> {
    let request: LoginRequest = serde_json::from_slice(body)
        .map_err(|err| Problem::invalid_parameters(&err.to_string()))?;
    match request {
        LoginRequest::AuthCode {
            account_name,
            account_secret,
            mfa_token,
            client_id,
            redirect_uri,
            nonce,
            scope,
            code_challenge,
            code_challenge_method,
        } => {
            if client_id.len() > CLIENT_ID_MAX_LEN {
                return Err(Problem::unauthorized());
            }
            if redirect_uri
                .as_deref()
                .is_some_and(|uri| uri.starts_with("http://"))
                && code_challenge.is_none()
            {
                return Err(Problem::unauthorized());
            }
            let Some(redirect_uri) = redirect_uri else {
                return Err(Problem::unauthorized());
            };
            let registered = shared.oauth.client(&client_id);
            let scope = match &registered {
                Some(client) => {
                    if !client
                        .redirect_uris
                        .iter()
                        .any(|uri| redirect_uri_matches(uri, &redirect_uri))
                    {
                        return Err(Problem::unauthorized());
                    }
                    grant_scope(scope.as_deref(), client.scope_mask)
                }
                None => scope,
            };
            let code_challenge = match code_challenge {
                Some(challenge) => match code_challenge_method.as_deref().unwrap_or("plain") {
                    "S256" => Pkce::S256(challenge),
                    "plain" if registered.is_none() => Pkce::Plain(challenge),
                    _ => return Err(Problem::unauthorized()),
                },
                None if registered.is_some() => return Err(Problem::unauthorized()),
                None => Pkce::None,
            };
            let now = shared.clock.unix();
            Ok(
                match login(shared, account_name, account_secret, mfa_token, ip, now) {
                    Ok(token) => {
                        let ttl = shared.config.oauth.client_code_ttl_secs;
                        let code = shared.oauth.issue_code(AuthorizationCode {
                            account_id: token.account_id,
                            client_id,
                            redirect_uri,
                            code_challenge,
                            scope,
                            nonce,
                            issued_at: now,
                            expires_at: now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX)),
                        });
                        json!({"type": "authenticated", "client_code": code, "iss": shared.base_url})
                    }
                    Err(answer) => answer,
                },
            )
        }
        LoginRequest::AuthDevice {
            account_name,
            account_secret,
            mfa_token,
            code,
        } => {
            let now = shared.clock.unix();
            let Some(device_code) = shared.oauth.pending_device_by_user_code(&code, now) else {
                return Ok(json!({"type": "failure"}));
            };
            Ok(
                match login(shared, account_name, account_secret, mfa_token, ip, now) {
                    Ok(token) => {
                        let ttl = shared.config.oauth.client_code_ttl_secs;
                        shared.oauth.approve_device(
                            &device_code,
                            token.account_id,
                            now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX)),
                        );
                        json!({"type": "verified"})
                    }
                    Err(answer) => answer,
                },
            )
        }
    }
}

/// Checks the account name, password and code; `Err` is the JSON answer of a failure.
fn login(
    shared: &Shared,
    account_name: String,
    account_secret: String,
    mfa_token: Option<String>,
    ip: IpAddr,
    now: i64,
) -> Result<AccessToken, Value> {
    let credentials = Credentials::Basic {
        username: account_name.trim().to_lowercase(),
        secret: account_secret,
        mfa_token,
    };
    let result = {
        let dir = shared.directory();
        authenticate(&dir, &shared.oauth, &credentials, ip, now)
    };
    result.map_err(|failure| match failure {
        AuthFailure::MfaRequired => json!({"type": "mfaRequired"}),
        failure => {
            if failure.counts_toward_ban() {
                shared.ban.record_failure(ip, now);
            }
            json!({"type": "failure"})
        }
    })
}
