//! `POST /jmap/`: the JMAP API (RFC 8620) with Stalwart's `x:` self-service methods.
//!
//! Per call, in the real server's order: back-references are resolved
//! (`invalidResultReference`), unknown methods answer `unknownMethod`, the caller's
//! permissions are checked (`forbidden` with the texts of spec §3.3), then `accountId`
//! (optional for `x:` methods; another account needs `impersonate`, else "You are not an
//! owner of account X"), then the method runs. `x:` methods do not need
//! `urn:stalwart:jmap` in `using`.

pub mod args;
pub mod envelope;
pub mod key_order;
pub mod method_error;
pub mod references;
pub mod set_error;

use std::collections::HashMap;
use std::net::IpAddr;

use serde_json::{Map, Value, json};

use crate::auth::AccessToken;
use crate::directory::Directory;
use crate::ids::{decode_id, encode_id};
use crate::mail;
use crate::objects;
use crate::problem::Problem;
use crate::session::state_for;
use crate::state::Shared;

use self::args::{GetArgs, QueryArgs, SetArgs};
use self::envelope::{MethodName, ObjectType, Verb};
use self::method_error::MethodError;
use self::references::{PriorResponse, resolve_result_references};

/// What a method call may see and change.
pub struct Context<'a> {
    /// Server configuration, clock, ban state.
    pub shared: &'a Shared,
    /// The stored state (locked for the whole request).
    pub dir: &'a mut Directory,
    /// Who is calling.
    pub token: &'a AccessToken,
    /// The client address.
    pub ip: IpAddr,
    /// Server time (Unix seconds) at the start of the request.
    pub now: i64,
    /// Creation ids resolved so far (creation id to object id).
    pub created_ids: HashMap<String, String>,
}

/// Runs a request body for an authenticated caller; the value is the response object.
pub fn handle(
    shared: &Shared,
    token: &AccessToken,
    body: &[u8],
    ip: IpAddr,
) -> Result<Value, Problem> {
    let request = envelope::parse(body, shared.config.version)?;
    let mut dir = shared.directory();
    let mut ctx = Context {
        shared,
        dir: &mut dir,
        token,
        ip,
        now: shared.clock.unix(),
        created_ids: HashMap::new(),
    };
    if let Some(created) = &request.created_ids {
        for (creation_id, id) in created {
            if let Some(id) = id.as_str() {
                ctx.created_ids.insert(creation_id.clone(), id.to_owned());
            }
        }
    }

    let mut responses: Vec<PriorResponse> = Vec::with_capacity(request.calls.len());
    for call in request.calls {
        let result = run_call(&mut ctx, &call, &request.using, &responses);
        let (name, args) = match result {
            Ok(args) => {
                if let Some(created) = args.get("created").and_then(Value::as_object) {
                    for (creation_id, object) in created {
                        if let Some(id) = object.get("id").and_then(Value::as_str) {
                            ctx.created_ids.insert(creation_id.clone(), id.to_owned());
                        }
                    }
                }
                (call.name.clone(), args)
            }
            Err(err) => ("error".to_owned(), err.to_json()),
        };
        responses.push(PriorResponse {
            name,
            args,
            call_id: call.id,
        });
    }

    // The search index catches up once the request has returned (see `crate::mail`).
    shared.mail().index_pending();
    let state = state_for(token.account_id, &token.account_permissions.ordered());
    let method_responses: Vec<Value> = responses
        .into_iter()
        .map(|r| json!([r.name, r.args, r.call_id]))
        .collect();
    let mut response = json!({"methodResponses": method_responses, "sessionState": state});
    if request.created_ids.is_some()
        && let Value::Object(map) = &mut response
    {
        let created: Map<String, Value> = ctx
            .created_ids
            .into_iter()
            .map(|(k, v)| (k, Value::from(v)))
            .collect();
        map.insert("createdIds".to_owned(), Value::Object(created));
    }
    Ok(response)
}

fn run_call(
    ctx: &mut Context<'_>,
    call: &envelope::Call,
    using: &[String],
    prior: &[PriorResponse],
) -> Result<Value, MethodError> {
    let Some(method) = call.method else {
        return Err(MethodError::UnknownMethod(call.name.clone()));
    };
    let Value::Object(args) = &call.args else {
        return Err(MethodError::InvalidArguments(
            "Invalid arguments: expected a JMAP request object.".to_owned(),
        ));
    };
    let mut args = args.clone();
    resolve_result_references(&mut args, prior)?;
    if method.object == ObjectType::Core && !using.iter().any(|u| u == "urn:ietf:params:jmap:core")
    {
        return Err(MethodError::UnknownMethod(format!(
            "Method {} requires capability urn:ietf:params:jmap:core which is not present in \
             the \"using\" property.",
            call.name
        )));
    }
    if matches!(
        method.object,
        ObjectType::Email | ObjectType::Mailbox | ObjectType::Thread
    ) && !using.iter().any(|u| u == "urn:ietf:params:jmap:mail")
    {
        return Err(MethodError::UnknownMethod(format!(
            "Method {} requires capability urn:ietf:params:jmap:mail which is not present in \
             the \"using\" property.",
            call.name
        )));
    }
    check_permission(ctx.token, method, &args)?;
    if method.verb == Verb::Echo {
        return Ok(Value::Object(args));
    }
    let account_id = resolve_account_id(ctx.token, &args)?;
    let set_args = || -> Result<SetArgs, MethodError> {
        let mut set = SetArgs::parse(&args)?;
        key_order::apply(&mut set.create, &call.order.create);
        key_order::apply(&mut set.update, &call.order.update);
        Ok(set)
    };

    use ObjectType as O;
    use Verb as V;
    match (method.object, method.verb) {
        (O::AccountPassword, V::Get) => {
            objects::account_password::get(ctx, account_id, GetArgs::parse(&args)?)
        }
        (O::AccountPassword, V::Set) => {
            objects::account_password::set(ctx, account_id, set_args()?)
        }
        (O::AccountSettings, V::Get) => {
            objects::account_settings::get(ctx, account_id, GetArgs::parse(&args)?)
        }
        (O::AccountSettings, V::Set) => {
            objects::account_settings::set(ctx, account_id, set_args()?)
        }
        (O::AppPassword | O::ApiKey, V::Get) => {
            let kind = objects::credential::Kind::of(method.object);
            objects::credential::get(ctx, kind, account_id, GetArgs::parse(&args)?)
        }
        (O::AppPassword | O::ApiKey, V::Set) => {
            let kind = objects::credential::Kind::of(method.object);
            objects::credential::set(ctx, kind, account_id, set_args()?)
        }
        (O::AppPassword | O::ApiKey, V::Query) => {
            let kind = objects::credential::Kind::of(method.object);
            objects::credential::query(ctx, kind, account_id, QueryArgs::parse(&args)?)
        }
        (O::PublicKey, V::Get) => objects::public_key::get(ctx, account_id, GetArgs::parse(&args)?),
        (O::PublicKey, V::Set) => objects::public_key::set(ctx, account_id, set_args()?),
        (O::PublicKey, V::Query) => {
            objects::public_key::query(ctx, account_id, QueryArgs::parse(&args)?)
        }
        (O::Account, V::Get) => objects::account::get(ctx, account_id, GetArgs::parse(&args)?),
        (O::Account, V::Set) => objects::account::set(ctx, account_id, set_args()?),
        (O::Account, V::Query) => {
            objects::account::query(ctx, account_id, QueryArgs::parse(&args)?)
        }
        (O::Role, V::Get) => objects::role::get(ctx, account_id, GetArgs::parse(&args)?),
        (O::Role, V::Set) => objects::role::set(ctx, account_id, set_args()?),
        (O::Role, V::Query) => objects::role::query(ctx, account_id, QueryArgs::parse(&args)?),
        (O::QueuedMessage, verb) => objects::queued_message::call(ctx, account_id, verb, &args),
        (O::Email, V::Get) => mail::email::get(ctx, account_id, &args),
        (O::Email, V::Set) => mail::email::set(ctx, account_id, &args),
        (O::Email, V::Query) => mail::query::query(ctx, account_id, &args),
        (O::Email, V::Import) => mail::import::import(ctx, account_id, &args),
        (O::Mailbox, V::Get) => mail::mailbox::get(ctx, account_id, &args),
        (O::Mailbox, V::Set) => mail::mailbox::set(ctx, account_id, &args),
        (O::Mailbox, V::Query) => mail::mailbox::query(ctx, account_id, &args),
        (O::Thread, V::Get) => mail::thread::get(ctx, account_id, &args),
        (O::ServerSettings, V::Get) => objects::server_settings::get(
            account_id,
            &call.name,
            &ctx.shared.config.uploads,
            GetArgs::parse(&args)?,
        ),
        (O::Core, _)
        | (_, V::Echo | V::Import)
        | (O::AccountPassword | O::AccountSettings | O::ServerSettings, V::Query)
        | (O::Thread | O::ServerSettings, V::Set | V::Query) => {
            Err(MethodError::UnknownMethod(call.name.clone()))
        }
    }
}

/// Stalwart's permission check: one permission for get and query; for set, none of the
/// three means "create, update or destroy", otherwise the first kind of operation the
/// request holds and the caller may not do.
fn check_permission(
    token: &AccessToken,
    method: MethodName,
    args: &Map<String, Value>,
) -> Result<(), MethodError> {
    let permission = match method.verb {
        Verb::Get => method.object.get_permission(),
        Verb::Query => method.object.query_permission(),
        Verb::Echo => "jmapCoreEcho",
        Verb::Import => "jmapEmailImport",
        Verb::Set => {
            let [create, update, destroy] = method.object.set_permissions();
            let (can_create, can_update, can_destroy) =
                (token.has(create), token.has(update), token.has(destroy));
            let non_empty = |key: &str| match args.get(key) {
                Some(Value::Object(map)) => !map.is_empty(),
                Some(Value::Array(items)) => !items.is_empty(),
                _ => false,
            };
            let what = if can_create && can_update && can_destroy {
                return Ok(());
            } else if !can_create && !can_update && !can_destroy {
                "create, update or destroy"
            } else if !can_create && non_empty("create") {
                "create"
            } else if !can_update && non_empty("update") {
                "update"
            } else if !can_destroy && non_empty("destroy") {
                "destroy"
            } else {
                return Ok(());
            };
            return Err(MethodError::Forbidden(format!(
                "You are not authorized to {what} objects of this type"
            )));
        }
    };
    if token.has(permission) {
        Ok(())
    } else {
        Err(MethodError::not_authorized())
    }
}

/// The account a call acts on: `accountId`, or the caller's own.
fn resolve_account_id(token: &AccessToken, args: &Map<String, Value>) -> Result<u32, MethodError> {
    let Some(text) = args::account_id(args)? else {
        return Ok(token.account_id);
    };
    let id = decode_id(&text)
        .ok_or_else(|| MethodError::InvalidArguments("invalid JMAP ID".to_owned()))?;
    match u32::try_from(id) {
        Ok(id) if token.may_act_on(id) => Ok(id),
        _ => Err(MethodError::Forbidden(format!(
            "You are not an owner of account {}",
            encode_id(id)
        ))),
    }
}
