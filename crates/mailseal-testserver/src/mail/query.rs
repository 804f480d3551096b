//! `Email/query` (RFC 8621 §4.4).
//!
//! Filters: `inMailbox`, `inMailboxOtherThan`, `before`, `after` (on `receivedAt`),
//! `minSize`, `maxSize`, `hasKeyword`, `notKeyword`, `hasAttachment`, and the full-text
//! conditions `subject`, `from`, `to`, `cc`, `bcc`, `body`, `text` (every word of the
//! value must occur; only e-mails the search index has seen, see [`crate::mail`]), nested
//! with `operator` `AND`/`OR`/`NOT`. A `header` condition matches **nothing** and is no
//! error, as on the recorded server (its index has no headers). Sorts: `receivedAt`,
//! `size`, `subject`, `id`; ties and the default order are by document number, ascending.
//! `position`, `anchor`/`anchorOffset`, `limit` (at most 5000), `calculateTotal` and
//! `collapseThreads` work as in RFC 8620 §5.5.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::datetime;
use crate::ids::encode_id;
use crate::jmap::Context;
use crate::jmap::args::QueryArgs;
use crate::jmap::method_error::MethodError;
use crate::mail::message::{Entity, words};
use crate::mail::{Email, number_of};

/// `Email/query`.
pub fn query(
    ctx: &Context<'_>,
    account_id: u32,
    args: &Map<String, Value>,
) -> Result<Value, MethodError> {
    let query = QueryArgs::parse(args)?;
    let collapse = args
        .get("collapseThreads")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut store = ctx.shared.mail();
    let mail = store.account(account_id);
    let mut matching: Vec<&Email> = Vec::new();
    for email in mail.emails.values() {
        let keep = match &query.filter {
            Some(filter) => matches(email, filter)?,
            None => true,
        };
        if keep {
            matching.push(email);
        }
    }
    let mut sort = Vec::new();
    for (property, ascending) in &query.sort {
        match property.as_str() {
            "receivedAt" | "size" | "subject" | "id" => sort.push((property.as_str(), *ascending)),
            other => {
                return Err(MethodError::UnsupportedSort(format!(
                    "Property {other} is not supported for sorting"
                )));
            }
        }
    }
    let subject = |e: &Email| {
        e.parsed()
            .and_then(|m| m.subject())
            .map(|s| crate::mail::message::base_subject(&s))
            .unwrap_or_default()
    };
    matching.sort_by(|a, b| {
        for (property, ascending) in &sort {
            let order = match *property {
                "receivedAt" => a.received_at.cmp(&b.received_at),
                "size" => a.size().cmp(&b.size()),
                "subject" => subject(a).cmp(&subject(b)),
                _ => a.document_id.cmp(&b.document_id),
            };
            let order = if *ascending { order } else { order.reverse() };
            if order.is_ne() {
                return order;
            }
        }
        a.document_id.cmp(&b.document_id)
    });
    if collapse {
        let mut seen = BTreeSet::new();
        matching.retain(|e| seen.insert(e.thread_id));
    }
    let ids = matching.iter().map(|e| e.jmap_id()).collect();
    let state = mail.state();
    let mut value = query.respond(&encode_id(u64::from(account_id)), ids)?;
    if let Some(map) = value.as_object_mut() {
        map.insert("queryState".to_owned(), Value::from(state));
    }
    Ok(value)
}

fn unsupported(key: &str) -> MethodError {
    MethodError::UnsupportedFilter(format!(
        "Filter on property {key} is not supported or invalid"
    ))
}

/// Whether an e-mail matches a filter (a condition or an operator).
fn matches(email: &Email, filter: &Map<String, Value>) -> Result<bool, MethodError> {
    if let Some(operator) = filter.get("operator") {
        let conditions = filter
            .get("conditions")
            .and_then(Value::as_array)
            .ok_or_else(|| unsupported("conditions"))?;
        let mut results = Vec::with_capacity(conditions.len());
        for condition in conditions {
            let condition = condition
                .as_object()
                .ok_or_else(|| unsupported("conditions"))?;
            results.push(matches(email, condition)?);
        }
        return match operator.as_str() {
            Some("AND") => Ok(results.iter().all(|r| *r)),
            Some("OR") => Ok(results.iter().any(|r| *r)),
            Some("NOT") => Ok(!results.iter().any(|r| *r)),
            _ => Err(unsupported("operator")),
        };
    }
    let parsed = email.parsed();
    for (key, value) in filter {
        let keep = match (key.as_str(), value) {
            ("inMailbox", Value::String(id)) => {
                number_of(id).is_some_and(|m| email.mailbox_ids.contains(&m))
            }
            ("inMailboxOtherThan", Value::Array(ids)) => {
                let excluded: BTreeSet<u32> = ids
                    .iter()
                    .filter_map(Value::as_str)
                    .filter_map(number_of)
                    .collect();
                email.mailbox_ids.iter().any(|m| !excluded.contains(m))
            }
            ("before", Value::String(date)) => {
                email.received_at < datetime::parse(date).ok_or_else(|| unsupported(key))?
            }
            ("after", Value::String(date)) => {
                email.received_at >= datetime::parse(date).ok_or_else(|| unsupported(key))?
            }
            ("minSize", v) => email.size() >= v.as_u64().ok_or_else(|| unsupported(key))?,
            ("maxSize", v) => email.size() < v.as_u64().ok_or_else(|| unsupported(key))?,
            ("hasKeyword", Value::String(k)) => email.keywords.contains(&k.to_lowercase()),
            ("notKeyword", Value::String(k)) => !email.keywords.contains(&k.to_lowercase()),
            ("hasAttachment", Value::Bool(b)) => {
                parsed.as_ref().is_some_and(Entity::has_attachment) == *b
            }
            ("header", Value::Array(_)) => false,
            ("subject" | "from" | "to" | "cc" | "bcc" | "body" | "text", Value::String(text)) => {
                email.indexed && full_text(parsed.as_ref(), key, text)
            }
            _ => return Err(unsupported(key)),
        };
        if !keep {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Every word of `text` occurs in the searched part of the message.
fn full_text(parsed: Option<&Entity<'_>>, key: &str, text: &str) -> bool {
    let Some(message) = parsed else {
        return false;
    };
    let field = |name: &str| message.field(name).map(|f| f.text()).unwrap_or_default();
    let haystack = match key {
        "subject" => field("Subject"),
        "from" => field("From"),
        "to" => field("To"),
        "cc" => field("Cc"),
        "bcc" => field("Bcc"),
        "body" => message.preview().unwrap_or_default(),
        _ => [
            field("Subject"),
            field("From"),
            field("To"),
            field("Cc"),
            message.preview().unwrap_or_default(),
        ]
        .join(" "),
    };
    let found: BTreeSet<String> = words(&haystack).into_iter().collect();
    let wanted = words(text);
    !wanted.is_empty() && wanted.iter().all(|w| found.contains(w))
}
