//! The blocking account handle: sign-in that survives two-factor authentication, password,
//! TOTP, app passwords, API keys and encryption at rest, over `mailseal_jmap::Client`.
//!
//! Every call blocks the calling thread on a crate-global tokio runtime; bindings release
//! their interpreter lock around it. Secrets stay inside the handle objects
//! ([`AccountSession`], [`OAuthTokens`], [`TotpEnrollment`], [`CreatedCredential`]) and
//! leave them only through explicitly named methods.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use mailseal_jmap as jmap;
use mailseal_jmap::{Client, ConnectOptions, Credential, CredentialKind, Secret};

use crate::error::{ApiError, ErrorKind};
use crate::keys::{KeyInspection, unix};

/// Runs `f` to completion on the crate-global multi-thread runtime.
fn block_on<T>(f: impl Future<Output = Result<T, jmap::Error>>) -> Result<T, ApiError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    let rt = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mailseal")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    });
    match rt {
        Ok(rt) => rt.block_on(f).map_err(ApiError::from),
        Err(e) => Err(ApiError::new(
            ErrorKind::Transport,
            "io.runtime",
            format!("cannot start the network runtime: {e}"),
        )),
    }
}

/// Asks the user for the current two-factor (TOTP) code when the server wants one.
///
/// Implemented by the application (in Python, a callable `(user) -> str | None`). Called on a
/// background thread while the account call that needed it waits; `None` means the user gave
/// up.
pub trait CodeProvider: Send + Sync {
    /// The current code from the authenticator app for `user`.
    fn totp_code(&self, user: String) -> Option<String>;
}

struct Codes(Arc<dyn CodeProvider>);

impl jmap::CodeProvider for Codes {
    fn totp_code(&self, user: &str) -> Option<Secret> {
        self.0.totp_code(user.to_owned()).map(Secret::new)
    }
}

fn codes(provider: Arc<dyn CodeProvider>) -> Arc<dyn jmap::CodeProvider> {
    Arc::new(Codes(provider))
}

/// Saved OAuth sign-in (access token, refresh token, expiry, account). Opaque: the JSON
/// form is a secret for the platform keychain, never for logs or plain files.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct OAuthTokens(jmap::OAuthTokens);

impl fmt::Debug for OAuthTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthTokens")
            .field("user", &self.0.user())
            .field("expires_at", &self.expires_at())
            .finish_non_exhaustive()
    }
}

impl OAuthTokens {
    /// Reads tokens saved with [`OAuthTokens::to_json`].
    pub fn from_json(json: String) -> Result<OAuthTokens, ApiError> {
        Ok(OAuthTokens(jmap::OAuthTokens::from_json(&json)?))
    }

    /// The tokens as JSON, to store in the keychain. This text is a secret.
    pub fn to_json(&self) -> String {
        self.0.to_json().expose().to_owned()
    }

    /// When the access token expires (Unix seconds); the refresh token lasts longer.
    pub fn expires_at(&self) -> i64 {
        unix(self.0.expires_at())
    }

    /// The account that signed in.
    pub fn user(&self) -> String {
        self.0.user().to_owned()
    }
}

/// A new TOTP (two-factor) secret, not yet saved on the server. Opaque: the secret leaves it
/// only through the explicitly named methods.
#[derive(Clone)]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(frozen, module = "mailseal._mailseal")
)]
pub struct TotpEnrollment(jmap::TotpEnrollment);

impl fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpEnrollment(<redacted>)")
    }
}

impl TotpEnrollment {
    /// Makes a new 160-bit secret for `account` (the e-mail address), listed in
    /// authenticator apps under `issuer`.
    pub fn new(issuer: String, account: String) -> Result<TotpEnrollment, ApiError> {
        Ok(TotpEnrollment(jmap::TotpEnrollment::new(
            &issuer, &account,
        )?))
    }

    /// The `otpauth://` URL for the authenticator app (contains the secret).
    pub fn otpauth_url(&self) -> String {
        self.0.url().expose().to_owned()
    }

    /// The secret in base32, for typing into an app by hand.
    pub fn secret_base32(&self) -> String {
        self.0.secret_base32().expose().to_owned()
    }

    /// The URL as a QR code in SVG (contains the secret).
    pub fn qr_svg(&self) -> Result<String, ApiError> {
        Ok(self.0.qr_svg()?)
    }

    /// The URL as a QR code in PNG (contains the secret).
    pub fn qr_png(&self) -> Result<Vec<u8>, ApiError> {
        Ok(self.0.qr_png()?)
    }

    /// A recovery kit to print or keep in a password manager (Stalwart has no recovery
    /// codes).
    pub fn recovery_kit(&self) -> String {
        self.0.recovery_kit().expose().to_owned()
    }

    /// Checks a code from the new authenticator (current step, or one either side).
    pub fn verify(&self, code: String) -> Result<(), ApiError> {
        Ok(self.0.verify(&code)?)
    }

    /// The code at a Unix time (for tests and samples).
    pub fn code_at(&self, unix_time: u64) -> Result<String, ApiError> {
        Ok(self.0.code_at(unix_time)?)
    }
}

/// Validates an `otpauth://` URL by the rules the server applies at sign-in (a URL it cannot
/// parse would lock the user out): lower-case scheme, a secret of 128 bits or more.
pub fn validate_totp_url(url: String) -> Result<(), ApiError> {
    Ok(jmap::account::totp::validate_url(&url)?)
}

/// A new app password or API key: its id and its secret, shown this once.
#[derive(Clone)]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(frozen, module = "mailseal._mailseal")
)]
pub struct CreatedCredential(jmap::CreatedCredential);

impl fmt::Debug for CreatedCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedCredential")
            .field("id", &self.0.id)
            .finish_non_exhaustive()
    }
}

impl CreatedCredential {
    /// Its id (for revoking it).
    pub fn id(&self) -> String {
        self.0.id.clone()
    }

    /// The secret (`app_…` or `API_…`): show it to the user once, then forget it.
    pub fn secret(&self) -> String {
        self.0.secret.expose().to_owned()
    }
}

/// An app password or API key as listed (the secret is never shown again).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(get_all, frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct CredentialInfo {
    /// Its id.
    pub id: String,
    /// Its description.
    pub description: String,
    /// When it was created (RFC 3339), if the server says.
    pub created_at: Option<String>,
    /// When it expires (RFC 3339), or `None` for never.
    pub expires_at: Option<String>,
    /// IP addresses or ranges it may be used from; empty for anywhere.
    pub allowed_ips: Vec<String>,
    /// `inherit` (everything the account may do), `disable` (all but `permissions`) or
    /// `replace` (only `permissions`).
    pub permission_mode: String,
    /// The permissions `permission_mode` names.
    pub permissions: Vec<String>,
}

impl From<jmap::CredentialInfo> for CredentialInfo {
    fn from(c: jmap::CredentialInfo) -> Self {
        let (permission_mode, permissions) = match c.permissions {
            jmap::Permissions::Inherit => ("inherit", Vec::new()),
            jmap::Permissions::Disable(l) => ("disable", l),
            jmap::Permissions::Replace(l) => ("replace", l),
        };
        CredentialInfo {
            id: c.id,
            description: c.description,
            created_at: c.created_at,
            expires_at: c.expires_at,
            allowed_ips: c.allowed_ips,
            permission_mode: permission_mode.to_owned(),
            permissions,
        }
    }
}

/// Whether one account-security feature can be used.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(get_all, frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct FeatureStatus {
    /// `password`, `totp`, `app_passwords`, `api_keys` or `encryption_at_rest`.
    pub feature: String,
    /// Whether it can be used.
    pub available: bool,
    /// The permissions the user lacks for it.
    pub missing_permissions: Vec<String>,
}

/// Which account-security features this user may use on this server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(get_all, frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct Availability {
    /// The server predates Stalwart 0.16: nothing can be managed.
    pub server_too_old: bool,
    /// The password lives in an external directory (LDAP, SQL, OIDC).
    pub external_directory: bool,
    /// Per feature.
    pub features: Vec<FeatureStatus>,
    /// A sentence for people when something is not available.
    pub message: Option<String>,
}

/// A public key stored on the server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(get_all, frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct StoredKey {
    /// Its id.
    pub id: String,
    /// Its description.
    pub description: String,
    /// The key as stored (PEM or armor).
    pub key: String,
    /// What mailseal says about it now, when it can be read.
    pub inspection: Option<KeyInspection>,
}

impl From<jmap::StoredKey> for StoredKey {
    fn from(k: jmap::StoredKey) -> Self {
        StoredKey {
            inspection: k.report.as_ref().map(KeyInspection::from),
            id: k.id,
            description: k.description,
            key: k.key,
        }
    }
}

/// The encryption-at-rest settings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(get_all, frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct EncryptionSettings {
    /// Whether encryption at rest is on.
    pub enabled: bool,
    /// The algorithm (`aes128`, `aes256`, `aes256-gcm`, `chacha20-poly1305`), when on.
    pub algorithm: Option<String>,
    /// Whether messages added over IMAP/JMAP are encrypted too.
    pub encrypt_on_append: bool,
    /// Whether spam training sees messages before they are encrypted.
    pub allow_spam_training: bool,
    /// The key mail is encrypted to, when on.
    pub key: Option<StoredKey>,
}

impl From<jmap::Availability> for Availability {
    fn from(a: jmap::Availability) -> Self {
        Availability {
            server_too_old: a.unavailable == Some(jmap::Unavailable::ServerTooOld),
            external_directory: a.external_directory,
            message: a.message(),
            features: a
                .features
                .into_iter()
                .map(|f| FeatureStatus {
                    feature: f.feature.as_str().to_owned(),
                    available: f.available,
                    missing_permissions: f.missing_permissions,
                })
                .collect(),
        }
    }
}

impl From<jmap::EncryptionSettings> for EncryptionSettings {
    fn from(s: jmap::EncryptionSettings) -> Self {
        EncryptionSettings {
            enabled: s.algorithm.is_some(),
            algorithm: s.algorithm.map(|a| a.as_str().to_owned()),
            encrypt_on_append: s.encrypt_on_append,
            allow_spam_training: s.allow_spam_training,
            key: s.key.map(StoredKey::from),
        }
    }
}

/// How to switch encryption at rest on. (Python passes these as keyword arguments.)
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncryptionOptions {
    /// `aes128`, `aes256`, `aes256-gcm` or `chacha20-poly1305`; `None` means mailseal-core's
    /// [`Algorithm::DEFAULT`](mailseal_core::Algorithm::DEFAULT) (`aes256`).
    pub algorithm: Option<String>,
    /// The account's address: picks the certificate from a keyring and is stored with it.
    pub email: Option<String>,
    /// Also encrypt messages added over IMAP/JMAP.
    pub encrypt_on_append: bool,
    /// Let the spam filter train on messages before they are encrypted.
    pub allow_spam_training: bool,
    /// A label for the key on the server (a default when `None`).
    pub description: Option<String>,
    /// Upload an EC S/MIME certificate although Stalwart 0.16 cannot encrypt to it (mail
    /// would wait in the queue). Off by default.
    pub allow_ec_certificate: bool,
    /// Use a certificate or key that names another address than the account's. Off by
    /// default.
    pub allow_other_address: bool,
}

/// What switching encryption at rest on did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(get_all, frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct EncryptionEnabled {
    /// The key as validated (with its warnings).
    pub inspection: KeyInspection,
    /// Advice about the algorithm (see [`algorithm_advice`](crate::algorithm_advice)).
    pub advice: Option<String>,
    /// The id of the stored key mail is now encrypted to.
    pub key_id: String,
    /// Whether that key was stored already, so nothing was uploaded.
    pub reused_key: bool,
    /// The key encryption used before, now removed from the server, if any.
    pub removed_key: Option<String>,
}

impl EncryptionEnabled {
    /// What switching on with `algorithm` did, for the user.
    pub fn new(done: jmap::EncryptionEnabled, algorithm: mailseal_core::Algorithm) -> Self {
        EncryptionEnabled {
            inspection: KeyInspection::from(&done.report),
            advice: algorithm.advice().map(str::to_owned),
            key_id: done.key_id,
            reused_key: done.reused_key,
            removed_key: done.removed_key,
        }
    }
}

/// A signed-in connection to the user's Stalwart account. Blocking; safe to share between
/// threads. Refreshes OAuth tokens and signs in again by itself where it can.
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(frozen, module = "mailseal._mailseal")
)]
pub struct AccountSession {
    client: Client,
    callback_errors: CallbackErrors,
}

/// Where a language binding keeps what its code-provider callback raised, so that it reaches
/// the caller unchanged instead of as "no code was given" (the facade does not know the
/// language's error type, hence `Any`).
pub type CallbackErrors = Arc<std::sync::Mutex<Option<Box<dyn std::any::Any + Send>>>>;

/// Takes what a callback raised out of `errors`, if anything.
pub fn take_callback_error(errors: &CallbackErrors) -> Option<Box<dyn std::any::Any + Send>> {
    errors
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}

impl fmt::Debug for AccountSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountSession")
            .field("user", &self.client.session().username)
            .field("sign_in_method", &self.client.sign_in_method().as_str())
            .finish_non_exhaustive()
    }
}

fn connect(server_url: &str, credential: Credential) -> Result<AccountSession, ApiError> {
    let client = block_on(Client::connect(
        server_url,
        credential,
        &ConnectOptions::default(),
    ))?;
    Ok(AccountSession {
        client,
        callback_errors: CallbackErrors::default(),
    })
}

impl AccountSession {
    /// The same session, keeping what its code provider raises in `errors` (see
    /// [`CallbackErrors`]).
    pub fn with_callback_errors(mut self, errors: CallbackErrors) -> Self {
        self.callback_errors = errors;
        self
    }

    /// What the code provider raised since the last call, if anything.
    pub fn take_callback_error(&self) -> Option<Box<dyn std::any::Any + Send>> {
        take_callback_error(&self.callback_errors)
    }

    /// Signs in with the account password (HTTP Basic). Fails with `jmap.totp_required` once
    /// two-factor authentication is on: use [`connect_with_code`](Self::connect_with_code).
    pub fn connect_password(
        server_url: String,
        user: String,
        password: String,
    ) -> Result<AccountSession, ApiError> {
        connect(&server_url, Credential::password(user, password))
    }

    /// Signs in with the password, asking `codes` for the two-factor code when the server
    /// wants one (then the session uses the server's OAuth sign-in).
    pub fn connect_with_code(
        server_url: String,
        user: String,
        password: String,
        codes: Arc<dyn CodeProvider>,
    ) -> Result<AccountSession, ApiError> {
        connect(
            &server_url,
            Credential::password_and_code(user, password, self::codes(codes)),
        )
    }

    /// Signs in with an app password (works while two-factor authentication is on).
    pub fn connect_app_password(
        server_url: String,
        user: String,
        app_password: String,
    ) -> Result<AccountSession, ApiError> {
        connect(
            &server_url,
            Credential::AppPassword {
                user,
                secret: Secret::new(app_password),
            },
        )
    }

    /// Signs in with a Bearer token: an API key (`API_…`) or an OAuth access token, told
    /// apart the same way everywhere ([`Credential::token`]).
    pub fn connect_api_key(
        server_url: String,
        api_key: String,
    ) -> Result<AccountSession, ApiError> {
        connect(&server_url, Credential::token(Secret::new(api_key))?)
    }

    /// Uses saved OAuth tokens (refreshed as needed: save [`tokens`](Self::tokens) again
    /// afterwards). After a password change they stop working: `jmap.sign_in_required`.
    pub fn connect_tokens(
        server_url: String,
        tokens: &OAuthTokens,
    ) -> Result<AccountSession, ApiError> {
        connect(&server_url, Credential::OAuth(tokens.0.clone()))
    }

    /// Signs in through the server's OAuth service with the password (and a code from
    /// `codes` when two-factor authentication is on) and returns the tokens to keep, without
    /// connecting.
    pub fn sign_in(
        server_url: String,
        user: String,
        password: String,
        codes: Option<Arc<dyn CodeProvider>>,
    ) -> Result<OAuthTokens, ApiError> {
        let password = Secret::new(password);
        let tokens = block_on(Client::sign_in(
            &server_url,
            &user,
            &password,
            codes.map(self::codes),
            &ConnectOptions::default(),
        ))?;
        Ok(OAuthTokens(tokens))
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

    /// The current OAuth tokens, when the session uses OAuth: save them after each session.
    pub fn tokens(&self) -> Option<OAuthTokens> {
        self.client.oauth_tokens().map(OAuthTokens)
    }

    /// Which account-security features this user may use.
    pub fn availability(&self) -> Result<Availability, ApiError> {
        Ok(block_on(self.client.availability())?.into())
    }

    /// Whether two-factor authentication (TOTP) is on.
    pub fn totp_enabled(&self) -> Result<bool, ApiError> {
        block_on(self.client.totp_enabled())
    }

    /// A new TOTP secret for this account, listed in authenticator apps under `issuer`.
    pub fn new_totp_enrollment(&self, issuer: String) -> Result<TotpEnrollment, ApiError> {
        TotpEnrollment::new(issuer, self.user())
    }

    /// Turns TOTP on with `enrollment` after checking `code` from the new authenticator
    /// (`current_code` from the old one when replacing it). A password session moves to
    /// OAuth first, so it stays signed in.
    pub fn enable_totp(
        &self,
        current_password: String,
        enrollment: &TotpEnrollment,
        code: String,
        current_code: Option<String>,
    ) -> Result<(), ApiError> {
        block_on(self.client.enable_totp(
            &Secret::new(current_password),
            &enrollment.0,
            &code,
            current_code.as_deref(),
        ))
    }

    /// Turns TOTP off (the password and a current code are required).
    pub fn disable_totp(&self, current_password: String, code: String) -> Result<(), ApiError> {
        block_on(
            self.client
                .disable_totp(&Secret::new(current_password), &code),
        )
    }

    /// Changes the password (`totp_code` when two-factor authentication is on). The server
    /// then revokes every OAuth token: a session that has the password signs in again by
    /// itself; one with only tokens answers `jmap.sign_in_required`.
    pub fn change_password(
        &self,
        current_password: String,
        new_password: String,
        totp_code: Option<String>,
    ) -> Result<(), ApiError> {
        block_on(self.client.change_password(
            &Secret::new(current_password),
            &Secret::new(new_password),
            totp_code.as_deref(),
        ))
    }

    fn create(
        &self,
        kind: CredentialKind,
        description: String,
        expires_at: Option<i64>,
        allowed_ips: Vec<String>,
    ) -> Result<CreatedCredential, ApiError> {
        let mut new = jmap::NewCredential::new(description);
        // Checked by mailseal-core: a time past the year 9999 is `input.time_out_of_range`.
        new.expires_at = expires_at
            .map(mailseal_core::time::from_unix_seconds)
            .transpose()?;
        new.allowed_ips = allowed_ips;
        Ok(CreatedCredential(block_on(
            self.client.create_credential(kind, &new),
        )?))
    }

    fn list(&self, kind: CredentialKind) -> Result<Vec<CredentialInfo>, ApiError> {
        Ok(block_on(self.client.list_credentials(kind))?
            .into_iter()
            .map(CredentialInfo::from)
            .collect())
    }

    /// Creates an app password (`expires_at` in Unix seconds; `allowed_ips` empty for
    /// anywhere).
    pub fn create_app_password(
        &self,
        description: String,
        expires_at: Option<i64>,
        allowed_ips: Vec<String>,
    ) -> Result<CreatedCredential, ApiError> {
        self.create(
            CredentialKind::AppPassword,
            description,
            expires_at,
            allowed_ips,
        )
    }

    /// Lists the app passwords.
    pub fn list_app_passwords(&self) -> Result<Vec<CredentialInfo>, ApiError> {
        self.list(CredentialKind::AppPassword)
    }

    /// Revokes an app password; it stops working at once.
    pub fn revoke_app_password(&self, id: String) -> Result<(), ApiError> {
        block_on(
            self.client
                .revoke_credential(CredentialKind::AppPassword, &id),
        )
    }

    /// Creates an API key (`expires_at` in Unix seconds; `allowed_ips` empty for anywhere).
    pub fn create_api_key(
        &self,
        description: String,
        expires_at: Option<i64>,
        allowed_ips: Vec<String>,
    ) -> Result<CreatedCredential, ApiError> {
        self.create(CredentialKind::ApiKey, description, expires_at, allowed_ips)
    }

    /// Lists the API keys.
    pub fn list_api_keys(&self) -> Result<Vec<CredentialInfo>, ApiError> {
        self.list(CredentialKind::ApiKey)
    }

    /// Revokes an API key; it stops working at once.
    pub fn revoke_api_key(&self, id: String) -> Result<(), ApiError> {
        block_on(self.client.revoke_credential(CredentialKind::ApiKey, &id))
    }

    /// The encryption-at-rest settings and the key in use.
    pub fn encryption_settings(&self) -> Result<EncryptionSettings, ApiError> {
        Ok(block_on(self.client.encryption_settings())?.into())
    }

    /// Validates `key` locally (private keys, unusable keys and, unless allowed, EC
    /// certificates and keys for another address are refused before anything is sent),
    /// uses a stored copy of the same key or uploads only what the server needs, switches
    /// encryption at rest on, and removes the key it used before. `email` defaults to the
    /// signed-in account.
    pub fn enable_encryption(
        &self,
        key: Vec<u8>,
        options: EncryptionOptions,
    ) -> Result<EncryptionEnabled, ApiError> {
        let algorithm = crate::keys::algorithm(options.algorithm.as_deref())?;
        let mut request = jmap::EncryptionRequest::new(algorithm);
        request.encrypt_on_append = options.encrypt_on_append;
        request.allow_spam_training = options.allow_spam_training;
        request.allow_ec_certificate = options.allow_ec_certificate;
        request.allow_other_address = options.allow_other_address;
        if let Some(d) = options.description {
            request.description = d;
        }
        let email = options.email.unwrap_or_else(|| self.user());
        let done = block_on(self.client.enable_encryption(&key, Some(&email), &request))?;
        Ok(EncryptionEnabled::new(done, request.algorithm))
    }

    /// Switches encryption at rest off (messages already stored stay encrypted) and deletes
    /// the key it used unless `keep_key`; returns the id of the deleted key.
    pub fn disable_encryption(&self, keep_key: bool) -> Result<Option<String>, ApiError> {
        block_on(self.client.disable_encryption(keep_key))
    }

    /// The public keys stored for this account.
    pub fn public_keys(&self) -> Result<Vec<StoredKey>, ApiError> {
        Ok(block_on(self.client.public_keys())?
            .into_iter()
            .map(StoredKey::from)
            .collect())
    }

    /// Deletes a stored public key (refused, with advice, while encryption uses it).
    pub fn delete_public_key(&self, id: String) -> Result<(), ApiError> {
        block_on(self.client.delete_public_key(&id))
    }
}
