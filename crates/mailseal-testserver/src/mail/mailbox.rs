//! `Mailbox/get`, `Mailbox/set` and `Mailbox/query` (RFC 8621 §2).
//!
//! `Mailbox/set` creates answer only `{"id"}`, as recorded. A mailbox that still holds
//! e-mails is destroyed only with `onDestroyRemoveEmails` (otherwise `mailboxHasEmail`);
//! with it, e-mails that were only in that mailbox are destroyed too. One with child
//! mailboxes answers `mailboxHasChild`. Names are not checked for duplicates here.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::ids::encode_id;
use crate::jmap::Context;
use crate::jmap::args::{GetArgs, QueryArgs, SetArgs, SetResponse};
use crate::jmap::method_error::MethodError;
use crate::jmap::set_error::SetError;
use crate::mail::{AccountMail, Mailbox, number_of};

/// Every property of a mailbox, in the order written.
const PROPERTIES: [&str; 11] = [
    "id",
    "name",
    "parentId",
    "role",
    "sortOrder",
    "totalEmails",
    "unreadEmails",
    "totalThreads",
    "unreadThreads",
    "myRights",
    "isSubscribed",
];

/// `Mailbox/get`.
pub fn get(
    ctx: &Context<'_>,
    account_id: u32,
    args: &Map<String, Value>,
) -> Result<Value, MethodError> {
    let args = GetArgs::parse(args)?;
    let properties = args
        .properties
        .unwrap_or_else(|| PROPERTIES.iter().map(|p| (*p).to_owned()).collect());
    if let Some(bad) = properties
        .iter()
        .find(|p| !PROPERTIES.contains(&p.as_str()))
    {
        return Err(MethodError::InvalidArguments(format!(
            "Invalid property {bad:?}."
        )));
    }
    let mut store = ctx.shared.mail();
    let mail = store.account(account_id);
    let ids: Vec<String> = args.ids.unwrap_or_else(|| {
        mail.mailboxes
            .keys()
            .map(|id| encode_id(u64::from(*id)))
            .collect()
    });
    let mut list = Vec::new();
    let mut not_found = Vec::new();
    for id in ids {
        match number_of(&id).and_then(|n| mail.mailboxes.get(&n)) {
            Some(mailbox) => {
                let mut object = Map::new();
                for property in &properties {
                    object.insert(property.clone(), value(mail, mailbox, property));
                }
                object.insert("id".to_owned(), Value::from(id));
                list.push(Value::Object(object));
            }
            None => not_found.push(Value::from(id)),
        }
    }
    Ok(json!({
        "accountId": encode_id(u64::from(account_id)),
        "state": mail.state(),
        "list": list,
        "notFound": not_found,
    }))
}

fn value(mail: &AccountMail, mailbox: &Mailbox, property: &str) -> Value {
    let in_box = || {
        mail.emails
            .values()
            .filter(|e| e.mailbox_ids.contains(&mailbox.id))
    };
    let unread = |e: &&crate::mail::Email| !e.keywords.contains("$seen");
    match property {
        "id" => Value::from(encode_id(u64::from(mailbox.id))),
        "name" => Value::from(mailbox.name.as_str()),
        "parentId" => mailbox
            .parent_id
            .map_or(Value::Null, |p| Value::from(encode_id(u64::from(p)))),
        "role" => mailbox.role.as_deref().map_or(Value::Null, Value::from),
        "sortOrder" => Value::from(mailbox.sort_order),
        "totalEmails" => Value::from(in_box().count()),
        "unreadEmails" => Value::from(in_box().filter(unread).count()),
        "totalThreads" => Value::from(in_box().map(|e| e.thread_id).collect::<BTreeSet<_>>().len()),
        "unreadThreads" => Value::from(
            in_box()
                .filter(unread)
                .map(|e| e.thread_id)
                .collect::<BTreeSet<_>>()
                .len(),
        ),
        "myRights" => json!({
            "mayReadItems": true, "mayAddItems": true, "mayRemoveItems": true,
            "maySetSeen": true, "maySetKeywords": true, "mayCreateChild": true,
            "mayRename": true, "mayDelete": true, "maySubmit": true,
        }),
        "isSubscribed" => Value::from(mailbox.is_subscribed),
        _ => Value::Null,
    }
}

/// `Mailbox/set`.
pub fn set(
    ctx: &Context<'_>,
    account_id: u32,
    args: &Map<String, Value>,
) -> Result<Value, MethodError> {
    let set = SetArgs::parse(args)?;
    let remove_emails = args
        .get("onDestroyRemoveEmails")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut store = ctx.shared.mail();
    let mail = store.account(account_id);
    let old_state = mail.state();
    let mut response = SetResponse::new(&encode_id(u64::from(account_id)));
    for (creation_id, object) in &set.create {
        let mut mailbox = Mailbox {
            id: 0,
            name: String::new(),
            parent_id: None,
            role: None,
            sort_order: 0,
            is_subscribed: true,
        };
        match apply(mail, &mut mailbox, object) {
            Ok(()) if mailbox.name.is_empty() => {
                response.not_created(
                    creation_id,
                    SetError::invalid_properties().with_property("name"),
                );
            }
            Ok(()) => {
                let id = mail.add_mailbox(mailbox);
                response.created(creation_id, json!({"id": encode_id(u64::from(id))}));
            }
            Err(err) => response.not_created(creation_id, err),
        }
    }
    for (id, patch) in &set.update {
        let Some(mut mailbox) = number_of(id).and_then(|n| mail.mailboxes.get(&n)).cloned() else {
            response.not_updated(id, SetError::not_found());
            continue;
        };
        match apply(mail, &mut mailbox, patch) {
            Ok(()) => {
                mail.mailboxes.insert(mailbox.id, mailbox);
                mail.bump();
                response.updated(id);
            }
            Err(err) => response.not_updated(id, err),
        }
    }
    for id in &set.destroy {
        let Some(number) = number_of(id).filter(|n| mail.mailboxes.contains_key(n)) else {
            response.not_destroyed(id, SetError::not_found());
            continue;
        };
        if mail.mailboxes.values().any(|m| m.parent_id == Some(number)) {
            response.not_destroyed(id, SetError::new("mailboxHasChild"));
            continue;
        }
        let holders: Vec<u32> = mail
            .emails
            .values()
            .filter(|e| e.mailbox_ids.contains(&number))
            .map(|e| e.document_id)
            .collect();
        if !holders.is_empty() && !remove_emails {
            response.not_destroyed(id, SetError::new("mailboxHasEmail"));
            continue;
        }
        for document in holders {
            let only_here = mail
                .emails
                .get(&document)
                .is_some_and(|e| e.mailbox_ids.len() == 1);
            if only_here {
                mail.remove_email(document);
            } else if let Some(email) = mail.emails.get_mut(&document) {
                email.mailbox_ids.remove(&number);
            }
        }
        mail.mailboxes.remove(&number);
        mail.bump();
        response.destroyed(id);
    }
    let mut value = response.into_json();
    if let Value::Object(map) = &mut value {
        map.insert("oldState".to_owned(), Value::from(old_state));
        map.insert("newState".to_owned(), Value::from(mail.state()));
    }
    Ok(value)
}

/// Applies create or update properties to a mailbox.
fn apply(
    mail: &AccountMail,
    mailbox: &mut Mailbox,
    object: &Map<String, Value>,
) -> Result<(), SetError> {
    for (key, value) in object {
        let bad = || SetError::invalid_properties().with_property(key);
        match (key.as_str(), value) {
            ("name", Value::String(name)) if !name.trim().is_empty() => {
                mailbox.name = name.trim().to_owned();
            }
            ("parentId", Value::Null) => mailbox.parent_id = None,
            ("parentId", Value::String(parent)) => {
                let parent = number_of(parent)
                    .filter(|p| mail.mailboxes.contains_key(p) && *p != mailbox.id)
                    .ok_or_else(bad)?;
                mailbox.parent_id = Some(parent);
            }
            ("role", Value::Null) => mailbox.role = None,
            ("role", Value::String(role)) => mailbox.role = Some(role.to_lowercase()),
            ("sortOrder", v) => {
                mailbox.sort_order = v
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(bad)?;
            }
            ("isSubscribed", Value::Bool(b)) => mailbox.is_subscribed = *b,
            _ => return Err(bad()),
        }
    }
    Ok(())
}

/// `Mailbox/query`: filters `parentId`, `name` (contains, case-insensitive), `role`,
/// `hasAnyRole`, `isSubscribed`; sorts by `name`, `sortOrder` or `id` (default).
pub fn query(
    ctx: &Context<'_>,
    account_id: u32,
    args: &Map<String, Value>,
) -> Result<Value, MethodError> {
    let args = QueryArgs::parse(args)?;
    let mut store = ctx.shared.mail();
    let mail = store.account(account_id);
    let filter = args.filter.clone().unwrap_or_default();
    let mut boxes: Vec<&Mailbox> = Vec::new();
    for mailbox in mail.mailboxes.values() {
        let mut keep = true;
        for (key, value) in &filter {
            keep &= match (key.as_str(), value) {
                ("parentId", Value::Null) => mailbox.parent_id.is_none(),
                ("parentId", Value::String(p)) => mailbox.parent_id == number_of(p),
                ("name", Value::String(n)) => {
                    mailbox.name.to_lowercase().contains(&n.to_lowercase())
                }
                ("role", Value::Null) => mailbox.role.is_none(),
                ("role", Value::String(r)) => mailbox.role.as_deref() == Some(r.as_str()),
                ("hasAnyRole", Value::Bool(b)) => mailbox.role.is_some() == *b,
                ("isSubscribed", Value::Bool(b)) => mailbox.is_subscribed == *b,
                _ => {
                    return Err(MethodError::UnsupportedFilter(format!(
                        "Filter on property {key} is not supported or invalid"
                    )));
                }
            };
        }
        if keep {
            boxes.push(mailbox);
        }
    }
    for (property, ascending) in args.sort.iter().rev() {
        match property.as_str() {
            "name" => boxes.sort_by(|a, b| a.name.cmp(&b.name)),
            "sortOrder" => boxes.sort_by_key(|m| m.sort_order),
            "id" => boxes.sort_by_key(|m| m.id),
            other => {
                return Err(MethodError::UnsupportedSort(format!(
                    "Property {other} is not supported for sorting"
                )));
            }
        }
        if !ascending {
            boxes.reverse();
        }
    }
    let ids = boxes.iter().map(|m| encode_id(u64::from(m.id))).collect();
    let state = mail.state();
    let mut value = args.respond(&encode_id(u64::from(account_id)), ids)?;
    if let Some(map) = value.as_object_mut() {
        map.insert("queryState".to_owned(), Value::from(state));
    }
    Ok(value)
}
