//! How to encrypt: the content-encryption [`Algorithm`], the OpenPGP container
//! ([`PgpFormat`]) and the [`EncryptOptions`] that carry them.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// The content-encryption algorithm, named as in Stalwart's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// AES-128 (CBC for S/MIME, CFB for OpenPGP).
    Aes128,
    /// AES-256 (CBC for S/MIME, CFB for OpenPGP). The recommended choice: every program reads it.
    Aes256,
    /// AES-256-GCM, S/MIME AuthEnvelopedData only. Outlook, .NET and NSS cannot open it.
    Aes256Gcm,
    /// ChaCha20-Poly1305 (RFC 8103), S/MIME AuthEnvelopedData only. OpenSSL 3.0, Outlook and
    /// .NET cannot open it.
    ChaCha20Poly1305,
}

impl Algorithm {
    /// Every algorithm.
    pub const ALL: [Algorithm; 4] = [
        Algorithm::Aes128,
        Algorithm::Aes256,
        Algorithm::Aes256Gcm,
        Algorithm::ChaCha20Poly1305,
    ];

    /// `aes128`, `aes256`, `aes256-gcm` or `chacha20-poly1305`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Algorithm::Aes128 => "aes128",
            Algorithm::Aes256 => "aes256",
            Algorithm::Aes256Gcm => "aes256-gcm",
            Algorithm::ChaCha20Poly1305 => "chacha20-poly1305",
        }
    }

    /// The name for people: `AES-128`, `AES-256-GCM`, …
    pub fn display_name(&self) -> &'static str {
        match self {
            Algorithm::Aes128 => "AES-128",
            Algorithm::Aes256 => "AES-256",
            Algorithm::Aes256Gcm => "AES-256-GCM",
            Algorithm::ChaCha20Poly1305 => "ChaCha20-Poly1305",
        }
    }

    /// Whether this is an AEAD algorithm (S/MIME AuthEnvelopedData only).
    pub fn is_aead(&self) -> bool {
        matches!(self, Algorithm::Aes256Gcm | Algorithm::ChaCha20Poly1305)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or(Error::ApiMisuse(
                "unknown algorithm: use aes128, aes256, aes256-gcm or chacha20-poly1305",
            ))
    }
}

/// Which OpenPGP encryption container to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PgpFormat {
    /// SEIPDv2 when every recipient is a v6 key, SEIPDv1 otherwise.
    #[default]
    Auto,
    /// SEIPDv1 (AES-CFB + MDC): every OpenPGP program reads it, GnuPG 2.2 included.
    Seipdv1,
    /// SEIPDv2 (AEAD, RFC 9580): GnuPG 2.2 and 2.4 cannot read it.
    Seipdv2,
}

impl PgpFormat {
    /// Every format, in the order of [`PgpFormat::as_str`]'s names.
    pub const ALL: [PgpFormat; 3] = [PgpFormat::Auto, PgpFormat::Seipdv1, PgpFormat::Seipdv2];

    /// `auto`, `seipdv1` or `seipdv2` (the names of the CLI's `--pgp`).
    pub fn as_str(self) -> &'static str {
        match self {
            PgpFormat::Auto => "auto",
            PgpFormat::Seipdv1 => "seipdv1",
            PgpFormat::Seipdv2 => "seipdv2",
        }
    }
}

impl FromStr for PgpFormat {
    type Err = Error;

    /// Reads a name of [`PgpFormat::as_str`], in any case.
    ///
    /// ```
    /// use mailseal_core::PgpFormat;
    /// assert_eq!("SEIPDv2".parse::<PgpFormat>().unwrap(), PgpFormat::Seipdv2);
    /// assert!("v3".parse::<PgpFormat>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Error> {
        PgpFormat::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or(Error::ApiMisuse(
                "unknown OpenPGP format: use auto, seipdv1 or seipdv2",
            ))
    }
}

/// How to encrypt.
///
/// ```
/// use mailseal_core::{Algorithm, EncryptOptions};
/// let options = EncryptOptions::new(Algorithm::Aes256);
/// assert_eq!(options.algorithm, Algorithm::Aes256);
/// assert!(!options.rsa_oaep);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncryptOptions {
    /// The content-encryption algorithm.
    pub algorithm: Algorithm,
    /// The OpenPGP container format (ignored for S/MIME).
    pub pgp_format: PgpFormat,
    /// Use RSA-OAEP (SHA-256) for RSA recipients with the CBC algorithms too. The AEAD
    /// algorithms always use OAEP; by default CBC uses PKCS#1 v1.5, as Stalwart does.
    pub rsa_oaep: bool,
}

impl EncryptOptions {
    /// Options with `algorithm`, the automatic OpenPGP format and PKCS#1 v1.5 for CBC.
    pub fn new(algorithm: Algorithm) -> Self {
        EncryptOptions {
            algorithm,
            pgp_format: PgpFormat::Auto,
            rsa_oaep: false,
        }
    }
}

impl Default for EncryptOptions {
    fn default() -> Self {
        EncryptOptions::new(Algorithm::Aes256)
    }
}
