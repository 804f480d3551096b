//! Seeding and inspecting mail from Rust tests: [`TestServer::add_mailbox`],
//! [`TestServer::add_email`], [`TestServer::emails`], [`TestServer::mailbox_id`].

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::ids::encode_id;
use crate::mail::{Mailbox, number_of};
use crate::server::{Error, TestServer};

/// A copy of a stored e-mail, as [`TestServer::emails`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailSnapshot {
    /// JMAP id.
    pub id: String,
    /// Blob id of the raw message.
    pub blob_id: String,
    /// JMAP thread id.
    pub thread_id: String,
    /// JMAP mailbox ids, ascending.
    pub mailbox_ids: Vec<String>,
    /// Keywords, sorted.
    pub keywords: Vec<String>,
    /// `receivedAt` (Unix seconds).
    pub received_at: i64,
    /// The message exactly as stored.
    pub raw: Vec<u8>,
}

impl TestServer {
    fn mail_account(&self, email: &str) -> Result<u32, Error> {
        self.shared()
            .directory()
            .account_id_by_login(email)
            .ok_or_else(|| Error::UnknownUser(email.to_owned()))
    }

    /// Creates a top-level mailbox called `name` in the account; returns its JMAP id.
    pub fn add_mailbox(&self, email: &str, name: &str) -> Result<String, Error> {
        let account = self.mail_account(email)?;
        let id = self.shared().mail().account(account).add_mailbox(Mailbox {
            id: 0,
            name: name.to_owned(),
            parent_id: None,
            role: None,
            sort_order: 0,
            is_subscribed: true,
        });
        Ok(encode_id(u64::from(id)))
    }

    /// Stores `raw` in the account as an SMTP delivery would (no `Delivered-To` is added,
    /// no upload quota is used, the search index sees it at once), in the mailboxes with
    /// these JMAP ids, with these keywords and `receivedAt`; returns the e-mail's JMAP id.
    /// Fails with [`Error::InvalidSeed`] for an unknown mailbox or bytes without a header.
    pub fn add_email(
        &self,
        email: &str,
        raw: &[u8],
        mailbox_ids: &[&str],
        keywords: &[&str],
        received_at_unix: i64,
    ) -> Result<String, Error> {
        let account = self.mail_account(email)?;
        if crate::mail::message::Entity::parse(raw).is_none() {
            return Err(Error::InvalidSeed("not an RFC 5322 message".to_owned()));
        }
        let mut store = self.shared().mail();
        let mail = store.account(account);
        let mut boxes = BTreeSet::new();
        for id in mailbox_ids {
            let number = number_of(id)
                .filter(|n| mail.mailboxes.contains_key(n))
                .ok_or_else(|| Error::InvalidSeed(format!("no mailbox {id}")))?;
            boxes.insert(number);
        }
        if boxes.is_empty() {
            return Err(Error::InvalidSeed("an e-mail needs a mailbox".to_owned()));
        }
        let keywords = keywords.iter().map(|k| k.to_lowercase()).collect();
        let document = mail.insert_email(Arc::from(raw), boxes, keywords, received_at_unix, true);
        mail.emails
            .get(&document)
            .map(crate::mail::Email::jmap_id)
            .ok_or_else(|| Error::InvalidSeed("e-mail vanished".to_owned()))
    }

    /// The account's e-mails, in document order (empty for an unknown address).
    pub fn emails(&self, email: &str) -> Vec<EmailSnapshot> {
        let Ok(account) = self.mail_account(email) else {
            return Vec::new();
        };
        let mut store = self.shared().mail();
        store
            .account(account)
            .emails
            .values()
            .map(|e| EmailSnapshot {
                id: e.jmap_id(),
                blob_id: e.blob_id.clone(),
                thread_id: encode_id(u64::from(e.thread_id)),
                mailbox_ids: e
                    .mailbox_ids
                    .iter()
                    .map(|m| encode_id(u64::from(*m)))
                    .collect(),
                keywords: e.keywords.iter().cloned().collect(),
                received_at: e.received_at,
                raw: e.raw.to_vec(),
            })
            .collect()
    }

    /// The JMAP id of the account's mailbox with this role (`inbox`, `trash`, `junk`,
    /// `drafts`, `sent`) or else this name (case-insensitive).
    pub fn mailbox_id(&self, email: &str, role_or_name: &str) -> Option<String> {
        let account = self.mail_account(email).ok()?;
        let mut store = self.shared().mail();
        store
            .account(account)
            .mailbox_by_role_or_name(role_or_name)
            .map(|id| encode_id(u64::from(id)))
    }
}
