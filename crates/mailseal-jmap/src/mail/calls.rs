//! Several method calls in one JMAP request (RFC 8620 §3.3), with the mail capability, and
//! their answers read back by call id. The request is limited by the session's
//! `maxCallsInRequest`; callers split their work to fit.

use serde_json::{Map, Value, json};

use crate::client::Client;
use crate::envelope::read_method_answer;
use crate::error::Error;
use crate::http::json_body;

/// The capabilities mail requests use.
const USING: [&str; 2] = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"];

/// One method call: its name and its arguments (`accountId` is added).
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// `Email/get`, `Email/import`, …
    pub(crate) method: &'static str,
    /// The arguments, a JSON object.
    pub(crate) args: Map<String, Value>,
}

impl Call {
    /// A call of `method` with `args` (a JSON object; anything else is sent as no
    /// arguments).
    pub(crate) fn new(method: &'static str, args: Value) -> Call {
        let args = match args {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Call { method, args }
    }
}

impl Client {
    /// Sends `calls` in one request and returns each call's answer (or its method-level
    /// error), in order. An HTTP-level failure fails the whole request.
    pub(crate) async fn calls(&self, calls: Vec<Call>) -> Result<Vec<Result<Value, Error>>, Error> {
        let account_id = self.session().account_id.clone();
        let method_calls: Vec<Value> = calls
            .into_iter()
            .enumerate()
            .map(|(i, mut call)| {
                call.args
                    .insert("accountId".into(), Value::String(account_id.clone()));
                json!([call.method, Value::Object(call.args), format!("m{i}")])
            })
            .collect();
        let count = method_calls.len();
        let request = json!({"using": USING, "methodCalls": method_calls});
        let url = self.api_url().clone();
        let value = self
            .send(&url, |http, url| {
                Ok(http
                    .post(url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(json_body(&request)?))
            })
            .await?;
        (0..count)
            .map(|i| read_method_answer(&value, &format!("m{i}")))
            .collect()
    }

    /// One call, its answer read as JSON.
    pub(crate) async fn call_one(&self, call: Call) -> Result<Value, Error> {
        self.calls(vec![call])
            .await?
            .into_iter()
            .next()
            .unwrap_or_else(|| Err(Error::protocol("no answer to the call")))
    }
}
