//! The server's clock, which tests may shift or freeze.
//!
//! Everything time-dependent (TOTP codes, `createdAt`, expiry checks, the OpenPGP
//! "alive" check of uploaded keys) reads this clock, never the system time directly.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A clock: the system time plus an offset, or a frozen instant.
#[derive(Debug, Default)]
pub struct Clock {
    inner: Mutex<ClockSetting>,
}

#[derive(Clone, Copy, Debug, Default)]
struct ClockSetting {
    offset_secs: i64,
    frozen: Option<SystemTime>,
}

impl Clock {
    /// The current server time.
    pub fn now(&self) -> SystemTime {
        let setting = self.setting();
        if let Some(frozen) = setting.frozen {
            return frozen;
        }
        shift(SystemTime::now(), setting.offset_secs)
    }

    /// The current server time in seconds since the Unix epoch.
    pub fn unix(&self) -> i64 {
        unix_seconds(self.now())
    }

    /// The current server time in milliseconds since the Unix epoch (upload windows).
    pub fn unix_millis(&self) -> i64 {
        match self.now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
        }
    }

    /// Runs the clock `secs` seconds ahead of (or, if negative, behind) the system time.
    /// Unfreezes a frozen clock.
    pub fn set_offset(&self, secs: i64) {
        if let Ok(mut setting) = self.inner.lock() {
            setting.offset_secs = secs;
            setting.frozen = None;
        }
    }

    /// Stops the clock at `at` until [`Clock::set_offset`] or [`Clock::unfreeze`].
    pub fn freeze(&self, at: SystemTime) {
        if let Ok(mut setting) = self.inner.lock() {
            setting.frozen = Some(at);
        }
    }

    /// Lets a frozen clock run again (with the last offset).
    pub fn unfreeze(&self) {
        if let Ok(mut setting) = self.inner.lock() {
            setting.frozen = None;
        }
    }

    fn setting(&self) -> ClockSetting {
        self.inner.lock().map(|s| *s).unwrap_or_default()
    }
}

/// `t` shifted by `secs` seconds.
pub fn shift(t: SystemTime, secs: i64) -> SystemTime {
    let magnitude = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        t.checked_add(magnitude).unwrap_or(t)
    } else {
        t.checked_sub(magnitude).unwrap_or(t)
    }
}

/// Seconds since the Unix epoch (negative before it).
pub fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_and_freeze() {
        let clock = Clock::default();
        let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        clock.freeze(at);
        assert_eq!(clock.unix(), 1_800_000_000);
        clock.set_offset(-3600);
        let now = unix_seconds(SystemTime::now());
        assert!((clock.unix() - (now - 3600)).abs() <= 2);
    }
}
