//! What the caller chooses for a run.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mailseal_core::PrivateKey;

/// The choices of one [`Client::encrypt_existing`](crate::Client::encrypt_existing) run.
///
/// ```
/// use mailseal_jmap::encrypt_existing::EncryptExistingOptions;
/// let options = EncryptExistingOptions { dry_run: true, ..EncryptExistingOptions::default() };
/// assert!(options.mailboxes.is_empty() && options.concurrency == 0);
/// ```
#[derive(Clone)]
pub struct EncryptExistingOptions {
    /// Only messages in one of these mailboxes (by name, role or id); empty for all.
    pub mailboxes: Vec<String>,
    /// Only messages received at or after this time.
    pub since: Option<SystemTime>,
    /// Change nothing: list what would be encrypted and the space it would take.
    pub dry_run: bool,
    /// Messages encrypted at once; 0 for one per processor core.
    pub concurrency: usize,
    /// The private key of the configured recipient: each copy must decrypt with it to the
    /// original, byte for byte, before the original is destroyed.
    pub verify_key: Option<Arc<PrivateKey>>,
    /// The longest a run waits in total for the server (upload quota, 429, 5xx) before it
    /// stops and leaves the rest for the next run; 2 hours by default (Stalwart's upload
    /// quota is counted per hour).
    pub max_wait: Duration,
    /// Messages per batch (0: chosen from the session's limits).
    pub batch_size: usize,
}

impl Default for EncryptExistingOptions {
    fn default() -> Self {
        EncryptExistingOptions {
            mailboxes: Vec::new(),
            since: None,
            dry_run: false,
            concurrency: 0,
            verify_key: None,
            max_wait: Duration::from_secs(2 * 60 * 60),
            batch_size: 0,
        }
    }
}

impl std::fmt::Debug for EncryptExistingOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptExistingOptions")
            .field("mailboxes", &self.mailboxes)
            .field("since", &self.since)
            .field("dry_run", &self.dry_run)
            .field("concurrency", &self.concurrency)
            .field(
                "verify_key",
                &self.verify_key.as_ref().map(|_| "<redacted>"),
            )
            .field("max_wait", &self.max_wait)
            .field("batch_size", &self.batch_size)
            .finish()
    }
}

impl EncryptExistingOptions {
    /// The number of messages encrypted at once.
    pub(crate) fn workers(&self) -> usize {
        if self.concurrency > 0 {
            self.concurrency
        } else {
            std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
        }
    }
}
