//! The JMAP request envelope (RFC 8620 §3): a method call goes out with the account id and
//! a call id, its answer comes back by that id, and the standard `/get`, `/query` and `/set`
//! answers are read into typed structs. Method-level errors become [`Error::Method`], and
//! `/set` refusals [`Error::Set`].

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::error::{Error, SetError};
use crate::session::STALWART_CAPABILITY;

/// The capabilities every request uses.
const USING: [&str; 2] = ["urn:ietf:params:jmap:core", STALWART_CAPABILITY];

/// The id of the one call in a request.
const CALL_ID: &str = "c0";

/// A request with one method call.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Request<'a, A: Serialize> {
    using: [&'static str; 2],
    method_calls: [Invocation<'a, A>; 1],
}

/// `[name, arguments, call id]`.
#[derive(Serialize)]
struct Invocation<'a, A: Serialize>(&'a str, WithAccount<'a, A>, &'static str);

/// The method's arguments with `accountId` added.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WithAccount<'a, A: Serialize> {
    account_id: &'a str,
    #[serde(flatten)]
    args: &'a A,
}

impl<'a, A: Serialize> Request<'a, A> {
    /// One call of `method` with `args` (which must serialize as a JSON object).
    pub(crate) fn new(account_id: &'a str, method: &'a str, args: &'a A) -> Self {
        Request {
            using: USING,
            method_calls: [Invocation(
                method,
                WithAccount { account_id, args },
                CALL_ID,
            )],
        }
    }
}

/// The response envelope.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResponseObject {
    method_responses: Vec<(String, Value, String)>,
}

/// A method-level error (RFC 8620 §3.6.2).
#[derive(Deserialize)]
struct MethodErrorObject {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    description: Option<String>,
}

/// Reads the answer to the request's one call as `R`.
pub(crate) fn read_response<R: DeserializeOwned>(value: Value) -> Result<R, Error> {
    let response: ResponseObject = serde_json::from_value(value)
        .map_err(|e| Error::protocol(format!("JMAP response: {e}")))?;
    let (name, args, _) = response
        .method_responses
        .into_iter()
        .find(|(_, _, id)| id == CALL_ID)
        .ok_or_else(|| Error::protocol(format!("no response to call {CALL_ID}")))?;
    if name == "error" {
        let e: MethodErrorObject = serde_json::from_value(args)
            .map_err(|e| Error::protocol(format!("method error: {e}")))?;
        return Err(Error::Method {
            kind: e.kind,
            description: e.description,
        });
    }
    serde_json::from_value(args).map_err(|e| Error::protocol(format!("{name} answer: {e}")))
}

/// The answer to the call `id` in a response with several calls: its arguments, or its
/// method-level error; a response without that call is a protocol error.
pub(crate) fn read_method_answer(value: &Value, id: &str) -> Result<Result<Value, Error>, Error> {
    let responses = value
        .get("methodResponses")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::protocol("JMAP response without methodResponses"))?;
    let found = responses
        .iter()
        .find_map(|r| match r.as_array().map(Vec::as_slice) {
            Some([Value::String(name), args, Value::String(call)]) if call == id => {
                Some((name.as_str(), args))
            }
            _ => None,
        });
    let (name, args) = found.ok_or_else(|| Error::protocol(format!("no response to call {id}")))?;
    if name == "error" {
        let e: MethodErrorObject = serde_json::from_value(args.clone())
            .map_err(|e| Error::protocol(format!("method error: {e}")))?;
        return Ok(Err(Error::Method {
            kind: e.kind,
            description: e.description,
        }));
    }
    Ok(Ok(args.clone()))
}

/// `null` read as the type's default (Stalwart sends `null` for empty `/set` maps).
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `/get` arguments.
#[derive(Serialize)]
pub(crate) struct GetArgs<'a> {
    pub(crate) ids: &'a [String],
}

/// A `/get` answer.
#[derive(Deserialize, Debug)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub(crate) struct GetResponse<T> {
    #[serde(default = "Vec::new", deserialize_with = "nullable")]
    pub(crate) list: Vec<T>,
}

/// `/query` arguments (every object; Stalwart's self-service types need no filter).
#[derive(Serialize)]
pub(crate) struct QueryArgs {}

/// A `/query` answer.
#[derive(Deserialize, Debug)]
pub(crate) struct QueryResponse {
    #[serde(default, deserialize_with = "nullable")]
    pub(crate) ids: Vec<String>,
}

/// `/set` arguments: create, update and destroy by id.
#[derive(Serialize)]
pub(crate) struct SetArgs<C: Serialize, U: Serialize> {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) create: BTreeMap<&'static str, C>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) update: BTreeMap<String, U>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) destroy: Vec<String>,
}

impl<C: Serialize> SetArgs<C, Value> {
    /// Creates one object, under the creation id `id`.
    pub(crate) fn create(id: &'static str, object: C) -> Self {
        SetArgs {
            create: BTreeMap::from([(id, object)]),
            update: BTreeMap::new(),
            destroy: Vec::new(),
        }
    }
}

impl<U: Serialize> SetArgs<Value, U> {
    /// Patches one object.
    pub(crate) fn update(id: &str, patch: U) -> Self {
        SetArgs {
            create: BTreeMap::new(),
            update: BTreeMap::from([(id.to_owned(), patch)]),
            destroy: Vec::new(),
        }
    }
}

impl SetArgs<Value, Value> {
    /// Destroys one object.
    pub(crate) fn destroy(id: &str) -> Self {
        SetArgs {
            create: BTreeMap::new(),
            update: BTreeMap::new(),
            destroy: vec![id.to_owned()],
        }
    }
}

/// A `/set` answer; `T` is what the server says about a created object.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
pub(crate) struct SetResponse<T> {
    #[serde(default = "BTreeMap::new", deserialize_with = "nullable")]
    created: BTreeMap<String, T>,
    #[serde(default, deserialize_with = "nullable")]
    updated: BTreeMap<String, Value>,
    #[serde(default, deserialize_with = "nullable")]
    not_created: BTreeMap<String, SetErrorObject>,
    #[serde(default, deserialize_with = "nullable")]
    not_updated: BTreeMap<String, SetErrorObject>,
    #[serde(default, deserialize_with = "nullable")]
    not_destroyed: BTreeMap<String, SetErrorObject>,
}

impl<T> SetResponse<T> {
    /// The object created under `id`, or the server's refusal.
    pub(crate) fn created(mut self, id: &str) -> Result<T, Error> {
        if let Some(e) = self.not_created.remove(id) {
            return Err(Error::Set(e.into()));
        }
        self.created
            .remove(id)
            .ok_or_else(|| Error::protocol(format!("the server did not create {id}")))
    }

    /// `Ok` when `id` was updated.
    pub(crate) fn updated(mut self, id: &str) -> Result<(), Error> {
        if let Some(e) = self.not_updated.remove(id) {
            return Err(Error::Set(e.into()));
        }
        if self.updated.contains_key(id) {
            Ok(())
        } else {
            Err(Error::protocol(format!(
                "the server did not confirm the update of {id}"
            )))
        }
    }

    /// `Ok` unless the server refused to update `id` (for objects whose update Stalwart may
    /// confirm only by the absence of a refusal).
    pub(crate) fn not_refused_update(mut self, id: &str) -> Result<(), Error> {
        match self.not_updated.remove(id) {
            Some(e) => Err(Error::Set(e.into())),
            None => Ok(()),
        }
    }

    /// `Ok` unless the server refused to destroy `id`.
    pub(crate) fn destroyed(mut self, id: &str) -> Result<(), Error> {
        match self.not_destroyed.remove(id) {
            Some(e) => Err(Error::Set(e.into())),
            None => Ok(()),
        }
    }
}

/// A SetError as sent (RFC 8620 §5.3, with Stalwart's `validationErrors`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SetErrorObject {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    properties: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    validation_errors: Vec<ValidationError>,
}

#[derive(Deserialize)]
struct ValidationError {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    property: String,
}

/// A SetError read from its JSON (`notCreated.<id>`, `notDestroyed.<id>`).
pub(crate) fn set_error(value: &Value) -> SetError {
    SetErrorObject::deserialize(value).map_or_else(
        |_| SetError {
            kind: String::new(),
            description: None,
            properties: Vec::new(),
            validation_errors: Vec::new(),
            hint: None,
        },
        SetError::from,
    )
}

impl From<SetErrorObject> for SetError {
    fn from(e: SetErrorObject) -> Self {
        SetError {
            kind: e.kind,
            description: e.description,
            properties: e.properties,
            validation_errors: e
                .validation_errors
                .into_iter()
                .map(|v| (v.kind, v.property))
                .collect(),
            hint: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_request_carries_the_account_and_the_call_id() {
        let ids = vec!["singleton".to_owned()];
        let args = GetArgs { ids: &ids };
        let req = Request::new("c", "x:AccountPassword/get", &args);
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({
                "using": ["urn:ietf:params:jmap:core", "urn:stalwart:jmap"],
                "methodCalls": [["x:AccountPassword/get", {"accountId": "c", "ids": ["singleton"]}, "c0"]]
            })
        );
    }

    #[test]
    fn answers_are_matched_by_call_id() {
        let v = json!({"methodResponses": [["x:ApiKey/query", {"ids": ["a", "b"]}, "c0"]]});
        let q: QueryResponse = read_response(v).unwrap();
        assert_eq!(q.ids, ["a", "b"]);
        let v = json!({"methodResponses": [["error", {"type": "forbidden"}, "c0"]]});
        let e = read_response::<QueryResponse>(v).unwrap_err();
        assert_eq!(e.code(), "jmap.forbidden");
        let v = json!({"methodResponses": [["x:ApiKey/query", {"ids": []}, "c9"]]});
        assert_eq!(
            read_response::<QueryResponse>(v).unwrap_err().code(),
            "jmap.protocol"
        );
    }

    #[test]
    fn set_answers_give_the_object_or_the_refusal() {
        let v = json!({
            "created": null, "updated": null, "destroyed": null,
            "notCreated": {"new1": {"type": "overQuota", "description": "You have exceeded your quota of 5 public keys."}},
            "notUpdated": null,
            "notDestroyed": {"k": {"type": "objectIsLinked", "properties": null}}
        });
        let r: SetResponse<Value> = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(r.created("new1").unwrap_err().code(), "jmap.set.over_quota");
        let r: SetResponse<Value> = serde_json::from_value(v).unwrap();
        assert_eq!(
            r.destroyed("k").unwrap_err().code(),
            "jmap.set.object_is_linked"
        );
        let v = json!({"updated": {"singleton": null}});
        let r: SetResponse<Value> = serde_json::from_value(v).unwrap();
        assert!(r.updated("singleton").is_ok());
        let r: SetResponse<Value> = serde_json::from_value(json!({})).unwrap();
        assert_eq!(r.updated("singleton").unwrap_err().code(), "jmap.protocol");
    }
}
