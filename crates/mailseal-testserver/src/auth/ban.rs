//! Opt-in brute-force protection (Stalwart's "fail2ban" for authentication).
//!
//! Off by default, because the recorded server allow-listed 127.0.0.1. When on, failed
//! logins (wrong password, wrong app password, unknown account, disallowed address) and
//! wrong current passwords in `x:AccountPassword/set` are counted per client address; the
//! failure that reaches the limit is answered 429 (or `serverUnavailable` inside JMAP) and
//! the address is banned: every later request from it gets 403, as a blocked address does
//! on the real server.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Mutex;

use crate::config::AuthBanConfig;

/// Failure counters and banned addresses.
#[derive(Debug, Default)]
pub struct AuthBan {
    config: Option<AuthBanConfig>,
    state: Mutex<BanState>,
}

#[derive(Debug, Default)]
struct BanState {
    failures: HashMap<IpAddr, Vec<i64>>,
    banned: HashSet<IpAddr>,
}

impl AuthBan {
    /// Protection with the given settings (`None` disables it).
    pub fn new(config: Option<AuthBanConfig>) -> Self {
        Self {
            config,
            state: Mutex::default(),
        }
    }

    /// Whether the protection is on.
    pub fn is_enabled(&self) -> bool {
        self.config.is_some()
    }

    /// Whether `ip` is banned.
    pub fn is_banned(&self, ip: IpAddr) -> bool {
        self.state
            .lock()
            .map(|state| state.banned.contains(&ip))
            .unwrap_or(false)
    }

    /// Counts one failure from `ip` at `now`; `true` when this failure trips the ban.
    pub fn record_failure(&self, ip: IpAddr, now: i64) -> bool {
        let Some(config) = self.config else {
            return false;
        };
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        let window = i64::try_from(config.window_secs).unwrap_or(i64::MAX);
        let failures = state.failures.entry(ip).or_default();
        failures.retain(|t| now.saturating_sub(*t) < window);
        failures.push(now);
        let count = failures.len();
        if count > usize::try_from(config.max_failures).unwrap_or(usize::MAX) {
            state.failures.remove(&ip);
            state.banned.insert(ip);
            true
        } else {
            false
        }
    }

    /// Lifts every ban and forgets every failure.
    pub fn reset(&self) {
        if let Ok(mut state) = self.state.lock() {
            *state = BanState::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trips_after_the_limit_and_stays_banned() {
        let ban = AuthBan::new(Some(AuthBanConfig {
            max_failures: 2,
            window_secs: 60,
        }));
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        assert!(!ban.record_failure(ip, 100));
        assert!(!ban.record_failure(ip, 101));
        assert!(ban.record_failure(ip, 102));
        assert!(ban.is_banned(ip));
        ban.reset();
        assert!(!ban.is_banned(ip));
    }

    #[test]
    fn old_failures_fall_out_of_the_window() {
        let ban = AuthBan::new(Some(AuthBanConfig {
            max_failures: 1,
            window_secs: 10,
        }));
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        assert!(!ban.record_failure(ip, 0));
        assert!(!ban.record_failure(ip, 20));
        assert!(ban.record_failure(ip, 21));
    }

    #[test]
    fn disabled_never_bans() {
        let ban = AuthBan::new(None);
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        for t in 0..100 {
            assert!(!ban.record_failure(ip, t));
        }
    }
}
