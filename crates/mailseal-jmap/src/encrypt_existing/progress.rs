//! What a run tells its caller while it works.

use std::time::{Duration, Instant, SystemTime};

/// What the job is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Reading the list of messages.
    Listing,
    /// Finishing what an interrupted run left under way.
    Reconciling,
    /// Encrypting and replacing messages.
    Encrypting,
    /// Waiting for the server (upload quota, 429, 5xx) until [`Progress::waiting_until`].
    Waiting,
    /// Done.
    Finished,
}

/// A snapshot of a run's progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// What the job is doing.
    pub phase: Phase,
    /// Messages to look at in this run (after the filters).
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
    /// Bytes per second over the run so far.
    pub rate: f64,
    /// The time left at the current rate, once it can be told.
    pub eta: Option<Duration>,
    /// Until when the job waits for the server, while [`Phase::Waiting`].
    pub waiting_until: Option<SystemTime>,
    /// Why the job waits, in words (e.g. the upload quota and the setting that raises it).
    pub waiting_for: Option<String>,
}

/// Keeps the counts and computes rate and ETA.
#[derive(Debug)]
pub(crate) struct Tracker {
    pub(crate) snapshot: Progress,
    started: Instant,
    /// Time spent waiting for the server, left out of the rate.
    waited: Duration,
}

impl Tracker {
    pub(crate) fn new() -> Tracker {
        Tracker {
            snapshot: Progress {
                phase: Phase::Listing,
                total: 0,
                done: 0,
                encrypted: 0,
                skipped: 0,
                failed: 0,
                bytes_total: 0,
                bytes_done: 0,
                rate: 0.0,
                eta: None,
                waiting_until: None,
                waiting_for: None,
            },
            started: Instant::now(),
            waited: Duration::ZERO,
        }
    }

    /// A message of `size` bytes is dealt with.
    pub(crate) fn finished_one(&mut self, size: u64) {
        let s = &mut self.snapshot;
        s.done += 1;
        s.bytes_done += size;
        let working = self.started.elapsed().saturating_sub(self.waited);
        let secs = working.as_secs_f64();
        if secs > 0.0 {
            s.rate = s.bytes_done as f64 / secs;
        }
        s.eta = if s.rate > 0.0 && s.bytes_done > 0 {
            let left = s.bytes_total.saturating_sub(s.bytes_done) as f64;
            Some(Duration::from_secs_f64(left / s.rate))
        } else {
            None
        };
    }

    /// The job waits `delay` for `why`.
    pub(crate) fn waiting(&mut self, delay: Duration, why: String) {
        self.waited += delay;
        self.snapshot.phase = Phase::Waiting;
        self.snapshot.waiting_until = Some(SystemTime::now() + delay);
        self.snapshot.waiting_for = Some(why);
    }

    /// The wait is over.
    pub(crate) fn resumed(&mut self, phase: Phase) {
        self.snapshot.phase = phase;
        self.snapshot.waiting_until = None;
        self.snapshot.waiting_for = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_follows_the_rate() {
        let mut t = Tracker::new();
        t.snapshot.bytes_total = 1000;
        assert_eq!(t.snapshot.eta, None);
        std::thread::sleep(Duration::from_millis(20));
        t.finished_one(500);
        assert!(t.snapshot.rate > 0.0);
        let eta = t.snapshot.eta.unwrap();
        assert!(
            eta > Duration::ZERO && eta < Duration::from_secs(1),
            "{eta:?}"
        );
        t.finished_one(500);
        assert_eq!(t.snapshot.eta, Some(Duration::ZERO));
        assert_eq!(t.snapshot.done, 2);
    }
}
