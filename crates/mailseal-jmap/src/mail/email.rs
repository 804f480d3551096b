//! E-mails (RFC 8621 §4): listing every message with the properties a re-import needs,
//! importing a blob as a message, and destroying messages.
//!
//! Listing goes through `Email/query` without a filter, page by page, each page fetched with
//! `Email/get` in the same request; filters on mailboxes and dates are applied here, not by
//! the server's search (which Stalwart updates only after a request has returned).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::Client;
use crate::envelope::set_error;
use crate::error::{Error, SetError};
use crate::mail::calls::Call;

/// The properties [`EmailInfo`] is read from.
const PROPERTIES: [&str; 10] = [
    "id",
    "blobId",
    "threadId",
    "mailboxIds",
    "keywords",
    "receivedAt",
    "size",
    "messageId",
    "subject",
    "header:Content-Type:asRaw",
];

/// What the job needs to know about a stored message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailInfo {
    /// Its id.
    pub id: String,
    /// The blob of its raw bytes.
    pub blob_id: String,
    /// Its thread.
    #[serde(default)]
    pub thread_id: Option<String>,
    /// The mailboxes it is in.
    #[serde(default)]
    pub mailbox_ids: BTreeMap<String, bool>,
    /// Its keywords (`$seen`, `$flagged`, custom ones).
    #[serde(default, deserialize_with = "nullable_map")]
    pub keywords: BTreeMap<String, bool>,
    /// When it arrived (RFC 3339, UTC).
    #[serde(default)]
    pub received_at: String,
    /// Its size in bytes.
    #[serde(default)]
    pub size: u64,
    /// Its `Message-ID`s, if it has the header.
    #[serde(default)]
    pub message_id: Option<Vec<String>>,
    /// Its subject, if any.
    #[serde(default)]
    pub subject: Option<String>,
    /// The raw value of its top-level `Content-Type`, if it has one.
    #[serde(default, rename = "header:Content-Type:asRaw")]
    pub content_type: Option<String>,
}

fn nullable_map<'de, D>(d: D) -> Result<BTreeMap<String, bool>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(Option::<BTreeMap<String, bool>>::deserialize(d)?.unwrap_or_default())
}

/// An `Email/import` of one blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Import {
    /// The uploaded blob.
    pub(crate) blob_id: String,
    /// The mailboxes to put it in.
    pub(crate) mailbox_ids: BTreeMap<String, bool>,
    /// Its keywords.
    pub(crate) keywords: BTreeMap<String, bool>,
    /// Its `receivedAt`.
    pub(crate) received_at: String,
}

/// The message an import created.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Imported {
    /// The new message's id.
    pub(crate) id: String,
    /// Its blob (not the upload's blob id).
    #[serde(default)]
    pub(crate) blob_id: String,
    /// Its size.
    #[serde(default)]
    pub(crate) size: u64,
}

fn parse_list(answer: &Value) -> Result<Vec<EmailInfo>, Error> {
    let list = answer.get("list").cloned().unwrap_or(Value::Null);
    Ok(Option::<Vec<EmailInfo>>::deserialize(list)
        .map_err(|e| Error::protocol(format!("Email/get answer: {e}")))?
        .unwrap_or_default())
}

impl Client {
    /// Every message of the account, in storage order, read a page at a time (`page` ids per
    /// page, at most the session's `maxObjectsInGet`). `seen` is told the running count.
    pub async fn all_emails(&self, mut seen: impl FnMut(usize)) -> Result<Vec<EmailInfo>, Error> {
        let limits = self.session().limits;
        let page = limits.max_objects_in_get.clamp(1, 500);
        let mut all: Vec<EmailInfo> = Vec::new();
        let mut position = 0usize;
        loop {
            let query = Call::new(
                "Email/query",
                // No sort and no filter: Stalwart then answers from its message list in
                // storage order, not from the search index, which lags behind imports.
                json!({
                    "position": position,
                    "limit": page,
                }),
            );
            let mut get_args = Map::new();
            get_args.insert(
                "#ids".into(),
                json!({"resultOf": "m0", "name": "Email/query", "path": "/ids"}),
            );
            get_args.insert("properties".into(), json!(PROPERTIES));
            let mut answers = self
                .calls(vec![
                    query,
                    Call {
                        method: "Email/get",
                        args: get_args,
                    },
                ])
                .await?
                .into_iter();
            let ids = answers
                .next()
                .ok_or_else(|| Error::protocol("no Email/query answer"))??;
            let got = answers
                .next()
                .ok_or_else(|| Error::protocol("no Email/get answer"))??;
            let count = ids.get("ids").and_then(Value::as_array).map_or(0, Vec::len);
            all.extend(parse_list(&got)?);
            seen(all.len());
            if count < page {
                break;
            }
            position += count;
        }
        // A message moved between pages may have been listed twice.
        let mut ids = std::collections::HashSet::new();
        all.retain(|e| ids.insert(e.id.clone()));
        Ok(all)
    }

    /// The messages `ids` as they are now (missing ones are left out).
    pub(crate) async fn emails(&self, ids: &[String]) -> Result<Vec<EmailInfo>, Error> {
        let mut out = Vec::with_capacity(ids.len());
        let page = self.session().limits.max_objects_in_get.max(1);
        for chunk in ids.chunks(page) {
            let answer = self
                .call_one(Call::new(
                    "Email/get",
                    json!({"ids": chunk, "properties": PROPERTIES}),
                ))
                .await?;
            out.extend(parse_list(&answer)?);
        }
        Ok(out)
    }

    /// Imports each blob as a message (one `Email/import` call per `maxObjectsInSet`, up to
    /// `maxCallsInRequest` calls per request); each answer is the created message or the
    /// server's refusal, in order.
    pub(crate) async fn import_emails(
        &self,
        imports: &[Import],
    ) -> Result<Vec<Result<Imported, SetError>>, Error> {
        let limits = self.session().limits;
        let per_call = limits.max_objects_in_set.max(1);
        let mut out = Vec::with_capacity(imports.len());
        for request in imports.chunks(per_call * limits.max_calls_in_request.max(1)) {
            let calls: Vec<Call> = request
                .chunks(per_call)
                .map(|chunk| {
                    let emails: Map<String, Value> = chunk
                        .iter()
                        .enumerate()
                        .map(|(i, import)| {
                            (
                                format!("k{i}"),
                                json!({
                                    "blobId": import.blob_id,
                                    "mailboxIds": import.mailbox_ids,
                                    "keywords": import.keywords,
                                    "receivedAt": import.received_at,
                                }),
                            )
                        })
                        .collect();
                    Call::new("Email/import", json!({ "emails": emails }))
                })
                .collect();
            let answers = self.calls(calls).await?;
            for (chunk, answer) in request.chunks(per_call).zip(answers) {
                let answer = answer?;
                for i in 0..chunk.len() {
                    let key = format!("k{i}");
                    let created = answer.get("created").and_then(|c| c.get(&key));
                    let refused = answer.get("notCreated").and_then(|c| c.get(&key));
                    out.push(match (created, refused) {
                        (Some(created), _) => Ok(Imported::deserialize(created)
                            .map_err(|e| Error::protocol(format!("Email/import answer: {e}")))?),
                        (None, Some(refused)) => Err(set_error(refused)),
                        (None, None) => {
                            return Err(Error::protocol(format!(
                                "Email/import said nothing about {key}"
                            )));
                        }
                    });
                }
            }
        }
        Ok(out)
    }

    /// Destroys the messages `ids` for good (Stalwart does not keep them in the trash).
    /// A message that is already gone counts as destroyed. Returns the refusals by id.
    pub(crate) async fn destroy_emails(
        &self,
        ids: &[String],
    ) -> Result<BTreeMap<String, SetError>, Error> {
        let limits = self.session().limits;
        let mut refused = BTreeMap::new();
        for chunk in ids.chunks(limits.max_objects_in_set.max(1)) {
            let answer = self
                .call_one(Call::new("Email/set", json!({ "destroy": chunk })))
                .await?;
            if let Some(Value::Object(not)) = answer.get("notDestroyed") {
                for (id, e) in not {
                    let e = set_error(e);
                    if e.kind != "notFound" {
                        refused.insert(id.clone(), e);
                    }
                }
            }
        }
        Ok(refused)
    }
}
