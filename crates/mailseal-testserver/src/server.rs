//! [`TestServer`]: a running server on 127.0.0.1, with accessors to inspect and seed its
//! state from Rust tests.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::SystemTime;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::tokens::{ApiKeyToken, AppPasswordToken};
use crate::auth::totp;
use crate::clock::unix_seconds;
use crate::config::{Config, UserConfig};
use crate::directory::{
    Account, Credential, CredentialPermissions, Directory, EncryptionAtRest, PublicKey,
    SecondaryCredential,
};
use crate::http::connection::{KillableListener, Peer};
use crate::http::router;
use crate::ids::{decode_id, encode_id};
use crate::state::Shared;

/// Errors of starting or seeding a server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listening socket could not be opened.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The requested port.
        port: u16,
        /// The cause.
        source: std::io::Error,
    },
    /// No account has this address.
    #[error("no account {0}")]
    UnknownUser(String),
    /// Seed data the server would not store.
    #[error("invalid seed: {0}")]
    InvalidSeed(String),
}

/// An app password or API key to add to an account directly (without JMAP).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CredentialSeed {
    /// The label.
    pub description: String,
    /// Expiry (Unix seconds).
    pub expires_at: Option<i64>,
    /// Allowed client addresses (IP or CIDR).
    pub allowed_ips: Vec<String>,
    /// What the credential may do.
    pub permissions: CredentialPermissions,
}

/// A public key to add to an account directly (without the upload checks).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PublicKeySeed {
    /// The key text, stored as given.
    pub key: String,
    /// The label.
    pub description: String,
    /// Address metadata.
    pub email_addresses: Vec<String>,
    /// A JMAP id to use (e.g. a recorded one); a new one when absent.
    pub id: Option<String>,
}

/// A Stalwart-compatible HTTP/JMAP server on an ephemeral 127.0.0.1 port.
///
/// ```no_run
/// # async fn demo() -> Result<(), mailseal_testserver::Error> {
/// use mailseal_testserver::{Config, TestServer};
///
/// let server = TestServer::start(Config::default()).await?;
/// let session_url = format!("{}/jmap/session", server.base_url());
/// # let _ = session_url;
/// server.stop().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TestServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server; returns once it is listening.
    pub async fn start(config: Config) -> Result<Self, Error> {
        let port = config.port;
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
            .await
            .map_err(|source| Error::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| Error::Bind { port, source })?;
        let shared = Arc::new(Shared::new(config, format!("http://{addr}")));
        let app = router(Arc::clone(&shared));
        let listener = KillableListener(listener);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app.into_make_service_with_connect_info::<Peer>())
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Self {
            shared,
            addr,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The configuration the server started with.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The shared state (for the accessors defined in other modules).
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Stops the server and waits until it has closed its socket.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    // ---- clock -------------------------------------------------------------------------

    /// The server's current time.
    pub fn now(&self) -> SystemTime {
        self.shared.clock.now()
    }

    /// Runs the server clock `secs` ahead of the system time (negative: behind); this
    /// moves the TOTP step, expiry checks and `createdAt`.
    pub fn set_clock_offset(&self, secs: i64) {
        self.shared.clock.set_offset(secs);
    }

    /// Stops the server clock at `at` (for TOTP tests near a step boundary).
    pub fn freeze_clock(&self, at: SystemTime) {
        self.shared.clock.freeze(at);
    }

    /// Lets a frozen clock run again.
    pub fn unfreeze_clock(&self) {
        self.shared.clock.unfreeze();
    }

    /// The TOTP code of `otp_url` at the server's time shifted by `step_offset` steps of
    /// the URL's period (30 s by default); works for URLs the server itself refuses.
    pub fn totp_code(&self, otp_url: &str, step_offset: i64) -> Option<String> {
        let period = 30;
        let t = unix_seconds(self.now()).saturating_add(step_offset.saturating_mul(period));
        totp::code_at(otp_url, u64::try_from(t).ok()?).ok()
    }

    /// Lifts every brute-force ban.
    pub fn reset_auth_bans(&self) {
        self.shared.ban.reset();
    }

    /// How many OAuth authorization codes `/api/auth` has issued and not yet used.
    pub fn oauth_code_count(&self) -> usize {
        self.shared.oauth.code_count()
    }

    /// How many OAuth access and refresh tokens of the account are still valid at the
    /// server's time (not expired, not revoked); 0 for an unknown account.
    pub fn oauth_active_tokens(&self, email: &str) -> usize {
        let Some(account_id) = self.shared.directory().account_id_by_login(email) else {
            return 0;
        };
        self.shared
            .oauth
            .active_tokens(account_id, self.shared.clock.unix())
    }

    /// Issues an OAuth access token and a refresh token for the account directly, as a
    /// successful `/auth/token` exchange would (lifetimes from [`Config::oauth`]); returns
    /// `(access_token, refresh_token)`.
    pub fn oauth_issue_tokens(&self, email: &str) -> Result<(String, String), Error> {
        use crate::auth::oauth::TokenKind;
        let (account_id, name) = {
            let dir = self.shared.directory();
            let id = dir
                .account_id_by_login(email)
                .ok_or_else(|| Error::UnknownUser(email.to_owned()))?;
            let name = dir
                .accounts
                .get(&id)
                .map(|account| dir.email_of(account))
                .ok_or_else(|| Error::UnknownUser(email.to_owned()))?;
            (id, name)
        };
        let now = self.shared.clock.unix();
        let ttl = self.shared.config.oauth;
        let oauth = &self.shared.oauth;
        Ok((
            oauth.issue_token(
                TokenKind::Access,
                account_id,
                &name,
                now,
                ttl.access_token_ttl_secs,
            ),
            oauth.issue_token(
                TokenKind::Refresh,
                account_id,
                &name,
                now,
                ttl.refresh_token_ttl_secs,
            ),
        ))
    }

    /// Revokes every OAuth access and refresh token of the account, as a password change
    /// does.
    pub fn oauth_revoke_tokens(&self, email: &str) -> Result<(), Error> {
        let account_id = self
            .shared
            .directory()
            .account_id_by_login(email)
            .ok_or_else(|| Error::UnknownUser(email.to_owned()))?;
        self.shared.oauth.revoke_account(account_id);
        Ok(())
    }

    // ---- raw state ---------------------------------------------------------------------

    /// A copy of everything stored, secrets in clear.
    pub fn directory(&self) -> Directory {
        self.shared.directory().clone()
    }

    /// Everything stored, as JSON (secrets in clear), to prove what was or was not stored.
    pub fn state_json(&self) -> serde_json::Value {
        serde_json::to_value(&*self.shared.directory()).unwrap_or_default()
    }

    /// A copy of the account with this address.
    pub fn account(&self, email: &str) -> Option<Account> {
        let dir = self.shared.directory();
        dir.account_id_by_login(email)
            .and_then(|id| dir.accounts.get(&id).cloned())
    }

    fn with_account<T>(
        &self,
        email: &str,
        f: impl FnOnce(&mut Directory, u32) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut dir = self.shared.directory();
        let id = dir
            .account_id_by_login(email)
            .ok_or_else(|| Error::UnknownUser(email.to_owned()))?;
        f(&mut dir, id)
    }

    /// Adds an account (its domain must be the server's); returns its JMAP id.
    pub fn add_user(&self, user: &UserConfig) -> Result<String, Error> {
        let mut dir = self.shared.directory();
        let domain_ok = user
            .email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain == dir.domain);
        if !domain_ok {
            return Err(Error::InvalidSeed(format!(
                "{} is not an address of {}",
                user.email, dir.domain
            )));
        }
        if dir.account_id_by_login(&user.email).is_some() {
            return Err(Error::InvalidSeed(format!("{} exists already", user.email)));
        }
        let id = user.id.unwrap_or_else(|| dir.next_account_id());
        if dir.accounts.contains_key(&id) {
            return Err(Error::InvalidSeed(format!("account id {id} is taken")));
        }
        dir.add_user(user, id);
        Ok(encode_id(u64::from(id)))
    }

    // ---- password and TOTP -------------------------------------------------------------

    /// The account's password (in 0.15 mode: the first password entry of its secrets, a
    /// `$6$` hash when a client set it).
    pub fn password(&self, email: &str) -> Option<String> {
        if self.is_v0_15() {
            return self
                .rest_principal(email)?
                .passwords()
                .next()
                .map(str::to_owned);
        }
        self.account(email)?.password().map(|p| p.secret.clone())
    }

    fn is_v0_15(&self) -> bool {
        self.shared.config.version == crate::config::ServerVersion::V0_15
    }

    /// A copy of the 0.15 principal with this login name (0.15 mode): its `secrets` in
    /// stored order, roles and encryption-at-rest setting.
    pub fn rest_principal(&self, name: &str) -> Option<crate::rest::store::Principal> {
        self.shared
            .rest()
            .by_name(&name.trim().to_lowercase())
            .cloned()
    }

    /// Stores a secret for the 0.15 principal as the server's update does (an app password
    /// `$app$<name>$<hash>` is appended, a TOTP URL replaces the old one, anything else
    /// replaces the password).
    pub fn add_rest_secret(&self, name: &str, secret: &str) -> Result<(), Error> {
        self.with_rest_principal(name, |p| p.add_secret(secret))
    }

    fn with_rest_principal(
        &self,
        email: &str,
        f: impl FnOnce(&mut crate::rest::store::Principal),
    ) -> Result<(), Error> {
        let mut store = self.shared.rest();
        let principal = store
            .by_name_mut(&email.trim().to_lowercase())
            .ok_or_else(|| Error::UnknownUser(email.to_owned()))?;
        f(principal);
        Ok(())
    }

    /// Replaces the account's password (no policy check). Like every password change, this
    /// revokes the account's OAuth tokens.
    pub fn set_password(&self, email: &str, password: &str) -> Result<(), Error> {
        if self.is_v0_15() {
            return self.with_rest_principal(email, |p| p.add_secret(password));
        }
        self.with_account(email, |dir, id| {
            let pw = dir
                .accounts
                .get_mut(&id)
                .and_then(Account::password_mut)
                .ok_or_else(|| Error::InvalidSeed("the account has no password".to_owned()))?;
            pw.secret = password.to_owned();
            self.shared.oauth.revoke_account(id);
            Ok(())
        })
    }

    /// The stored TOTP URL.
    pub fn otp_url(&self, email: &str) -> Option<String> {
        if self.is_v0_15() {
            return self.rest_principal(email)?.otp_url().map(str::to_owned);
        }
        self.account(email)?.password()?.otp_url.clone()
    }

    /// Stores a TOTP URL verbatim (or removes it), like the admin repair of fixture 05b.
    pub fn set_otp_url(&self, email: &str, otp_url: Option<&str>) -> Result<(), Error> {
        if self.is_v0_15() {
            return self.with_rest_principal(email, |p| {
                p.secrets
                    .retain(|s| !s.starts_with(crate::rest::store::OTP_PREFIX));
                p.secrets.extend(otp_url.map(str::to_owned));
            });
        }
        self.with_account(email, |dir, id| {
            let pw = dir
                .accounts
                .get_mut(&id)
                .and_then(Account::password_mut)
                .ok_or_else(|| Error::InvalidSeed("the account has no password".to_owned()))?;
            pw.otp_url = otp_url.map(str::to_owned);
            Ok(())
        })
    }

    // ---- app passwords and API keys ----------------------------------------------------

    /// The account's app passwords (secrets in clear).
    pub fn app_passwords(&self, email: &str) -> Vec<SecondaryCredential> {
        self.account(email)
            .map(|a| a.app_passwords().cloned().collect())
            .unwrap_or_default()
    }

    /// The account's API keys (secrets in clear).
    pub fn api_keys(&self, email: &str) -> Vec<SecondaryCredential> {
        self.account(email)
            .map(|a| a.api_keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Adds an app password; returns its JMAP id and secret.
    pub fn add_app_password(
        &self,
        email: &str,
        seed: CredentialSeed,
    ) -> Result<(String, String), Error> {
        self.add_secondary(email, seed, false)
    }

    /// Adds an API key; returns its JMAP id and secret.
    pub fn add_api_key(
        &self,
        email: &str,
        seed: CredentialSeed,
    ) -> Result<(String, String), Error> {
        self.add_secondary(email, seed, true)
    }

    fn add_secondary(
        &self,
        email: &str,
        seed: CredentialSeed,
        api_key: bool,
    ) -> Result<(String, String), Error> {
        let now = self.shared.clock.unix();
        self.with_account(email, |dir, id| {
            let account = dir
                .accounts
                .get_mut(&id)
                .ok_or_else(|| Error::UnknownUser(email.to_owned()))?;
            let credential_id = account
                .credentials
                .iter()
                .map(Credential::id)
                .max()
                .unwrap_or(0)
                + 1;
            let secret = if api_key {
                ApiKeyToken::generate(id, credential_id).build()
            } else {
                AppPasswordToken::generate(credential_id).build()
            };
            let credential = SecondaryCredential {
                id: credential_id,
                description: seed.description,
                secret: secret.clone(),
                created_at: now,
                expires_at: seed.expires_at,
                permissions: seed.permissions,
                allowed_ips: seed.allowed_ips,
            };
            account.credentials.push(if api_key {
                Credential::ApiKey(credential)
            } else {
                Credential::AppPassword(credential)
            });
            account.revision += 1;
            Ok((encode_id(u64::from(credential_id)), secret))
        })
    }

    // ---- public keys and encryption ----------------------------------------------------

    /// The account's public keys.
    pub fn public_keys(&self, email: &str) -> Vec<PublicKey> {
        let dir = self.shared.directory();
        let Some(id) = dir.account_id_by_login(email) else {
            return Vec::new();
        };
        dir.public_keys
            .values()
            .filter(|k| k.account_id == id)
            .cloned()
            .collect()
    }

    /// Stores a public key as given (no upload checks); returns its JMAP id.
    pub fn add_public_key(&self, email: &str, seed: PublicKeySeed) -> Result<String, Error> {
        let now = self.shared.clock.unix();
        self.with_account(email, |dir, account_id| {
            let id = match &seed.id {
                Some(text) => {
                    let id = decode_id(text)
                        .ok_or_else(|| Error::InvalidSeed(format!("bad id {text:?}")))?;
                    dir.last_public_key_id = dir.last_public_key_id.max(id);
                    id
                }
                None => dir.next_public_key_id(now),
            };
            dir.public_keys.insert(
                id,
                PublicKey {
                    id,
                    account_id,
                    key: seed.key,
                    description: seed.description,
                    created_at: now,
                    expires_at: None,
                    email_addresses: seed.email_addresses,
                },
            );
            Ok(encode_id(id))
        })
    }

    /// The account's `encryptionAtRest`.
    pub fn encryption_at_rest(&self, email: &str) -> Option<EncryptionAtRest> {
        Some(self.account(email)?.settings.encryption_at_rest)
    }

    /// Sets the account's `encryptionAtRest` (no checks).
    pub fn set_encryption_at_rest(
        &self,
        email: &str,
        value: EncryptionAtRest,
    ) -> Result<(), Error> {
        self.with_account(email, |dir, id| {
            if let Some(account) = dir.accounts.get_mut(&id) {
                account.settings.encryption_at_rest = value;
            }
            Ok(())
        })
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<TestServer>();
        check::<Error>();
    }
}
