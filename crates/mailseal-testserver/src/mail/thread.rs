//! `Thread/get` (RFC 8621 §3): the thread's e-mails, oldest document first.

use serde_json::{Map, Value, json};

use crate::ids::encode_id;
use crate::jmap::Context;
use crate::jmap::args::GetArgs;
use crate::jmap::method_error::MethodError;
use crate::mail::{email_id, number_of};

/// `Thread/get`.
pub fn get(
    ctx: &Context<'_>,
    account_id: u32,
    args: &Map<String, Value>,
) -> Result<Value, MethodError> {
    let args = GetArgs::parse(args)?;
    let mut store = ctx.shared.mail();
    let mail = store.account(account_id);
    let ids: Vec<String> = args.ids.unwrap_or_else(|| {
        let mut all: Vec<u32> = mail.threads.keys().copied().collect();
        all.sort_unstable();
        all.into_iter().map(|t| encode_id(u64::from(t))).collect()
    });
    let mut list = Vec::new();
    let mut not_found = Vec::new();
    for id in ids {
        match number_of(&id).and_then(|t| mail.threads.get(&t).map(|thread| (t, thread))) {
            Some((number, thread)) => {
                let emails: Vec<String> =
                    thread.emails.iter().map(|d| email_id(number, *d)).collect();
                list.push(json!({"id": id, "emailIds": emails}));
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
