//! `x:Account` for the administrator — only what the fixtures need: reading an account's
//! name, roles, permissions and credentials (05b, 11), creating a user with a password and
//! roles (11), changing roles and per-account permissions (11), repairing the password
//! credential with `"credentials/0/otpAuth": null` (05b), and destroying an account.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::datetime;
use crate::directory::{
    Account, AccountPermissions, AccountSettings, Credential, Directory, PasswordCredential, Roles,
};
use crate::ids::{decode_id, encode_id};
use crate::jmap::Context;
use crate::jmap::args::{GetArgs, GetResponse, QueryArgs, SetArgs, SetResponse};
use crate::jmap::method_error::MethodError;
use crate::jmap::references::resolve_creation_id;
use crate::jmap::set_error::SetError;
use crate::password_policy;
use crate::patch::{self, INVALID_PROPERTY, INVALID_VALUE, PatchError};
use crate::permissions::{self, PermissionSet};

use super::account_jmap_id;
use super::account_password::MASKED;
use super::credential;

/// The JMAP id of the one domain (`b`).
pub const DOMAIN_ID: &str = "b";

/// The JSON form of an account (without `id`).
pub fn to_json(account: &Account) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("@type".to_owned(), json!("User"));
    map.insert("name".to_owned(), json!(account.name));
    map.insert("domainId".to_owned(), json!(DOMAIN_ID));
    map.insert("description".to_owned(), json!(account.description));
    map.insert("roles".to_owned(), roles_to_json(&account.roles));
    map.insert(
        "permissions".to_owned(),
        permissions_to_json(&account.permissions),
    );
    let credentials: Map<String, Value> = account
        .credentials
        .iter()
        .enumerate()
        .map(|(index, c)| (index.to_string(), credential_to_json(c)))
        .collect();
    map.insert("credentials".to_owned(), Value::Object(credentials));
    map.insert("locale".to_owned(), json!(account.settings.locale));
    map.insert("timeZone".to_owned(), json!(account.settings.time_zone));
    map.insert(
        "encryptionAtRest".to_owned(),
        super::account_settings::encryption_to_json(&account.settings.encryption_at_rest),
    );
    map
}

fn roles_to_json(roles: &Roles) -> Value {
    match roles {
        Roles::User => json!({"@type": "User"}),
        Roles::Admin => json!({"@type": "Admin"}),
        Roles::Custom { role_ids } => {
            let ids: Map<String, Value> = role_ids
                .iter()
                .map(|id| (encode_id(u64::from(*id)), Value::Bool(true)))
                .collect();
            json!({"roleIds": ids, "@type": "Custom"})
        }
    }
}

fn permissions_to_json(permissions: &AccountPermissions) -> Value {
    match permissions {
        AccountPermissions::Inherit => json!({"@type": "Inherit"}),
        AccountPermissions::Merge { enabled, disabled } => json!({
            "enabledPermissions": enabled.to_jmap_set(),
            "disabledPermissions": disabled.to_jmap_set(),
            "@type": "Merge",
        }),
        AccountPermissions::Replace { enabled } => json!({
            "enabledPermissions": enabled.to_jmap_set(),
            "@type": "Replace",
        }),
    }
}

fn credential_to_json(c: &Credential) -> Value {
    match c {
        Credential::Password(p) => {
            let mut map = Map::new();
            map.insert("credentialId".to_owned(), json!(encode_id(u64::from(p.id))));
            map.insert("secret".to_owned(), json!(MASKED));
            if p.otp_url.is_some() {
                map.insert("otpAuth".to_owned(), json!(MASKED));
            }
            map.insert(
                "expiresAt".to_owned(),
                json!(p.expires_at.map(datetime::format)),
            );
            map.insert(
                "allowedIps".to_owned(),
                credential::set_to_json(&p.allowed_ips),
            );
            map.insert("@type".to_owned(), json!("Password"));
            Value::Object(map)
        }
        Credential::AppPassword(s) | Credential::ApiKey(s) => {
            let mut map = Map::new();
            map.insert("credentialId".to_owned(), json!(encode_id(u64::from(s.id))));
            map.extend(credential::to_json(s));
            let kind = if matches!(c, Credential::AppPassword(_)) {
                "AppPassword"
            } else {
                "ApiKey"
            };
            map.insert("@type".to_owned(), json!(kind));
            Value::Object(map)
        }
    }
}

/// `x:Account/get`.
pub fn get(ctx: &mut Context<'_>, caller: u32, args: GetArgs) -> Result<Value, MethodError> {
    let mut response = GetResponse::new(&account_jmap_id(caller), args.properties);
    let ids = args.ids.unwrap_or_else(|| {
        ctx.dir
            .accounts
            .keys()
            .map(|id| encode_id(u64::from(*id)))
            .collect()
    });
    for id in ids {
        match lookup(ctx.dir, &id) {
            Some(account) => response.push(&account.jmap_id(), to_json(account)),
            None => response.not_found(&id),
        }
    }
    Ok(response.into_json())
}

/// `x:Account/query`: every account, highest id first.
pub fn query(ctx: &mut Context<'_>, caller: u32, args: QueryArgs) -> Result<Value, MethodError> {
    let ids = ctx
        .dir
        .accounts
        .keys()
        .rev()
        .map(|id| encode_id(u64::from(*id)))
        .collect();
    args.respond(&account_jmap_id(caller), ids)
}

/// `x:Account/set`.
pub fn set(ctx: &mut Context<'_>, caller: u32, args: SetArgs) -> Result<Value, MethodError> {
    let mut response = SetResponse::new(&account_jmap_id(caller));
    let limits = ctx.shared.config.limits;

    for (creation_id, object) in &args.create {
        match create(ctx, object, &limits) {
            Ok(account) => {
                response.created(creation_id, json!({"id": account.jmap_id()}));
                ctx.dir.accounts.insert(account.id, account);
            }
            Err(Failure::Set(err)) => response.not_created(creation_id, err),
            Err(Failure::Method(err)) => return Err(err),
        }
    }

    for (id, patch) in &args.update {
        let Some(existing) = lookup(ctx.dir, id) else {
            response.not_updated(id, SetError::not_found());
            continue;
        };
        let mut account = existing.clone();
        match update(ctx, &mut account, patch, &limits) {
            Ok(()) => {
                if account != *existing {
                    account.revision += 1;
                }
                let secret = |a: &Account| a.password().map(|p| p.secret.clone());
                if secret(&account) != secret(existing) {
                    // A password change revokes the account's OAuth tokens.
                    ctx.shared.oauth.revoke_account(account.id);
                }
                ctx.dir.accounts.insert(account.id, account);
                response.updated(id);
            }
            Err(Failure::Set(err)) => response.not_updated(id, err),
            Err(Failure::Method(err)) => return Err(err),
        }
    }

    for id in &args.destroy {
        match lookup(ctx.dir, id).map(|a| a.id) {
            Some(number) => {
                ctx.dir.accounts.remove(&number);
                response.destroyed(id);
            }
            None => response.not_destroyed(id, SetError::not_found()),
        }
    }
    Ok(response.into_json())
}

fn lookup<'d>(dir: &'d Directory, id: &str) -> Option<&'d Account> {
    decode_id(id)
        .and_then(|n| u32::try_from(n).ok())
        .and_then(|n| dir.accounts.get(&n))
}

/// A per-object or a method-level failure.
enum Failure {
    Set(SetError),
    Method(MethodError),
}

impl From<PatchError> for Failure {
    fn from(err: PatchError) -> Self {
        Failure::Set(err.into())
    }
}

impl From<SetError> for Failure {
    fn from(err: SetError) -> Self {
        Failure::Set(err)
    }
}

fn create(
    ctx: &Context<'_>,
    object: &Map<String, Value>,
    limits: &crate::config::Limits,
) -> Result<Account, Failure> {
    let mut account = Account {
        id: ctx.dir.next_account_id(),
        name: String::new(),
        description: None,
        roles: Roles::User,
        permissions: AccountPermissions::Inherit,
        external_directory: false,
        credentials: Vec::new(),
        settings: AccountSettings::default(),
        revision: 1,
    };
    for (key, value) in object {
        match key.as_str() {
            "@type" => {
                if value.as_str() != Some("User") {
                    return Err(
                        PatchError::new(key, "Only User accounts are supported here").into(),
                    );
                }
            }
            "name" => account.name = patch::string(key, value)?.to_lowercase(),
            "domainId" => {
                if value.as_str() != Some(DOMAIN_ID) {
                    return Err(SetError::invalid_foreign_key(
                        "Domain",
                        value.as_str().unwrap_or_default().to_owned(),
                    )
                    .into());
                }
            }
            "credentials" => {
                let Value::Object(items) = value else {
                    return Err(PatchError::new(key, INVALID_VALUE).into());
                };
                for (index, item) in items {
                    let path = format!("credentials/{index}");
                    if item.get("@type").and_then(Value::as_str) != Some("Password") {
                        return Err(SetError::invalid_properties()
                            .with_property("credentials")
                            .with_description("Secondary credentials cannot be set directly.")
                            .into());
                    }
                    let secret = item
                        .get("secret")
                        .ok_or_else(|| PatchError::new(&path, INVALID_VALUE))
                        .and_then(|s| patch::string(&format!("{path}/secret"), s))?;
                    account
                        .credentials
                        .push(Credential::Password(PasswordCredential {
                            id: 0,
                            secret,
                            otp_url: None,
                            expires_at: None,
                            allowed_ips: Vec::new(),
                        }));
                }
            }
            _ => apply_common(ctx, &mut account, key, value)?,
        }
    }
    if account.name.is_empty() {
        return Err(SetError::required(&["name"]).into());
    }
    if let Some(existing) = ctx.dir.accounts.values().find(|a| a.name == account.name) {
        return Err(SetError::primary_key_violation("name", "Account", existing.jmap_id()).into());
    }
    if let Some(password) = account.password()
        && let Err(message) = password_policy::check(&password.secret, limits)
    {
        return Err(SetError::invalid_properties()
            .with_property("credentials/0/secret")
            .with_description(&message)
            .into());
    }
    check_roles(ctx.dir, &account.roles)?;
    Ok(account)
}

fn update(
    ctx: &Context<'_>,
    account: &mut Account,
    patch: &Map<String, Value>,
    limits: &crate::config::Limits,
) -> Result<(), Failure> {
    for (key, value) in patch {
        let segments = patch::split_pointer(key);
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        match segments.as_slice() {
            ["credentials", index, field] => {
                let credential = index
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| account.credentials.get_mut(i))
                    .ok_or_else(|| PatchError::new(key, INVALID_PROPERTY))?;
                let Credential::Password(password) = credential else {
                    return Err(SetError::forbidden(
                        "Secondary credentials cannot be set directly.",
                    )
                    .into());
                };
                match *field {
                    "otpAuth" => password.otp_url = patch::optional_string(key, value)?,
                    "secret" => {
                        let secret = patch::string(key, value)?;
                        if let Err(message) = password_policy::check(&secret, limits) {
                            return Err(SetError::invalid_properties()
                                .with_property(key)
                                .with_description(&message)
                                .into());
                        }
                        password.secret = secret;
                    }
                    "expiresAt" => password.expires_at = patch::optional_datetime(key, value)?,
                    _ => return Err(PatchError::new(key, INVALID_PROPERTY).into()),
                }
            }
            [single] if *single != "credentials" && *single != "name" => {
                apply_common(ctx, account, key, value)?;
            }
            _ => return Err(PatchError::new(key, INVALID_PROPERTY).into()),
        }
    }
    check_roles(ctx.dir, &account.roles)?;
    Ok(())
}

/// Properties shared by create and update.
fn apply_common(
    ctx: &Context<'_>,
    account: &mut Account,
    key: &str,
    value: &Value,
) -> Result<(), Failure> {
    match key {
        "description" => account.description = patch::optional_string(key, value)?,
        "roles" => account.roles = parse_roles(ctx, key, value)?,
        "permissions" => account.permissions = parse_permissions(key, value)?,
        "locale" => {
            account.settings.locale = patch::string(key, value)?;
        }
        _ => return Err(PatchError::new(key, INVALID_PROPERTY).into()),
    }
    Ok(())
}

fn parse_roles(ctx: &Context<'_>, path: &str, value: &Value) -> Result<Roles, Failure> {
    match value.get("@type").and_then(Value::as_str) {
        Some("User") => Ok(Roles::User),
        Some("Admin") => Ok(Roles::Admin),
        Some("Custom") => {
            let mut role_ids = BTreeSet::new();
            if let Some(Value::Object(ids)) = value.get("roleIds") {
                for id in ids.keys() {
                    let id = resolve_creation_id(&ctx.created_ids, id).map_err(Failure::Method)?;
                    let number = decode_id(&id)
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| PatchError::new(path, "Invalid key for object property"))?;
                    role_ids.insert(number);
                }
            }
            Ok(Roles::Custom { role_ids })
        }
        _ => Err(PatchError::new(path, "Missing or invalid '@type' property in object").into()),
    }
}

fn parse_permissions(path: &str, value: &Value) -> Result<AccountPermissions, PatchError> {
    let set = |key: &str| -> Result<PermissionSet, PatchError> {
        match value.get(key) {
            None => Ok(PermissionSet::new()),
            Some(set) => patch::string_set(
                &format!("{path}/{key}"),
                set,
                |name| permissions::is_known(name).then(|| name.to_owned()),
                "Invalid key for object property",
            )
            .map(|names| PermissionSet::from_names(names.iter().map(String::as_str))),
        }
    };
    match value.get("@type").and_then(Value::as_str) {
        Some("Inherit") => Ok(AccountPermissions::Inherit),
        Some("Merge") => Ok(AccountPermissions::Merge {
            enabled: set("enabledPermissions")?,
            disabled: set("disabledPermissions")?,
        }),
        Some("Replace") => Ok(AccountPermissions::Replace {
            enabled: set("enabledPermissions")?,
        }),
        _ => Err(PatchError::new(
            path,
            "Missing or invalid '@type' property in object",
        )),
    }
}

fn check_roles(dir: &Directory, roles: &Roles) -> Result<(), SetError> {
    if let Roles::Custom { role_ids } = roles
        && let Some(missing) = role_ids.iter().find(|id| !dir.roles.contains_key(id))
    {
        return Err(SetError::invalid_foreign_key(
            "Role",
            encode_id(u64::from(*missing)),
        ));
    }
    Ok(())
}
