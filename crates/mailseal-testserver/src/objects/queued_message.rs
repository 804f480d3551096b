//! `x:QueuedMessage` for the administrator. This server has no SMTP side, so the delivery
//! queue is always empty (fixture 13 records the empty queue).

use serde_json::{Map, Value, json};

use crate::jmap::args::{GetArgs, QueryArgs, SetArgs, SetResponse};
use crate::jmap::envelope::Verb;
use crate::jmap::method_error::MethodError;
use crate::jmap::set_error::SetError;

use super::account_jmap_id;

/// Any `x:QueuedMessage` method.
pub fn call(caller: u32, verb: Verb, args: &Map<String, Value>) -> Result<Value, MethodError> {
    let account = account_jmap_id(caller);
    match verb {
        Verb::Get => {
            let args = GetArgs::parse(args)?;
            Ok(json!({"accountId": account, "list": [], "notFound": args.ids.unwrap_or_default()}))
        }
        Verb::Query => QueryArgs::parse(args)?.respond(&account, Vec::new()),
        Verb::Set => {
            let args = SetArgs::parse(args)?;
            let mut response = SetResponse::new(&account);
            for (id, _) in &args.create {
                response.not_created(
                    id,
                    SetError::forbidden("Queued messages cannot be created over JMAP."),
                );
            }
            for (id, _) in &args.update {
                response.not_updated(id, SetError::not_found());
            }
            for id in &args.destroy {
                response.not_destroyed(id, SetError::not_found());
            }
            Ok(response.into_json())
        }
        Verb::Echo => Err(MethodError::UnknownMethod(
            "x:QueuedMessage/echo".to_owned(),
        )),
    }
}
