//! `GET|POST /api/account/auth` (permission `manage-passwords`).
//!
//! `POST` takes a non-empty JSON array of actions applied in order, all or none:
//! `setPassword` (first removes every app password and TOTP URL, as 0.14–0.15 do: fixture
//! 30), `enableOtpAuth` (the URL is stored verbatim; one not starting with `otpauth://`
//! replaces the password: fixture 28), `disableOtpAuth`, `addAppPassword` and
//! `removeAppPassword` (a prefix match on `$app$<name>`: fixture 23). The first three need
//! `Authorization: Basic`. The fallback administrator has no TOTP or app passwords.

use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::problem::Problem;
use crate::state::Shared;

use super::auth::Caller;
use super::store::{APP_PREFIX, OTP_PREFIX, Principal};
use super::{has_permission, reply};

/// One action of a `POST` body.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum Action {
    SetPassword { password: String },
    EnableOtpAuth { url: String },
    DisableOtpAuth { url: Option<String> },
    AddAppPassword { name: String, password: String },
    RemoveAppPassword { name: Option<String> },
}

impl Action {
    fn needs_basic(&self) -> bool {
        matches!(
            self,
            Action::SetPassword { .. }
                | Action::EnableOtpAuth { .. }
                | Action::DisableOtpAuth { .. }
        )
    }

    fn apply(self, principal: &mut Principal) {
        match self {
            Action::SetPassword { password } => {
                principal.remove_secrets("");
                principal.add_secret(&password);
            }
            Action::EnableOtpAuth { url } => principal.add_secret(&url),
            Action::DisableOtpAuth { url } => {
                principal.remove_secrets(url.as_deref().unwrap_or(OTP_PREFIX));
            }
            Action::AddAppPassword { name, password } => {
                principal.add_secret(&format!("{APP_PREFIX}{name}${password}"));
            }
            Action::RemoveAppPassword { name } => {
                principal.remove_secrets(&format!("{APP_PREFIX}{}", name.unwrap_or_default()));
            }
        }
    }
}

/// `GET`: `{"otpEnabled", "appPasswords"}`.
pub fn get(shared: &Shared, caller: &Caller) -> Response {
    if !has_permission(shared, caller, "manage-passwords") {
        return Problem::forbidden().into_response();
    }
    let (otp, names) = match caller {
        Caller::FallbackAdmin => (false, Vec::new()),
        Caller::Principal { id, .. } => match shared.rest().principals.get(id) {
            Some(p) => (p.otp_enabled(), p.app_password_names()),
            None => return Problem::unauthorized().into_response(),
        },
    };
    reply::data(json!({"otpEnabled": otp, "appPasswords": names}))
}

/// `POST`: the actions of `body`.
pub fn post(shared: &Shared, caller: &Caller, body: &[u8]) -> Response {
    if !has_permission(shared, caller, "manage-passwords") {
        return Problem::forbidden().into_response();
    }
    let Ok(actions) = serde_json::from_slice::<Vec<Action>>(body) else {
        return Problem::invalid_parameters("JSON deserialization failed").into_response();
    };
    let Some(first) = actions.first() else {
        return Problem::invalid_parameters("Empty request").into_response();
    };
    let (id, basic) = match caller {
        Caller::FallbackAdmin => {
            return match first {
                Action::SetPassword { password } => {
                    shared.rest().fallback_secret = Some(password.clone());
                    reply::data(json!(null))
                }
                _ => reply::other(
                    "Fallback administrator accounts do not support 2FA or AppPasswords",
                    None,
                ),
            };
        }
        Caller::Principal { id, basic } => (*id, *basic),
    };
    let mut store = shared.rest();
    let Some(principal) = store.principals.get_mut(&id) else {
        return Problem::unauthorized().into_response();
    };
    for action in &actions {
        if action.needs_basic() {
            if !basic {
                return reply::other("Password changes only allowed using Basic auth", None);
            }
            if principal.external_directory {
                return reply::unsupported(
                    "LDAP directory cannot be managed. Only internal directories support \
                     inserts and update operations.",
                );
            }
        }
    }
    let mut updated = principal.clone();
    for action in actions {
        action.apply(&mut updated);
    }
    if updated.secrets.iter().map(String::len).sum::<usize>() > 100_000 {
        return reply::other(
            "Invalid parameter",
            Some("Principal object size exceeds 100kb safety limit."),
        );
    }
    *principal = updated;
    reply::data(json!(null))
}
