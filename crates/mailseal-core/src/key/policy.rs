//! The rules a key is checked against, and the time it is checked at.
//!
//! A [`Policy`] is always passed in: nothing in this crate reads the clock on its own except
//! through [`Policy::time`], which falls back to "now" only when no time was fixed.

use std::time::{Duration, SystemTime};

/// Thirty days: keys that stop working within this window get a warning.
pub const DEFAULT_EXPIRY_WARNING: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Rules for accepting a key as an encryption-at-rest recipient.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use mailseal_core::Policy;
///
/// let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
/// let policy = Policy::standard().at(at).with_email("alice@example.org");
/// assert_eq!(policy.time(), at);
/// assert_eq!(policy.email(), Some("alice@example.org"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    time: Option<SystemTime>,
    email: Option<String>,
    expiry_warning: Duration,
    min_rsa_bits: u32,
    max_rsa_bits: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::standard()
    }
}

impl Policy {
    /// The standard rules: RSA from 2048 to 8192 bits, a warning 30 days before expiry,
    /// Sequoia's `StandardPolicy` for OpenPGP, evaluated at the current time.
    pub const fn standard() -> Self {
        Policy {
            time: None,
            email: None,
            expiry_warning: DEFAULT_EXPIRY_WARNING,
            min_rsa_bits: 2048,
            max_rsa_bits: 8192,
        }
    }

    /// Evaluates the key at `time` instead of now.
    pub fn at(mut self, time: SystemTime) -> Self {
        self.time = Some(time);
        self
    }

    /// The address the key should belong to: picks the matching certificates of a keyring and
    /// warns when a single key does not carry it.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Warns when a key stops working within `window` of the evaluation time.
    pub fn with_expiry_warning(mut self, window: Duration) -> Self {
        self.expiry_warning = window;
        self
    }

    /// The evaluation time: the fixed time, or now.
    pub fn time(&self) -> SystemTime {
        self.time.unwrap_or_else(SystemTime::now)
    }

    /// The address the key should belong to, if any.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// How long before expiry a warning is given.
    pub fn expiry_warning(&self) -> Duration {
        self.expiry_warning
    }

    /// The smallest RSA modulus accepted, in bits.
    pub fn min_rsa_bits(&self) -> u32 {
        self.min_rsa_bits
    }

    /// The largest RSA modulus accepted, in bits (a bound against denial of service).
    pub fn max_rsa_bits(&self) -> u32 {
        self.max_rsa_bits
    }

    /// Returns a copy with the evaluation time fixed, so that one validation sees one "now".
    pub(crate) fn pinned(&self) -> Policy {
        let mut p = self.clone();
        p.time = Some(self.time());
        p
    }

    /// Whether `addr` matches the policy's address (ASCII case-insensitive); `true` when no
    /// address was given.
    pub(crate) fn email_matches<'a>(&self, mut addrs: impl Iterator<Item = &'a str>) -> bool {
        match &self.email {
            None => true,
            Some(want) => addrs.any(|a| a.trim().eq_ignore_ascii_case(want.trim())),
        }
    }
}
