//! `x:PublicKey` (spec §8.1, §9; fixture 08): encryption keys uploaded as PEM or ASCII
//! armor, with 12-character global ids.
//!
//! Create: the key text is trimmed and given a final newline, then the quota (5 per
//! account) and [`crate::key_check`] apply; a missing `description` fails with
//! `validationFailed` after that. The key is stored and returned verbatim — an OpenPGP
//! *private* key block included, as the real server does. A key still referenced by
//! `encryptionAtRest` cannot be destroyed (`objectIsLinked`).

use std::time::UNIX_EPOCH;

use serde_json::{Map, Value, json};

use crate::clock::shift;
use crate::datetime;
use crate::directory::PublicKey;
use crate::ids::{decode_id, encode_id};
use crate::jmap::Context;
use crate::jmap::args::{GetArgs, GetResponse, QueryArgs, SetArgs, SetResponse};
use crate::jmap::method_error::MethodError;
use crate::jmap::set_error::SetError;
use crate::key_check::{self, NO_KEY};
use crate::patch::{self, INVALID_PROPERTY, PatchError, SERVER_SET};

use super::account_jmap_id;

/// The JSON form of a key (without `id`; `accountId` is hidden from the owner).
pub fn to_json(key: &PublicKey, show_account: bool) -> Map<String, Value> {
    let mut map = Map::new();
    if show_account {
        map.insert(
            "accountId".to_owned(),
            json!(encode_id(u64::from(key.account_id))),
        );
    }
    map.insert(
        "emailAddresses".to_owned(),
        super::credential::set_to_json(&key.email_addresses),
    );
    map.insert("key".to_owned(), json!(key.key));
    map.insert("description".to_owned(), json!(key.description));
    map.insert(
        "createdAt".to_owned(),
        json!(datetime::format(key.created_at)),
    );
    map.insert(
        "expiresAt".to_owned(),
        json!(key.expires_at.map(datetime::format)),
    );
    map
}

/// `x:PublicKey/get`.
pub fn get(ctx: &mut Context<'_>, account_id: u32, args: GetArgs) -> Result<Value, MethodError> {
    let mut response = GetResponse::new(&account_jmap_id(account_id), args.properties);
    let show_account = ctx.token.has("impersonate");
    match args.ids {
        None => {
            for key in ctx
                .dir
                .public_keys
                .values()
                .filter(|k| k.account_id == account_id)
            {
                response.push(&encode_id(key.id), to_json(key, show_account));
            }
        }
        Some(ids) => {
            for id in ids {
                match decode_id(&id).and_then(|n| ctx.dir.public_keys.get(&n)) {
                    Some(key) if key.account_id == account_id => {
                        response.push(&encode_id(key.id), to_json(key, show_account));
                    }
                    _ => response.not_found(&id),
                }
            }
        }
    }
    Ok(response.into_json())
}

/// `x:PublicKey/query`: the account's keys, newest first unless sorted by `id` ascending.
pub fn query(
    ctx: &mut Context<'_>,
    account_id: u32,
    args: QueryArgs,
) -> Result<Value, MethodError> {
    let ids: Vec<u64> = ctx
        .dir
        .public_keys
        .values()
        .filter(|k| k.account_id == account_id)
        .map(|k| k.id)
        .collect();
    args.respond_ids_newest_first(&account_jmap_id(account_id), ids)
}

/// `x:PublicKey/set`.
pub fn set(ctx: &mut Context<'_>, account_id: u32, args: SetArgs) -> Result<Value, MethodError> {
    let mut response = SetResponse::new(&account_jmap_id(account_id));
    let quota = ctx.shared.config.limits.max_public_keys;
    let now = shift(UNIX_EPOCH, ctx.now);

    for (creation_id, object) in &args.create {
        let mut key = PublicKey {
            id: 0,
            account_id,
            key: String::new(),
            description: String::new(),
            created_at: ctx.now,
            expires_at: None,
            email_addresses: Vec::new(),
        };
        let result = object.iter().try_for_each(|(name, value)| {
            apply_property(&mut key, &[name.as_str()], name, value, true)
        });
        if let Err(err) = result {
            response.not_created(creation_id, err);
            continue;
        }
        let count = ctx
            .dir
            .public_keys
            .values()
            .filter(|k| k.account_id == account_id)
            .count();
        if count >= quota {
            response.not_created(
                creation_id,
                SetError::over_quota(format!(
                    "You have exceeded your quota of {quota} public keys."
                )),
            );
            continue;
        }
        if let Err(err) = validate_key(&mut key.key, now) {
            response.not_created(creation_id, err);
            continue;
        }
        if let Err(err) = validate_required(&key) {
            response.not_created(creation_id, err);
            continue;
        }
        key.id = ctx.dir.next_public_key_id(ctx.now);
        response.created(creation_id, json!({"id": encode_id(key.id)}));
        ctx.dir.public_keys.insert(key.id, key);
    }

    for (id, patch) in &args.update {
        if args.destroy.contains(id) {
            response.not_updated(id, SetError::will_destroy());
            continue;
        }
        let Some(existing) = decode_id(id)
            .and_then(|n| ctx.dir.public_keys.get(&n))
            .filter(|k| k.account_id == account_id)
        else {
            response.not_updated(id, SetError::not_found());
            continue;
        };
        let mut key = existing.clone();
        let result = patch.iter().try_for_each(|(name, value)| {
            let segments = patch::split_pointer(name);
            let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
            apply_property(&mut key, &segments, name, value, false)
        });
        if let Err(err) = result {
            response.not_updated(id, err);
            continue;
        }
        if key.key != existing.key
            && let Err(err) = validate_key(&mut key.key, now)
        {
            response.not_updated(id, err);
            continue;
        }
        if let Err(err) = validate_required(&key) {
            response.not_updated(id, err);
            continue;
        }
        ctx.dir.public_keys.insert(key.id, key);
        response.updated(id);
    }

    for id in &args.destroy {
        let Some(number) = decode_id(id).filter(|n| ctx.dir.owns_public_key(account_id, *n)) else {
            response.not_destroyed(id, SetError::not_found());
            continue;
        };
        let linked = ctx.dir.accounts_using_key(number);
        if linked.is_empty() {
            ctx.dir.public_keys.remove(&number);
            response.destroyed(id);
        } else {
            response.not_destroyed(
                id,
                SetError::object_is_linked(
                    ("PublicKey", encode_id(number)),
                    linked
                        .into_iter()
                        .map(|a| ("Account", encode_id(u64::from(a))))
                        .collect(),
                ),
            );
        }
    }
    Ok(response.into_json())
}

/// Checks (and normalises: trimmed, one final newline) a key text.
fn validate_key(text: &mut String, now: std::time::SystemTime) -> Result<(), SetError> {
    let mut normalised = text.trim().to_owned();
    normalised.push('\n');
    *text = normalised;
    match key_check::check(text, now) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(SetError::invalid_properties()
            .with_property("key")
            .with_description(NO_KEY)),
        Err(message) => Err(SetError::invalid_properties()
            .with_property("key")
            .with_description(&message)),
    }
}

/// The registry's validation of a stored key.
fn validate_required(key: &PublicKey) -> Result<(), SetError> {
    let mut missing = Vec::new();
    if key.key.trim().is_empty() {
        missing.push("key");
    }
    if key.description.is_empty() {
        missing.push("description");
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(SetError::required(&missing))
    }
}

/// Applies one property (or pointer into one) of a key.
fn apply_property(
    key: &mut PublicKey,
    segments: &[&str],
    path: &str,
    value: &Value,
    is_create: bool,
) -> Result<(), SetError> {
    match segments {
        ["key"] => key.key = patch::string(path, value)?,
        ["description"] => key.description = patch::string(path, value)?,
        ["expiresAt"] => key.expires_at = patch::optional_datetime(path, value)?,
        ["emailAddresses"] => {
            key.email_addresses =
                patch::string_set(path, value, patch::email, "Invalid email address")?;
        }
        ["emailAddresses", address] => patch::patch_string_set(
            &mut key.email_addresses,
            path,
            address,
            value,
            patch::email,
            "Invalid email address",
        )?,
        ["createdAt"] => return Err(PatchError::new(path, SERVER_SET).into()),
        ["accountId"] if is_create => {
            return Err(PatchError::new(path, "Cannot modify accountId property").into());
        }
        ["accountId"] => {
            return Err(PatchError::new(path, "Cannot modify read-only property").into());
        }
        ["@type"] => {}
        _ => return Err(PatchError::new(path, INVALID_PROPERTY).into()),
    }
    Ok(())
}
