//! `x:AccountSettings` (singleton): display name, locale, time zone and encryption at rest
//! (spec §8.2, fixture 09).
//!
//! Only whole top-level properties may be sent; a JSON-pointer key is refused with
//! `invalidProperties` naming it. `encryptionAtRest` is replaced as a whole and needs an
//! `@type`; an enabled variant needs a `publicKey` (`validationFailed`) that exists and
//! belongs to the account (`invalidForeignKey`); AES-256-GCM and ChaCha20-Poly1305 are
//! refused for OpenPGP keys. `"#creationId"` references to a PublicKey created earlier in
//! the same request are resolved.

use serde_json::{Map, Value, json};

use crate::directory::{AccountSettings, EncryptionAtRest, EncryptionSettings};
use crate::ids::{decode_id, encode_id};
use crate::jmap::Context;
use crate::jmap::args::{GetArgs, GetResponse, SetArgs, SetResponse};
use crate::jmap::method_error::MethodError;
use crate::jmap::references::resolve_creation_id;
use crate::jmap::set_error::SetError;
use crate::key_check::{self, KeyKind};
use crate::patch::{self, INVALID_PROPERTY, INVALID_VALUE, PatchError};

use super::{SINGLETON, account_jmap_id};

/// The JSON form of the settings (without `id`).
pub fn to_json(description: Option<&str>, settings: &AccountSettings) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("description".to_owned(), json!(description));
    map.insert("locale".to_owned(), json!(settings.locale));
    map.insert("timeZone".to_owned(), json!(settings.time_zone));
    map.insert(
        "encryptionAtRest".to_owned(),
        encryption_to_json(&settings.encryption_at_rest),
    );
    map
}

/// The JSON form of `encryptionAtRest`.
pub fn encryption_to_json(value: &EncryptionAtRest) -> Value {
    let (kind, settings) = match value {
        EncryptionAtRest::Disabled => return json!({"@type": "Disabled"}),
        EncryptionAtRest::Aes128(s) => ("Aes128", s),
        EncryptionAtRest::Aes256(s) => ("Aes256", s),
        EncryptionAtRest::Aes256Gcm(s) => ("Aes256Gcm", s),
        EncryptionAtRest::ChaCha20Poly1305(s) => ("ChaCha20Poly1305", s),
    };
    json!({
        "publicKey": settings.public_key.map(encode_id),
        "encryptOnAppend": settings.encrypt_on_append,
        "allowSpamTraining": settings.allow_spam_training,
        "@type": kind,
    })
}

/// `x:AccountSettings/get`.
pub fn get(ctx: &mut Context<'_>, account_id: u32, args: GetArgs) -> Result<Value, MethodError> {
    let mut response = GetResponse::new(&account_jmap_id(account_id), args.properties);
    let account = ctx.dir.accounts.get(&account_id);
    let ids = args.ids.unwrap_or_else(|| vec![SINGLETON.to_owned()]);
    let mut found = false;
    for id in ids {
        match account {
            Some(account) if !found && id == SINGLETON => {
                response.push(
                    SINGLETON,
                    to_json(account.description.as_deref(), &account.settings),
                );
                found = true;
            }
            _ => response.not_found(&id),
        }
    }
    Ok(response.into_json())
}

/// `x:AccountSettings/set`.
pub fn set(ctx: &mut Context<'_>, account_id: u32, args: SetArgs) -> Result<Value, MethodError> {
    let mut response = SetResponse::new(&account_jmap_id(account_id));
    for id in &args.destroy {
        response.not_destroyed(id, SetError::singleton());
    }
    let Some(account) = ctx.dir.accounts.get(&account_id) else {
        for (id, _) in &args.update {
            response.not_updated(id, SetError::not_found());
        }
        return Ok(response.into_json());
    };
    let mut description = account.description.clone();
    let mut settings = account.settings.clone();
    let old_encryption = settings.encryption_at_rest.clone();

    for (id, patch) in &args.update {
        if id != SINGLETON {
            response.not_updated(id, SetError::not_found());
            continue;
        }
        if let Some(key) = patch.keys().find(|k| {
            !matches!(
                k.as_str(),
                "encryptionAtRest" | "locale" | "description" | "timeZone"
            )
        }) {
            response.not_updated(id, SetError::invalid_properties().with_property(key));
            break;
        }
        let mut failed = None;
        for (key, value) in patch {
            let result = match key.as_str() {
                "encryptionAtRest" => parse_encryption(ctx, value).map(|e| {
                    settings.encryption_at_rest = e;
                }),
                "locale" => parse_locale(value).map(|l| settings.locale = l),
                "timeZone" => patch::optional_string(key, value)
                    .map(|t| settings.time_zone = t)
                    .map_err(Outcome::from),
                _ => patch::optional_string(key, value)
                    .map(|d| description = d)
                    .map_err(Outcome::from),
            };
            match result {
                Ok(()) => {}
                Err(Outcome::Patch(err)) => {
                    failed = Some(err.into());
                    break;
                }
                Err(Outcome::Method(err)) => return Err(err),
            }
        }
        if let Some(err) = failed {
            response.not_updated(id, err);
            break;
        }

        if settings.encryption_at_rest != old_encryption
            && let Some(algorithm) = aead_with_openpgp(ctx, &settings.encryption_at_rest)
        {
            response.not_updated(
                id,
                SetError::invalid_properties()
                    .with_property("encryptionAtRest")
                    .with_description(&format!(
                        "{algorithm} is only supported for S/MIME encryption, but the selected \
                         public key is an OpenPGP key."
                    )),
            );
            break;
        }
        if let Some(enabled) = settings.encryption_at_rest.settings() {
            match enabled.public_key {
                None => {
                    response.not_updated(id, SetError::required(&["publicKey"]));
                    break;
                }
                Some(key_id) if !ctx.dir.owns_public_key(account_id, key_id) => {
                    response.not_updated(
                        id,
                        SetError::invalid_foreign_key("PublicKey", encode_id(key_id)),
                    );
                    break;
                }
                Some(_) => {}
            }
        }
        if let Some(account) = ctx.dir.accounts.get_mut(&account_id) {
            account.settings = settings.clone();
            account.description = description.clone();
        }
        response.updated(id);
        break;
    }
    Ok(response.into_json())
}

/// Why a value could not be applied.
enum Outcome {
    /// A per-object patch error.
    Patch(PatchError),
    /// A method-level error (an unresolvable `#reference`).
    Method(MethodError),
}

impl From<PatchError> for Outcome {
    fn from(err: PatchError) -> Self {
        Outcome::Patch(err)
    }
}

/// Reads a whole `encryptionAtRest` value.
fn parse_encryption(ctx: &Context<'_>, value: &Value) -> Result<EncryptionAtRest, Outcome> {
    const PATH: &str = "encryptionAtRest";
    let kind = value
        .get("@type")
        .and_then(Value::as_str)
        .ok_or_else(|| PatchError::new(PATH, "Missing or invalid '@type' property in object"))?;
    let wrap: fn(EncryptionSettings) -> EncryptionAtRest = match kind {
        "Disabled" => return Ok(EncryptionAtRest::Disabled),
        "Aes128" => EncryptionAtRest::Aes128,
        "Aes256" => EncryptionAtRest::Aes256,
        "Aes256Gcm" => EncryptionAtRest::Aes256Gcm,
        "ChaCha20Poly1305" => EncryptionAtRest::ChaCha20Poly1305,
        _ => {
            return Err(
                PatchError::new(PATH, "Missing or invalid '@type' property in object").into(),
            );
        }
    };
    let mut settings = EncryptionSettings::default();
    if let Value::Object(map) = value {
        for (key, value) in map {
            let path = format!("{PATH}/{key}");
            match key.as_str() {
                "@type" => {}
                "publicKey" => {
                    let text = value
                        .as_str()
                        .ok_or_else(|| PatchError::new(&path, INVALID_VALUE))?;
                    let text =
                        resolve_creation_id(&ctx.created_ids, text).map_err(Outcome::Method)?;
                    let id =
                        decode_id(&text).ok_or_else(|| PatchError::new(&path, INVALID_VALUE))?;
                    settings.public_key = Some(id);
                }
                "encryptOnAppend" => settings.encrypt_on_append = patch::boolean(&path, value)?,
                "allowSpamTraining" => {
                    settings.allow_spam_training = patch::boolean(&path, value)?;
                }
                _ => return Err(PatchError::new(&path, INVALID_PROPERTY).into()),
            }
        }
    }
    Ok(wrap(settings))
}

/// Reads a locale such as `en_US` or `de`.
fn parse_locale(value: &Value) -> Result<String, Outcome> {
    let text = value.as_str().unwrap_or_default();
    let (lang, region) = text.split_once('_').unwrap_or((text, ""));
    let valid = (2..=3).contains(&lang.len())
        && lang.chars().all(|c| c.is_ascii_lowercase())
        && (region.is_empty()
            || (region.len() == 2 && region.chars().all(|c| c.is_ascii_uppercase())));
    if valid {
        Ok(text.to_owned())
    } else {
        Err(PatchError::new(
            "locale",
            &format!("Invalid value {value} for enum type Locale."),
        )
        .into())
    }
}

/// The algorithm name when an AEAD algorithm is combined with an OpenPGP key.
fn aead_with_openpgp(ctx: &Context<'_>, value: &EncryptionAtRest) -> Option<&'static str> {
    let (settings, algorithm) = match value {
        EncryptionAtRest::Aes256Gcm(s) => (s, "AES-256-GCM"),
        EncryptionAtRest::ChaCha20Poly1305(s) => (s, "ChaCha20-Poly1305"),
        _ => return None,
    };
    let key = ctx.dir.public_keys.get(&settings.public_key?)?;
    let now = crate::clock::shift(std::time::UNIX_EPOCH, ctx.now);
    matches!(key_check::check(&key.key, now), Ok(Some(KeyKind::OpenPgp))).then_some(algorithm)
}
