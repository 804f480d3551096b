//! The state shared by every request of one server.

use std::sync::{Mutex, MutexGuard};

use crate::auth::ban::AuthBan;
use crate::auth::oauth::OAuthStore;
use crate::clock::Clock;
use crate::config::{Config, ServerVersion};
use crate::directory::Directory;
use crate::rest::store::Store;

/// Configuration, clock and stored state of a running server.
pub struct Shared {
    /// The configuration the server started with.
    pub config: Config,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The server clock.
    pub clock: Clock,
    /// Accounts, credentials, keys.
    pub directory: Mutex<Directory>,
    /// Brute-force protection.
    pub ban: AuthBan,
    /// OAuth codes (and, later, tokens).
    pub oauth: OAuthStore,
    /// The principals of 0.15 mode (secrets, encryption at rest); empty in 0.16 mode.
    pub rest: Mutex<Store>,
    /// Mailboxes, e-mails and uploads (lock after the directory when both are needed).
    pub mail: Mutex<crate::mail::Store>,
    /// Injected faults and the log of arrived requests.
    pub faults: crate::faults::Faults,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The configuration and the directory hold passwords: leave them out.
        f.debug_struct("Shared")
            .field("base_url", &self.base_url)
            .field("version", &self.config.version)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Builds the state for `config`, reachable at `base_url`.
    pub fn new(config: Config, base_url: String) -> Self {
        let clock = Clock::default();
        if config.clock_offset_secs != 0 {
            clock.set_offset(config.clock_offset_secs);
        }
        let directory = Directory::from_config(&config);
        let rest = if config.version == ServerVersion::V0_15 {
            Store::from_config(&config, &directory)
        } else {
            Store::default()
        };
        Self {
            directory: Mutex::new(directory),
            rest: Mutex::new(rest),
            mail: Mutex::new(crate::mail::Store::default()),
            faults: crate::faults::Faults::default(),
            ban: AuthBan::new(config.auth_ban),
            oauth: OAuthStore::default(),
            clock,
            base_url,
            config,
        }
    }

    /// Locks the directory. A poisoned lock (a panic in another request) is recovered:
    /// the state is plain data and stays usable.
    pub fn directory(&self) -> MutexGuard<'_, Directory> {
        self.directory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Locks the mail store (poisoning recovered as for the directory).
    pub fn mail(&self) -> MutexGuard<'_, crate::mail::Store> {
        self.mail
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Locks the 0.15 principals (poisoning recovered as for the directory).
    pub fn rest(&self) -> MutexGuard<'_, Store> {
        self.rest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
