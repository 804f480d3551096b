//! `Email/get` and `Email/set` (RFC 8621 §4.1–4.3, 4.6).
//!
//! `Email/get` serves `id`, `blobId`, `threadId`, `mailboxIds`, `keywords`, `size`,
//! `receivedAt`, `messageId`, `inReplyTo`, `references`, `subject`, `hasAttachment`,
//! `preview` (left out, not `null`, for a message without a plain-text part, as the
//! recording shows for an encrypted copy) and `header:<Name>[:asRaw|:asText|:asMessageIds][:all]`
//! (no form means raw). Other RFC 8621 properties (`from`, `bodyStructure`, `textBody`…)
//! answer `invalidArguments` here rather than a wrong value. `ids: null` lists the first
//! `maxObjectsInGet` e-mails.
//!
//! `Email/set` updates `keywords` and `mailboxIds` (whole or by `keywords/…` /
//! `mailboxIds/…` pointers) and destroys for good (`notDestroyed` `notFound` the second
//! time). Creating drafts is not supported here (`notCreated` `forbidden`).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::datetime;
use crate::ids::encode_id;
use crate::jmap::Context;
use crate::jmap::args::{GetArgs, SetArgs, SetResponse};
use crate::jmap::envelope::MAX_OBJECTS;
use crate::jmap::method_error::MethodError;
use crate::jmap::set_error::SetError;
use crate::mail::message::Entity;
use crate::mail::{AccountMail, Email, document_of, number_of};

/// The properties served when the request names none.
const DEFAULT_PROPERTIES: [&str; 13] = [
    "id",
    "blobId",
    "threadId",
    "mailboxIds",
    "keywords",
    "size",
    "receivedAt",
    "messageId",
    "inReplyTo",
    "references",
    "subject",
    "hasAttachment",
    "preview",
];

/// `Email/get`.
pub fn get(
    ctx: &Context<'_>,
    account_id: u32,
    args: &Map<String, Value>,
) -> Result<Value, MethodError> {
    let args = GetArgs::parse(args)?;
    let properties = args
        .properties
        .unwrap_or_else(|| DEFAULT_PROPERTIES.iter().map(|p| (*p).to_owned()).collect());
    for property in &properties {
        if !DEFAULT_PROPERTIES.contains(&property.as_str())
            && HeaderProperty::parse(property).is_none()
        {
            return Err(MethodError::InvalidArguments(format!(
                "Property {property:?} is not supported by this test server."
            )));
        }
    }
    let mut store = ctx.shared.mail();
    let mail = store.account(account_id);
    let ids: Vec<String> = args.ids.unwrap_or_else(|| {
        mail.emails
            .values()
            .take(MAX_OBJECTS)
            .map(Email::jmap_id)
            .collect()
    });
    let mut list = Vec::new();
    let mut not_found = Vec::new();
    for id in ids {
        let Some(email) = mail.email_by_id(&id) else {
            not_found.push(Value::from(id));
            continue;
        };
        let parsed = email.parsed();
        let mut object = Map::new();
        for property in &properties {
            if let Some(value) = property_value(email, parsed.as_ref(), property) {
                object.insert(property.clone(), value);
            }
        }
        object.insert("id".to_owned(), Value::from(id));
        list.push(Value::Object(object));
    }
    Ok(json!({
        "accountId": encode_id(u64::from(account_id)),
        "state": mail.state(),
        "list": list,
        "notFound": not_found,
    }))
}

/// A `header:` property.
struct HeaderProperty<'a> {
    name: &'a str,
    form: &'a str,
    all: bool,
}

impl<'a> HeaderProperty<'a> {
    fn parse(property: &'a str) -> Option<Self> {
        let rest = property.strip_prefix("header:")?;
        let mut parts = rest.split(':');
        let name = parts.next().filter(|n| !n.is_empty())?;
        let mut form = "asRaw";
        let mut all = false;
        for part in parts {
            match part {
                "all" => all = true,
                "asRaw" | "asText" | "asMessageIds" if !all => form = part,
                _ => return None,
            }
        }
        Some(Self { name, form, all })
    }
}

fn property_value(email: &Email, parsed: Option<&Entity<'_>>, property: &str) -> Option<Value> {
    let ids = |name: &str| -> Value {
        parsed
            .and_then(|m| m.message_ids(name))
            .map_or(Value::Null, |ids| json!(ids))
    };
    Some(match property {
        "id" => Value::from(email.jmap_id()),
        "blobId" => Value::from(email.blob_id.as_str()),
        "threadId" => Value::from(encode_id(u64::from(email.thread_id))),
        "mailboxIds" => Value::Object(
            email
                .mailbox_ids
                .iter()
                .map(|m| (encode_id(u64::from(*m)), Value::Bool(true)))
                .collect(),
        ),
        "keywords" => Value::Object(
            email
                .keywords
                .iter()
                .map(|k| (k.clone(), Value::Bool(true)))
                .collect(),
        ),
        "size" => Value::from(email.size()),
        "receivedAt" => Value::from(datetime::format(email.received_at)),
        "messageId" => ids("Message-ID"),
        "inReplyTo" => ids("In-Reply-To"),
        "references" => ids("References"),
        "subject" => parsed
            .and_then(Entity::subject)
            .map_or(Value::Null, Value::from),
        "hasAttachment" => Value::Bool(parsed.is_some_and(Entity::has_attachment)),
        "preview" => Value::from(parsed?.preview()?),
        other => {
            let header = HeaderProperty::parse(other)?;
            let values: Vec<Value> = parsed
                .map(|m| {
                    m.all(header.name)
                        .map(|field| match header.form {
                            "asText" => Value::from(field.text()),
                            "asMessageIds" => {
                                let single = Entity {
                                    fields: vec![field.clone()],
                                    body: &[],
                                };
                                single
                                    .message_ids(&field.name)
                                    .map_or(Value::Null, |ids| json!(ids))
                            }
                            _ => Value::from(field.raw.as_str()),
                        })
                        .collect()
                })
                .unwrap_or_default();
            if header.all {
                Value::Array(values)
            } else {
                values.into_iter().last().unwrap_or(Value::Null)
            }
        }
    })
}

/// `Email/set`.
pub fn set(
    ctx: &Context<'_>,
    account_id: u32,
    args: &Map<String, Value>,
) -> Result<Value, MethodError> {
    let set = SetArgs::parse(args)?;
    let mut store = ctx.shared.mail();
    let mail = store.account(account_id);
    let old_state = mail.state();
    if let Some(Value::String(expected)) = args.get("ifInState")
        && *expected != old_state
    {
        return Err(MethodError::StateMismatch);
    }
    let mut response = SetResponse::new(&encode_id(u64::from(account_id)));
    for (creation_id, _) in &set.create {
        response.not_created(
            creation_id,
            SetError::forbidden("mailseal-testserver does not create e-mails; use Email/import."),
        );
    }
    for (id, patch) in &set.update {
        let Some(document) = document_of(id).filter(|d| mail.emails.contains_key(d)) else {
            response.not_updated(id, SetError::not_found());
            continue;
        };
        match apply_update(mail, document, patch) {
            Ok(()) => {
                mail.bump();
                response.updated(id);
            }
            Err(err) => response.not_updated(id, err),
        }
    }
    for id in &set.destroy {
        match document_of(id) {
            Some(document) if mail.remove_email(document) => response.destroyed(id),
            _ => response.not_destroyed(id, SetError::not_found()),
        }
    }
    let mut value = response.into_json();
    if let Value::Object(map) = &mut value {
        map.insert("oldState".to_owned(), Value::from(old_state));
        map.insert("newState".to_owned(), Value::from(mail.state()));
    }
    Ok(value)
}

/// Reads a `mailboxIds` object: every id must name an existing mailbox, and there must be
/// at least one (the texts of `Email/import`).
pub fn mailbox_set(mail: &AccountMail, value: &Value) -> Result<BTreeSet<u32>, SetError> {
    let invalid = |description: String| {
        SetError::invalid_properties()
            .with_description(&description)
            .with_property("mailboxIds")
    };
    let Value::Object(map) = value else {
        return Err(SetError::invalid_properties().with_property("mailboxIds"));
    };
    // Ids that are not ids are dropped, as the real server's parser does.
    let ids: Vec<(String, u32)> = map
        .iter()
        .filter(|(_, v)| v.as_bool() == Some(true))
        .filter_map(|(k, _)| number_of(k).map(|n| (k.clone(), n)))
        .collect();
    if ids.is_empty() {
        return Err(invalid(
            "Message must belong to at least one mailbox.".to_owned(),
        ));
    }
    for (text, number) in &ids {
        if !mail.mailboxes.contains_key(number) {
            return Err(invalid(format!("Mailbox {text} does not exist.")));
        }
    }
    Ok(ids.into_iter().map(|(_, n)| n).collect())
}

/// Reads a `keywords` object.
pub fn keyword_set(value: &Value) -> Result<BTreeSet<String>, SetError> {
    match value {
        Value::Null => Ok(BTreeSet::new()),
        Value::Object(map) => Ok(map
            .iter()
            .filter(|(_, v)| v.as_bool() == Some(true))
            .map(|(k, _)| k.to_lowercase())
            .collect()),
        _ => Err(SetError::invalid_properties().with_property("keywords")),
    }
}

fn apply_update(
    mail: &mut AccountMail,
    document: u32,
    patch: &Map<String, Value>,
) -> Result<(), SetError> {
    let Some(mut email) = mail.emails.get(&document).cloned() else {
        return Err(SetError::not_found());
    };
    for (key, value) in patch {
        if key == "keywords" {
            email.keywords = keyword_set(value)?;
        } else if key == "mailboxIds" {
            email.mailbox_ids = mailbox_set(mail, value)?;
        } else if let Some(keyword) = key.strip_prefix("keywords/") {
            match value {
                Value::Bool(true) => {
                    email.keywords.insert(keyword.to_lowercase());
                }
                Value::Null | Value::Bool(false) => {
                    email.keywords.remove(&keyword.to_lowercase());
                }
                _ => return Err(SetError::invalid_properties().with_property(key)),
            }
        } else if let Some(mailbox) = key.strip_prefix("mailboxIds/") {
            let number = number_of(mailbox)
                .ok_or_else(|| SetError::invalid_properties().with_property(key))?;
            match value {
                Value::Bool(true) if mail.mailboxes.contains_key(&number) => {
                    email.mailbox_ids.insert(number);
                }
                Value::Bool(true) => {
                    return Err(SetError::invalid_properties()
                        .with_description(&format!("Mailbox {mailbox} does not exist."))
                        .with_property("mailboxIds"));
                }
                Value::Null | Value::Bool(false) => {
                    email.mailbox_ids.remove(&number);
                }
                _ => return Err(SetError::invalid_properties().with_property(key)),
            }
        } else {
            return Err(SetError::invalid_properties().with_property(key));
        }
    }
    if email.mailbox_ids.is_empty() {
        return Err(SetError::invalid_properties()
            .with_description("Message must belong to at least one mailbox.")
            .with_property("mailboxIds"));
    }
    mail.emails.insert(document, email);
    Ok(())
}
