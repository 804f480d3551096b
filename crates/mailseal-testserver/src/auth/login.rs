//! `POST /api/auth`: the JSON login of Stalwart's OAuth authorization flow, the only
//! password login that can carry a TOTP code (`mfaToken`).
//!
//! Answers `{"type":"mfaRequired"}`, `{"type":"authenticated","client_code","iss"}` or
//! `{"type":"failure"}` with HTTP 200. Requests refused before the password is checked
//! (an `http://` redirect URI without a PKCE challenge, no redirect URI, a client id over
//! 2048 characters, an unknown PKCE method) get the generic 401. Device approval
//! (`authDevice`) always fails here: there is no device endpoint yet. The issued code
//! cannot be exchanged yet (no `/auth/token`).

use std::net::IpAddr;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::oauth::AuthorizationCode;
use crate::auth::{AuthFailure, Credentials, authenticate};
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
        scope: Option<String>,
        #[serde(default)]
        code_challenge: Option<String>,
        #[serde(default)]
        code_challenge_method: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    AuthDevice {
        #[serde(rename = "accountName")]
        _account_name: String,
        #[serde(rename = "accountSecret")]
        _account_secret: String,
        #[serde(default, rename = "mfaToken")]
        _mfa_token: Option<String>,
        #[serde(rename = "code")]
        _code: String,
    },
}

/// Handles a login body from `ip`; `Ok` is the JSON answer, `Err` an HTTP problem.
pub fn handle(shared: &Shared, body: &[u8], ip: IpAddr) -> Result<Value, Problem> {
    let request: LoginRequest = serde_json::from_slice(body)
        .map_err(|err| Problem::invalid_parameters(&err.to_string()))?;
    let LoginRequest::AuthCode {
        account_name,
        account_secret,
        mfa_token,
        client_id,
        redirect_uri,
        scope,
        code_challenge,
        code_challenge_method,
    } = request
    else {
        return Ok(json!({"type": "failure"}));
    };
    if client_id.len() > CLIENT_ID_MAX_LEN {
        return Err(Problem::unauthorized());
    }
    let Some(redirect_uri) = redirect_uri else {
        return Err(Problem::unauthorized());
    };
    if redirect_uri.starts_with("http://") && code_challenge.is_none() {
        return Err(Problem::unauthorized());
    }
    if code_challenge.is_some()
        && !matches!(
            code_challenge_method.as_deref().unwrap_or("plain"),
            "S256" | "plain"
        )
    {
        return Err(Problem::unauthorized());
    }

    let credentials = Credentials::Basic {
        username: account_name.trim().to_lowercase(),
        secret: account_secret,
        mfa_token,
    };
    let now = shared.clock.unix();
    let result = {
        let dir = shared.directory();
        authenticate(&dir, &shared.oauth, &credentials, ip, now)
    };
    Ok(match result {
        Ok(token) => {
            let code = shared.oauth.issue_code(AuthorizationCode {
                account_id: token.account_id,
                client_id,
                redirect_uri,
                code_challenge,
                scope,
                issued_at: now,
            });
            json!({"type": "authenticated", "client_code": code, "iss": shared.base_url})
        }
        Err(AuthFailure::MfaRequired) => json!({"type": "mfaRequired"}),
        Err(failure) => {
            if failure.counts_toward_ban() {
                shared.ban.record_failure(ip, now);
            }
            json!({"type": "failure"})
        }
    })
}
