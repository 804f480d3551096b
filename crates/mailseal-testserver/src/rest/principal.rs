//! The admin principal API: `POST /api/principal` (create a domain or an individual),
//! `GET /api/principal/{name}` and `PATCH /api/principal/{name}` (`secrets` and
//! `description`). The name is looked up *before* the permission check, so an unknown name
//! is `notFound` even for a user without rights (fixture 54).

use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::UserConfig;
use crate::problem::Problem;
use crate::state::Shared;

use super::auth::Caller;
use super::store::Principal;
use super::{has_permission, reply};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewPrincipal {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    secrets: Vec<String>,
    #[serde(default)]
    emails: Vec<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    disabled_permissions: Vec<String>,
}

#[derive(Deserialize)]
struct Change {
    action: String,
    field: String,
    #[serde(default)]
    value: Value,
}

/// Percent-decodes a path segment.
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(value)) => {
                out.push(value);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `POST /api/principal`: `{"data": id}`.
pub fn create(shared: &Shared, caller: &Caller, body: &[u8]) -> Response {
    if !has_permission(shared, caller, "individual-create") {
        return Problem::forbidden().into_response();
    }
    let Ok(new) = serde_json::from_slice::<NewPrincipal>(body) else {
        return Problem::invalid_parameters("JSON deserialization failed").into_response();
    };
    let name = new.name.trim().to_lowercase();
    let mut disabled_permissions = new.disabled_permissions;
    disabled_permissions.sort();
    disabled_permissions.dedup();
    let mut store = shared.rest();
    if store.by_name(&name).is_some() {
        return reply::field_exists("name", &name);
    }
    let id = store.next_id().max(shared.directory().next_account_id());
    if new.kind == "individual" {
        let user = UserConfig {
            email: name.clone(),
            id: Some(id),
            description: new.description.clone(),
            ..UserConfig::default()
        };
        shared.directory().add_user(&user, id);
    }
    store.principals.insert(
        id,
        Principal {
            id,
            kind: new.kind,
            name,
            description: new.description,
            secrets: new.secrets,
            emails: new.emails,
            roles: new.roles,
            disabled_permissions,
            external_directory: false,
            crypto: None,
        },
    );
    reply::data(json!(id))
}

/// `GET /api/principal/{name}`.
pub fn get(shared: &Shared, caller: &Caller, name: &str) -> Response {
    let name = decode(name);
    let Some(view) = shared.rest().by_name(&name).map(Principal::to_json) else {
        return reply::not_found(&name);
    };
    if !has_permission(shared, caller, "individual-get") {
        return Problem::forbidden().into_response();
    }
    reply::data(view)
}

/// `PATCH /api/principal/{name}`: `set` of `description`, `addItem`/`removeItem` of
/// `secrets` (with the 0.14+ semantics of [`Principal::add_secret`]).
pub fn patch(shared: &Shared, caller: &Caller, name: &str, body: &[u8]) -> Response {
    let name = decode(name);
    if shared.rest().by_name(&name).is_none() {
        return reply::not_found(&name);
    }
    if !has_permission(shared, caller, "individual-update") {
        return Problem::forbidden().into_response();
    }
    let Ok(changes) = serde_json::from_slice::<Vec<Change>>(body) else {
        return Problem::invalid_parameters("JSON deserialization failed").into_response();
    };
    let mut store = shared.rest();
    let Some(principal) = store.by_name_mut(&name) else {
        return reply::not_found(&name);
    };
    let mut updated = principal.clone();
    for change in changes {
        let text = change.value.as_str().unwrap_or_default();
        match (change.action.as_str(), change.field.as_str()) {
            ("addItem", "secrets") => updated.add_secret(text),
            ("removeItem", "secrets") => updated.remove_secrets(text),
            ("set", "description") => {
                updated.description = (!text.is_empty()).then(|| text.to_owned());
            }
            (_, field) => {
                return reply::other(
                    "Invalid parameter",
                    Some(&format!("Invalid value {} for {field}", change.value)),
                );
            }
        }
    }
    *principal = updated;
    reply::data(json!(null))
}
