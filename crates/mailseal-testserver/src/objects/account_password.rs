//! `x:AccountPassword` (singleton): the password and the TOTP URL (spec §4, §5).
//!
//! Nothing changes unless `secret` or `otpAuth.otpUrl` differs from what is stored; a new
//! `secret` always counts as a change (the real server compares it with a hash). A change
//! needs `currentSecret`, and when TOTP is on also a code of the *current* TOTP secret
//! (`otpAuth/otpCode` or `otpAuth: {"otpCode": …}`); only then is the password policy
//! checked. A stored TOTP URL that cannot be parsed makes the call fail with
//! `serverUnavailable` once the password is right and a code is given (fixture 05b).

use serde_json::{Map, Value, json};

use crate::auth::totp::{self, MfaCheck};
use crate::jmap::Context;
use crate::jmap::args::{GetArgs, GetResponse, SetArgs, SetResponse};
use crate::jmap::method_error::MethodError;
use crate::jmap::set_error::SetError;
use crate::password_policy;
use crate::patch::{self, INVALID_PROPERTY, PatchError};

use super::{SINGLETON, account_jmap_id};

/// The masked value the server writes for secrets.
pub const MASKED: &str = "****";

/// `x:AccountPassword/get`.
pub fn get(ctx: &mut Context<'_>, account_id: u32, args: GetArgs) -> Result<Value, MethodError> {
    let mut response = GetResponse::new(&account_jmap_id(account_id), args.properties);
    let password = ctx
        .dir
        .accounts
        .get(&account_id)
        .and_then(|account| account.password());
    let ids = args.ids.unwrap_or_else(|| vec![SINGLETON.to_owned()]);
    let mut found = false;
    for id in ids {
        match password {
            Some(password) if !found && id == SINGLETON => {
                let mut object = Map::new();
                object.insert("secret".to_owned(), json!(MASKED));
                let otp = if password.otp_url.is_some() {
                    json!({"otpUrl": MASKED})
                } else {
                    json!({})
                };
                object.insert("otpAuth".to_owned(), otp);
                response.push(SINGLETON, object);
                found = true;
            }
            _ => response.not_found(&id),
        }
    }
    Ok(response.into_json())
}

/// The parsed update of the singleton.
#[derive(Debug, Default)]
struct Update {
    secret: Option<String>,
    current_secret: Option<String>,
    otp_url: Option<String>,
    otp_code: Option<String>,
}

/// `x:AccountPassword/set`.
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
    let Some(password) = account.password().cloned() else {
        let err = SetError::forbidden("Your account does not support password changes");
        for (id, _) in &args.update {
            response.not_updated(id, err.clone());
        }
        for (id, _) in &args.create {
            response.not_created(id, err.clone());
        }
        return Ok(response.into_json());
    };
    let external_directory = account.external_directory;
    let limits = ctx.shared.config.limits;

    for (id, patch) in &args.update {
        if id != SINGLETON {
            response.not_updated(id, SetError::not_found());
            continue;
        }
        let mut update = Update {
            otp_url: password.otp_url.as_ref().map(|_| MASKED.to_owned()),
            ..Update::default()
        };
        if let Err(err) = apply_patch(&mut update, patch) {
            response.not_updated(id, err);
            continue;
        }

        let secret_changed = update.secret.as_deref().is_some_and(|s| s != MASKED);
        if update.otp_url.as_deref() == Some(MASKED) {
            update.otp_url.clone_from(&password.otp_url);
        }
        let otp_changed = update.otp_url != password.otp_url;
        if !secret_changed && !otp_changed {
            response.updated(id);
            break;
        }
        if external_directory {
            response.not_updated(id, SetError::forbidden("Operation not allowed."));
            continue;
        }
        if password.secret.is_empty() {
            response.not_updated(
                id,
                SetError::forbidden(
                    "Cannot set a password or OTP auth on an account that doesn't have one.",
                ),
            );
            continue;
        }
        let Some(current) = update.current_secret.as_deref() else {
            response.not_updated(
                id,
                SetError::forbidden(
                    "Current secret must be provided to change the password or OTP auth.",
                ),
            );
            continue;
        };
        match totp::verify(
            password.otp_url.as_deref(),
            update.otp_code.as_deref(),
            &password.secret,
            current,
            ctx.now,
        ) {
            Ok(MfaCheck::Valid) => {}
            Ok(MfaCheck::Invalid) => {
                if ctx.shared.ban.record_failure(ctx.ip, ctx.now) {
                    return Err(MethodError::ServerUnavailable);
                }
                response.not_updated(id, SetError::forbidden("Current secret is incorrect."));
                continue;
            }
            Ok(MfaCheck::MissingMfaToken) => {
                response.not_updated(
                    id,
                    SetError::forbidden(
                        "Current OTP code is required to change the password or OTP auth.",
                    ),
                );
                continue;
            }
            Err(_) => return Err(MethodError::ServerUnavailable),
        }
        let new_secret = if secret_changed {
            let secret = update.secret.clone().unwrap_or_default();
            if let Err(message) = password_policy::check(&secret, &limits) {
                response.not_updated(
                    id,
                    SetError::invalid_properties()
                        .with_property("secret")
                        .with_description(&message),
                );
                continue;
            }
            Some(secret)
        } else {
            None
        };

        let now = ctx.now;
        if let Some(account) = ctx.dir.accounts.get_mut(&account_id)
            && let Some(stored) = account.password_mut()
        {
            if let Some(secret) = new_secret {
                stored.secret = secret;
                if stored.expires_at.is_some_and(|exp| exp <= now) {
                    stored.expires_at = None;
                }
                ctx.shared.oauth.revoke_account(account_id);
            }
            stored.otp_url = update.otp_url.clone();
            account.revision += 1;
        }
        response.updated(id);
        break;
    }
    Ok(response.into_json())
}

/// Applies the update object's keys (whole properties or JSON pointers).
fn apply_patch(update: &mut Update, patch: &Map<String, Value>) -> Result<(), SetError> {
    for (key, value) in patch {
        let segments = patch::split_pointer(key);
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        match segments.as_slice() {
            ["secret"] => update.secret = patch::optional_string(key, value)?,
            ["currentSecret"] => update.current_secret = patch::optional_string(key, value)?,
            ["otpAuth"] => {
                let Value::Object(otp) = value else {
                    return Err(PatchError::new(key, "Invalid value type for object").into());
                };
                for (inner, value) in otp {
                    let path = format!("{key}/{inner}");
                    match inner.as_str() {
                        "otpUrl" => update.otp_url = patch::optional_string(&path, value)?,
                        "otpCode" => update.otp_code = patch::optional_string(&path, value)?,
                        "@type" => return Err(SetError::invalid_properties()),
                        _ => return Err(PatchError::new(&path, INVALID_PROPERTY).into()),
                    }
                }
            }
            ["otpAuth", "otpUrl"] => update.otp_url = patch::optional_string(key, value)?,
            ["otpAuth", "otpCode"] => update.otp_code = patch::optional_string(key, value)?,
            ["@type"] => return Err(SetError::invalid_properties()),
            _ => return Err(PatchError::new(key, INVALID_PROPERTY).into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(value: Value) -> Result<Update, SetError> {
        let mut update = Update {
            otp_url: Some(MASKED.to_owned()),
            ..Update::default()
        };
        let Value::Object(map) = value else {
            panic!("object")
        };
        apply_patch(&mut update, &map).map(|()| update)
    }

    #[test]
    fn pointer_and_whole_object_forms_set_the_code_and_keep_the_url() {
        let a = patch(json!({"currentSecret": "pw", "otpAuth/otpCode": "123456"})).expect("ok");
        let b =
            patch(json!({"currentSecret": "pw", "otpAuth": {"otpCode": "123456"}})).expect("ok");
        for update in [a, b] {
            assert_eq!(update.otp_code.as_deref(), Some("123456"));
            assert_eq!(update.otp_url.as_deref(), Some(MASKED), "TOTP stays on");
        }
    }

    #[test]
    fn null_url_disables() {
        let update = patch(json!({"otpAuth": {"otpUrl": null, "otpCode": "1"}})).expect("ok");
        assert_eq!(update.otp_url, None);
    }

    #[test]
    fn bad_keys_and_values() {
        assert_eq!(
            patch(json!({"nope": 1})).err(),
            Some(SetError::invalid_patch(INVALID_PROPERTY, "nope"))
        );
        assert_eq!(
            patch(json!({"otpAuth": {"nope": 1}})).err(),
            Some(SetError::invalid_patch(INVALID_PROPERTY, "otpAuth/nope"))
        );
        assert_eq!(
            patch(json!({"secret": ""})).err(),
            Some(SetError::invalid_patch(patch::INVALID_VALUE, "secret"))
        );
        assert_eq!(
            patch(json!({"otpAuth": null})).err(),
            Some(SetError::invalid_patch(
                "Invalid value type for object",
                "otpAuth"
            ))
        );
        assert_eq!(
            patch(json!({"@type": "x"})).err(),
            Some(SetError::invalid_properties())
        );
    }
}
