//! Keys and messages: inspection, encryption at rest, decryption, detection.

use std::time::{SystemTime, UNIX_EPOCH};

use mailseal_core as core;

use crate::error::ApiError;

/// Seconds since the Unix epoch (negative before 1970).
pub(crate) fn unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// A facade enum that mirrors a mailseal-core enum (core carries no FFI attributes): the
/// conversions both ways, and `as_str` giving core's stable name, so the names live in one
/// place.
macro_rules! mirror_core_enum {
    ($api:ident, $core:ident, $($variant:ident),+ $(,)?) => {
        impl From<core::$core> for $api {
            fn from(v: core::$core) -> Self {
                match v {
                    $(core::$core::$variant => $api::$variant,)+
                }
            }
        }

        impl From<$api> for core::$core {
            fn from(v: $api) -> Self {
                match v {
                    $($api::$variant => core::$core::$variant,)+
                }
            }
        }

        impl $api {
            /// The stable name, as mailseal-core spells it (e.g. in `key inspect --json`).
            pub fn as_str(&self) -> &'static str {
                core::$core::from(*self).as_str()
            }
        }

        impl serde::Serialize for $api {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

mirror_core_enum!(KeyFormat, KeyFormat, OpenPgp, X509);
mirror_core_enum!(Severity, Severity, Error, Warning);
mirror_core_enum!(CertificateRole, CertificateRole, Recipient, Chain, Unused);

/// The kind of key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(eq, eq_int, frozen, from_py_object, module = "mailseal._mailseal")
)]
pub enum KeyFormat {
    /// OpenPGP certificates (PGP/MIME encryption).
    OpenPgp,
    /// X.509 certificates (S/MIME encryption).
    X509,
}

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(eq, eq_int, frozen, from_py_object, module = "mailseal._mailseal")
)]
pub enum Severity {
    /// The key (or the certificate named) cannot be used.
    Error,
    /// The key can be used, but the user should know this.
    Warning,
}

/// What a certificate of the input is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(eq, eq_int, frozen, from_py_object, module = "mailseal._mailseal")
)]
pub enum CertificateRole {
    /// Mail will be encrypted to it.
    Recipient,
    /// A CA certificate kept for display, never encrypted to.
    Chain,
    /// Not used (an error, or another address).
    Unused,
}

/// One thing found while validating a key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(get_all, frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct KeyProblem {
    /// The stable code, e.g. `key.expired`.
    pub code: String,
    /// Error or warning.
    pub severity: Severity,
    /// A sentence for people, saying what to do.
    pub message: String,
    /// The fingerprint (uppercase hex) of the certificate or subkey concerned, if one.
    pub subject: Option<String>,
    /// The date the problem is about (Unix seconds), if one.
    pub date: Option<i64>,
}

/// One certificate of the input.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(get_all, frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct CertificateSummary {
    /// Whether mail is encrypted to it.
    pub role: CertificateRole,
    /// The primary key fingerprint (OpenPGP) or SHA-256 fingerprint (X.509), uppercase hex.
    pub fingerprint: String,
    /// When encryption to it stops working (Unix seconds), if it expires.
    pub expires: Option<i64>,
    /// The key algorithm, e.g. `RSA 3072` or `EC P-256`.
    pub algorithm: String,
    /// The user IDs (OpenPGP) or e-mail addresses (X.509).
    pub names: Vec<String>,
    /// The subject name (X.509 only).
    pub subject: Option<String>,
}

/// What validation found out about a key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(get_all, frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct KeyInspection {
    /// OpenPGP or X.509.
    pub format: KeyFormat,
    /// Whether mailseal can encrypt mail to it.
    pub usable: bool,
    /// Whether a Stalwart server can encrypt mail at rest to it (what encryption at rest
    /// needs; the verdict to show first).
    pub usable_by_server: bool,
    /// Why the server cannot, for people; `None` when it can.
    pub server_reason: Option<String>,
    /// The Stalwart versions the server verdict holds for.
    pub server_versions: String,
    /// The fingerprints (uppercase hex) of the certificates that will be used.
    pub fingerprints: Vec<String>,
    /// When encryption to it stops working (Unix seconds), or `None`.
    pub expires: Option<i64>,
    /// Everything worth telling, errors first.
    pub problems: Vec<KeyProblem>,
    /// Every certificate read, in input order.
    pub certificates: Vec<CertificateSummary>,
}

impl From<&core::Problem> for KeyProblem {
    fn from(p: &core::Problem) -> Self {
        KeyProblem {
            code: p.code.as_str().to_owned(),
            severity: p.severity.into(),
            message: p.message.clone(),
            subject: p.subject.clone(),
            date: p.date.map(unix),
        }
    }
}

impl From<&core::CertificateReport> for CertificateSummary {
    fn from(c: &core::CertificateReport) -> Self {
        let (algorithm, names, subject) = match &c.details {
            core::CertificateDetails::OpenPgp(d) => {
                (d.primary.algorithm.clone(), d.user_ids.clone(), None)
            }
            core::CertificateDetails::X509(d) => (
                d.key_algorithm.clone(),
                d.emails.clone(),
                Some(d.subject.clone()),
            ),
            _ => (String::new(), Vec::new(), None),
        };
        CertificateSummary {
            role: c.role.into(),
            fingerprint: c.fingerprint.to_hex(),
            expires: c.expires.map(unix),
            algorithm,
            names,
            subject,
        }
    }
}

impl From<&core::KeyReport> for KeyInspection {
    fn from(r: &core::KeyReport) -> Self {
        KeyInspection {
            format: r.format.into(),
            usable: r.usable,
            usable_by_server: r.server.usable,
            server_reason: r.server.reason.clone(),
            server_versions: r.server.versions.to_owned(),
            fingerprints: r.fingerprints(),
            expires: r.expires.map(unix),
            problems: r.problems.iter().map(KeyProblem::from).collect(),
            certificates: r
                .certificates
                .iter()
                .map(CertificateSummary::from)
                .collect(),
        }
    }
}

pub(crate) fn policy(email: Option<String>, at: Option<i64>) -> Result<core::Policy, ApiError> {
    let mut p = core::Policy::standard();
    if let Some(e) = email {
        p = p.with_email(e);
    }
    if let Some(t) = at {
        // Checked: a time outside the years 0000 to 9999 is `input.time_out_of_range`.
        p = p.at(core::time::from_unix_seconds(t)?);
    }
    Ok(p)
}

#[cfg_attr(feature = "uniffi", uniffi::export)]
/// Reads a certificate or public key (PEM, DER, PKCS#7, armored or binary OpenPGP) and
/// checks it as an encryption-at-rest recipient for `email` (if given) at `at` (Unix
/// seconds, default now). An unusable key is an answer (`usable` false, with the problems);
/// unreadable input and private keys are errors.
///
/// ```
/// let key = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/keys/alice.pub.asc"))?;
/// let info = mailseal_api::inspect_key(key, Some("alice@example.org".into()), None)?;
/// assert!(info.usable);
/// assert_eq!(info.fingerprints, ["5D0FF481F8F86AF58893C65388E4B12B1581017E"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn inspect_key(
    key: Vec<u8>,
    email: Option<String>,
    at: Option<i64>,
) -> Result<KeyInspection, ApiError> {
    let key = core::RecipientKey::from_bytes(&key)?;
    Ok(KeyInspection::from(&key.inspect(&policy(email, at)?)))
}

/// The algorithm used when none is named: mailseal-core's
/// [`Algorithm::DEFAULT`](core::Algorithm::DEFAULT), `aes256`.
pub const DEFAULT_ALGORITHM: &str = core::Algorithm::DEFAULT.as_str();

/// Every algorithm name, for choices and help:
/// [`Algorithm::NAMES`](core::Algorithm::NAMES).
pub const ALGORITHMS: [&str; 4] = core::Algorithm::NAMES;

#[cfg_attr(feature = "uniffi", uniffi::export)]
/// What the user should hear about an algorithm before choosing it (AEAD algorithms that
/// common mail programs cannot open), or `None`: mailseal-core's
/// [`Algorithm::advice`](core::Algorithm::advice).
pub fn algorithm_advice(algorithm: Algorithm) -> Option<String> {
    core::Algorithm::from(algorithm).advice().map(str::to_owned)
}

/// The content-encryption algorithm of encryption at rest, as Stalwart names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(eq, eq_int, frozen, from_py_object, module = "mailseal._mailseal")
)]
pub enum Algorithm {
    /// AES-128 (CBC in S/MIME, CFB in OpenPGP).
    Aes128,
    /// AES-256 (CBC in S/MIME, CFB in OpenPGP); the default.
    Aes256,
    /// AES-256-GCM (AuthEnvelopedData in S/MIME; S/MIME only).
    Aes256Gcm,
    /// ChaCha20-Poly1305 (AuthEnvelopedData in S/MIME; S/MIME only).
    ChaCha20Poly1305,
}

mirror_core_enum!(
    Algorithm,
    Algorithm,
    Aes128,
    Aes256,
    Aes256Gcm,
    ChaCha20Poly1305
);

impl Algorithm {
    /// The algorithm called `name` (`aes128`, `aes256`, `aes256-gcm`,
    /// `chacha20-poly1305`); `input.unknown_algorithm` otherwise.
    pub fn from_name(name: &str) -> Result<Algorithm, ApiError> {
        Ok(name.parse::<core::Algorithm>()?.into())
    }
}

/// The OpenPGP container for encrypted data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(eq, eq_int, frozen, from_py_object, module = "mailseal._mailseal")
)]
pub enum PgpFormat {
    /// SEIPDv2 when every recipient key asks for it, else SEIPDv1 (the default).
    Auto,
    /// SEIPDv1 (RFC 4880), which every OpenPGP program reads.
    Seipdv1,
    /// SEIPDv2 (RFC 9580, AEAD).
    Seipdv2,
}

mirror_core_enum!(PgpFormat, PgpFormat, Auto, Seipdv1, Seipdv2);

impl PgpFormat {
    /// The format called `name` (`auto`, `seipdv1`, `seipdv2`); `input.unknown_pgp_format`
    /// otherwise.
    pub fn from_name(name: &str) -> Result<PgpFormat, ApiError> {
        Ok(name.parse::<core::PgpFormat>()?.into())
    }
}

/// How to encrypt a message at rest. (Python passes these as keyword arguments.)
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct EncryptOptions {
    /// `None` means mailseal-core's [`Algorithm::DEFAULT`](core::Algorithm::DEFAULT)
    /// (`aes256`).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub algorithm: Option<Algorithm>,
    /// `None` means [`PgpFormat::DEFAULT`](core::PgpFormat::DEFAULT) (`auto`).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub pgp_format: Option<PgpFormat>,
    /// RSA-OAEP for RSA recipients with the CBC algorithms too.
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub oaep: bool,
    /// The address the key should belong to (picks certificates from a keyring).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub email: Option<String>,
}

/// An encrypted message and what was done.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(get_all, frozen, eq, from_py_object, module = "mailseal._mailseal")
)]
pub struct EncryptResult {
    /// The message as it will be stored.
    pub message: Vec<u8>,
    /// Whether the message was already encrypted (and is returned unchanged).
    pub already_encrypted: bool,
    /// The algorithm used, e.g. `aes256`.
    pub algorithm: String,
    /// The key's warnings (it is usable; the user should know these).
    pub warnings: Vec<KeyProblem>,
    /// Advice about the algorithm (see [`algorithm_advice`]), if any.
    pub advice: Option<String>,
}

#[cfg_attr(feature = "uniffi", uniffi::export)]
/// Encrypts `message` to the public key `key` as Stalwart stores mail at rest. An
/// already-encrypted message comes back unchanged (`already_encrypted`). Never returns the
/// plaintext: if encryption cannot be done, the result is an error.
pub fn encrypt(
    message: Vec<u8>,
    key: Vec<u8>,
    options: EncryptOptions,
) -> Result<EncryptResult, ApiError> {
    Recipients::new(key, options.email.clone())?.encrypt(message, options)
}

/// A public key read and validated once, to encrypt many messages to: a server-side batch,
/// re-encrypting a mailbox, or any loop over messages (the key is not parsed again for each).
///
/// ```
/// use mailseal_api::{EncryptOptions, Recipients, is_encrypted};
/// let alice = Recipients::new(include_bytes!("../../../examples/keys/alice.crt.pem").to_vec(), None)?;
/// for message in [&b"Subject: one\r\n\r\nhi\r\n"[..], &b"Subject: two\r\n\r\nho\r\n"[..]] {
///     let stored = alice.encrypt(message.to_vec(), EncryptOptions::default())?;
///     assert!(is_encrypted(stored.message));
/// }
/// # Ok::<(), mailseal_api::ApiError>(())
/// ```
#[cfg_attr(feature = "uniffi", derive(uniffi::Object))]
#[cfg_attr(
    feature = "python",
    pyo3::pyclass(frozen, module = "mailseal._mailseal")
)]
#[derive(Debug)]
pub struct Recipients(core::Recipients);

#[cfg_attr(feature = "uniffi", uniffi::export)]
impl Recipients {
    /// Reads `key` (any form [`inspect_key`] takes) and validates it for `email` when given;
    /// an unusable or private key is an error, as for [`encrypt`].
    #[cfg_attr(feature = "uniffi", uniffi::constructor)]
    pub fn new(key: Vec<u8>, email: Option<String>) -> Result<Self, ApiError> {
        Ok(Recipients(
            core::RecipientKey::from_bytes(&key)?.validate(&policy(email, None)?)?,
        ))
    }

    /// What the check said about the key (its warnings, fingerprints, expiry).
    pub fn inspection(&self) -> KeyInspection {
        KeyInspection::from(self.0.report())
    }

    /// Encrypts `message` to these recipients (`options.email` is not used: the address was
    /// checked when they were made).
    pub fn encrypt(
        &self,
        message: Vec<u8>,
        options: EncryptOptions,
    ) -> Result<EncryptResult, ApiError> {
        self.encrypt_slice(&message, &options)
    }

    /// Encrypts the message in the file `input` into the file `output`, streaming (see
    /// [`encrypt_file`](crate::encrypt_file)).
    pub fn encrypt_file(
        &self,
        input: String,
        output: String,
        options: EncryptOptions,
    ) -> Result<EncryptResult, ApiError> {
        let opts = core_options(&options);
        let outcome = crate::files::encrypt_stream_file(&input, &output, &self.0, &opts)?;
        Ok(EncryptResult::new(Vec::new(), outcome, &self.0, &opts))
    }
}

impl Recipients {
    /// [`Recipients::encrypt`] of a borrowed message: no copy of it is made (the Python
    /// binding hands its `bytes` over this way).
    pub fn encrypt_slice(
        &self,
        message: &[u8],
        options: &EncryptOptions,
    ) -> Result<EncryptResult, ApiError> {
        let opts = core_options(options);
        let out = core::encrypt(message, &self.0, &opts)?;
        Ok(EncryptResult::new(out.message, out.outcome, &self.0, &opts))
    }
}

/// mailseal-core's options for `options`.
fn core_options(options: &EncryptOptions) -> core::EncryptOptions {
    let mut opts = core::EncryptOptions::new(
        options
            .algorithm
            .map_or(core::Algorithm::DEFAULT, Into::into),
    );
    opts.pgp_format = options
        .pgp_format
        .map_or(core::PgpFormat::DEFAULT, Into::into);
    opts.rsa_oaep = options.oaep;
    opts
}

impl EncryptResult {
    /// What encrypting with `opts` to `recipients` did, with the stored `message`.
    pub(crate) fn new(
        message: Vec<u8>,
        outcome: core::Outcome,
        recipients: &core::Recipients,
        opts: &core::EncryptOptions,
    ) -> Self {
        EncryptResult {
            message,
            already_encrypted: outcome == core::Outcome::AlreadyEncrypted,
            algorithm: opts.algorithm.as_str().to_owned(),
            warnings: recipients
                .report()
                .warnings()
                .map(KeyProblem::from)
                .collect(),
            advice: opts.algorithm.advice().map(str::to_owned),
        }
    }
}

#[cfg_attr(feature = "uniffi", uniffi::export)]
/// Decrypts a stored message with the owner's private key (OpenPGP secret key, PEM private
/// key with its certificate, or PKCS#12), unlocking it with `password` when it is protected.
///
/// The plaintext comes back in core's [`Zeroizing`](core::Zeroizing) buffer, which wipes it
/// when dropped (it derefs to `Vec<u8>`); the private key bytes and the password given here
/// are wiped when the call returns.
pub fn decrypt(
    message: Vec<u8>,
    private_key: Vec<u8>,
    password: Option<String>,
) -> Result<Plaintext, ApiError> {
    let private_key = core::Zeroizing::new(private_key);
    let password = password.map(core::Zeroizing::new);
    let key = core::PrivateKey::from_bytes(&private_key, password.as_deref().map(String::as_str))?;
    Ok(core::decrypt(&message, &key)?)
}

/// A decrypted message in a buffer that is wiped when dropped (derefs to `Vec<u8>`). The
/// copy a foreign language receives is that language's own and cannot be wiped.
pub type Plaintext = core::Zeroizing<Vec<u8>>;

#[cfg(feature = "uniffi")]
uniffi::custom_type!(Plaintext, Vec<u8>, {
    remote,
    lower: |plain| plain.to_vec(),
    try_lift: |bytes| Ok(core::Zeroizing::new(bytes)),
});

#[cfg_attr(feature = "uniffi", uniffi::export)]
/// Whether a message is encrypted (PGP/MIME, S/MIME enveloped data, inline PGP).
pub fn is_encrypted(message: Vec<u8>) -> bool {
    core::is_encrypted(&message)
}
