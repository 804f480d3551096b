//! Retroactive encryption at rest: the mail already in the account, encrypted to the key and
//! algorithm the server is configured with, without losing a message on the way.
//!
//! Stalwart encrypts only mail that arrives after encryption at rest is switched on. The job
//! ([`Client::encrypt_existing`](crate::Client::encrypt_existing)) closes that gap from the
//! client: it downloads each plaintext message, encrypts it locally with mailseal-core,
//! uploads and `Email/import`s the copy with the original's mailboxes, keywords and
//! `receivedAt`, reads the copy back and verifies it (the bytes sent, encrypted to exactly the
//! configured recipients, and with a private key given, decrypting to the original byte for
//! byte), and only then destroys the original.
//!
//! Every step that changes the account is written ahead to a state file (atomically: a new
//! file renamed over the old), so that an interrupted run — a crash, `SIGKILL`, a network
//! error, a server error — loses nothing and leaves at most a duplicate copy, which the next
//! run finds (by size, `receivedAt`, `Message-ID` and the bytes, not by the server's search,
//! which lags and does not index `Message-ID`) and removes.
//!
//! ```text
//! options   EncryptExistingOptions: mailbox filter, since, dry run, concurrency, verify key
//! state     the state file: what is under way and what is done, written atomically
//! retry     waiting politely: backoff on 429/5xx, Retry-After honoured, a bounded total wait
//! progress  Progress: counts, bytes, rate, ETA, what the job waits for
//! report    EncryptReport: encrypted, skipped (already encrypted, unsupported), failed
//! run       the passes: list, reconcile, then batches of download → encrypt → upload →
//!           import → verify → destroy
//! ```

mod options;
mod progress;
mod report;
mod retry;
mod run;
mod state;

pub use options::EncryptExistingOptions;
pub use progress::{Phase, Progress};
pub use report::{EncryptReport, Failed, Planned, Skipped};
