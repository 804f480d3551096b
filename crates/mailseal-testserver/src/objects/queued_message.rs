//! `x:QueuedMessage` for the administrator (fixtures 12 `smime-ec-p256-aes128` and 13): the
//! delivery queue that [`crate::TestServer::deliver`] fills when encryption at rest fails
//! temporarily. The queue is server-wide; `accountId` in the answers is the account the
//! call acts on (the caller's own). Only administrators hold the `sysQueuedMessage*`
//! permissions, so other callers get the usual `forbidden` answers.
//!
//! `/query` sorts by `id`, newest first unless `id` ascending is asked for (as
//! `x:PublicKey/query` does), and supports no filter. `/set` destroys queued messages;
//! creating them is refused and updating them (rescheduling) is not modelled.

use serde_json::{Map, Value, json};

use crate::datetime;
use crate::delivery::{QUEUE_NAME, QueuedMessage, RECEIVED_FROM_IP, RECEIVED_VIA_PORT};
use crate::ids::decode_id;
use crate::jmap::Context;
use crate::jmap::args::{GetArgs, GetResponse, QueryArgs, SetArgs, SetResponse};
use crate::jmap::envelope::Verb;
use crate::jmap::method_error::MethodError;
use crate::jmap::set_error::SetError;

use super::account_jmap_id;

/// The JSON form of a queued message (without `id`), with the status of its one failed
/// local delivery attempt as the real server recorded it.
pub fn to_json(message: &QueuedMessage) -> Map<String, Value> {
    let date = datetime::format;
    let mut recipients = Map::new();
    recipients.insert(
        message.recipient.clone(),
        json!({
            "retryCount": message.retry_count,
            "retryDue": date(message.next_retry),
            "notifyCount": 0,
            "notifyDue": date(message.next_notify),
            "expires": {"expiresAt": date(message.expires_at), "@type": "Ttl"},
            "queueName": QUEUE_NAME,
            "status": {
                "errorType": "unexpectedResponse",
                "errorMessage": null,
                "errorCommand": format!("RCPT TO:<{}>", message.recipient),
                "responseHostname": "localhost",
                "responseCode": 451,
                "responseEnhanced": "4.3.0",
                "responseMessage": "Transient server failure.",
                "@type": "TemporaryFailure",
            },
            "flags": {},
            "orcpt": null,
        }),
    );
    let mut map = Map::new();
    map.insert("createdAt".to_owned(), json!(date(message.created_at)));
    map.insert("nextRetry".to_owned(), json!(date(message.next_retry)));
    map.insert("nextNotify".to_owned(), json!(date(message.next_notify)));
    map.insert("blobId".to_owned(), json!(message.blob_id));
    map.insert("returnPath".to_owned(), json!(message.return_path));
    map.insert("recipients".to_owned(), Value::Object(recipients));
    map.insert("receivedFromIp".to_owned(), json!(RECEIVED_FROM_IP));
    map.insert("receivedViaPort".to_owned(), json!(RECEIVED_VIA_PORT));
    map.insert("flags".to_owned(), json!({"unauthenticated": true}));
    map.insert("envId".to_owned(), Value::Null);
    map.insert("priority".to_owned(), json!(0));
    map.insert("size".to_owned(), json!(message.size));
    map
}

/// Any `x:QueuedMessage` method.
pub fn call(
    ctx: &mut Context<'_>,
    account_id: u32,
    verb: Verb,
    args: &Map<String, Value>,
) -> Result<Value, MethodError> {
    match verb {
        Verb::Get => get(ctx, account_id, GetArgs::parse(args)?),
        Verb::Query => query(ctx, account_id, QueryArgs::parse(args)?),
        Verb::Set => set(ctx, account_id, SetArgs::parse(args)?),
        Verb::Echo | Verb::Import => Err(MethodError::UnknownMethod(
            "x:QueuedMessage/echo".to_owned(),
        )),
    }
}

/// `x:QueuedMessage/get`.
pub fn get(ctx: &mut Context<'_>, account_id: u32, args: GetArgs) -> Result<Value, MethodError> {
    let mut response = GetResponse::new(&account_jmap_id(account_id), args.properties);
    let queue = &ctx.dir.mail.queue;
    match args.ids {
        None => {
            for message in queue.values() {
                response.push(&message.jmap_id(), to_json(message));
            }
        }
        Some(ids) => {
            for id in ids {
                match decode_id(&id).and_then(|n| queue.get(&n)) {
                    Some(message) => response.push(&message.jmap_id(), to_json(message)),
                    None => response.not_found(&id),
                }
            }
        }
    }
    Ok(response.into_json())
}

/// `x:QueuedMessage/query`.
pub fn query(
    ctx: &mut Context<'_>,
    account_id: u32,
    args: QueryArgs,
) -> Result<Value, MethodError> {
    let ids: Vec<u64> = ctx.dir.mail.queue.keys().copied().collect();
    args.respond_ids_newest_first(&account_jmap_id(account_id), ids)
}

/// `x:QueuedMessage/set`: destroy only.
pub fn set(ctx: &mut Context<'_>, account_id: u32, args: SetArgs) -> Result<Value, MethodError> {
    let mut response = SetResponse::new(&account_jmap_id(account_id));
    for (id, _) in &args.create {
        response.not_created(
            id,
            SetError::forbidden("Queued messages cannot be created over JMAP."),
        );
    }
    for (id, _) in &args.update {
        let exists = decode_id(id).is_some_and(|n| ctx.dir.mail.queue.contains_key(&n));
        if exists {
            response.not_updated(
                id,
                SetError::forbidden("Updating queued messages is not supported by this server."),
            );
        } else {
            response.not_updated(id, SetError::not_found());
        }
    }
    for id in &args.destroy {
        match decode_id(id).and_then(|n| ctx.dir.mail.queue.remove(&n)) {
            Some(_) => response.destroyed(id),
            None => response.not_destroyed(id, SetError::not_found()),
        }
    }
    Ok(response.into_json())
}
