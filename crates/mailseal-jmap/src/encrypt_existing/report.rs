//! What a run did, message by message where it matters.

/// A message left as it was on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The message's id.
    pub id: String,
    /// Its subject, if any.
    pub subject: Option<String>,
    /// Why it was left, in words.
    pub reason: String,
}

/// A message that could not be encrypted in this run (it is still there, as it was).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// The message's id.
    pub id: String,
    /// Its subject, if any.
    pub subject: Option<String>,
    /// A stable code for the cause (an [`Error::code`](crate::Error::code), or
    /// `jmap.encrypt_existing.verify` when the copy did not pass the checks).
    pub code: String,
    /// What went wrong, in words.
    pub reason: String,
}

/// A message a dry run would encrypt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The message's id.
    pub id: String,
    /// Its subject, if any.
    pub subject: Option<String>,
    /// The names of its mailboxes.
    pub mailboxes: Vec<String>,
    /// Its size now.
    pub size: u64,
    /// About the size of its encrypted copy.
    pub estimated_size: u64,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncryptReport {
    /// Whether this was a dry run (nothing changed).
    pub dry_run: bool,
    /// What the copies are encrypted with, e.g. `S/MIME AES-256-CBC`.
    pub encryption: String,
    /// Messages looked at (after the mailbox and date filters).
    pub examined: u64,
    /// Messages encrypted in this run.
    pub encrypted: u64,
    /// Their size before.
    pub bytes_before: u64,
    /// Their size after (the encrypted copies).
    pub bytes_after: u64,
    /// Messages encrypted by an earlier, interrupted run and finished now.
    pub resumed: u64,
    /// Messages that were already encrypted (by the server, by a sender, or by an earlier run).
    pub already_encrypted: u64,
    /// Messages left on purpose (e.g. too large for the server to take back).
    pub skipped: Vec<Skipped>,
    /// Messages that could not be encrypted in this run; each is still there, unchanged.
    pub failed: Vec<Failed>,
    /// Duplicate copies left by an interrupted run and removed.
    pub duplicates_removed: u64,
    /// In a dry run: what would be encrypted.
    pub planned: Vec<Planned>,
    /// The space a dry run's plan would take once encrypted (the originals are removed).
    pub planned_bytes: u64,
    /// Why the run stopped before the end, if it did (e.g. the server's upload quota with a
    /// longer wait than allowed): run it again to go on.
    pub paused: Option<String>,
}

impl EncryptReport {
    /// Whether every message examined is now encrypted or was skipped on purpose (the
    /// run is finished and nothing failed).
    ///
    /// ```
    /// use mailseal_jmap::encrypt_existing::EncryptReport;
    /// assert!(EncryptReport::default().is_complete());
    /// let paused = EncryptReport { paused: Some("upload quota".into()), ..Default::default() };
    /// assert!(!paused.is_complete());
    /// ```
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty() && self.paused.is_none()
    }
}
