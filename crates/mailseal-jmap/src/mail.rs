//! Mail objects over JMAP (RFC 8621): mailboxes, e-mails, and the blobs behind them — what
//! [`encrypt_existing`](crate::encrypt_existing) reads and writes.
//!
//! ```text
//! calls     several method calls in one request (urn:ietf:params:jmap:mail), answers by call id
//! mailbox   Mailbox/get: ids, names, roles
//! email     Email/query (paged) + Email/get, Email/import, Email/set destroy
//! blob      uploads to uploadUrl, downloads from downloadUrl (the session's templates)
//! ```

pub(crate) mod blob;
pub(crate) mod calls;
pub mod email;
pub mod mailbox;
