//! The signed-in account: [`AccountSession`], whose calls are `async` (Kotlin `suspend`,
//! Swift `async`, Python's asyncio flavour) and run on the facade's runtime; the blocking
//! form is [`block_on`](crate::block_on).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use mailseal_jmap as jmap;
use mailseal_jmap::{Client, Credential, CredentialKind, Secret};

use crate::account::{
    Availability, CreatedCredential, CredentialInfo, EncryptionEnabled, EncryptionOptions,
    EncryptionSettings, OAuthTokens, StoredKey, TotpEnrollment,
};
use crate::codes::{CallbackErrors, CodeProvider, codes};
use crate::connect::ConnectOptions;
use crate::error::ApiError;
use crate::existing_mail::{
    EncryptExistingOptions, EncryptReport, ProgressListener, Relay, listener_failed,
};
use crate::runtime::run;

/// A signed-in connection to the user's Stalwart account; cheap to clone and safe to share
/// between threads. Refreshes OAuth tokens and signs in again by itself where it can.
///
/// Every call is `async` and runs on the facade's own runtime, so it can be awaited from any
/// executor; [`block_on`](crate::block_on) waits for one from plain code.
#[derive(Clone)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Object))]
pub struct AccountSession {
    client: Arc<Client>,
    callback_errors: CallbackErrors,
}

impl fmt::Debug for AccountSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountSession")
            .field("user", &self.client.session().username)
            .field("sign_in_method", &self.client.sign_in_method().as_str())
            .finish_non_exhaustive()
    }
}

async fn connect(
    server_url: String,
    credential: Credential,
    options: Option<ConnectOptions>,
) -> Result<AccountSession, ApiError> {
    let options = ConnectOptions::jmap(options);
    run(async move {
        let client = Client::connect(&server_url, credential, &options).await?;
        Ok(AccountSession {
            client: Arc::new(client),
            callback_errors: CallbackErrors::default(),
        })
    })
    .await
}

/// What a binding needs beside the exported calls (not exported itself).
impl AccountSession {
    /// The same session, keeping what its code provider raises in `errors` (see
    /// [`CallbackErrors`]).
    pub fn with_callback_errors(mut self, errors: CallbackErrors) -> Self {
        self.callback_errors = errors;
        self
    }

    /// Where this session's code provider keeps what it raised.
    pub fn callback_errors(&self) -> CallbackErrors {
        Arc::clone(&self.callback_errors)
    }

    /// Runs `f` with the client on the facade's runtime.
    async fn with_client<T, F, Fut>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Client>) -> Fut,
        Fut: Future<Output = Result<T, jmap::Error>> + Send + 'static,
    {
        let task = f(Arc::clone(&self.client));
        run(async move { Ok(task.await?) }).await
    }

    async fn create(
        &self,
        kind: CredentialKind,
        description: String,
        expires_at: Option<i64>,
        allowed_ips: Vec<String>,
    ) -> Result<Arc<CreatedCredential>, ApiError> {
        let mut new = jmap::NewCredential::new(description);
        // Checked by mailseal-core: a time past the year 9999 is `input.time_out_of_range`.
        new.expires_at = expires_at
            .map(mailseal_core::time::from_unix_seconds)
            .transpose()?;
        new.allowed_ips = allowed_ips;
        let created = self
            .with_client(|c| async move { c.create_credential(kind, &new).await })
            .await?;
        Ok(Arc::new(CreatedCredential(created)))
    }

    async fn list(&self, kind: CredentialKind) -> Result<Vec<CredentialInfo>, ApiError> {
        let list = self
            .with_client(|c| async move { c.list_credentials(kind).await })
            .await?;
        Ok(list.into_iter().map(CredentialInfo::from).collect())
    }

    async fn rename(
        &self,
        kind: CredentialKind,
        id: String,
        description: String,
    ) -> Result<(), ApiError> {
        let update = jmap::CredentialUpdate {
            description: Some(description),
            ..jmap::CredentialUpdate::default()
        };
        self.with_client(|c| async move { c.update_credential(kind, &id, &update).await })
            .await
    }

    async fn revoke(&self, kind: CredentialKind, id: String) -> Result<(), ApiError> {
        self.with_client(|c| async move { c.revoke_credential(kind, &id).await })
            .await
    }
}

#[cfg_attr(feature = "uniffi", uniffi::export)]
impl AccountSession {
    /// Signs in with the account password (HTTP Basic). Fails with `jmap.totp_required` once
    /// two-factor authentication is on: use [`connect_with_code`](Self::connect_with_code).
    #[cfg_attr(feature = "uniffi", uniffi::constructor)]
    pub async fn connect_password(
        server_url: String,
        user: String,
        password: String,
        options: Option<ConnectOptions>,
    ) -> Result<Self, ApiError> {
        connect(server_url, Credential::password(user, password), options).await
    }

    /// Signs in with the password, asking `codes` for the two-factor code when the server
    /// wants one (then the session uses the server's OAuth sign-in).
    #[cfg_attr(feature = "uniffi", uniffi::constructor)]
    pub async fn connect_with_code(
        server_url: String,
        user: String,
        password: String,
        codes: Arc<dyn CodeProvider>,
        options: Option<ConnectOptions>,
    ) -> Result<Self, ApiError> {
        let credential = Credential::password_and_code(user, password, self::codes(codes));
        connect(server_url, credential, options).await
    }

    /// Signs in with an app password (works while two-factor authentication is on).
    #[cfg_attr(feature = "uniffi", uniffi::constructor)]
    pub async fn connect_app_password(
        server_url: String,
        user: String,
        app_password: String,
        options: Option<ConnectOptions>,
    ) -> Result<Self, ApiError> {
        let credential = Credential::AppPassword {
            user,
            secret: Secret::new(app_password),
        };
        connect(server_url, credential, options).await
    }

    /// Signs in with a Bearer token: an API key (`API_…`) or an OAuth access token, told
    /// apart the same way everywhere.
    #[cfg_attr(feature = "uniffi", uniffi::constructor)]
    pub async fn connect_api_key(
        server_url: String,
        api_key: String,
        options: Option<ConnectOptions>,
    ) -> Result<Self, ApiError> {
        let credential = Credential::token(Secret::new(api_key))?;
        connect(server_url, credential, options).await
    }

    /// Uses saved OAuth tokens (refreshed as needed: save [`tokens`](Self::tokens) again
    /// afterwards). After a password change they stop working: `jmap.sign_in_required`.
    #[cfg_attr(feature = "uniffi", uniffi::constructor)]
    pub async fn connect_tokens(
        server_url: String,
        tokens: Arc<OAuthTokens>,
        options: Option<ConnectOptions>,
    ) -> Result<Self, ApiError> {
        connect(server_url, Credential::OAuth(tokens.0.clone()), options).await
    }

    /// The signed-in account name.
    pub fn user(&self) -> String {
        self.client.session().username.clone()
    }

    /// How requests are signed now: `password`, `password+code`, `app_password`, `api_key`
    /// or `oauth` (a password session moves to `oauth` when two-factor authentication is
    /// switched on).
    pub fn sign_in_method(&self) -> String {
        self.client.sign_in_method().as_str().to_owned()
    }

    /// The account-security API the server offers, found on connect: `jmap` (Stalwart
    /// 0.16+), `rest` (0.11–0.15, the same calls work) or `none`.
    pub fn server_api(&self) -> String {
        self.client.server_api().as_str().to_owned()
    }

    /// The server's Stalwart version where it tells it (REST servers, e.g. `0.15.5`).
    pub fn server_version(&self) -> Option<String> {
        self.client.server_version().map(str::to_owned)
    }

    /// A warning to show before a password change when the server also removes other
    /// state with it (Stalwart 0.14–0.15: every app password and two-factor
    /// authentication); `None` when it does not.
    pub fn password_change_warning(&self) -> Option<String> {
        self.client.password_change_warning().map(str::to_owned)
    }

    /// The current OAuth tokens, when the session uses OAuth: save them after each session.
    pub fn tokens(&self) -> Option<Arc<OAuthTokens>> {
        self.client.oauth_tokens().map(|t| Arc::new(OAuthTokens(t)))
    }

    /// Which account-security features this user may use.
    pub async fn availability(&self) -> Result<Availability, ApiError> {
        let a = self
            .with_client(|c| async move { c.availability().await })
            .await?;
        Ok(a.into())
    }

    /// Whether two-factor authentication (TOTP) is on.
    pub async fn totp_enabled(&self) -> Result<bool, ApiError> {
        self.with_client(|c| async move { c.totp_enabled().await })
            .await
    }

    /// A new TOTP secret for this account, listed in authenticator apps under `issuer`.
    pub fn new_totp_enrollment(&self, issuer: String) -> Result<Arc<TotpEnrollment>, ApiError> {
        TotpEnrollment::new(issuer, self.user()).map(Arc::new)
    }

    /// Turns TOTP on with `enrollment` after checking `code` from the new authenticator
    /// (`current_code` from the old one when replacing it). A password session moves to
    /// OAuth first, so it stays signed in.
    pub async fn enable_totp(
        &self,
        current_password: String,
        enrollment: Arc<TotpEnrollment>,
        code: String,
        current_code: Option<String>,
    ) -> Result<(), ApiError> {
        let password = Secret::new(current_password);
        self.with_client(|c| async move {
            c.enable_totp(&password, &enrollment.0, &code, current_code.as_deref())
                .await
        })
        .await
    }

    /// Turns TOTP off (the password and a current code are required).
    pub async fn disable_totp(
        &self,
        current_password: String,
        code: String,
    ) -> Result<(), ApiError> {
        let password = Secret::new(current_password);
        self.with_client(|c| async move { c.disable_totp(&password, &code).await })
            .await
    }

    /// Changes the password (`totp_code` when two-factor authentication is on). The server
    /// then revokes every OAuth token: a session that has the password signs in again by
    /// itself; one with only tokens answers `jmap.sign_in_required`.
    pub async fn change_password(
        &self,
        current_password: String,
        new_password: String,
        totp_code: Option<String>,
    ) -> Result<(), ApiError> {
        let (current, new) = (Secret::new(current_password), Secret::new(new_password));
        self.with_client(|c| async move {
            c.change_password(&current, &new, totp_code.as_deref())
                .await
        })
        .await
    }

    /// Creates an app password (`expires_at` in Unix seconds; `allowed_ips` empty for
    /// anywhere).
    pub async fn create_app_password(
        &self,
        description: String,
        expires_at: Option<i64>,
        allowed_ips: Vec<String>,
    ) -> Result<Arc<CreatedCredential>, ApiError> {
        self.create(
            CredentialKind::AppPassword,
            description,
            expires_at,
            allowed_ips,
        )
        .await
    }

    /// Lists the app passwords.
    pub async fn list_app_passwords(&self) -> Result<Vec<CredentialInfo>, ApiError> {
        self.list(CredentialKind::AppPassword).await
    }

    /// Gives an app password a new description.
    pub async fn rename_app_password(
        &self,
        id: String,
        description: String,
    ) -> Result<(), ApiError> {
        self.rename(CredentialKind::AppPassword, id, description)
            .await
    }

    /// Revokes an app password; it stops working at once.
    pub async fn revoke_app_password(&self, id: String) -> Result<(), ApiError> {
        self.revoke(CredentialKind::AppPassword, id).await
    }

    /// Creates an API key (`expires_at` in Unix seconds; `allowed_ips` empty for anywhere).
    pub async fn create_api_key(
        &self,
        description: String,
        expires_at: Option<i64>,
        allowed_ips: Vec<String>,
    ) -> Result<Arc<CreatedCredential>, ApiError> {
        self.create(CredentialKind::ApiKey, description, expires_at, allowed_ips)
            .await
    }

    /// Lists the API keys.
    pub async fn list_api_keys(&self) -> Result<Vec<CredentialInfo>, ApiError> {
        self.list(CredentialKind::ApiKey).await
    }

    /// Gives an API key a new description.
    pub async fn rename_api_key(&self, id: String, description: String) -> Result<(), ApiError> {
        self.rename(CredentialKind::ApiKey, id, description).await
    }

    /// Revokes an API key; it stops working at once.
    pub async fn revoke_api_key(&self, id: String) -> Result<(), ApiError> {
        self.revoke(CredentialKind::ApiKey, id).await
    }

    /// The encryption-at-rest settings and the key in use.
    pub async fn encryption_settings(&self) -> Result<EncryptionSettings, ApiError> {
        let s = self
            .with_client(|c| async move { c.encryption_settings().await })
            .await?;
        Ok(s.into())
    }

    /// Validates `key` locally (private keys, unusable keys and, unless allowed, EC
    /// certificates and keys for another address are refused before anything is sent),
    /// uses a stored copy of the same key or uploads only what the server needs, switches
    /// encryption at rest on, and removes the key it used before. `email` defaults to the
    /// signed-in account.
    pub async fn enable_encryption(
        &self,
        key: Vec<u8>,
        options: EncryptionOptions,
    ) -> Result<EncryptionEnabled, ApiError> {
        let algorithm = options
            .algorithm
            .map_or(mailseal_core::Algorithm::DEFAULT, Into::into);
        let mut request = jmap::EncryptionRequest::new(algorithm);
        request.encrypt_on_append = options.encrypt_on_append;
        request.allow_spam_training = options.allow_spam_training;
        request.allow_ec_certificate = options.allow_ec_certificate;
        request.allow_other_address = options.allow_other_address;
        if let Some(d) = options.description {
            request.description = d;
        }
        let email = options.email.unwrap_or_else(|| self.user());
        let done = self
            .with_client(|c| async move { c.enable_encryption(&key, Some(&email), &request).await })
            .await?;
        Ok(EncryptionEnabled::new(done, algorithm))
    }

    /// Switches encryption at rest off (messages already stored stay encrypted) and deletes
    /// the key it used unless `keep_key`; returns the id of the deleted key.
    pub async fn disable_encryption(&self, keep_key: bool) -> Result<Option<String>, ApiError> {
        self.with_client(|c| async move { c.disable_encryption(keep_key).await })
            .await
    }

    /// The public keys stored for this account.
    pub async fn public_keys(&self) -> Result<Vec<StoredKey>, ApiError> {
        let keys = self
            .with_client(|c| async move { c.public_keys().await })
            .await?;
        Ok(keys.into_iter().map(StoredKey::from).collect())
    }

    /// Deletes a stored public key (refused, with advice, while encryption uses it).
    pub async fn delete_public_key(&self, id: String) -> Result<(), ApiError> {
        self.with_client(|c| async move { c.delete_public_key(&id).await })
            .await
    }

    /// Encrypts the mail already in the account to the key and algorithm encryption at rest
    /// is configured with (Stalwart encrypts only mail that arrives later): each message is
    /// downloaded, encrypted here, imported with its mailboxes, keywords and date, read back
    /// and checked, and only then is the original destroyed.
    ///
    /// `state_path` is the run's state file, written before every change, so that an
    /// interrupted run loses nothing and the next run with the same file finishes its work;
    /// keep one per account. `progress` is told how the run goes (see
    /// [`ProgressListener`]). Refused before anything changes when encryption at rest is
    /// off (`jmap.not_available`), when the configured key cannot be used, or when the
    /// state file belongs to another account or key (`jmap.state_file`). Messages that
    /// could not be done are in the report's `failed` list, each still there as it was:
    /// run again to finish them ([`EncryptReport::complete`]).
    pub async fn encrypt_existing(
        &self,
        state_path: String,
        options: EncryptExistingOptions,
        progress: Option<Arc<dyn ProgressListener>>,
    ) -> Result<EncryptReport, ApiError> {
        let options = options.to_jmap()?;
        let client = Arc::clone(&self.client);
        let errors = self.callback_errors();
        run(async move {
            let relay = Arc::new(Relay::default());
            let stop = Arc::new(tokio::sync::Notify::new());
            let raised = move || {
                errors
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .is_some()
            };
            let listener = progress.map(|listener| {
                let (relay, stop) = (Arc::clone(&relay), Arc::clone(&stop));
                tokio::task::spawn_blocking(move || {
                    let told = relay.deliver(listener.as_ref(), &raised);
                    let failed = match told {
                        Err(panic) => Some(panic),
                        Ok(()) if raised() => Some("it raised an exception".to_owned()),
                        Ok(()) => None,
                    };
                    if failed.is_some() {
                        stop.notify_one();
                    }
                    failed
                })
            });
            let post = {
                let relay = Arc::clone(&relay);
                move |p: &jmap::encrypt_existing::Progress| relay.post(p)
            };
            let path = PathBuf::from(state_path);
            let result = tokio::select! {
                r = client.encrypt_existing(&path, &options, &post) => Some(r),
                () = stop.notified() => None,
            };
            relay.close();
            let failed = match listener {
                Some(task) => task.await.unwrap_or_else(|e| Some(e.to_string())),
                None => None,
            };
            match (result, failed) {
                (_, Some(why)) => Err(listener_failed(&why)),
                (Some(r), None) => Ok(r?.into()),
                (None, None) => Err(listener_failed("it stopped")),
            }
        })
        .await
    }
}
