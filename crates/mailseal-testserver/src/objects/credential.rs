//! `x:AppPassword` and `x:ApiKey` (spec §6, §7; fixtures 06, 07): the two kinds of
//! secondary credential, which share one model and one id numbering with the password
//! credential (`a`).
//!
//! * Creation returns only `id` and `secret`; the secret is never readable again.
//! * A new id is one more than the highest id in use, so ids come back after a destroy.
//! * `/get` with `ids: null` lists this kind and reports every other credential id in
//!   `notFound` (the `notFound: ["a"]` quirk).
//! * The quota (5) is checked before the permission-escalation guard; a missing
//!   `description` fails the write of the whole call, so every entry of the call fails
//!   with the same `validationFailed`.

use serde_json::{Map, Value, json};

use crate::auth::scoped_permissions;
use crate::auth::tokens::{ApiKeyToken, AppPasswordToken};
use crate::datetime;
use crate::directory::{Credential, CredentialPermissions, SecondaryCredential};
use crate::ids::{decode_id, encode_id};
use crate::jmap::Context;
use crate::jmap::args::{GetArgs, GetResponse, QueryArgs, SetArgs, SetResponse};
use crate::jmap::envelope::ObjectType;
use crate::jmap::method_error::MethodError;
use crate::jmap::set_error::SetError;
use crate::patch::{self, INVALID_PROPERTY, PatchError, SERVER_SET};
use crate::permissions::{self, PermissionSet};

use super::account_jmap_id;
use super::account_password::MASKED;

/// Which kind of secondary credential a method handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `x:AppPassword`.
    AppPassword,
    /// `x:ApiKey`.
    ApiKey,
}

impl Kind {
    /// The kind of an object type (`ApiKey` for anything but `AppPassword`).
    pub fn of(object: ObjectType) -> Self {
        if object == ObjectType::AppPassword {
            Kind::AppPassword
        } else {
            Kind::ApiKey
        }
    }

    fn matches(self, credential: &Credential) -> Option<&SecondaryCredential> {
        match (self, credential) {
            (Kind::AppPassword, Credential::AppPassword(c))
            | (Kind::ApiKey, Credential::ApiKey(c)) => Some(c),
            _ => None,
        }
    }

    fn wrap(self, credential: SecondaryCredential) -> Credential {
        match self {
            Kind::AppPassword => Credential::AppPassword(credential),
            Kind::ApiKey => Credential::ApiKey(credential),
        }
    }

    fn quota_message(self, quota: usize) -> String {
        match self {
            Kind::AppPassword => format!("You have exceeded your quota of {quota} app passwords."),
            Kind::ApiKey => format!("You have exceeded your quota of {quota} API keys."),
        }
    }
}

/// The JSON form of a credential (without `id`; `credentialId` is not shown).
pub fn to_json(credential: &SecondaryCredential) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("description".to_owned(), json!(credential.description));
    map.insert("secret".to_owned(), json!(MASKED));
    map.insert(
        "createdAt".to_owned(),
        json!(datetime::format(credential.created_at)),
    );
    map.insert(
        "expiresAt".to_owned(),
        json!(credential.expires_at.map(datetime::format)),
    );
    map.insert(
        "permissions".to_owned(),
        permissions_to_json(&credential.permissions),
    );
    map.insert(
        "allowedIps".to_owned(),
        set_to_json(&credential.allowed_ips),
    );
    map
}

/// The JSON form of a credential's `permissions`.
pub fn permissions_to_json(permissions: &CredentialPermissions) -> Value {
    match permissions {
        CredentialPermissions::Inherit => json!({"@type": "Inherit"}),
        CredentialPermissions::Disable { permissions } => {
            json!({"permissions": permissions.to_jmap_set(), "@type": "Disable"})
        }
        CredentialPermissions::Replace { permissions } => {
            json!({"permissions": permissions.to_jmap_set(), "@type": "Replace"})
        }
    }
}

/// A list as a JMAP set.
pub fn set_to_json(items: &[String]) -> Value {
    Value::Object(
        items
            .iter()
            .map(|i| (i.clone(), Value::Bool(true)))
            .collect(),
    )
}

/// `x:AppPassword/get` and `x:ApiKey/get`.
pub fn get(
    ctx: &mut Context<'_>,
    kind: Kind,
    account_id: u32,
    args: GetArgs,
) -> Result<Value, MethodError> {
    let mut response = GetResponse::new(&account_jmap_id(account_id), args.properties);
    let Some(account) = ctx.dir.accounts.get(&account_id) else {
        for id in args.ids.unwrap_or_default() {
            response.not_found(&id);
        }
        return Ok(response.into_json());
    };
    let mut ids: Vec<String> = args.ids.unwrap_or_else(|| {
        account
            .credentials
            .iter()
            .map(|c| encode_id(u64::from(c.id())))
            .collect()
    });
    for credential in account.credentials.iter().filter_map(|c| kind.matches(c)) {
        let id = u64::from(credential.id);
        if ids.iter().any(|i| decode_id(i) == Some(id)) {
            response.push(&encode_id(id), to_json(credential));
            ids.retain(|i| decode_id(i) != Some(id));
        }
    }
    for id in ids {
        response.not_found(&id);
    }
    Ok(response.into_json())
}

/// `x:AppPassword/query` and `x:ApiKey/query`: filter on `expiresAt` (credentials
/// without expiry drop out when a filter is given), sort by `id` (default descending) or
/// `expiresAt`.
pub fn query(
    ctx: &mut Context<'_>,
    kind: Kind,
    account_id: u32,
    args: QueryArgs,
) -> Result<Value, MethodError> {
    let account = ctx
        .dir
        .accounts
        .get(&account_id)
        .ok_or_else(|| MethodError::Forbidden("Account not found.".to_owned()))?;
    let mut conditions: Vec<(String, i64)> = Vec::new();
    if let Some(filter) = &args.filter {
        for (key, value) in filter {
            let op = match key.as_str() {
                "expiresAt"
                | "expiresAtIsGreaterThan"
                | "expiresAtIsGreaterThanOrEqual"
                | "expiresAtIsLessThan"
                | "expiresAtIsLessThanOrEqual" => key.clone(),
                "operator" | "conditions" => {
                    return Err(MethodError::UnsupportedFilter(
                        "Only AND is supported in filters".to_owned(),
                    ));
                }
                other => {
                    return Err(MethodError::UnsupportedFilter(format!(
                        "Filter on property {other} is not supported or invalid"
                    )));
                }
            };
            let at = value.as_str().and_then(datetime::parse).ok_or_else(|| {
                MethodError::UnsupportedFilter(
                    "Filter on property expiresAt is not supported or invalid".to_owned(),
                )
            })?;
            conditions.push((op, at));
        }
    }
    let mut matches: Vec<(u32, Option<i64>)> = account
        .credentials
        .iter()
        .filter_map(|c| kind.matches(c))
        .filter(|c| {
            conditions.iter().all(|(op, at)| {
                c.expires_at.is_some_and(|exp| match op.as_str() {
                    "expiresAt" => exp == *at,
                    "expiresAtIsGreaterThan" => exp > *at,
                    "expiresAtIsGreaterThanOrEqual" => exp >= *at,
                    "expiresAtIsLessThan" => exp < *at,
                    _ => exp <= *at,
                })
            })
        })
        .map(|c| (c.id, c.expires_at))
        .collect();
    let (property, ascending) = args
        .sort
        .first()
        .cloned()
        .unwrap_or_else(|| ("id".to_owned(), false));
    match property.as_str() {
        "id" if ascending => matches.sort_by_key(|m| m.0),
        "id" => matches.sort_by_key(|m| std::cmp::Reverse(m.0)),
        "expiresAt" if ascending => matches.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0))),
        "expiresAt" => matches.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0))),
        other => {
            return Err(MethodError::UnsupportedSort(format!(
                "Property {other} is not supported for sorting"
            )));
        }
    }
    let ids = matches
        .into_iter()
        .map(|(id, _)| encode_id(u64::from(id)))
        .collect();
    args.respond(&account_jmap_id(account_id), ids)
}

/// `x:AppPassword/set` and `x:ApiKey/set`.
pub fn set(
    ctx: &mut Context<'_>,
    kind: Kind,
    account_id: u32,
    args: SetArgs,
) -> Result<Value, MethodError> {
    let mut response = SetResponse::new(&account_jmap_id(account_id));
    let Some(original) = ctx.dir.accounts.get(&account_id).cloned() else {
        for (id, _) in &args.create {
            response.not_created(id, SetError::not_found());
        }
        for (id, _) in &args.update {
            response.not_updated(id, SetError::not_found());
        }
        for id in &args.destroy {
            response.not_destroyed(id, SetError::not_found());
        }
        return Ok(response.into_json());
    };
    let mut account = original.clone();
    let limits = ctx.shared.config.limits;
    let quota = match kind {
        Kind::AppPassword => limits.max_app_passwords,
        Kind::ApiKey => limits.max_api_keys,
    };

    // Creations
    if !args.create.is_empty() {
        let mut last_id = account
            .credentials
            .iter()
            .map(Credential::id)
            .max()
            .unwrap_or(0);
        let mut total = account
            .credentials
            .iter()
            .filter(|c| kind.matches(c).is_some())
            .count();
        for (creation_id, object) in &args.create {
            let mut credential = SecondaryCredential {
                id: 0,
                description: String::new(),
                secret: String::new(),
                created_at: ctx.now,
                expires_at: None,
                permissions: CredentialPermissions::Inherit,
                allowed_ips: Vec::new(),
            };
            if let Err(err) = patch_create(&mut credential, object) {
                response.not_created(creation_id, err);
                continue;
            }
            if total >= quota {
                response.not_created(creation_id, SetError::over_quota(kind.quota_message(quota)));
                continue;
            }
            if let Err(err) = check_grant(ctx, &credential.permissions) {
                response.not_created(creation_id, err);
                continue;
            }
            last_id += 1;
            total += 1;
            credential.id = last_id;
            credential.secret = match kind {
                Kind::AppPassword => AppPasswordToken::generate(last_id).build(),
                Kind::ApiKey => ApiKeyToken::generate(account_id, last_id).build(),
            };
            response.created(
                creation_id,
                json!({"id": encode_id(u64::from(last_id)), "secret": credential.secret}),
            );
            account.credentials.push(kind.wrap(credential));
        }
    }

    // Updates
    for (id, patch) in &args.update {
        let number = decode_id(id).and_then(|n| u32::try_from(n).ok());
        let Some(existing) = account.credentials.iter_mut().find_map(|c| match c {
            Credential::AppPassword(s) | Credential::ApiKey(s) if Some(s.id) == number => Some(s),
            _ => None,
        }) else {
            response.not_updated(id, SetError::not_found());
            continue;
        };
        let mut changed = existing.clone();
        if let Err(err) = patch_update(&mut changed, patch) {
            response.not_updated(id, err);
            continue;
        }
        if changed.permissions != existing.permissions
            && let Err(err) = check_grant(ctx, &changed.permissions)
        {
            response.not_updated(id, err);
            continue;
        }
        *existing = changed;
        response.updated(id);
    }

    // Destructions
    for id in &args.destroy {
        let number = decode_id(id).and_then(|n| u32::try_from(n).ok());
        match account
            .credentials
            .iter()
            .position(|c| Some(c.id()) == number)
        {
            Some(index) => {
                if matches!(
                    account.credentials.get(index),
                    Some(Credential::Password(_))
                ) {
                    response.not_destroyed(
                        id,
                        SetError::forbidden(
                            "Users are not allowed to destroy their own credentials.",
                        ),
                    );
                } else {
                    account.credentials.remove(index);
                    response.destroyed(id);
                }
            }
            None => response.not_destroyed(id, SetError::not_found()),
        }
    }

    // The write: every credential needs a description.
    if account != original {
        let invalid = account.credentials.iter().any(|c| match c {
            Credential::AppPassword(s) | Credential::ApiKey(s) => s.description.is_empty(),
            Credential::Password(_) => false,
        });
        if invalid {
            response.fail_successes(&SetError::required(&["description"]));
        } else {
            account.revision += 1;
            ctx.dir.accounts.insert(account_id, account);
        }
    }
    Ok(response.into_json())
}

/// The escalation guard: the credential may not get permissions the caller lacks.
fn check_grant(ctx: &Context<'_>, scope: &CredentialPermissions) -> Result<(), SetError> {
    let effective = match scope {
        CredentialPermissions::Replace { permissions } => permissions.clone(),
        other => scoped_permissions(&ctx.token.account_permissions, other),
    };
    let missing = effective.missing_from(&ctx.token.permissions);
    if missing.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = missing.iter().take(5).map(String::as_str).collect();
    let mut text = shown.join(", ");
    if missing.len() > 5 {
        text.push_str(&format!(" and {} more", missing.len() - 5));
    }
    Err(SetError::forbidden(&format!(
        "You are not authorized to grant permissions: {text}"
    )))
}

fn patch_create(
    credential: &mut SecondaryCredential,
    object: &Map<String, Value>,
) -> Result<(), SetError> {
    for (key, value) in object {
        match key.as_str() {
            "@type" => {
                return Err(SetError::invalid_properties()
                    .with_description("Cannot set property during creation."));
            }
            _ => apply_property(credential, &[key.as_str()], key, value)?,
        }
    }
    Ok(())
}

fn patch_update(
    credential: &mut SecondaryCredential,
    patch: &Map<String, Value>,
) -> Result<(), SetError> {
    for (key, value) in patch {
        if key == "@type" {
            continue;
        }
        let segments = patch::split_pointer(key);
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        apply_property(credential, &segments, key, value)?;
    }
    Ok(())
}

/// Applies one property (or pointer into one) of a secondary credential.
fn apply_property(
    credential: &mut SecondaryCredential,
    segments: &[&str],
    path: &str,
    value: &Value,
) -> Result<(), SetError> {
    match segments {
        ["description"] => credential.description = patch::string(path, value)?,
        ["expiresAt"] => credential.expires_at = patch::optional_datetime(path, value)?,
        ["allowedIps"] => {
            credential.allowed_ips = patch::string_set(
                path,
                value,
                patch::ip_or_network,
                "Invalid key for object property",
            )?;
        }
        ["allowedIps", ip] => patch::patch_string_set(
            &mut credential.allowed_ips,
            path,
            ip,
            value,
            patch::ip_or_network,
            "Invalid key for object property",
        )?,
        ["permissions"] => credential.permissions = parse_permissions(path, value)?,
        ["secret" | "createdAt" | "credentialId"] => {
            return Err(PatchError::new(path, SERVER_SET).into());
        }
        _ => return Err(PatchError::new(path, INVALID_PROPERTY).into()),
    }
    Ok(())
}

/// Reads `{"@type": "Inherit"|"Disable"|"Replace", "permissions": {…}}`.
fn parse_permissions(path: &str, value: &Value) -> Result<CredentialPermissions, PatchError> {
    let kind = value
        .get("@type")
        .and_then(Value::as_str)
        .ok_or_else(|| PatchError::new(path, "Missing or invalid '@type' property in object"))?;
    let list = || -> Result<PermissionSet, PatchError> {
        let inner_path = format!("{path}/permissions");
        match value.get("permissions") {
            None => Ok(PermissionSet::new()),
            Some(set) => {
                let names = patch::string_set(
                    &inner_path,
                    set,
                    |name| permissions::is_known(name).then(|| name.to_owned()),
                    "Invalid key for object property",
                )?;
                Ok(PermissionSet::from_names(names.iter().map(String::as_str)))
            }
        }
    };
    match kind {
        "Inherit" => Ok(CredentialPermissions::Inherit),
        "Disable" => Ok(CredentialPermissions::Disable {
            permissions: list()?,
        }),
        "Replace" => Ok(CredentialPermissions::Replace {
            permissions: list()?,
        }),
        _ => Err(PatchError::new(
            path,
            "Missing or invalid '@type' property in object",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_set_properties_are_refused() {
        let mut credential = SecondaryCredential {
            id: 1,
            description: "d".to_owned(),
            secret: String::new(),
            created_at: 0,
            expires_at: None,
            permissions: CredentialPermissions::Inherit,
            allowed_ips: Vec::new(),
        };
        let mut patch = Map::new();
        patch.insert("secret".to_owned(), json!("app_trying_to_set_it"));
        assert_eq!(
            patch_update(&mut credential, &patch),
            Err(SetError::invalid_patch(SERVER_SET, "secret"))
        );
    }

    #[test]
    fn allowed_ips_pointer() {
        let mut credential = SecondaryCredential {
            id: 1,
            description: "d".to_owned(),
            secret: String::new(),
            created_at: 0,
            expires_at: None,
            permissions: CredentialPermissions::Inherit,
            allowed_ips: vec!["127.0.0.1".to_owned()],
        };
        let mut patch = Map::new();
        patch.insert("allowedIps/10.0.0.1".to_owned(), json!(true));
        patch_update(&mut credential, &patch).expect("patched");
        assert_eq!(credential.allowed_ips, vec!["127.0.0.1", "10.0.0.1"]);
    }

    #[test]
    fn permissions_need_a_type() {
        assert!(parse_permissions("permissions", &json!({})).is_err());
        assert_eq!(
            parse_permissions(
                "permissions",
                &json!({"@type": "Replace", "permissions": {"sysApiKeyGet": true}})
            ),
            Ok(CredentialPermissions::Replace {
                permissions: PermissionSet::from_names(["sysApiKeyGet"])
            })
        );
        assert!(
            parse_permissions(
                "permissions",
                &json!({"@type": "Replace", "permissions": {"nope": true}})
            )
            .is_err()
        );
    }
}
