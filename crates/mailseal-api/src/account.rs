//! The account records (availability, credentials, stored keys, encryption settings) and the
//! handles that hold secrets ([`OAuthTokens`], [`TotpEnrollment`], [`CreatedCredential`]):
//! a secret leaves them only through an explicitly named method.

use std::fmt;

use mailseal_jmap as jmap;

use crate::error::ApiError;
use crate::keys::{Algorithm, KeyInspection, unix};

/// Saved OAuth sign-in (access token, refresh token, expiry, account). Opaque: the JSON
/// form is a secret for the platform keychain, never for logs or plain files.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Object))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct OAuthTokens(pub(crate) jmap::OAuthTokens);

impl fmt::Debug for OAuthTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthTokens")
            .field("user", &self.0.user())
            .field("expires_at", &self.expires_at())
            .finish_non_exhaustive()
    }
}

#[cfg_attr(feature = "uniffi", uniffi::export)]
impl OAuthTokens {
    /// Reads tokens saved with [`OAuthTokens::to_json`].
    #[cfg_attr(feature = "uniffi", uniffi::constructor)]
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Object))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(frozen, from_py_object, module = "mailseal._mailseal")
)]
pub struct TotpEnrollment(pub(crate) jmap::TotpEnrollment);

impl fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpEnrollment(<redacted>)")
    }
}

#[cfg_attr(feature = "uniffi", uniffi::export)]
impl TotpEnrollment {
    /// Makes a new 160-bit secret for `account` (the e-mail address), listed in
    /// authenticator apps under `issuer`.
    #[cfg_attr(feature = "uniffi", uniffi::constructor)]
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

#[cfg_attr(feature = "uniffi", uniffi::export)]
/// Validates an `otpauth://` URL by the rules the server applies at sign-in (a URL it cannot
/// parse would lock the user out): lower-case scheme, a secret of 128 bits or more.
pub fn validate_totp_url(url: String) -> Result<(), ApiError> {
    Ok(jmap::account::totp::validate_url(&url)?)
}

/// A new app password or API key: its id and its secret, shown this once.
#[derive(Clone)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Object))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(frozen, module = "mailseal._mailseal")
)]
pub struct CreatedCredential(pub(crate) jmap::CreatedCredential);

impl fmt::Debug for CreatedCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedCredential")
            .field("id", &self.0.id)
            .finish_non_exhaustive()
    }
}

#[cfg_attr(feature = "uniffi", uniffi::export)]
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct EncryptionOptions {
    /// `None` means mailseal-core's
    /// [`Algorithm::DEFAULT`](mailseal_core::Algorithm::DEFAULT) (`aes256`).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub algorithm: Option<Algorithm>,
    /// The account's address: picks the certificate from a keyring and is stored with it.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub email: Option<String>,
    /// Also encrypt messages added over IMAP/JMAP.
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub encrypt_on_append: bool,
    /// Let the spam filter train on messages before they are encrypted.
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub allow_spam_training: bool,
    /// A label for the key on the server (a default when `None`).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub description: Option<String>,
    /// Upload an EC S/MIME certificate although Stalwart 0.16 cannot encrypt to it (mail
    /// would wait in the queue). Off by default.
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub allow_ec_certificate: bool,
    /// Use a certificate or key that names another address than the account's. Off by
    /// default.
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub allow_other_address: bool,
}

/// What switching encryption at rest on did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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
