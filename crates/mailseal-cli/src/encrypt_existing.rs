//! `mailseal account … encrypt-existing`: retroactive encryption of the mail already in the
//! account, through mailseal-jmap's job (`Client::encrypt_existing`).
//!
//! The progress line goes to stderr when it is a terminal (redrawn at most ten times a
//! second); the report goes to stdout, for people or, with `--json`, as the facade's
//! `EncryptReport` record. Exit status: 0 complete, 1 some messages failed or the run
//! paused, 2 error (as everywhere).

use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use mailseal_api as api;
use mailseal_jmap::Client;
use mailseal_jmap::encrypt_existing::{EncryptExistingOptions, Phase, Progress};

use crate::args::EncryptExistingArgs;
use crate::input::{read_secret, write_error};
use crate::{CliError, Status};

/// Planned messages a dry run lists (the JSON has them all).
const PLAN_SHOWN: usize = 20;
/// The shortest time between two redraws of the progress line.
const REDRAW: Duration = Duration::from_millis(100);
/// Cells of the bar itself.
const BAR_WIDTH: u64 = 24;

/// `mailseal account … encrypt-existing`
pub(crate) async fn run(
    json_mode: bool,
    args: &EncryptExistingArgs,
    client: &Client,
) -> Result<Status, CliError> {
    let options = options(args)?;
    let bar = io::stderr()
        .is_terminal()
        .then(|| Arc::new(Mutex::new(Bar::default())));
    let progress = {
        let bar = bar.clone();
        move |p: &Progress| {
            if let Some(bar) = &bar {
                bar.lock().unwrap_or_else(PoisonError::into_inner).update(p);
            }
        }
    };
    let result = client
        .encrypt_existing(&args.state, &options, &progress)
        .await;
    if let Some(bar) = &bar {
        bar.lock().unwrap_or_else(PoisonError::into_inner).finish();
    }
    let report = api::EncryptReport::from(result?);
    let mut out = io::stdout().lock();
    if json_mode {
        serde_json::to_writer_pretty(&mut out, &report)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out))
            .map_err(write_error)?;
    } else {
        write_report(&mut out, &report).map_err(write_error)?;
    }
    Ok(if report.complete {
        Status::Success
    } else {
        Status::Failure
    })
}

/// mailseal-jmap's options from the arguments: the verify key read and checked first.
fn options(args: &EncryptExistingArgs) -> Result<EncryptExistingOptions, CliError> {
    let verify_key = match &args.verify_key {
        Some(path) => {
            let data = read_secret(path, mailseal_core::MAX_INPUT_LEN)?;
            let password = match &args.password_env {
                Some(var) => Some(zeroize::Zeroizing::new(std::env::var(var).map_err(
                    |_| CliError {
                        detail: None,
                        code: "cli.missing_env",
                        message: format!("the environment variable {var} is not set"),
                    },
                )?)),
                None => None,
            };
            let key = mailseal_core::PrivateKey::from_bytes(
                &data,
                password.as_deref().map(String::as_str),
            )?;
            Some(Arc::new(key))
        }
        None => None,
    };
    Ok(EncryptExistingOptions {
        mailboxes: args.mailbox.clone(),
        since: args.since,
        dry_run: args.dry_run,
        concurrency: args
            .concurrency
            .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX)),
        verify_key,
        max_wait: args.max_wait,
        ..EncryptExistingOptions::default()
    })
}

/// The progress line on stderr.
#[derive(Default)]
struct Bar {
    drawn: Option<Instant>,
    phase: Option<Phase>,
    /// Whether a line is on the screen (to end it with a newline).
    shown: bool,
}

impl Bar {
    fn update(&mut self, p: &Progress) {
        let due = self.drawn.is_none_or(|t| t.elapsed() >= REDRAW);
        if !due && self.phase == Some(p.phase) && p.phase != Phase::Finished {
            return;
        }
        self.drawn = Some(Instant::now());
        self.phase = Some(p.phase);
        let mut err = io::stderr().lock();
        // A terminal that went away is no reason to stop the run.
        let _ = write!(err, "\r{}\x1b[K", progress_line(p, SystemTime::now()));
        let _ = err.flush();
        self.shown = true;
    }

    fn finish(&mut self) {
        if self.shown {
            let _ = writeln!(io::stderr());
            self.shown = false;
        }
    }
}

/// One line: bar, counts, sizes, rate, ETA, or what the run waits for.
fn progress_line(p: &Progress, now: SystemTime) -> String {
    match p.phase {
        Phase::Listing => return "Listing the messages…".to_owned(),
        Phase::Reconciling => return "Looking for work an earlier run left under way…".to_owned(),
        _ => {}
    }
    let filled = (p.done.min(p.total) * BAR_WIDTH)
        .checked_div(p.total)
        .unwrap_or(BAR_WIDTH);
    let bar: String = (0..BAR_WIDTH)
        .map(|i| if i < filled { '#' } else { '-' })
        .collect();
    let mut line = format!(
        "[{bar}] {}/{} messages, {} of {}",
        p.done,
        p.total,
        mib(p.bytes_done),
        mib(p.bytes_total)
    );
    if p.rate > 0.0 {
        line.push_str(&format!(", {}/s", mib(p.rate as u64)));
    }
    if let Some(eta) = p.eta {
        line.push_str(&format!(", ETA {}", clock(eta)));
    }
    line.push_str(&format!(
        " (encrypted {}, skipped {}, failed {})",
        p.encrypted, p.skipped, p.failed
    ));
    if p.phase == Phase::Waiting {
        let why = p.waiting_for.as_deref().unwrap_or("the server");
        line.push_str(&format!(" — waiting for {why}"));
        if let Some(until) = p.waiting_until {
            let left = until.duration_since(now).unwrap_or_default();
            line.push_str(&format!(" until {} (in {})", utc_time(until), clock(left)));
        }
    }
    line
}

/// `HH:MM:SS UTC`.
fn utc_time(t: SystemTime) -> String {
    mailseal_core::time::format_rfc3339(t)
        .ok()
        .and_then(|s| s.get(11..19).map(|hms| format!("{hms} UTC")))
        .unwrap_or_else(|| "later".to_owned())
}

/// `H:MM:SS`.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// A size for people: `512 B`, `3.4 KiB`, `12.0 MiB`, `1.50 GiB`.
fn mib(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else if b < KIB * KIB * KIB {
        format!("{:.1} MiB", b / (KIB * KIB))
    } else {
        format!("{:.2} GiB", b / (KIB * KIB * KIB))
    }
}

fn subject(s: Option<&str>) -> String {
    s.map_or_else(|| "(no subject)".to_owned(), |s| format!("{s:?}"))
}

/// The report for people.
fn write_report(w: &mut impl Write, r: &api::EncryptReport) -> io::Result<()> {
    if r.dry_run {
        return write_plan(w, r);
    }
    writeln!(
        w,
        "Encrypted {} of {} messages examined ({} → {}) with {}.",
        r.encrypted,
        r.examined,
        mib(r.bytes_before),
        mib(r.bytes_after),
        r.encryption
    )?;
    if r.already_encrypted > 0 {
        writeln!(w, "Already encrypted: {}", r.already_encrypted)?;
    }
    if r.resumed > 0 {
        writeln!(
            w,
            "Finished from an earlier, interrupted run: {}",
            r.resumed
        )?;
    }
    if r.duplicates_removed > 0 {
        writeln!(
            w,
            "Duplicate copies an interruption left, removed: {}",
            r.duplicates_removed
        )?;
    }
    if !r.skipped.is_empty() {
        writeln!(w, "Skipped {} (left as they are):", r.skipped.len())?;
        for s in &r.skipped {
            writeln!(
                w,
                "  {} {}: {}",
                s.id,
                subject(s.subject.as_deref()),
                s.reason
            )?;
        }
    }
    if !r.failed.is_empty() {
        writeln!(
            w,
            "Failed {} (each still there, unchanged):",
            r.failed.len()
        )?;
        for f in &r.failed {
            writeln!(
                w,
                "  {} {}: {} [{}]",
                f.id,
                subject(f.subject.as_deref()),
                f.reason,
                f.code
            )?;
        }
    }
    if let Some(why) = &r.paused {
        writeln!(w, "Paused: {why}")?;
    }
    if r.complete {
        writeln!(
            w,
            "Done: every message examined is encrypted or was left on purpose."
        )
    } else {
        writeln!(
            w,
            "Not finished: run the same command again (same --state) to go on."
        )
    }
}

/// A dry run's plan for people.
fn write_plan(w: &mut impl Write, r: &api::EncryptReport) -> io::Result<()> {
    let now: u64 = r.planned.iter().map(|p| p.size).sum();
    writeln!(w, "Dry run: nothing was changed.")?;
    writeln!(
        w,
        "Would encrypt {} of {} messages examined with {}: {} now, about {} encrypted \
         (the originals are removed, so the account grows by about {}).",
        r.planned.len(),
        r.examined,
        r.encryption,
        mib(now),
        mib(r.planned_bytes),
        mib(r.planned_bytes.saturating_sub(now))
    )?;
    if r.already_encrypted > 0 {
        writeln!(w, "Already encrypted: {}", r.already_encrypted)?;
    }
    for p in r.planned.iter().take(PLAN_SHOWN) {
        writeln!(
            w,
            "  {} {} → {} {} [{}]",
            p.id,
            mib(p.size),
            mib(p.estimated_size),
            subject(p.subject.as_deref()),
            p.mailboxes.join(", ")
        )?;
    }
    if r.planned.len() > PLAN_SHOWN {
        writeln!(
            w,
            "  … and {} more (--json lists them all)",
            r.planned.len() - PLAN_SHOWN
        )?;
    }
    for s in &r.skipped {
        writeln!(
            w,
            "Would skip {} {}: {}",
            s.id,
            subject(s.subject.as_deref()),
            s.reason
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn progress(phase: Phase) -> Progress {
        Progress {
            phase,
            total: 10,
            done: 5,
            encrypted: 4,
            skipped: 1,
            failed: 0,
            bytes_total: 10 << 20,
            bytes_done: 5 << 20,
            rate: 1_048_576.0,
            eta: Some(Duration::from_secs(65)),
            waiting_until: None,
            waiting_for: None,
        }
    }

    #[test]
    fn the_progress_line_says_counts_sizes_rate_and_eta() {
        let line = progress_line(&progress(Phase::Encrypting), SystemTime::UNIX_EPOCH);
        assert_eq!(
            line,
            "[############------------] 5/10 messages, 5.0 MiB of 10.0 MiB, 1.0 MiB/s, \
             ETA 0:01:05 (encrypted 4, skipped 1, failed 0)"
        );
    }

    #[test]
    fn while_waiting_it_says_for_what_and_until_when() {
        let mut p = progress(Phase::Waiting);
        p.waiting_for = Some("the upload quota".into());
        p.waiting_until = Some(SystemTime::UNIX_EPOCH + Duration::from_secs(3600 + 90));
        let line = progress_line(&p, SystemTime::UNIX_EPOCH + Duration::from_secs(3600));
        assert!(
            line.ends_with("— waiting for the upload quota until 01:01:30 UTC (in 0:01:30)"),
            "{line}"
        );
    }

    #[test]
    fn reports_name_what_failed_and_what_to_do() {
        let report = api::EncryptReport {
            complete: false,
            encryption: "S/MIME AES-256-CBC".into(),
            examined: 3,
            encrypted: 1,
            bytes_before: 2048,
            bytes_after: 4096,
            failed: vec![api::FailedMessage {
                id: "m2".into(),
                subject: Some("Hello".into()),
                code: "jmap.encrypt_existing.verify".into(),
                reason: "the copy differs".into(),
            }],
            paused: Some("the upload quota".into()),
            ..api::EncryptReport::default()
        };
        let mut out = Vec::new();
        write_report(&mut out, &report).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(
            "Encrypted 1 of 3 messages examined (2.0 KiB → 4.0 KiB) with S/MIME AES-256-CBC."
        ));
        assert!(text.contains("  m2 \"Hello\": the copy differs [jmap.encrypt_existing.verify]"));
        assert!(text.contains("Paused: the upload quota"));
        assert!(text.ends_with("run the same command again (same --state) to go on.\n"));
    }

    #[test]
    fn a_plan_lists_the_first_messages_and_the_space() {
        let planned = (0..25)
            .map(|i| api::PlannedMessage {
                id: format!("m{i}"),
                subject: None,
                mailboxes: vec!["Inbox".into()],
                size: 1024,
                estimated_size: 2048,
            })
            .collect();
        let report = api::EncryptReport {
            complete: true,
            dry_run: true,
            encryption: "PGP/MIME".into(),
            examined: 25,
            planned,
            planned_bytes: 25 * 2048,
            ..api::EncryptReport::default()
        };
        let mut out = Vec::new();
        write_report(&mut out, &report).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Would encrypt 25 of 25 messages examined with PGP/MIME: 25.0 KiB now, about 50.0 KiB encrypted"));
        assert!(text.contains("  m19 1.0 KiB → 2.0 KiB (no subject) [Inbox]\n"));
        assert!(!text.contains("  m20 "));
        assert!(text.contains("… and 5 more"));
    }
}
