//! Mailboxes (RFC 8621 §2): the ids, names and roles that a mailbox filter is matched
//! against.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::Client;
use crate::error::Error;
use crate::mail::calls::Call;

/// A mailbox of the account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mailbox {
    /// Its id.
    pub id: String,
    /// Its name as shown to the user, e.g. `Inbox`, `Archive`.
    #[serde(default)]
    pub name: String,
    /// Its role (`inbox`, `trash`, `sent`, …), if any.
    #[serde(default)]
    pub role: Option<String>,
    /// The mailbox it is in, if any.
    #[serde(default)]
    pub parent_id: Option<String>,
}

impl Mailbox {
    /// Whether `wanted` names this mailbox: its id, its name or its role, the latter two
    /// without regard to case.
    ///
    /// ```
    /// use mailseal_jmap::mail::mailbox::Mailbox;
    /// let inbox = Mailbox { id: "a".into(), name: "Inbox".into(), role: Some("inbox".into()), parent_id: None };
    /// assert!(inbox.is_named("INBOX") && inbox.is_named("a") && !inbox.is_named("Archive"));
    /// ```
    pub fn is_named(&self, wanted: &str) -> bool {
        self.id == wanted
            || self.name.eq_ignore_ascii_case(wanted)
            || self
                .role
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(wanted))
    }
}

impl Client {
    /// Every mailbox of the account.
    pub async fn mailboxes(&self) -> Result<Vec<Mailbox>, Error> {
        let answer = self
            .call_one(Call::new(
                "Mailbox/get",
                json!({"ids": Value::Null, "properties": ["id", "name", "role", "parentId"]}),
            ))
            .await?;
        let list = answer.get("list").cloned().unwrap_or(Value::Null);
        Ok(Option::<Vec<Mailbox>>::deserialize(list)
            .map_err(|e| Error::protocol(format!("Mailbox/get answer: {e}")))?
            .unwrap_or_default())
    }
}
