//! Retroactive encryption ("encrypt existing mail"): the records of
//! [`AccountSession::encrypt_existing`](crate::AccountSession::encrypt_existing) — its
//! options, the progress snapshots a [`ProgressListener`] is told, and the report — over
//! [`mailseal_jmap::encrypt_existing`].
//!
//! Progress reaches the listener on a thread of its own, never on the thread that does the
//! network work: a slow listener (a UI thread, Python holding the GIL) delays no request.
//! Snapshots the listener had no time for are skipped; the last one (phase
//! [`Phase::Finished`]) always arrives before the call returns.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use mailseal_core as core;
use mailseal_jmap::encrypt_existing as jmap;

use crate::error::ApiError;
use crate::keys::unix;

/// How to encrypt the mail already in the account (all optional: every mailbox, every
/// date, for real, a worker per processor core, no decryption check, at most two hours of
/// waiting for the server).
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct EncryptExistingOptions {
    /// Only messages in one of these mailboxes (by name, role such as `inbox`, or id);
    /// empty for all.
    #[cfg_attr(feature = "uniffi", uniffi(default = []))]
    pub mailboxes: Vec<String>,
    /// Only messages received at or after this time (Unix seconds).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub since: Option<i64>,
    /// Change nothing: report what would be encrypted and the space it would take.
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub dry_run: bool,
    /// Messages encrypted at once; 0 for one per processor core.
    #[cfg_attr(feature = "uniffi", uniffi(default = 0))]
    pub concurrency: u32,
    /// The private key of the configured recipient, as its file's bytes (an OpenPGP
    /// secret key, a PEM private key with its certificate, or PKCS#12, as for
    /// [`decrypt`](crate::decrypt)): each copy must decrypt with it to the original, byte
    /// for byte, before the original is destroyed.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub verify_key: Option<Vec<u8>>,
    /// The password of `verify_key`, if it has one.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub verify_key_password: Option<String>,
    /// The longest the run waits in total for the server (upload quota, 429, 5xx) before
    /// it stops and leaves the rest for the next run, in seconds (2 hours by default:
    /// Stalwart counts its upload quota per hour).
    #[cfg_attr(feature = "uniffi", uniffi(default = 7200))]
    pub max_wait_seconds: u64,
    /// Messages per batch; 0 to choose from the server's limits.
    #[cfg_attr(feature = "uniffi", uniffi(default = 0))]
    pub batch_size: u32,
}

/// The default `max_wait_seconds`.
const DEFAULT_MAX_WAIT: u64 = 2 * 60 * 60;

impl Default for EncryptExistingOptions {
    fn default() -> Self {
        EncryptExistingOptions {
            mailboxes: Vec::new(),
            since: None,
            dry_run: false,
            concurrency: 0,
            verify_key: None,
            verify_key_password: None,
            max_wait_seconds: DEFAULT_MAX_WAIT,
            batch_size: 0,
        }
    }
}

impl fmt::Debug for EncryptExistingOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptExistingOptions")
            .field("mailboxes", &self.mailboxes)
            .field("since", &self.since)
            .field("dry_run", &self.dry_run)
            .field("concurrency", &self.concurrency)
            .field(
                "verify_key",
                &self.verify_key.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "verify_key_password",
                &self.verify_key_password.as_ref().map(|_| "<redacted>"),
            )
            .field("max_wait_seconds", &self.max_wait_seconds)
            .field("batch_size", &self.batch_size)
            .finish()
    }
}

impl EncryptExistingOptions {
    /// mailseal-jmap's options: the verify key read (`key.*` errors), `since` checked
    /// (`input.time_out_of_range`).
    pub fn to_jmap(&self) -> Result<jmap::EncryptExistingOptions, ApiError> {
        let verify_key = match &self.verify_key {
            Some(bytes) => {
                let password = self.verify_key_password.clone().map(core::Zeroizing::new);
                let key =
                    core::PrivateKey::from_bytes(bytes, password.as_deref().map(String::as_str))?;
                Some(Arc::new(key))
            }
            None => None,
        };
        Ok(jmap::EncryptExistingOptions {
            mailboxes: self.mailboxes.clone(),
            since: self.since.map(core::time::from_unix_seconds).transpose()?,
            dry_run: self.dry_run,
            concurrency: usize::try_from(self.concurrency).unwrap_or(usize::MAX),
            verify_key,
            max_wait: Duration::from_secs(self.max_wait_seconds),
            batch_size: usize::try_from(self.batch_size).unwrap_or(usize::MAX),
        })
    }
}

/// What the job is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(eq, eq_int, frozen, from_py_object, module = "mailseal._mailseal")
)]
pub enum Phase {
    /// Reading the list of messages.
    Listing,
    /// Finishing what an interrupted run left under way.
    Reconciling,
    /// Encrypting and replacing messages.
    Encrypting,
    /// Waiting for the server (upload quota, 429, 5xx) until
    /// [`Progress::waiting_until`].
    Waiting,
    /// Done.
    Finished,
}

impl Phase {
    /// A stable name: `listing`, `reconciling`, `encrypting`, `waiting`, `finished`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Phase::Listing => "listing",
            Phase::Reconciling => "reconciling",
            Phase::Encrypting => "encrypting",
            Phase::Waiting => "waiting",
            Phase::Finished => "finished",
        }
    }
}

impl From<jmap::Phase> for Phase {
    fn from(p: jmap::Phase) -> Self {
        match p {
            jmap::Phase::Listing => Phase::Listing,
            jmap::Phase::Reconciling => Phase::Reconciling,
            jmap::Phase::Waiting => Phase::Waiting,
            jmap::Phase::Finished => Phase::Finished,
            // A phase added to mailseal-jmap later is work under way to this facade.
            _ => Phase::Encrypting,
        }
    }
}

impl serde::Serialize for Phase {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A snapshot of a run's progress.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(get_all, frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct Progress {
    /// What the job is doing.
    pub phase: Phase,
    /// Messages to look at in this run (after the mailbox and date filters).
    pub total: u64,
    /// Messages dealt with so far (encrypted, skipped or failed).
    pub done: u64,
    /// Messages encrypted so far.
    pub encrypted: u64,
    /// Messages skipped so far (already encrypted, or not supported).
    pub skipped: u64,
    /// Messages failed so far.
    pub failed: u64,
    /// Bytes of the messages to look at.
    pub bytes_total: u64,
    /// Bytes of the messages dealt with so far.
    pub bytes_done: u64,
    /// Bytes per second over the run so far (time spent waiting for the server left out).
    pub rate: f64,
    /// Seconds left at the current rate, once that can be told.
    pub eta_seconds: Option<u64>,
    /// Until when the job waits for the server (Unix seconds), in [`Phase::Waiting`].
    pub waiting_until: Option<i64>,
    /// Why the job waits, in words (e.g. the upload quota and the setting that raises it).
    pub waiting_for: Option<String>,
}

impl From<&jmap::Progress> for Progress {
    fn from(p: &jmap::Progress) -> Self {
        Progress {
            phase: p.phase.into(),
            total: p.total,
            done: p.done,
            encrypted: p.encrypted,
            skipped: p.skipped,
            failed: p.failed,
            bytes_total: p.bytes_total,
            bytes_done: p.bytes_done,
            rate: p.rate,
            eta_seconds: p.eta.map(|d| d.as_secs()),
            waiting_until: p.waiting_until.map(unix),
            waiting_for: p.waiting_for.clone(),
        }
    }
}

/// A message left as it was on purpose.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(get_all, frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct SkippedMessage {
    /// The message's id.
    pub id: String,
    /// Its subject, if any.
    pub subject: Option<String>,
    /// Why it was left, in words.
    pub reason: String,
}

/// A message that could not be encrypted in this run; it is still there, as it was.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(get_all, frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct FailedMessage {
    /// The message's id.
    pub id: String,
    /// Its subject, if any.
    pub subject: Option<String>,
    /// A stable code for the cause (an error code, or `jmap.encrypt_existing.verify` when
    /// the copy did not pass the checks).
    pub code: String,
    /// What went wrong, in words.
    pub reason: String,
}

/// A message a dry run would encrypt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(get_all, frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct PlannedMessage {
    /// The message's id.
    pub id: String,
    /// Its subject, if any.
    pub subject: Option<String>,
    /// The names of its mailboxes.
    pub mailboxes: Vec<String>,
    /// Its size now, in bytes.
    pub size: u64,
    /// About the size of its encrypted copy, in bytes.
    pub estimated_size: u64,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(get_all, frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct EncryptReport {
    /// Every message examined is now encrypted or was skipped on purpose: nothing failed
    /// and the run did not pause. Otherwise run again (with the same state file) to go on.
    pub complete: bool,
    /// Whether this was a dry run (nothing changed).
    pub dry_run: bool,
    /// What the copies are encrypted with, e.g. `S/MIME AES-256-CBC`.
    pub encryption: String,
    /// Messages looked at (after the mailbox and date filters).
    pub examined: u64,
    /// Messages encrypted in this run.
    pub encrypted: u64,
    /// Their size before, in bytes.
    pub bytes_before: u64,
    /// Their size after (the encrypted copies), in bytes.
    pub bytes_after: u64,
    /// Messages encrypted by an earlier, interrupted run and finished now.
    pub resumed: u64,
    /// Messages that were already encrypted (by the server, a sender, or an earlier run).
    pub already_encrypted: u64,
    /// Messages left on purpose (e.g. too large for the server to take back).
    pub skipped: Vec<SkippedMessage>,
    /// Messages that could not be encrypted in this run; each is still there, unchanged.
    pub failed: Vec<FailedMessage>,
    /// Duplicate copies left by an interrupted run and removed.
    pub duplicates_removed: u64,
    /// In a dry run: what would be encrypted.
    pub planned: Vec<PlannedMessage>,
    /// In a dry run: the space the plan would take once encrypted, in bytes (the
    /// originals are removed).
    pub planned_bytes: u64,
    /// Why the run stopped before the end, if it did (e.g. the server's upload quota with
    /// a longer wait than allowed): run it again to go on.
    pub paused: Option<String>,
}

impl From<jmap::EncryptReport> for EncryptReport {
    fn from(r: jmap::EncryptReport) -> Self {
        EncryptReport {
            complete: r.is_complete(),
            dry_run: r.dry_run,
            encryption: r.encryption,
            examined: r.examined,
            encrypted: r.encrypted,
            bytes_before: r.bytes_before,
            bytes_after: r.bytes_after,
            resumed: r.resumed,
            already_encrypted: r.already_encrypted,
            skipped: r
                .skipped
                .into_iter()
                .map(|s| SkippedMessage {
                    id: s.id,
                    subject: s.subject,
                    reason: s.reason,
                })
                .collect(),
            failed: r
                .failed
                .into_iter()
                .map(|f| FailedMessage {
                    id: f.id,
                    subject: f.subject,
                    code: f.code,
                    reason: f.reason,
                })
                .collect(),
            duplicates_removed: r.duplicates_removed,
            planned: r
                .planned
                .into_iter()
                .map(|p| PlannedMessage {
                    id: p.id,
                    subject: p.subject,
                    mailboxes: p.mailboxes,
                    size: p.size,
                    estimated_size: p.estimated_size,
                })
                .collect(),
            planned_bytes: r.planned_bytes,
            paused: r.paused,
        }
    }
}

/// Told how a run of [`AccountSession::encrypt_existing`](crate::AccountSession::encrypt_existing)
/// goes.
///
/// Implemented by the application: in Kotlin a class with `fun onProgress(progress)`, in
/// Swift `func onProgress(progress:)`, in Python any callable taking a `Progress`. It is
/// called on a thread of its own (hop to the UI thread to draw), never twice at once, and
/// may skip snapshots when it is slower than the run; the last call, with phase
/// [`Phase::Finished`], comes before the run returns. It must not throw (Kotlin, Swift); in
/// Python an exception stops the run and is raised by `encrypt_existing`.
#[cfg_attr(feature = "uniffi", uniffi::export(with_foreign))]
pub trait ProgressListener: Send + Sync {
    /// The run's progress now.
    fn on_progress(&self, progress: Progress);
}

/// The latest snapshot not yet given to the listener, and whether the run is over.
#[derive(Default)]
struct Slot {
    latest: Option<Progress>,
    closed: bool,
}

/// Hands snapshots from the run to the thread that tells the listener: the run never waits
/// for the listener, and only the newest snapshot waits to be told.
#[derive(Default)]
pub(crate) struct Relay {
    slot: Mutex<Slot>,
    ready: Condvar,
}

impl Relay {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Called by the run (does not block beyond a short lock).
    pub(crate) fn post(&self, progress: &jmap::Progress) {
        self.lock().latest = Some(progress.into());
        self.ready.notify_one();
    }

    /// No more snapshots come: the listener thread ends after the last.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_one();
    }

    /// The listener thread: tells `listener` each newest snapshot until closed, or until
    /// `stop()` says to (checked after each call). A listener that panics (a Kotlin or
    /// Swift exception reaches Rust as one) ends it with the panic's message.
    pub(crate) fn deliver(
        &self,
        listener: &dyn ProgressListener,
        stop: impl Fn() -> bool,
    ) -> Result<(), String> {
        loop {
            let next = {
                let mut slot = self.lock();
                while slot.latest.is_none() && !slot.closed {
                    slot = self
                        .ready
                        .wait(slot)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                slot.latest.take()
            };
            let Some(progress) = next else {
                return Ok(());
            };
            let told = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                listener.on_progress(progress);
            }));
            if let Err(panic) = told {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "it panicked".to_owned());
                return Err(message);
            }
            if stop() {
                return Ok(());
            }
        }
    }
}

/// The error of a run stopped because its progress listener failed (`why`).
pub(crate) fn listener_failed(why: &str) -> ApiError {
    ApiError::new(
        crate::error::ErrorKind::InvalidInput,
        "api.progress_listener",
        format!(
            "the progress listener failed ({why}); the run was stopped as if interrupted: \
             nothing is lost, run it again with the same state file to go on"
        ),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    struct Count(Mutex<Vec<u64>>);

    impl ProgressListener for Count {
        fn on_progress(&self, progress: Progress) {
            std::thread::sleep(Duration::from_millis(5));
            self.0.lock().unwrap().push(progress.done);
        }
    }

    fn snapshot(done: u64) -> jmap::Progress {
        jmap::Progress {
            phase: jmap::Phase::Encrypting,
            total: 100,
            done,
            encrypted: done,
            skipped: 0,
            failed: 0,
            bytes_total: 1000,
            bytes_done: done * 10,
            rate: 1.5,
            eta: Some(Duration::from_millis(2500)),
            waiting_until: None,
            waiting_for: None,
        }
    }

    #[test]
    fn a_slow_listener_gets_the_last_snapshot_and_never_holds_the_run_up() {
        let relay = Arc::new(Relay::default());
        let count = Arc::new(Count(Mutex::new(Vec::new())));
        let thread = {
            let (relay, count) = (Arc::clone(&relay), Arc::clone(&count));
            std::thread::spawn(move || relay.deliver(count.as_ref(), || false).unwrap())
        };
        for done in 1..=100 {
            relay.post(&snapshot(done));
        }
        relay.close();
        thread.join().unwrap();
        let seen = count.0.lock().unwrap().clone();
        assert_eq!(seen.last(), Some(&100));
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    }

    #[test]
    fn progress_and_options_convert() {
        let p = Progress::from(&snapshot(3));
        assert_eq!(
            (p.phase, p.eta_seconds, p.bytes_done),
            (Phase::Encrypting, Some(2), 30)
        );
        let o = EncryptExistingOptions::default().to_jmap().unwrap();
        assert_eq!(o.max_wait, Duration::from_secs(7200));
        let bad = EncryptExistingOptions {
            since: Some(i64::MAX),
            ..EncryptExistingOptions::default()
        };
        assert_eq!(bad.to_jmap().unwrap_err().code(), "input.time_out_of_range");
        let not_a_key = EncryptExistingOptions {
            verify_key: Some(b"not a key".to_vec()),
            ..EncryptExistingOptions::default()
        };
        assert_eq!(
            not_a_key.to_jmap().unwrap_err().code(),
            "decrypt.private_key"
        );
        assert!(!format!("{not_a_key:?}").contains("not a key"));
        let report = EncryptReport::from(jmap::EncryptReport::default());
        assert!(report.complete);
        assert_eq!(Phase::from(jmap::Phase::Waiting).as_str(), "waiting");
    }
}
