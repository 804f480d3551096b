//! The passes of a run. Each pass lists the account, finishes what an interrupted run left
//! under way, then takes the plaintext messages in batches:
//!
//! 1. download, encrypt (on every core) and upload, each message on its own;
//! 2. write the copies to the state file, then `Email/import` the batch;
//! 3. write the copies' ids, read each copy back and verify it;
//! 4. destroy the verified originals, and write them as done.
//!
//! A step the server may or may not have carried out (a dropped connection during an import
//! or a destroy) is never repeated blindly: the message stays under way in the state file
//! and the next pass (or run) looks at what is really there.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use mailseal_core::{EncryptOptions, Outcome, Policy, RecipientKey, Recipients};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::options::EncryptExistingOptions;
use super::progress::{Phase, Progress, Tracker};
use super::report::{EncryptReport, Failed, Planned, Skipped};
use super::retry::{self, WaitBudget};
use super::state::{Copy, StateFile};
use crate::client::Client;
use crate::error::Error;
use crate::mail::email::{EmailInfo, Import};
use crate::mail::mailbox::Mailbox;

/// Passes in one run: the later ones only for messages a transient failure held back.
const PASSES: usize = 3;
/// Bytes of messages held in memory by one batch, about.
const BATCH_BYTES: u64 = 64 << 20;
/// Messages in one batch unless the session or the options say fewer.
const BATCH_MESSAGES: usize = 100;
/// The code of a copy that did not pass the checks.
const VERIFY: &str = "jmap.encrypt_existing.verify";
/// The content type downloads and uploads of messages use.
const RFC822: &str = "message/rfc822";

/// The callback a run reports its progress to.
type ProgressFn<'a> = &'a (dyn Fn(&Progress) + Send + Sync);

impl Client {
    /// Encrypts the mail already in the account to the key and algorithm its encryption at
    /// rest is configured with (see [`encrypt_existing`](crate::encrypt_existing)), keeping
    /// its progress in the file `state` and telling `progress` as it goes.
    ///
    /// Refuses, before anything changes, when encryption at rest is off, when the
    /// configured key cannot be validated here, or when `state` belongs to another account.
    /// Messages that cannot be done now are in the report's `failed` list, each still there
    /// as it was; run again to finish them.
    pub async fn encrypt_existing(
        &self,
        state: &Path,
        options: &EncryptExistingOptions,
        progress: &(dyn Fn(&Progress) + Send + Sync),
    ) -> Result<EncryptReport, Error> {
        let settings = self.encryption_settings().await?;
        let algorithm = settings.algorithm.ok_or_else(|| Error::NotAvailable {
            reason: "encryption at rest is off for this account: switch it on first, then \
                     encrypt the mail that is already there"
                .into(),
        })?;
        let stored = settings.key.ok_or_else(|| Error::NotAvailable {
            reason: "encryption at rest is on, but the server names no key to encrypt to".into(),
        })?;
        let recipients = RecipientKey::from_bytes(stored.key.as_bytes())
            .and_then(|k| k.validate(&Policy::standard()))
            .map_err(Error::Key)?;
        algorithm.check_key_format(recipients.format())?;
        let key_hash = format!("{:x}", Sha256::digest(stored.key.as_bytes()));
        let session = self.session();
        let origin = self.server().base.origin().ascii_serialization();
        let file = StateFile::open(
            state,
            &origin,
            &session.account_id,
            &session.username,
            &key_hash,
        )?;
        let limits = session.limits;
        let requests = limits.max_concurrent_requests.max(1);
        let job = Job {
            client: self,
            options,
            recipients: Arc::new(recipients),
            encrypt: EncryptOptions::new(algorithm),
            budget: WaitBudget::new(options.max_wait),
            tracker: Mutex::new(Tracker::new()),
            progress,
            report: Mutex::new(EncryptReport {
                dry_run: options.dry_run,
                encryption: algorithm.display_name().to_owned(),
                ..EncryptReport::default()
            }),
            state: Mutex::new(file),
            requests,
            cpu: Semaphore::new(options.workers()),
            uploads: Semaphore::new(limits.max_concurrent_upload.clamp(1, requests)),
            stopped: Mutex::new(None),
        };
        job.run().await?;
        job.tracker().snapshot.phase = Phase::Finished;
        job.notify();
        let report = std::mem::take(&mut *lock(&job.report));
        Ok(report)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn sha256_hex(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

/// What became of one message in a pass.
#[derive(Debug)]
enum Done {
    /// Replaced by its encrypted copy.
    Encrypted { after: u64 },
    /// It was encrypted already.
    AlreadyEncrypted,
    /// Left on purpose.
    Skipped(String),
    /// Could not be done; it is still there as it was.
    Failed { code: String, reason: String },
    /// Held back by a transient failure: the next pass looks again.
    Again(Error),
}

/// A message downloaded, encrypted and uploaded.
struct Prepared {
    info: EmailInfo,
    original: Bytes,
    copy: Bytes,
    upload: String,
}

/// An imported copy, waiting to be verified.
struct Imported {
    prepared: Prepared,
    id: String,
    blob_id: String,
}

struct Job<'a> {
    client: &'a Client,
    options: &'a EncryptExistingOptions,
    recipients: Arc<Recipients>,
    encrypt: EncryptOptions,
    budget: WaitBudget,
    tracker: Mutex<Tracker>,
    progress: ProgressFn<'a>,
    report: Mutex<EncryptReport>,
    state: Mutex<StateFile>,
    /// Requests in flight at once.
    requests: usize,
    /// Messages encrypted at once.
    cpu: Semaphore,
    /// Uploads in flight at once.
    uploads: Semaphore,
    /// Why the run stopped early (the wait budget is spent).
    stopped: Mutex<Option<String>>,
}

impl Job<'_> {
    fn tracker(&self) -> MutexGuard<'_, Tracker> {
        lock(&self.tracker)
    }

    fn notify(&self) {
        let snapshot = self.tracker().snapshot.clone();
        (self.progress)(&snapshot);
    }

    fn save(&self) -> Result<(), Error> {
        lock(&self.state).save()
    }

    fn stopped(&self) -> bool {
        lock(&self.stopped).is_some()
    }

    /// Runs `op` with the run's retry policy.
    async fn retrying<T, F, Fut>(&self, op: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let result = retry::retrying(
            &self.budget,
            |delay, error| {
                self.tracker().waiting(delay, retry::reason(error));
                self.notify();
            },
            op,
        )
        .await;
        {
            let mut t = self.tracker();
            if t.snapshot.phase == Phase::Waiting {
                t.resumed(Phase::Encrypting);
            }
        }
        if let Err(e) = &result
            && e.is_transient()
        {
            lock(&self.stopped).get_or_insert_with(|| {
                format!(
                    "stopped after waiting as long as allowed for {}; run again later to go on",
                    retry::reason(e)
                )
            });
        }
        result
    }

    async fn run(&self) -> Result<(), Error> {
        let mut settled: HashSet<String> = HashSet::new();
        let mut first = true;
        for pass in 0..PASSES {
            let again = self.pass(&mut settled, first).await?;
            first = false;
            if again.is_empty() || self.options.dry_run || self.stopped() {
                self.give_up(again);
                break;
            }
            if pass + 1 == PASSES {
                self.give_up(again);
                break;
            }
            // Give the server's indexes a moment before looking again.
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        if let Some(reason) = lock(&self.stopped).clone() {
            lock(&self.report).paused = Some(reason);
        }
        Ok(())
    }

    /// Messages still held back at the end of the run count as failed.
    fn give_up(&self, again: Vec<(EmailInfo, Error)>) {
        let mut report = lock(&self.report);
        for (info, e) in again {
            report.failed.push(Failed {
                id: info.id,
                subject: info.subject,
                code: e.code().to_owned(),
                reason: e.to_string(),
            });
        }
        let failed = report.failed.len() as u64;
        drop(report);
        self.tracker().snapshot.failed = failed;
    }

    /// One pass; returns the messages held back by transient failures.
    async fn pass(
        &self,
        settled: &mut HashSet<String>,
        first: bool,
    ) -> Result<Vec<(EmailInfo, Error)>, Error> {
        self.tracker().snapshot.phase = Phase::Listing;
        self.notify();
        let mut emails = self.retrying(|| self.client.all_emails(|_| {})).await?;
        let mailboxes = self.retrying(|| self.client.mailboxes()).await?;
        let wanted = self.wanted_mailboxes(&mailboxes)?;

        self.tracker().snapshot.phase = Phase::Reconciling;
        self.notify();
        self.reconcile(&mut emails).await?;

        let since = self
            .options
            .since
            .map(|t| humantime::format_rfc3339_seconds(t).to_string());
        let scope: Vec<EmailInfo> = emails
            .into_iter()
            .filter(|e| !settled.contains(&e.id))
            .filter(|e| {
                wanted
                    .as_ref()
                    .is_none_or(|w| e.mailbox_ids.iter().any(|(id, on)| *on && w.contains(id)))
            })
            .filter(|e| {
                since
                    .as_ref()
                    .is_none_or(|s| e.received_at.as_str() >= s.as_str())
            })
            .collect();
        if first {
            let mut t = self.tracker();
            t.snapshot.total = scope.len() as u64;
            t.snapshot.bytes_total = scope.iter().map(|e| e.size).sum();
            lock(&self.report).examined = scope.len() as u64;
        }
        self.tracker().snapshot.phase = Phase::Encrypting;
        self.notify();

        let mut todo = Vec::new();
        for info in scope {
            if header_says_encrypted(&info) {
                settled.insert(info.id.clone());
                self.record(&info, Done::AlreadyEncrypted);
            } else {
                todo.push(info);
            }
        }
        if self.options.dry_run {
            self.plan(todo, &mailboxes).await;
            return Ok(Vec::new());
        }

        let mut again = Vec::new();
        for batch in self.batches(todo) {
            if self.stopped() {
                for info in batch {
                    again.push((info, Error::protocol("the run stopped before this message")));
                }
                continue;
            }
            for (info, done) in self.batch(batch).await? {
                match done {
                    Done::Again(e) => again.push((info, e)),
                    done => {
                        settled.insert(info.id.clone());
                        self.record(&info, done);
                    }
                }
            }
        }
        Ok(again)
    }

    /// The mailbox ids the options name, or `None` for every mailbox.
    fn wanted_mailboxes(&self, mailboxes: &[Mailbox]) -> Result<Option<HashSet<String>>, Error> {
        if self.options.mailboxes.is_empty() {
            return Ok(None);
        }
        let mut ids = HashSet::new();
        for name in &self.options.mailboxes {
            let found: Vec<&Mailbox> = mailboxes.iter().filter(|m| m.is_named(name)).collect();
            if found.is_empty() {
                let names: Vec<&str> = mailboxes.iter().map(|m| m.name.as_str()).collect();
                return Err(Error::invalid(format!(
                    "the account has no mailbox named {name}; it has: {}",
                    names.join(", ")
                )));
            }
            ids.extend(found.into_iter().map(|m| m.id.clone()));
        }
        Ok(Some(ids))
    }

    /// Splits the work into batches that fit the session's limits and memory.
    fn batches(&self, todo: Vec<EmailInfo>) -> Vec<Vec<EmailInfo>> {
        let limits = self.client.session().limits;
        let count = match self.options.batch_size {
            0 => BATCH_MESSAGES,
            n => n,
        }
        .min(limits.max_objects_in_set.max(1));
        let mut batches = Vec::new();
        let mut current: Vec<EmailInfo> = Vec::new();
        let mut bytes = 0;
        for info in todo {
            if !current.is_empty() && (current.len() >= count || bytes + info.size > BATCH_BYTES) {
                batches.push(std::mem::take(&mut current));
                bytes = 0;
            }
            bytes += info.size;
            current.push(info);
        }
        if !current.is_empty() {
            batches.push(current);
        }
        batches
    }

    /// Counts what became of a message and tells the caller.
    fn record(&self, info: &EmailInfo, done: Done) {
        {
            let mut report = lock(&self.report);
            let mut t = self.tracker();
            match done {
                Done::Encrypted { after } => {
                    report.encrypted += 1;
                    report.bytes_before += info.size;
                    report.bytes_after += after;
                    t.snapshot.encrypted += 1;
                }
                Done::AlreadyEncrypted => {
                    report.already_encrypted += 1;
                    t.snapshot.skipped += 1;
                }
                Done::Skipped(reason) => {
                    report.skipped.push(Skipped {
                        id: info.id.clone(),
                        subject: info.subject.clone(),
                        reason,
                    });
                    t.snapshot.skipped += 1;
                }
                Done::Failed { code, reason } => {
                    report.failed.push(Failed {
                        id: info.id.clone(),
                        subject: info.subject.clone(),
                        code,
                        reason,
                    });
                    t.snapshot.failed += 1;
                }
                Done::Again(_) => return,
            }
            t.finished_one(info.size);
        }
        self.notify();
    }

    /// A dry run: what would be encrypted, and the space it would take.
    async fn plan(&self, todo: Vec<EmailInfo>, mailboxes: &[Mailbox]) {
        let names: HashMap<&str, &str> = mailboxes
            .iter()
            .map(|m| (m.id.as_str(), m.name.as_str()))
            .collect();
        let looked: Vec<(EmailInfo, Result<bool, Error>)> = stream::iter(todo)
            .map(|info| async move {
                // Only the body can tell inline PGP; other types are decided by the header.
                let encrypted = if body_decides(&info) {
                    self.retrying(|| self.client.download(&info.blob_id, RFC822))
                        .await
                        .map(|raw| mailseal_core::is_encrypted(&raw))
                } else {
                    Ok(false)
                };
                (info, encrypted)
            })
            .buffer_unordered(self.requests)
            .collect()
            .await;
        for (info, encrypted) in looked {
            match encrypted {
                Ok(true) => self.record(&info, Done::AlreadyEncrypted),
                Ok(false) => {
                    let estimated = estimated_size(info.size);
                    {
                        let mut report = lock(&self.report);
                        report.planned_bytes += estimated;
                        report.planned.push(Planned {
                            id: info.id.clone(),
                            subject: info.subject.clone(),
                            mailboxes: info
                                .mailbox_ids
                                .iter()
                                .filter(|(_, on)| **on)
                                .map(|(id, _)| {
                                    names.get(id.as_str()).map_or(id.as_str(), |n| n).to_owned()
                                })
                                .collect(),
                            size: info.size,
                            estimated_size: estimated,
                        });
                    }
                    self.tracker().finished_one(info.size);
                    self.notify();
                }
                Err(e) => self.record(
                    &info,
                    Done::Failed {
                        code: e.code().to_owned(),
                        reason: e.to_string(),
                    },
                ),
            }
        }
    }

    /// One batch, steps 1 to 4.
    async fn batch(&self, batch: Vec<EmailInfo>) -> Result<Vec<(EmailInfo, Done)>, Error> {
        let mut out = Vec::new();
        // 1. Download, encrypt, upload.
        let prepared: Vec<Result<Prepared, (EmailInfo, Done)>> = stream::iter(batch)
            .map(|info| self.prepare(info))
            .buffer_unordered(self.requests)
            .collect()
            .await;
        let mut ready = Vec::new();
        for p in prepared {
            match p {
                Ok(p) => ready.push(p),
                Err(done) => out.push(done),
            }
        }
        if ready.is_empty() {
            return Ok(out);
        }

        // 2. Write ahead, then import.
        {
            let mut file = lock(&self.state);
            for p in &ready {
                file.state.pending.insert(
                    p.info.id.clone(),
                    Copy {
                        id: None,
                        size: p.copy.len() as u64,
                        sha256: sha256_hex(&p.copy),
                        received_at: p.info.received_at.clone(),
                        message_id: p.info.message_id.clone(),
                    },
                );
            }
        }
        self.save()?;
        let imports: Vec<Import> = ready
            .iter()
            .map(|p| Import {
                blob_id: p.upload.clone(),
                mailbox_ids: p.info.mailbox_ids.clone(),
                keywords: p.info.keywords.clone(),
                received_at: p.info.received_at.clone(),
            })
            .collect();
        // Only a refusal that says nothing was done is tried again here (429); after any
        // other failure the server may have imported some of the batch.
        let answers = match self
            .retrying(|| async {
                match self.client.import_emails(&imports).await {
                    Err(e @ Error::RateLimited { .. }) => Err(e),
                    Err(e) => Ok(Err(e)),
                    Ok(answers) => Ok(Ok(answers)),
                }
            })
            .await
        {
            Ok(Ok(answers)) => answers,
            Ok(Err(e)) | Err(e) => {
                out.extend(ready.into_iter().map(|p| (p.info, Done::Again(e.clone()))));
                return Ok(out);
            }
        };
        let mut imported = Vec::new();
        {
            let mut file = lock(&self.state);
            for (p, answer) in ready.into_iter().zip(answers) {
                match answer {
                    Ok(created) => {
                        if let Some(copy) = file.state.pending.get_mut(&p.info.id) {
                            copy.id = Some(created.id.clone());
                        }
                        imported.push(Imported {
                            prepared: p,
                            id: created.id,
                            blob_id: created.blob_id,
                        });
                    }
                    Err(refused) => {
                        file.state.pending.remove(&p.info.id);
                        let done = if refused.kind == "blobNotFound" {
                            // The upload expired before the import: upload it again.
                            Done::Again(Error::Set(refused))
                        } else {
                            let e = Error::Set(refused);
                            Done::Failed {
                                code: e.code().to_owned(),
                                reason: import_refusal(&e),
                            }
                        };
                        out.push((p.info, done));
                    }
                }
            }
        }
        self.save()?;

        // 3. Read back and verify.
        let checked: Vec<(Imported, Result<(), Done>)> = stream::iter(imported)
            .map(|i| async move {
                let verdict = self
                    .verify(
                        &i.prepared.info,
                        &i.prepared.original,
                        &i.prepared.copy,
                        &i.id,
                        &i.blob_id,
                    )
                    .await;
                (i, verdict)
            })
            .buffer_unordered(self.requests)
            .collect()
            .await;
        let mut verified = Vec::new();
        let mut bad_copies = Vec::new();
        for (i, verdict) in checked {
            match verdict {
                Ok(()) => verified.push(i),
                Err(done @ Done::Again(_)) => out.push((i.prepared.info, done)),
                Err(done) => {
                    // The copy is ours and wrong: it goes, the original stays.
                    bad_copies.push(i.id.clone());
                    lock(&self.state).state.pending.remove(&i.prepared.info.id);
                    out.push((i.prepared.info, done));
                }
            }
        }
        if !bad_copies.is_empty() {
            // If this fails the copies stay recorded nowhere but are plain duplicates of
            // encrypted content; the originals are untouched.
            let _ = self
                .retrying(|| self.client.destroy_emails(&bad_copies))
                .await;
            self.save()?;
        }

        // 4. Destroy the originals that have a verified copy.
        if verified.is_empty() {
            return Ok(out);
        }
        let originals: Vec<String> = verified
            .iter()
            .map(|i| i.prepared.info.id.clone())
            .collect();
        let refused = match self
            .retrying(|| self.client.destroy_emails(&originals))
            .await
        {
            Ok(refused) => refused,
            Err(e) => {
                out.extend(
                    verified
                        .into_iter()
                        .map(|i| (i.prepared.info, Done::Again(e.clone()))),
                );
                return Ok(out);
            }
        };
        let mut duplicates = Vec::new();
        {
            let mut file = lock(&self.state);
            for i in verified {
                let orig = i.prepared.info.id.clone();
                match refused.get(&orig) {
                    None => {
                        if let Some(copy) = file.state.pending.remove(&orig) {
                            file.state.done.insert(orig, copy);
                        }
                        let after = i.prepared.copy.len() as u64;
                        out.push((i.prepared.info, Done::Encrypted { after }));
                    }
                    Some(refusal) => {
                        // The original cannot go: the copy must not stay beside it.
                        file.state.pending.remove(&orig);
                        duplicates.push(i.id.clone());
                        let e = Error::Set(refusal.clone());
                        out.push((
                            i.prepared.info,
                            Done::Failed {
                                code: e.code().to_owned(),
                                reason: format!("the original could not be removed: {e}"),
                            },
                        ));
                    }
                }
            }
        }
        if !duplicates.is_empty() {
            let _ = self
                .retrying(|| self.client.destroy_emails(&duplicates))
                .await;
        }
        self.save()?;
        Ok(out)
    }

    /// Step 1 for one message.
    async fn prepare(&self, info: EmailInfo) -> Result<Prepared, (EmailInfo, Done)> {
        let original = match self
            .retrying(|| self.client.download(&info.blob_id, RFC822))
            .await
        {
            Ok(raw) => raw,
            Err(e) => return Err((info, again_or_failed(e))),
        };
        // `encrypt` itself tells an encrypted message (Outcome::AlreadyEncrypted) and returns
        // it untouched: no second detection here.
        let encrypted = {
            let Ok(_permit) = self.cpu.acquire().await else {
                return Err((info, Done::Again(Error::protocol("the job was stopped"))));
            };
            let recipients = Arc::clone(&self.recipients);
            let options = self.encrypt;
            let raw = original.clone();
            tokio::task::spawn_blocking(move || mailseal_core::encrypt(&raw, &recipients, &options))
                .await
        };
        let copy = match encrypted {
            Ok(Ok(m)) if m.outcome == Outcome::AlreadyEncrypted => {
                return Err((info, Done::AlreadyEncrypted));
            }
            Ok(Ok(m)) => Bytes::from(m.message),
            Ok(Err(e)) => {
                return Err((info, Done::Skipped(format!("it cannot be encrypted: {e}"))));
            }
            Err(e) => {
                return Err((
                    info,
                    Done::Failed {
                        code: "jmap.encrypt_existing.internal".into(),
                        reason: format!("encryption stopped: {e}"),
                    },
                ));
            }
        };
        let max = self.client.session().limits.max_size_upload;
        if copy.len() as u64 > max {
            return Err((
                info,
                Done::Skipped(format!(
                    "its encrypted copy ({} bytes) is larger than the server takes in one upload \
                     ({max} bytes)",
                    copy.len()
                )),
            ));
        }
        let uploaded = {
            let Ok(_permit) = self.uploads.acquire().await else {
                return Err((info, Done::Again(Error::protocol("the job was stopped"))));
            };
            self.retrying(|| self.client.upload(copy.clone(), RFC822))
                .await
        };
        match uploaded {
            Ok(up) => Ok(Prepared {
                info,
                original,
                copy,
                upload: up.blob_id,
            }),
            Err(e) => Err((info, again_or_failed(e))),
        }
    }

    /// Step 3 for one copy: the bytes the server gives back are the bytes sent, they are
    /// encrypted to exactly the configured recipients, and (with a key) they decrypt to the
    /// original; the copy has the original's mailboxes, keywords and `receivedAt`.
    async fn verify(
        &self,
        original: &EmailInfo,
        original_bytes: &Bytes,
        sent: &Bytes,
        copy_id: &str,
        copy_blob: &str,
    ) -> Result<(), Done> {
        let back = self
            .retrying(|| self.client.download(copy_blob, RFC822))
            .await
            .map_err(again_or_failed)?;
        let bad = |reason: String| Done::Failed {
            code: VERIFY.into(),
            reason,
        };
        if back != *sent {
            return Err(bad("the server stored other bytes than were sent".into()));
        }
        self.check_copy(&back, Some(original_bytes))
            .await
            .map_err(bad)?;
        let ids = [copy_id.to_owned()];
        let got = self
            .retrying(|| self.client.emails(&ids))
            .await
            .map_err(again_or_failed)?;
        let Some(copy) = got.first() else {
            return Err(Done::Again(Error::protocol("the copy is not listed yet")));
        };
        if copy.mailbox_ids != original.mailbox_ids
            || copy.keywords != original.keywords
            || copy.received_at != original.received_at
        {
            return Err(bad(
                "the copy did not keep the original's mailboxes, keywords or date".into(),
            ));
        }
        Ok(())
    }

    /// The checks of a copy's bytes that need no server: encrypted to exactly the
    /// configured recipients, and with a key, decrypting to `original`.
    async fn check_copy(&self, copy: &Bytes, original: Option<&Bytes>) -> Result<(), String> {
        let recipients = Arc::clone(&self.recipients);
        let algorithm = self.encrypt.algorithm;
        let key = self.options.verify_key.clone();
        let copy = copy.clone();
        let original = original.cloned();
        let _permit = self.cpu.acquire().await.map_err(|e| e.to_string())?;
        tokio::task::spawn_blocking(move || -> Result<(), String> {
            let addressed = mailseal_core::encrypted_for(&copy)
                .map_err(|e| format!("the copy cannot be read as an encrypted message: {e}"))?;
            if !addressed.is_exactly(&recipients) {
                return Err("the copy is not encrypted to exactly the configured key".into());
            }
            if addressed.algorithm.is_some_and(|a| a != algorithm) {
                return Err("the copy is not encrypted with the configured algorithm".into());
            }
            if let (Some(key), Some(original)) = (key, original) {
                let plain = mailseal_core::decrypt(&copy, &key)
                    .map_err(|e| format!("the copy does not decrypt with the key given: {e}"))?;
                if !same_message(&plain, &original) {
                    return Err("the copy does not decrypt to the original".into());
                }
            }
            Ok(())
        })
        .await
        .map_err(|e| e.to_string())?
    }

    /// Finishes what an interrupted run left under way and removes the duplicates it left.
    async fn reconcile(&self, emails: &mut Vec<EmailInfo>) -> Result<(), Error> {
        let (pending, done) = {
            let file = lock(&self.state);
            (file.state.pending.clone(), file.state.done.clone())
        };
        if pending.is_empty() && done.is_empty() {
            return Ok(());
        }
        // Candidates by (size, receivedAt): copies are found by what they look like.
        let mut by_shape: HashMap<(u64, &str), Vec<&EmailInfo>> = HashMap::new();
        for e in emails.iter() {
            by_shape
                .entry((e.size, e.received_at.as_str()))
                .or_default()
                .push(e);
        }
        let present: HashMap<&str, &EmailInfo> =
            emails.iter().map(|e| (e.id.as_str(), e)).collect();
        let mut destroy_duplicates: Vec<String> = Vec::new();
        let mut destroy_originals: Vec<String> = Vec::new();
        let mut finished: Vec<(String, Copy)> = Vec::new();
        let mut dropped: Vec<String> = Vec::new();

        let all: Vec<(&String, &Copy, bool)> = pending
            .iter()
            .map(|(o, c)| (o, c, true))
            .chain(done.iter().map(|(o, c)| (o, c, false)))
            .collect();
        for (orig, copy, is_pending) in all {
            let candidates: Vec<&EmailInfo> = by_shape
                .get(&(copy.size, copy.received_at.as_str()))
                .map(|v| {
                    v.iter()
                        .copied()
                        .filter(|e| &e.id != orig && e.message_id == copy.message_id)
                        .collect()
                })
                .unwrap_or_default();
            if !is_pending && candidates.iter().all(|e| Some(&e.id) == copy.id.as_ref()) {
                continue;
            }
            let mut matches: Vec<(&EmailInfo, Bytes)> = Vec::new();
            for e in candidates {
                let bytes = self
                    .retrying(|| self.client.download(&e.blob_id, RFC822))
                    .await?;
                if sha256_hex(&bytes) == copy.sha256 {
                    matches.push((e, bytes));
                }
            }
            let keep = matches
                .iter()
                .position(|(e, _)| Some(&e.id) == copy.id.as_ref())
                .or(if matches.is_empty() { None } else { Some(0) });
            for (i, (e, _)) in matches.iter().enumerate() {
                if Some(i) != keep {
                    destroy_duplicates.push(e.id.clone());
                }
            }
            if !is_pending {
                continue;
            }
            let Some(keep) = keep.and_then(|k| matches.get(k)) else {
                // No copy was made: the message is done again from the start.
                dropped.push(orig.clone());
                continue;
            };
            let (kept, bytes) = keep;
            let mut record = copy.clone();
            record.id = Some(kept.id.clone());
            match present.get(orig.as_str()) {
                None => finished.push((orig.clone(), record)),
                Some(original) => {
                    let original_bytes = if self.options.verify_key.is_some() {
                        Some(
                            self.retrying(|| self.client.download(&original.blob_id, RFC822))
                                .await?,
                        )
                    } else {
                        None
                    };
                    let same_place = kept.mailbox_ids == original.mailbox_ids
                        && kept.keywords == original.keywords;
                    if same_place
                        && self
                            .check_copy(bytes, original_bytes.as_ref())
                            .await
                            .is_ok()
                    {
                        destroy_originals.push(orig.clone());
                        finished.push((orig.clone(), record));
                    } else {
                        // Not a copy to trust: remove it, and do the original again.
                        destroy_duplicates.push(kept.id.clone());
                        dropped.push(orig.clone());
                    }
                }
            }
        }

        if !destroy_duplicates.is_empty() {
            let refused = self
                .retrying(|| self.client.destroy_emails(&destroy_duplicates))
                .await?;
            let removed = destroy_duplicates.len() - refused.len();
            lock(&self.report).duplicates_removed += removed as u64;
        }
        let refused = if destroy_originals.is_empty() {
            BTreeMap::new()
        } else {
            self.retrying(|| self.client.destroy_emails(&destroy_originals))
                .await?
        };
        {
            let mut file = lock(&self.state);
            for orig in &dropped {
                file.state.pending.remove(orig);
            }
            for (orig, record) in finished {
                if refused.contains_key(&orig) {
                    continue;
                }
                file.state.pending.remove(&orig);
                file.state.done.insert(orig, record);
                lock(&self.report).resumed += 1;
            }
        }
        self.save()?;
        let gone: HashSet<&String> = destroy_duplicates
            .iter()
            .chain(
                destroy_originals
                    .iter()
                    .filter(|o| !refused.contains_key(*o)),
            )
            .collect();
        emails.retain(|e| !gone.contains(&e.id));
        Ok(())
    }
}

/// What to do with a message after `e`: look again in the next pass when it may pass.
fn again_or_failed(e: Error) -> Done {
    if e.is_transient() {
        Done::Again(e)
    } else {
        Done::Failed {
            code: e.code().to_owned(),
            reason: e.to_string(),
        }
    }
}

/// An `Email/import` refusal in words, with what the user can do.
fn import_refusal(e: &Error) -> String {
    if e.code() == "jmap.set.over_quota" {
        format!(
            "{e}: the account's disk quota is full; while a message and its copy both exist \
             it counts twice, so free some space or ask for a larger quota"
        )
    } else {
        e.to_string()
    }
}

/// Whether `decrypted` is `original` as mailseal stores it: byte for byte, or with the
/// changes encryption makes to a message that is not in canonical form — line ends made
/// CRLF, the `Content-*` fields moved after the others (they travel inside the encrypted
/// part), a missing `MIME-Version: 1.0` added. The body must be the same bytes.
fn same_message(decrypted: &[u8], original: &[u8]) -> bool {
    if decrypted == original {
        return true;
    }
    let canonical = crlf(original);
    let (want_head, want_body) = split(&canonical);
    let (got_head, got_body) = split(decrypted);
    if want_body != got_body {
        return false;
    }
    let mut want = fields(want_head);
    let mut got = fields(got_head);
    let is_version = |f: &&[u8]| {
        f.split(|b| *b == b':')
            .next()
            .is_some_and(|n| n.eq_ignore_ascii_case(b"mime-version"))
    };
    if !want.iter().any(is_version)
        && let Some(p) = got.iter().position(|f| *f == b"MIME-Version: 1.0\r\n")
    {
        got.remove(p);
    }
    want.sort_unstable();
    got.sort_unstable();
    want == got
}

/// `data` with every bare line feed made CRLF.
fn crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    let mut previous = 0u8;
    for &b in data {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
    out
}

/// The header (with its last CRLF) and the body of a CRLF message.
fn split(message: &[u8]) -> (&[u8], &[u8]) {
    match message.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(p) => (
            message.get(..p + 2).unwrap_or_default(),
            message.get(p + 4..).unwrap_or_default(),
        ),
        None => (message, &[]),
    }
}

/// The header fields, each with its continuation lines.
fn fields(head: &[u8]) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in head.split_inclusive(|b| *b == b'\n') {
        if pos > start && !line.starts_with(b" ") && !line.starts_with(b"\t") {
            out.push(head.get(start..pos).unwrap_or_default());
            start = pos;
        }
        pos += line.len();
    }
    if pos > start {
        out.push(head.get(start..pos).unwrap_or_default());
    }
    out
}

/// Whether the top-level `Content-Type` alone shows the message is encrypted.
fn header_says_encrypted(info: &EmailInfo) -> bool {
    info.content_type.as_deref().is_some_and(|ct| {
        let head = format!("Content-Type:{ct}\r\n\r\n");
        mailseal_core::is_encrypted(head.as_bytes())
    })
}

/// Whether only the body can tell (inline PGP in a text part, CMS without `smime-type`).
fn body_decides(info: &EmailInfo) -> bool {
    let Some(ct) = info.content_type.as_deref() else {
        return true;
    };
    let ct = ct.trim().to_ascii_lowercase();
    ct.starts_with("text/")
        || ct.starts_with("application/pkcs7-mime")
        || ct.starts_with("application/x-pkcs7-mime")
        || ct.starts_with("application/octet-stream")
}

/// About the size of a message of `size` bytes once encrypted: base64 with line breaks
/// (4/3 and 2 bytes in 78), plus the recipients and headers.
fn estimated_size(size: u64) -> u64 {
    size.saturating_mul(4) / 3 * 78 / 76 + 2048
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(content_type: Option<&str>) -> EmailInfo {
        EmailInfo {
            id: "m1".into(),
            blob_id: "b1".into(),
            thread_id: None,
            mailbox_ids: BTreeMap::new(),
            keywords: BTreeMap::new(),
            received_at: "2026-11-22T06:07:13Z".into(),
            size: 100,
            message_id: None,
            subject: None,
            content_type: content_type.map(str::to_owned),
        }
    }

    #[test]
    fn the_header_tells_encrypted_mail_apart() {
        assert!(header_says_encrypted(&info(Some(
            " multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=x"
        ))));
        assert!(header_says_encrypted(&info(Some(
            " application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m"
        ))));
        assert!(!header_says_encrypted(&info(Some(" text/plain"))));
        assert!(!header_says_encrypted(&info(None)));
        assert!(body_decides(&info(Some(" text/plain; charset=utf-8"))));
        assert!(body_decides(&info(None)));
        assert!(!body_decides(&info(Some(" multipart/mixed; boundary=x"))));
    }

    #[test]
    fn a_decrypted_message_is_the_original_in_stored_form() {
        let original = b"From: a@b\nSubject: unix\n\nline one\nline two\n";
        let stored =
            b"From: a@b\r\nSubject: unix\r\nMIME-Version: 1.0\r\n\r\nline one\r\nline two\r\n";
        assert!(same_message(stored, original));
        assert!(same_message(original, original));
        assert!(!same_message(
            b"From: a@b\r\nSubject: unix\r\n\r\nline one\r\n",
            original
        ));
        let moved = b"Content-Type: text/plain\r\nSubject: x\r\n\r\nbody\r\n";
        assert!(same_message(
            b"Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nbody\r\n",
            moved
        ));
        assert!(!same_message(
            b"Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\nbody\r\n",
            moved
        ));
        let canonical = b"MIME-Version: 1.0\r\nSubject: x\r\n\r\nbody\r\n";
        assert!(same_message(canonical, canonical));
        assert!(!same_message(
            b"MIME-Version: 1.0\r\nSubject: y\r\n\r\nbody\r\n",
            canonical
        ));
    }

    #[test]
    fn the_estimate_covers_base64() {
        assert!(estimated_size(3000) > 4000);
        assert_eq!(estimated_size(0), 2048);
    }
}
