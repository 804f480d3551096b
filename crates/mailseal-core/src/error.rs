//! The one error type of this crate, with a stable machine code for every variant.
//!
//! [`Error`] wraps one enum per family ([`KeyError`] for key intake). Every variant has a
//! stable dotted code ([`Error::code`]) that applications and the language bindings match
//! on; the [`Display`](std::fmt::Display) text is for people and may change. Messages never
//! contain key material from the input.

use std::fmt;

/// Everything that can go wrong in `mailseal-core`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input could not be read as a recipient key.
    Key(KeyError),
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
            Error::Key(e) => e.code(),
            Error::Unusable { .. } => "key.unusable",
            Error::ApiMisuse(_) => "api.misuse",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Key(e) => e.fmt(f),
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
        /// What the parser reported (never contains input bytes).
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
        }
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
            KeyError::Malformed { format, detail } => {
                write!(
                    f,
                    "the {format} data is damaged and cannot be read: {detail}"
                )
            }
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
        }
    }
}

impl std::error::Error for KeyError {}
