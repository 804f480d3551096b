//! `x:Role` for the administrator: list roles, create a role that includes others and
//! adds or removes permissions (fixture 11), and destroy it.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::directory::{Directory, Role, Roles};
use crate::ids::{decode_id, encode_id};
use crate::jmap::Context;
use crate::jmap::args::{GetArgs, GetResponse, QueryArgs, SetArgs, SetResponse};
use crate::jmap::method_error::MethodError;
use crate::jmap::references::resolve_creation_id;
use crate::jmap::set_error::SetError;
use crate::patch::{self, INVALID_PROPERTY, PatchError};
use crate::permissions::{self, PermissionSet};

use super::account_jmap_id;

/// The JSON form of a role (without `id`).
pub fn to_json(role: &Role) -> Map<String, Value> {
    let ids: Map<String, Value> = role
        .role_ids
        .iter()
        .map(|id| (encode_id(u64::from(*id)), Value::Bool(true)))
        .collect();
    let mut map = Map::new();
    map.insert("description".to_owned(), json!(role.description));
    map.insert("roleIds".to_owned(), Value::Object(ids));
    map.insert(
        "enabledPermissions".to_owned(),
        role.enabled_permissions.to_jmap_set(),
    );
    map.insert(
        "disabledPermissions".to_owned(),
        role.disabled_permissions.to_jmap_set(),
    );
    map
}

/// `x:Role/get`.
pub fn get(ctx: &mut Context<'_>, caller: u32, args: GetArgs) -> Result<Value, MethodError> {
    let mut response = GetResponse::new(&account_jmap_id(caller), args.properties);
    let ids = args.ids.unwrap_or_else(|| {
        ctx.dir
            .roles
            .keys()
            .map(|id| encode_id(u64::from(*id)))
            .collect()
    });
    for id in ids {
        match lookup(ctx.dir, &id) {
            Some(role) => response.push(&encode_id(u64::from(role.id)), to_json(role)),
            None => response.not_found(&id),
        }
    }
    Ok(response.into_json())
}

/// `x:Role/query`: every role, highest id first.
pub fn query(ctx: &mut Context<'_>, caller: u32, args: QueryArgs) -> Result<Value, MethodError> {
    let ids = ctx
        .dir
        .roles
        .keys()
        .rev()
        .map(|id| encode_id(u64::from(*id)))
        .collect();
    args.respond(&account_jmap_id(caller), ids)
}

/// `x:Role/set`.
pub fn set(ctx: &mut Context<'_>, caller: u32, args: SetArgs) -> Result<Value, MethodError> {
    let mut response = SetResponse::new(&account_jmap_id(caller));
    for (creation_id, object) in &args.create {
        let mut role = Role {
            id: ctx.dir.next_role_id(),
            description: String::new(),
            role_ids: BTreeSet::new(),
            enabled_permissions: PermissionSet::new(),
            disabled_permissions: PermissionSet::new(),
        };
        match apply(ctx, &mut role, object) {
            Ok(()) if role.description.is_empty() => {
                response.not_created(creation_id, SetError::required(&["description"]));
            }
            Ok(()) => {
                response.created(creation_id, json!({"id": encode_id(u64::from(role.id))}));
                ctx.dir.roles.insert(role.id, role);
            }
            Err(Ok(err)) => response.not_created(creation_id, err),
            Err(Err(err)) => return Err(err),
        }
    }
    for (id, patch) in &args.update {
        let Some(mut role) = lookup(ctx.dir, id).cloned() else {
            response.not_updated(id, SetError::not_found());
            continue;
        };
        match apply(ctx, &mut role, patch) {
            Ok(()) => {
                ctx.dir.roles.insert(role.id, role);
                response.updated(id);
            }
            Err(Ok(err)) => response.not_updated(id, err),
            Err(Err(err)) => return Err(err),
        }
    }
    for id in &args.destroy {
        let Some(number) = lookup(ctx.dir, id).map(|r| r.id) else {
            response.not_destroyed(id, SetError::not_found());
            continue;
        };
        let mut linked: Vec<(&'static str, String)> = ctx
            .dir
            .accounts
            .values()
            .filter(
                |a| matches!(&a.roles, Roles::Custom { role_ids } if role_ids.contains(&number)),
            )
            .map(|a| ("Account", a.jmap_id()))
            .collect();
        linked.extend(
            ctx.dir
                .roles
                .values()
                .filter(|r| r.role_ids.contains(&number))
                .map(|r| ("Role", encode_id(u64::from(r.id)))),
        );
        if linked.is_empty() {
            ctx.dir.roles.remove(&number);
            response.destroyed(id);
        } else {
            response.not_destroyed(
                id,
                SetError::object_is_linked(("Role", encode_id(u64::from(number))), linked),
            );
        }
    }
    Ok(response.into_json())
}

fn lookup<'d>(dir: &'d Directory, id: &str) -> Option<&'d Role> {
    decode_id(id)
        .and_then(|n| u32::try_from(n).ok())
        .and_then(|n| dir.roles.get(&n))
}

/// Applies create or update properties; the error is per object (`Ok`) or method-level.
fn apply(
    ctx: &Context<'_>,
    role: &mut Role,
    object: &Map<String, Value>,
) -> Result<(), Result<SetError, MethodError>> {
    let set_err = |e: PatchError| Ok(SetError::from(e));
    for (key, value) in object {
        match key.as_str() {
            "description" => role.description = patch::string(key, value).map_err(set_err)?,
            "roleIds" => {
                let Value::Object(ids) = value else {
                    return Err(set_err(PatchError::new(
                        key,
                        "Invalid value for object property",
                    )));
                };
                role.role_ids.clear();
                for id in ids.keys() {
                    let id = resolve_creation_id(&ctx.created_ids, id).map_err(Err)?;
                    let number = decode_id(&id)
                        .and_then(|n| u32::try_from(n).ok())
                        .filter(|n| ctx.dir.roles.contains_key(n))
                        .ok_or_else(|| Ok(SetError::invalid_foreign_key("Role", id.clone())))?;
                    role.role_ids.insert(number);
                }
            }
            "enabledPermissions" | "disabledPermissions" => {
                let names = patch::string_set(
                    key,
                    value,
                    |name| permissions::is_known(name).then(|| name.to_owned()),
                    "Invalid key for object property",
                )
                .map_err(set_err)?;
                let set = PermissionSet::from_names(names.iter().map(String::as_str));
                if key == "enabledPermissions" {
                    role.enabled_permissions = set;
                } else {
                    role.disabled_permissions = set;
                }
            }
            _ => return Err(set_err(PatchError::new(key, INVALID_PROPERTY))),
        }
    }
    Ok(())
}
