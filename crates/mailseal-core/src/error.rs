//! The one error type of this crate, with a stable machine code for every variant.
//!
//! [`Error`] wraps one enum per family ([`KeyError`] for key intake). Every variant has a
//! stable dotted code ([`Error::code`]) that applications and the language bindings match
//! on; the [`Display`](std::fmt::Display) text is for people and may change. Messages never
//! contain key material from the input.

use std::{fmt, io};

/// Everything that can go wrong in `mailseal-core`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Decryption failed.
    Decrypt(DecryptError),
    /// Encryption was asked for and cannot be done; nothing was written in clear.
    Encrypt(EncryptError),
    /// Reading the caller's input or writing the caller's output failed.
    ///
    /// The code says which: `io.read` (reading the input), `io.write` (writing the output),
    /// or `io.broken_pipe` (writing the output, when whoever read it has gone away, e.g.
    /// `mailseal encrypt … | head`; a command line tool usually stops quietly then). Only the
    /// caller's own streams give this error; a failure inside mailseal's machinery is reported
    /// under its own code (e.g. `encrypt.backend`).
    Io {
        /// Which side failed.
        op: IoOp,
        /// The operating system's kind of error; [`io::ErrorKind::BrokenPipe`] on the write
        /// side is `io.broken_pipe`.
        kind: io::ErrorKind,
        /// What the operating system said.
        detail: String,
    },
    /// The input could not be read as a recipient key.
    Key(KeyError),
    /// An argument given by a person is not valid: an unknown algorithm or format name, a
    /// time that cannot be read or shown.
    Input(InputError),
    /// The message could not be read as MIME.
    Mime(MimeError),
    /// The key was read, but cannot be used as a recipient (see the report for why).
    Unusable {
        /// The problem codes of the errors that made it unusable, in report order.
        codes: Vec<&'static str>,
        /// A sentence per error, for people.
        reasons: Vec<String>,
    },
    /// The caller used the API in a way it does not allow; never caused by input data.
    ApiMisuse(&'static str),
}

impl Error {
    /// The stable machine code of this error, e.g. `key.private_key`.
    ///
    /// Codes are never renamed; new ones may be added.
    ///
    /// ```
    /// use mailseal_core::RecipientKey;
    /// let err = RecipientKey::from_bytes(b"").unwrap_err();
    /// assert_eq!(err.code(), "key.empty");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::Decrypt(e) => e.code(),
            Error::Encrypt(e) => e.code(),
            Error::Io { op: IoOp::Read, .. } => "io.read",
            Error::Io {
                op: IoOp::Write,
                kind: io::ErrorKind::BrokenPipe,
                ..
            } => "io.broken_pipe",
            Error::Io {
                op: IoOp::Write, ..
            } => "io.write",
            Error::Input(e) => e.code(),
            Error::Key(e) => e.code(),
            Error::Mime(e) => e.code(),
            Error::Unusable { .. } => "key.unusable",
            Error::ApiMisuse(_) => "api.misuse",
        }
    }
}

impl Error {
    /// Technical detail for developers (what a parser reported), kept out of the message,
    /// which is for people; `None` when there is nothing more to say. See
    /// [`KeyError::detail`].
    pub fn detail(&self) -> Option<&str> {
        match self {
            Error::Key(e) => e.detail(),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Decrypt(e) => e.fmt(f),
            Error::Encrypt(e) => e.fmt(f),
            Error::Io {
                op: IoOp::Read,
                detail,
                ..
            } => write!(f, "cannot read the input: {detail}"),
            Error::Io {
                op: IoOp::Write,
                kind: io::ErrorKind::BrokenPipe,
                detail,
            } => write!(
                f,
                "the output was closed before everything was written: {detail}"
            ),
            Error::Io {
                op: IoOp::Write,
                detail,
                ..
            } => write!(f, "cannot write the output: {detail}"),
            Error::Input(e) => e.fmt(f),
            Error::Key(e) => e.fmt(f),
            Error::Mime(e) => e.fmt(f),
            Error::Unusable { reasons, .. } => {
                f.write_str("the key cannot be used for encryption at rest")?;
                for (i, r) in reasons.iter().enumerate() {
                    f.write_str(if i == 0 { ": " } else { "; " })?;
                    f.write_str(r)?;
                }
                Ok(())
            }
            Error::ApiMisuse(what) => write!(f, "API misuse: {what}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<KeyError> for Error {
    fn from(e: KeyError) -> Self {
        Error::Key(e)
    }
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Self {
        Error::Input(e)
    }
}

impl From<MimeError> for Error {
    fn from(e: MimeError) -> Self {
        Error::Mime(e)
    }
}

impl From<EncryptError> for Error {
    fn from(e: EncryptError) -> Self {
        Error::Encrypt(e)
    }
}

impl From<DecryptError> for Error {
    fn from(e: DecryptError) -> Self {
        Error::Decrypt(e)
    }
}

/// Which side of a streaming call an [`Error::Io`] happened on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IoOp {
    /// Reading the caller's input (`io.read`).
    Read,
    /// Writing the caller's output (`io.write`, or `io.broken_pipe` when the reader of the
    /// output has gone away).
    Write,
}

impl Error {
    /// The error for a failure of the caller's input ([`IoOp::Read`]) or output
    /// ([`IoOp::Write`]), for applications that read and write the streams themselves and
    /// want mailseal's codes for them.
    ///
    /// An [`io::Error`] raised inside mailseal's own readers and writers carries a mailseal
    /// [`Error`]; that error is returned unchanged.
    ///
    /// ```
    /// use std::io;
    /// use mailseal_core::{Error, IoOp};
    /// let closed = io::Error::from(io::ErrorKind::BrokenPipe);
    /// assert_eq!(Error::io(IoOp::Write, &closed).code(), "io.broken_pipe");
    /// assert_eq!(Error::io(IoOp::Read, &io::Error::other("gone")).code(), "io.read");
    /// ```
    pub fn io(op: IoOp, e: &io::Error) -> Error {
        if let Some(inner) = carried(e) {
            return inner.clone();
        }
        Error::Io {
            op,
            kind: e.kind(),
            detail: e.to_string(),
        }
    }
}

/// The mailseal error an [`io::Error`] carries, when it was raised inside our own readers
/// and writers (or by the wrappers around the caller's streams).
pub(crate) fn carried(e: &io::Error) -> Option<&Error> {
    e.get_ref().and_then(|i| i.downcast_ref::<Error>())
}

/// An [`io::Error`] that surfaced while encrypting: the error it carries, or else
/// `encrypt.backend`. The caller's reader and writer are wrapped so that their failures
/// always carry an [`Error::Io`]; an error without one came from the library's own
/// machinery (Sequoia's writer stack, an in-memory buffer), not from the caller's streams.
pub(crate) fn encrypt_io(e: io::Error) -> Error {
    match carried(&e) {
        Some(inner) => inner.clone(),
        None => EncryptError::Backend {
            detail: e.to_string(),
        }
        .into(),
    }
}

/// An argument given by a person is not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputError {
    /// Not a name of [`Algorithm::NAMES`](crate::Algorithm::NAMES).
    UnknownAlgorithm {
        /// The name given (at most 40 characters of it).
        name: String,
        /// The names that would have been understood.
        expected: &'static [&'static str],
    },
    /// Not a name of [`PgpFormat::NAMES`](crate::PgpFormat::NAMES).
    UnknownPgpFormat {
        /// The name given (at most 40 characters of it).
        name: String,
        /// The names that would have been understood.
        expected: &'static [&'static str],
    },
    /// The text is not an RFC 3339 time.
    BadTime {
        /// What the parser reported.
        detail: String,
    },
    /// The time is outside the years 0000 to 9999, which RFC 3339 can show.
    TimeOutOfRange,
}

impl InputError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            InputError::UnknownAlgorithm { .. } => "input.unknown_algorithm",
            InputError::UnknownPgpFormat { .. } => "input.unknown_pgp_format",
            InputError::BadTime { .. } => "input.bad_time",
            InputError::TimeOutOfRange => "input.time_out_of_range",
        }
    }

    /// The name, shortened so that an error never carries a whole input.
    pub(crate) fn name(s: &str) -> String {
        s.chars().take(40).collect()
    }
}

/// `a, b or c`.
fn one_of(f: &mut fmt::Formatter<'_>, names: &[&str]) -> fmt::Result {
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            f.write_str(if i + 1 == names.len() { " or " } else { ", " })?;
        }
        f.write_str(n)?;
    }
    Ok(())
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::UnknownAlgorithm { name, expected } => {
                write!(f, "unknown algorithm {name:?}: use ")?;
                one_of(f, expected)
            }
            InputError::UnknownPgpFormat { name, expected } => {
                write!(f, "unknown OpenPGP format {name:?}: use ")?;
                one_of(f, expected)
            }
            InputError::BadTime { detail } => write!(
                f,
                "not an RFC 3339 time ({detail}); example: 2027-01-31T00:00:00Z"
            ),
            InputError::TimeOutOfRange => {
                f.write_str("the time is outside the years 0000 to 9999 and cannot be shown")
            }
        }
    }
}

impl std::error::Error for InputError {}

/// The message could not be read as MIME (RFC 5322 / RFC 2045).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MimeError {
    /// The message is empty.
    Empty,
    /// The header block is longer than the limit.
    HeadersTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl MimeError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            MimeError::Empty => "mime.empty",
            MimeError::HeadersTooLong { .. } => "mime.headers_too_long",
        }
    }
}

impl fmt::Display for MimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MimeError::Empty => f.write_str("the message is empty"),
            MimeError::HeadersTooLong { limit } => write!(
                f,
                "the message's header block is longer than {limit} bytes; it is not a mail \
                 message mailseal can handle"
            ),
        }
    }
}

impl std::error::Error for MimeError {}

/// Encryption was asked for and cannot be done.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncryptError {
    /// An AEAD algorithm (AES-256-GCM, ChaCha20-Poly1305) was asked for with OpenPGP keys.
    AeadWithOpenPgp {
        /// The algorithm asked for.
        algorithm: &'static str,
    },
    /// The cryptographic library failed.
    Backend {
        /// What it reported.
        detail: String,
    },
    /// SEIPDv1 was asked for, but a recipient is a v6 key, which needs SEIPDv2.
    Seipdv1WithV6Key,
    /// A recipient's key type cannot be encrypted to.
    UnsupportedRecipient {
        /// The key type.
        key: String,
    },
}

impl EncryptError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            EncryptError::AeadWithOpenPgp { .. } => "encrypt.aead_with_openpgp",
            EncryptError::Backend { .. } => "encrypt.backend",
            EncryptError::Seipdv1WithV6Key => "encrypt.seipdv1_with_v6_key",
            EncryptError::UnsupportedRecipient { .. } => "encrypt.unsupported_recipient",
        }
    }
}

impl fmt::Display for EncryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncryptError::AeadWithOpenPgp { algorithm } => write!(
                f,
                "{algorithm} is only supported for S/MIME encryption, but the key is an \
                 OpenPGP key; choose aes128 or aes256"
            ),
            EncryptError::Backend { detail } => write!(f, "encryption failed: {detail}"),
            EncryptError::Seipdv1WithV6Key => f.write_str(
                "the classic SEIPDv1 format cannot be used with an OpenPGP v6 key; use SEIPDv2",
            ),
            EncryptError::UnsupportedRecipient { key } => {
                write!(f, "cannot encrypt to a certificate with an {key} key")
            }
        }
    }
}

impl std::error::Error for EncryptError {}

/// Decryption failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecryptError {
    /// The ciphertext failed its integrity check (AEAD tag, MDC) or its padding: it was
    /// damaged or tampered with.
    Integrity,
    /// The encrypted data is damaged and cannot be read.
    Malformed {
        /// What is wrong (never contains message content).
        detail: String,
    },
    /// The message is not encrypted to the given key.
    NoMatchingKey,
    /// The message is not encrypted.
    NotEncrypted,
    /// The private key could not be read.
    PrivateKey {
        /// What is wrong.
        detail: String,
    },
    /// The message uses an algorithm mailseal cannot decrypt.
    Unsupported {
        /// The algorithm.
        algorithm: String,
    },
    /// The private key is protected and the password is missing or wrong.
    WrongPassword,
}

impl DecryptError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            DecryptError::Integrity => "decrypt.integrity",
            DecryptError::Malformed { .. } => "decrypt.malformed",
            DecryptError::NoMatchingKey => "decrypt.no_matching_key",
            DecryptError::NotEncrypted => "decrypt.not_encrypted",
            DecryptError::PrivateKey { .. } => "decrypt.private_key",
            DecryptError::Unsupported { .. } => "decrypt.unsupported",
            DecryptError::WrongPassword => "decrypt.wrong_password",
        }
    }
}

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecryptError::Integrity => f.write_str(
                "the encrypted message failed its integrity check: it is damaged or was \
                 tampered with",
            ),
            DecryptError::Malformed { detail } => {
                write!(f, "the encrypted message is damaged: {detail}")
            }
            DecryptError::NoMatchingKey => f.write_str(
                "the message is not encrypted to this key; try the key that was active when \
                 the message was stored",
            ),
            DecryptError::NotEncrypted => f.write_str("the message is not encrypted"),
            DecryptError::PrivateKey { detail } => {
                write!(f, "the private key cannot be read: {detail}")
            }
            DecryptError::Unsupported { algorithm } => {
                write!(
                    f,
                    "the message uses {algorithm}, which mailseal cannot decrypt"
                )
            }
            DecryptError::WrongPassword => f.write_str(
                "the private key is protected by a password, and the password is missing or \
                 wrong",
            ),
        }
    }
}

impl std::error::Error for DecryptError {}

/// What kind of private key was found where a public key or certificate was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrivateKeyKind {
    /// An OpenPGP secret key (transferable secret key).
    OpenPgp,
    /// A PKCS#8 private key (`BEGIN PRIVATE KEY`).
    Pkcs8,
    /// A password-protected PKCS#8 private key (`BEGIN ENCRYPTED PRIVATE KEY`).
    EncryptedPkcs8,
    /// A PKCS#1 RSA private key (`BEGIN RSA PRIVATE KEY`).
    Pkcs1,
    /// A SEC1 EC private key (`BEGIN EC PRIVATE KEY`).
    Sec1,
    /// A PKCS#12 / PFX bundle (`.p12`, `.pfx`), which holds a private key.
    Pkcs12,
    /// Some other private key block (DSA, OpenSSH, …).
    Other,
    // X.509 intake additions:
    /// A key file of GnuPG's agent (`private-keys-v1.d/*.key`), in the old S-expression or
    /// the newer extended (`Key: (protected-private-key …`) format.
    GnuPgKeyFile,
}

impl fmt::Display for PrivateKeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PrivateKeyKind::OpenPgp => "an OpenPGP secret key",
            PrivateKeyKind::Pkcs8 => "a PKCS#8 private key",
            PrivateKeyKind::EncryptedPkcs8 => "an encrypted PKCS#8 private key",
            PrivateKeyKind::Pkcs1 => "an RSA private key",
            PrivateKeyKind::Sec1 => "an EC private key",
            PrivateKeyKind::Pkcs12 => "a PKCS#12 bundle with a private key",
            PrivateKeyKind::Other => "a private key",
            PrivateKeyKind::GnuPgKeyFile => "a GnuPG private key file (from private-keys-v1.d)",
        })
    }
}

/// The input could not be read as a recipient key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Both OpenPGP and X.509 material in one input.
    Mixed,
    /// The input holds something that is not a key or certificate (a message, a request, …).
    NotAKey {
        /// What it is, e.g. "an OpenPGP message".
        found: &'static str,
    },
    /// Nothing was given.
    Empty,
    /// A block or structure was recognised but its contents are damaged.
    Malformed {
        /// Which format was being read.
        format: &'static str,
        /// What the parser reported (never contains input bytes); not part of the
        /// [`Display`](std::fmt::Display) text: see [`KeyError::detail`].
        detail: String,
    },
    /// A bare public key without a certificate around it (`BEGIN PUBLIC KEY`).
    BarePublicKey,
    /// The input contains a private key; only public keys and certificates are accepted.
    PrivateKey {
        /// What kind of private key was found.
        kind: PrivateKeyKind,
    },
    /// The input is larger than [`MAX_INPUT_LEN`](crate::MAX_INPUT_LEN).
    TooLarge {
        /// The size of the input, in bytes.
        size: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// Neither an OpenPGP key nor an X.509 certificate was recognised.
    Unrecognized,
    // X.509 intake additions:
    /// A PKCS#12 file (`.p12`, `.pfx`) without a visible private key, whose contents are
    /// encrypted with a password: what it holds cannot be seen (a private key may be among
    /// it), and mailseal never asks for that password.
    Pkcs12Protected,
    // OpenPGP intake additions:
    /// OpenPGP keys of a version mailseal cannot read (an old v3 key of PGP 2.x, a LibrePGP
    /// v5 key), and no other key.
    UnsupportedVersion {
        /// The key version: 3 or 5 (2 is the same as 3).
        version: u8,
    },
}

impl KeyError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::BarePublicKey => "key.bare_public_key",
            KeyError::Empty => "key.empty",
            KeyError::Malformed { .. } => "key.malformed",
            KeyError::Mixed => "key.mixed_formats",
            KeyError::NotAKey { .. } => "key.not_a_key",
            KeyError::PrivateKey { .. } => "key.private_key",
            KeyError::TooLarge { .. } => "key.too_large",
            KeyError::Unrecognized => "key.unrecognized",
            KeyError::Pkcs12Protected => "key.pkcs12_protected",
            KeyError::UnsupportedVersion { .. } => "key.unsupported_version",
        }
    }

    /// Technical detail for developers (what the parser reported), kept out of the
    /// [`Display`](std::fmt::Display) text, which is one sentence for people. `None` when
    /// there is nothing to add.
    ///
    /// ```
    /// use mailseal_core::RecipientKey;
    /// let err = RecipientKey::from_bytes(&[0x30, 0x03, 0x02, 0x01]).unwrap_err();
    /// assert_eq!(err.code(), "key.malformed");
    /// assert!(!err.to_string().contains("ASN.1"));
    /// assert!(err.detail().is_some());
    /// ```
    pub fn detail(&self) -> Option<&str> {
        match self {
            KeyError::Malformed { detail, .. } => Some(detail),
            _ => None,
        }
    }
}

/// What damaged data of `format` is called in a sentence for people.
fn format_noun(format: &str) -> &str {
    match format {
        "X.509 certificate" => "the certificate",
        "PKCS#7" => "the certificate bundle (PKCS#7, .p7b)",
        "PKCS#12" => "the PKCS#12 file (.p12, .pfx)",
        "PEM" => "a PEM block (-----BEGIN …-----) of the input",
        "OpenPGP" | "OpenPGP armor" => "the OpenPGP key",
        other => other,
    }
}

/// What an OpenPGP key of `version` is, for messages: "an old version 3 OpenPGP key (PGP 2.x)".
pub(crate) fn describe_key_version(version: u8) -> String {
    match version {
        2 | 3 => format!("an old version {version} OpenPGP key (from PGP 2.x)"),
        5 => "a version 5 OpenPGP key (the LibrePGP format, which GnuPG 2.4 and later can make)"
            .to_owned(),
        v => format!("a version {v} OpenPGP key"),
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::BarePublicKey => f.write_str(
                "this is a bare public key without a certificate; export the whole \
                 certificate (S/MIME) or public key block (OpenPGP) instead",
            ),
            KeyError::Empty => f.write_str("no key was given: the input is empty"),
            KeyError::Malformed { format, .. } => write!(
                f,
                "{} is damaged or incomplete and cannot be read; export or copy it again, \
                 all of it",
                format_noun(format)
            ),
            KeyError::Mixed => f.write_str(
                "the input mixes OpenPGP keys and X.509 certificates; give one kind only",
            ),
            KeyError::NotAKey { found } => {
                write!(f, "the input is {found}, not a public key or certificate")
            }
            KeyError::PrivateKey { kind } => write!(
                f,
                "the input contains {kind}; never upload private keys: export only the \
                 public key or certificate and keep the private key to yourself"
            ),
            KeyError::TooLarge { size, limit } => write!(
                f,
                "the input is {size} bytes, more than the {limit} bytes a key may take"
            ),
            KeyError::Unrecognized => f.write_str(
                "no OpenPGP public key or X.509 certificate was found in the input \
                 (expected PEM, DER, PKCS#7, or an armored or binary OpenPGP key)",
            ),
            KeyError::Pkcs12Protected => f.write_str(
                "the input is a password-protected PKCS#12 file (.p12, .pfx): its certificates \
                 cannot be read without the password, which mailseal never asks for; export \
                 the certificate alone (PEM or DER, without the private key) and upload that",
            ),
            KeyError::UnsupportedVersion { version } => {
                let what = describe_key_version(*version);
                match version {
                    2 | 3 => write!(
                        f,
                        "this is {what}, which current OpenPGP software no longer accepts: its \
                         cryptography is outdated. Create a new key (e.g. `gpg --quick-gen-key \
                         'Your Name <you@example.org>'`) and upload its public key"
                    ),
                    5 => write!(
                        f,
                        "this is {what}; mailseal and most other OpenPGP programs cannot read \
                         it. Create a version 4 key (GnuPG makes one with its default \
                         algorithm: `gpg --quick-gen-key 'Your Name <you@example.org>'`) and \
                         upload its public key"
                    ),
                    _ => write!(
                        f,
                        "this is {what}, which mailseal cannot read (it reads version 4 and 6 \
                         keys); export a version 4 or 6 key"
                    ),
                }
            }
        }
    }
}

impl std::error::Error for KeyError {}
