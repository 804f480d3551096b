//! `Email/import` (RFC 8621 §4.8), in the real server's order of checks per entry:
//!
//! 1. `mailboxIds` empty (after dropping texts that are not ids): `invalidProperties`
//!    "Message must belong to at least one mailbox."; a mailbox that does not exist:
//!    `invalidProperties` "Mailbox zzzzzz does not exist." (nothing is created);
//! 2. a `blobId` that is not one: `invalidProperties` "Invalid blob id.";
//! 3. a blob that is unknown, expired or another account's: `blobNotFound` "BlobId … not
//!    found.";
//! 4. bytes that are not a message: `invalidEmail` "Blob does not contain a valid RFC 5322
//!    message.".
//!
//! Otherwise the e-mail is created with the given `keywords` and `receivedAt` (default: now)
//! and answers `{"id","threadId","blobId","size"}`: a new id, a new blob id (not the
//! upload's), the upload's size; the bytes are stored exactly as uploaded. There is no
//! de-duplication: importing the same blob again makes another e-mail. An e-mail's own blob
//! id may be imported too. `maxObjectsInSet` applies to `emails`; `ifInState` is checked.
//! Later calls cannot refer to the result (`#ids` → `invalidResultReference`), see
//! [`crate::jmap`].

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::datetime;
use crate::ids::encode_id;
use crate::jmap::Context;
use crate::jmap::envelope::MAX_OBJECTS;
use crate::jmap::method_error::MethodError;
use crate::jmap::set_error::SetError;
use crate::mail::blob::is_well_formed;
use crate::mail::email::{keyword_set, mailbox_set};
use crate::mail::message::Entity;

/// `Email/import`.
pub fn import(
    ctx: &Context<'_>,
    account_id: u32,
    args: &Map<String, Value>,
) -> Result<Value, MethodError> {
    let Some(Value::Object(emails)) = args.get("emails") else {
        return Err(MethodError::InvalidArguments(
            "Invalid value for argument \"emails\".".to_owned(),
        ));
    };
    if emails.len() > MAX_OBJECTS {
        return Err(MethodError::RequestTooLarge);
    }
    let now_ms = ctx.shared.clock.unix_millis();
    let ttl = ctx.shared.config.uploads.upload_ttl_ms;
    let mut store = ctx.shared.mail();
    let mail = store.account(account_id);
    let old_state = mail.state();
    if let Some(Value::String(expected)) = args.get("ifInState")
        && *expected != old_state
    {
        return Err(MethodError::StateMismatch);
    }
    let mut created = Map::new();
    let mut not_created = Map::new();
    for (creation_id, entry) in emails {
        let result = (|| -> Result<Value, SetError> {
            let entry = entry.as_object().ok_or_else(SetError::invalid_properties)?;
            let mailbox_ids = mailbox_set(mail, entry.get("mailboxIds").unwrap_or(&Value::Null))?;
            let blob_id = entry
                .get("blobId")
                .and_then(Value::as_str)
                .filter(|b| is_well_formed(b))
                .ok_or_else(|| {
                    SetError::invalid_properties()
                        .with_description("Invalid blob id.")
                        .with_property("blobId")
                })?;
            let keywords: BTreeSet<String> =
                keyword_set(entry.get("keywords").unwrap_or(&Value::Null))?;
            let received_at = match entry.get("receivedAt") {
                None | Some(Value::Null) => now_ms.div_euclid(1000),
                Some(Value::String(text)) => datetime::parse(text)
                    .ok_or_else(|| SetError::invalid_properties().with_property("receivedAt"))?,
                Some(_) => return Err(SetError::invalid_properties().with_property("receivedAt")),
            };
            let (bytes, _) = mail.blob(blob_id, now_ms, ttl).ok_or_else(|| {
                SetError::new("blobNotFound")
                    .with_description(&format!("BlobId {blob_id} not found."))
            })?;
            if Entity::parse(&bytes).is_none() {
                return Err(SetError::new("invalidEmail")
                    .with_description("Blob does not contain a valid RFC 5322 message."));
            }
            let document = mail.insert_email(bytes, mailbox_ids, keywords, received_at, false);
            let email = mail
                .emails
                .get(&document)
                .ok_or_else(|| SetError::new("serverFail"))?;
            Ok(json!({
                "id": email.jmap_id(),
                "threadId": encode_id(u64::from(email.thread_id)),
                "blobId": email.blob_id,
                "size": email.size(),
            }))
        })();
        match result {
            Ok(object) => {
                created.insert(creation_id.clone(), object);
            }
            Err(err) => {
                not_created.insert(creation_id.clone(), err.to_json());
            }
        }
    }
    let mut response = Map::new();
    response.insert(
        "accountId".to_owned(),
        Value::from(encode_id(u64::from(account_id))),
    );
    response.insert("oldState".to_owned(), Value::from(old_state));
    response.insert("newState".to_owned(), Value::from(mail.state()));
    if !created.is_empty() {
        response.insert("created".to_owned(), Value::Object(created));
    }
    if !not_created.is_empty() {
        response.insert("notCreated".to_owned(), Value::Object(not_created));
    }
    Ok(Value::Object(response))
}
