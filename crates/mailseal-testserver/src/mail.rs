//! Mail as the JMAP mail methods serve it: per account, mailboxes, e-mails, threads and
//! uploaded blobs (RFC 8621, as Stalwart 0.16.19 answers in fixture 15
//! `15-reimport-for-retroactive-encryption.json`).
//!
//! * **Mailboxes.** A new account has the real server's five: Inbox `a` (`inbox`), Deleted
//!   Items `b` (`trash`), Junk Mail `c` (`junk`), Drafts `d` (`drafts`), Sent Items `e`
//!   (`sent`); created ones continue at `f`.
//! * **E-mails.** Each gets the next document number of the account; its JMAP id is
//!   Stalwart's `(threadId << 32) | documentId` (`myaaaadg` is document 102 in thread 102),
//!   and a thread is numbered after the document that started it. A message joins the
//!   thread of an earlier one that shares a `Message-ID`, `In-Reply-To` or `References` id
//!   and the base subject; without such ids it starts a thread of its own.
//! * **Blob ids** are Stalwart-shaped, not Stalwart's values: `c…` for an e-mail (its
//!   content hash plus account and document, so two e-mails with the same bytes differ),
//!   `e…` for an upload. Destroying an e-mail destroys its blob: a download answers 404.
//! * **Search index.** Like the real server, the `subject`/`text`/`from`… filters of
//!   `Email/query` see an imported e-mail only after the request that imported it has
//!   returned; `inMailbox` and the other property filters see it at once.
//! * **State strings** (`state`, `queryState`, `oldState`, `newState`) are one change
//!   counter per account, bumped by every change of mail, in the shape `s…`.

pub mod blob;
pub mod email;
pub mod import;
pub mod mailbox;
pub mod message;
pub mod query;
pub mod seed;
pub mod thread;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::ids::{decode_id, encode_id};

use self::blob::{QuotaWindow, Upload};
use self::message::{Entity, base_subject};

/// The mailboxes every account starts with: id, name, role.
pub const DEFAULT_MAILBOXES: [(u32, &str, &str); 5] = [
    (0, "Inbox", "inbox"),
    (1, "Deleted Items", "trash"),
    (2, "Junk Mail", "junk"),
    (3, "Drafts", "drafts"),
    (4, "Sent Items", "sent"),
];

/// All accounts' mail.
#[derive(Debug, Default)]
pub struct Store {
    accounts: HashMap<u32, AccountMail>,
}

impl Store {
    /// The mail of an account (created with the default mailboxes on first use).
    pub fn account(&mut self, account_id: u32) -> &mut AccountMail {
        self.accounts
            .entry(account_id)
            .or_insert_with(|| AccountMail::new(account_id))
    }

    /// Marks every e-mail as indexed (called when a JMAP request has returned).
    pub fn index_pending(&mut self) {
        for account in self.accounts.values_mut() {
            account.index_pending();
        }
    }
}

/// A mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailbox {
    /// Document number (`a` is 0).
    pub id: u32,
    /// Name.
    pub name: String,
    /// Parent mailbox.
    pub parent_id: Option<u32>,
    /// Role (`inbox`, `trash`…).
    pub role: Option<String>,
    /// Sort order.
    pub sort_order: u32,
    /// Whether the user is subscribed.
    pub is_subscribed: bool,
}

/// A stored e-mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    /// Document number.
    pub document_id: u32,
    /// Thread number.
    pub thread_id: u32,
    /// Blob id of the raw message.
    pub blob_id: String,
    /// Mailbox numbers.
    pub mailbox_ids: BTreeSet<u32>,
    /// Keywords.
    pub keywords: BTreeSet<String>,
    /// `receivedAt` (Unix seconds).
    pub received_at: i64,
    /// The message exactly as stored.
    pub raw: Arc<[u8]>,
    /// Whether the search index has seen it (see the module documentation).
    pub indexed: bool,
}

impl Email {
    /// The JMAP id: `(threadId << 32) | documentId`.
    pub fn jmap_id(&self) -> String {
        email_id(self.thread_id, self.document_id)
    }

    /// The size in bytes.
    pub fn size(&self) -> u64 {
        u64::try_from(self.raw.len()).unwrap_or(u64::MAX)
    }

    /// The parsed message (`None` cannot happen for imported mail, which was checked).
    pub fn parsed(&self) -> Option<Entity<'_>> {
        Entity::parse(&self.raw)
    }
}

/// A thread: its e-mails (document numbers, ascending) and base subject.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Thread {
    /// E-mails in the thread.
    pub emails: BTreeSet<u32>,
    /// Base subject of the message that started it.
    pub base_subject: String,
}

/// One account's mail.
#[derive(Debug)]
pub struct AccountMail {
    account_id: u32,
    /// Mailboxes by number.
    pub mailboxes: BTreeMap<u32, Mailbox>,
    /// E-mails by document number.
    pub emails: BTreeMap<u32, Email>,
    /// Threads by number.
    pub threads: HashMap<u32, Thread>,
    /// Message ids (`Message-ID`, `In-Reply-To`, `References`) to thread numbers.
    message_ids: HashMap<String, u32>,
    /// E-mail blob ids to document numbers.
    blobs: HashMap<String, u32>,
    /// Uploads by blob id.
    pub(crate) uploads: HashMap<String, Upload>,
    /// The upload quota window.
    pub(crate) quota: QuotaWindow,
    next_document: u32,
    next_mailbox: u32,
    next_upload: u64,
    change: u64,
}

impl AccountMail {
    fn new(account_id: u32) -> Self {
        let mailboxes = DEFAULT_MAILBOXES
            .iter()
            .map(|&(id, name, role)| {
                (
                    id,
                    Mailbox {
                        id,
                        name: name.to_owned(),
                        parent_id: None,
                        role: Some(role.to_owned()),
                        sort_order: 0,
                        is_subscribed: true,
                    },
                )
            })
            .collect();
        Self {
            account_id,
            mailboxes,
            emails: BTreeMap::new(),
            threads: HashMap::new(),
            message_ids: HashMap::new(),
            blobs: HashMap::new(),
            uploads: HashMap::new(),
            quota: QuotaWindow::default(),
            next_document: 0,
            next_mailbox: 5,
            next_upload: 0,
            change: 0,
        }
    }

    /// The account number.
    pub fn account_id(&self) -> u32 {
        self.account_id
    }

    /// The current state string.
    pub fn state(&self) -> String {
        format!("s{}", encode_id(self.change))
    }

    /// Records a change (a new state).
    pub fn bump(&mut self) {
        self.change += 1;
    }

    /// Adds a mailbox; returns its number.
    pub fn add_mailbox(&mut self, mut mailbox: Mailbox) -> u32 {
        let id = self.next_mailbox;
        self.next_mailbox += 1;
        mailbox.id = id;
        self.mailboxes.insert(id, mailbox);
        self.bump();
        id
    }

    /// The mailbox with this role, or else this name (case-insensitive).
    pub fn mailbox_by_role_or_name(&self, key: &str) -> Option<u32> {
        self.mailboxes
            .values()
            .find(|m| m.role.as_deref() == Some(key))
            .or_else(|| {
                self.mailboxes
                    .values()
                    .find(|m| m.name.eq_ignore_ascii_case(key))
            })
            .map(|m| m.id)
    }

    /// Stores a message; returns its document number. `indexed` says whether the search
    /// index sees it at once (deliveries and seeds) or after the request (imports).
    pub fn insert_email(
        &mut self,
        raw: Arc<[u8]>,
        mailbox_ids: BTreeSet<u32>,
        keywords: BTreeSet<String>,
        received_at: i64,
        indexed: bool,
    ) -> u32 {
        let document_id = self.next_document;
        self.next_document += 1;
        let (thread_keys, subject) = match Entity::parse(&raw) {
            Some(m) => {
                let mut keys = Vec::new();
                for name in ["Message-ID", "In-Reply-To", "References"] {
                    keys.extend(m.message_ids(name).unwrap_or_default());
                }
                (keys, base_subject(&m.subject().unwrap_or_default()))
            }
            None => (Vec::new(), String::new()),
        };
        let thread_id = thread_keys
            .iter()
            .filter_map(|k| self.message_ids.get(k))
            .copied()
            .find(|t| {
                self.threads
                    .get(t)
                    .is_some_and(|t| t.base_subject == subject)
            })
            .unwrap_or(document_id);
        for key in thread_keys {
            self.message_ids.entry(key).or_insert(thread_id);
        }
        let thread = self.threads.entry(thread_id).or_insert_with(|| Thread {
            emails: BTreeSet::new(),
            base_subject: subject,
        });
        thread.emails.insert(document_id);
        let blob_id = blob::email_blob_id(self.account_id, document_id, &raw);
        self.blobs.insert(blob_id.clone(), document_id);
        self.emails.insert(
            document_id,
            Email {
                document_id,
                thread_id,
                blob_id,
                mailbox_ids,
                keywords,
                received_at,
                raw,
                indexed,
            },
        );
        self.bump();
        document_id
    }

    /// Destroys an e-mail and its blob; false when there is none.
    pub fn remove_email(&mut self, document_id: u32) -> bool {
        let Some(email) = self.emails.remove(&document_id) else {
            return false;
        };
        self.blobs.remove(&email.blob_id);
        if let Some(thread) = self.threads.get_mut(&email.thread_id) {
            thread.emails.remove(&document_id);
            if thread.emails.is_empty() {
                self.threads.remove(&email.thread_id);
                self.message_ids.retain(|_, t| *t != email.thread_id);
            }
        }
        self.bump();
        true
    }

    /// The e-mail a JMAP id names (its document part decides, as on the real server).
    pub fn email_by_id(&self, id: &str) -> Option<&Email> {
        self.emails.get(&document_of(id)?)
    }

    /// The bytes of a blob: an e-mail's, or an upload's that has not expired at `now_ms`.
    pub fn blob(&self, blob_id: &str, now_ms: i64, ttl_ms: u64) -> Option<(Arc<[u8]>, String)> {
        if let Some(email) = self.blobs.get(blob_id).and_then(|d| self.emails.get(d)) {
            return Some((Arc::clone(&email.raw), "message/rfc822".to_owned()));
        }
        self.uploads
            .get(blob_id)
            .filter(|u| u.is_live(now_ms, ttl_ms))
            .map(|u| (Arc::clone(&u.bytes), u.content_type.clone()))
    }

    /// Stores an upload; returns its blob id.
    pub fn add_upload(&mut self, bytes: Arc<[u8]>, content_type: String, now_ms: i64) -> String {
        self.next_upload += 1;
        let blob_id = blob::upload_blob_id(self.account_id, self.next_upload, &bytes);
        self.uploads.insert(
            blob_id.clone(),
            Upload {
                bytes,
                content_type,
                created_ms: now_ms,
            },
        );
        blob_id
    }

    /// Forgets uploads older than `ttl_ms`.
    pub fn purge_uploads(&mut self, now_ms: i64, ttl_ms: u64) {
        self.uploads.retain(|_, u| u.is_live(now_ms, ttl_ms));
    }

    fn index_pending(&mut self) {
        for email in self.emails.values_mut() {
            email.indexed = true;
        }
    }
}

/// A JMAP e-mail id: `(thread << 32) | document`.
pub fn email_id(thread_id: u32, document_id: u32) -> String {
    encode_id((u64::from(thread_id) << 32) | u64::from(document_id))
}

/// The document number of an e-mail id.
pub fn document_of(id: &str) -> Option<u32> {
    decode_id(id).and_then(|n| u32::try_from(n & 0xffff_ffff).ok())
}

/// A mailbox or thread number from its id.
pub fn number_of(id: &str) -> Option<u32> {
    decode_id(id).and_then(|n| u32::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_ids_carry_thread_and_document() {
        assert_eq!(email_id(102, 102), "myaaaadg");
        assert_eq!(email_id(102, 105), "myaaaadj");
        assert_eq!(email_id(107, 107), "nmaaaadl");
        assert_eq!(email_id(1, 1), "eaaaaab");
        assert_eq!(document_of("myaaaadj"), Some(105));
    }

    #[test]
    fn messages_with_a_shared_message_id_share_a_thread() {
        let mut mail = AccountMail::new(2);
        let one: Arc<[u8]> = Arc::from(&b"Message-ID: <x@y>\r\nSubject: Hi\r\n\r\nbody\r\n"[..]);
        let none: Arc<[u8]> = Arc::from(&b"Subject: Hi\r\n\r\nbody\r\n"[..]);
        let inbox = BTreeSet::from([0]);
        let a = mail.insert_email(Arc::clone(&one), inbox.clone(), BTreeSet::new(), 0, true);
        let b = mail.insert_email(one, inbox.clone(), BTreeSet::new(), 0, true);
        let c = mail.insert_email(none, inbox, BTreeSet::new(), 0, true);
        let thread = |d: u32| mail.emails.get(&d).map(|e| e.thread_id);
        assert_eq!(thread(a), Some(a));
        assert_eq!(thread(b), Some(a));
        assert_eq!(thread(c), Some(c));
        let blob = |d: u32| mail.emails.get(&d).map(|e| e.blob_id.clone());
        assert_ne!(blob(a), blob(b));
    }
}
