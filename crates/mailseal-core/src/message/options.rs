//! How to encrypt: the content-encryption [`Algorithm`], the OpenPGP container
//! ([`PgpFormat`]) and the [`EncryptOptions`] that carry them.

use std::fmt;
use std::str::FromStr;

use crate::error::{EncryptError, Error, InputError};
use crate::key::report::KeyFormat;

/// The content-encryption algorithm, named as in Stalwart's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// AES-128 (CBC for S/MIME, CFB for OpenPGP).
    Aes128,
    /// AES-256 (CBC for S/MIME, CFB for OpenPGP). The recommended choice: every program reads it.
    Aes256,
    /// AES-256-GCM, S/MIME AuthEnvelopedData only; see [`Algorithm::advice`] for who cannot
    /// open it.
    Aes256Gcm,
    /// ChaCha20-Poly1305 (RFC 8103), S/MIME AuthEnvelopedData only; see
    /// [`Algorithm::advice`] for who cannot open it.
    ChaCha20Poly1305,
}

impl Algorithm {
    /// The algorithm used when none is chosen: AES-256, which every program reads. Every
    /// default in mailseal (CLI, Python, facade) is this one.
    ///
    /// ```
    /// use mailseal_core::Algorithm;
    /// assert_eq!(Algorithm::DEFAULT.as_str(), "aes256");
    /// assert_eq!(Algorithm::default(), Algorithm::DEFAULT);
    /// ```
    pub const DEFAULT: Algorithm = Algorithm::Aes256;

    /// Every algorithm, in the order of [`Algorithm::NAMES`].
    pub const ALL: [Algorithm; 4] = [
        Algorithm::Aes128,
        Algorithm::Aes256,
        Algorithm::Aes256Gcm,
        Algorithm::ChaCha20Poly1305,
    ];

    /// The names of [`Algorithm::as_str`], in the order of [`Algorithm::ALL`], for help and
    /// error text.
    pub const NAMES: [&'static str; 4] = ["aes128", "aes256", "aes256-gcm", "chacha20-poly1305"];

    /// `aes128`, `aes256`, `aes256-gcm` or `chacha20-poly1305`.
    pub const fn as_str(&self) -> &'static str {
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

    /// One line for a list of choices (a CLI's `--help`), e.g. `AES-256-GCM, S/MIME only`.
    pub fn summary(self) -> &'static str {
        match self {
            Algorithm::Aes128 => "AES-128 (CBC for S/MIME, CFB for OpenPGP)",
            Algorithm::Aes256 => {
                "AES-256 (CBC for S/MIME, CFB for OpenPGP), the default: every program reads it"
            }
            Algorithm::Aes256Gcm => "AES-256-GCM, S/MIME only (AuthEnvelopedData)",
            Algorithm::ChaCha20Poly1305 => {
                "ChaCha20-Poly1305, S/MIME only (AuthEnvelopedData, RFC 8103)"
            }
        }
    }

    /// What a person should hear before choosing this algorithm, or `None`: the AEAD
    /// algorithms are S/MIME only, and common mail programs cannot open what they encrypt.
    ///
    /// ```
    /// use mailseal_core::Algorithm;
    /// assert_eq!(Algorithm::Aes256.advice(), None);
    /// let advice = Algorithm::ChaCha20Poly1305.advice().unwrap();
    /// assert!(advice.contains("OpenSSL 3.0") && advice.contains("aes256 works everywhere"));
    /// ```
    pub fn advice(self) -> Option<&'static str> {
        match self {
            Algorithm::Aes128 | Algorithm::Aes256 => None,
            Algorithm::Aes256Gcm => Some(
                "AES-256-GCM is for S/MIME only, and its mail cannot be opened by Outlook, \
                 .NET, Thunderbird (NSS) or OpenSSL 1.x; aes256 works everywhere",
            ),
            Algorithm::ChaCha20Poly1305 => Some(
                "ChaCha20-Poly1305 is for S/MIME only, and its mail cannot be opened by \
                 Outlook, .NET, Thunderbird (NSS), OpenSSL 1.x or OpenSSL 3.0; aes256 works \
                 everywhere",
            ),
        }
    }

    /// Whether this algorithm can encrypt to keys of `format`: OpenPGP has no AEAD
    /// algorithm here, so AES-256-GCM and ChaCha20-Poly1305 are refused for OpenPGP keys with
    /// [`EncryptError::AeadWithOpenPgp`] (`encrypt.aead_with_openpgp`).
    ///
    /// ```
    /// use mailseal_core::{Algorithm, KeyFormat};
    /// assert!(Algorithm::Aes256Gcm.check_key_format(KeyFormat::X509).is_ok());
    /// let err = Algorithm::Aes256Gcm.check_key_format(KeyFormat::OpenPgp).unwrap_err();
    /// assert_eq!(err.code(), "encrypt.aead_with_openpgp");
    /// ```
    pub fn check_key_format(self, format: KeyFormat) -> Result<(), Error> {
        match format {
            KeyFormat::OpenPgp if self.is_aead() => Err(EncryptError::AeadWithOpenPgp {
                algorithm: self.display_name(),
            }
            .into()),
            _ => Ok(()),
        }
    }
}

impl Default for Algorithm {
    /// [`Algorithm::DEFAULT`].
    fn default() -> Self {
        Algorithm::DEFAULT
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    /// Reads a name of [`Algorithm::NAMES`], in any case; anything else is
    /// `input.unknown_algorithm`.
    ///
    /// ```
    /// use mailseal_core::Algorithm;
    /// assert_eq!("AES256-GCM".parse::<Algorithm>().unwrap(), Algorithm::Aes256Gcm);
    /// assert_eq!("rot13".parse::<Algorithm>().unwrap_err().code(), "input.unknown_algorithm");
    /// ```
    fn from_str(s: &str) -> Result<Self, Error> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                InputError::UnknownAlgorithm {
                    name: InputError::name(s),
                    expected: &Algorithm::NAMES,
                }
                .into()
            })
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
    /// The format used when none is chosen: [`PgpFormat::Auto`].
    pub const DEFAULT: PgpFormat = PgpFormat::Auto;

    /// Every format, in the order of [`PgpFormat::NAMES`].
    pub const ALL: [PgpFormat; 3] = [PgpFormat::Auto, PgpFormat::Seipdv1, PgpFormat::Seipdv2];

    /// The names of [`PgpFormat::as_str`], in the order of [`PgpFormat::ALL`].
    pub const NAMES: [&'static str; 3] = ["auto", "seipdv1", "seipdv2"];

    /// One line for a list of choices (a CLI's `--help`).
    pub fn summary(self) -> &'static str {
        match self {
            PgpFormat::Auto => "SEIPDv2 when every recipient is a v6 key, SEIPDv1 otherwise",
            PgpFormat::Seipdv1 => "SEIPDv1: every OpenPGP program reads it, GnuPG 2.2 included",
            PgpFormat::Seipdv2 => "SEIPDv2 (AEAD): GnuPG 2.2 and 2.4 cannot read it",
        }
    }

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
    /// assert_eq!("v3".parse::<PgpFormat>().unwrap_err().code(), "input.unknown_pgp_format");
    /// ```
    fn from_str(s: &str) -> Result<Self, Error> {
        PgpFormat::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                InputError::UnknownPgpFormat {
                    name: InputError::name(s),
                    expected: &PgpFormat::NAMES,
                }
                .into()
            })
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
            pgp_format: PgpFormat::DEFAULT,
            rsa_oaep: false,
        }
    }
}

impl Default for EncryptOptions {
    fn default() -> Self {
        EncryptOptions::new(Algorithm::DEFAULT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_all() {
        let names: Vec<_> = Algorithm::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names, Algorithm::NAMES);
        let names: Vec<_> = PgpFormat::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(names, PgpFormat::NAMES);
        assert_eq!(PgpFormat::default(), PgpFormat::DEFAULT);
    }

    #[test]
    fn advice_names_the_default_and_covers_every_aead_algorithm() {
        for a in Algorithm::ALL {
            assert_eq!(a.advice().is_some(), a.is_aead(), "{a}");
            if let Some(advice) = a.advice() {
                assert!(advice.starts_with(a.display_name()), "{advice}");
                let tail = format!("{} works everywhere", Algorithm::DEFAULT.as_str());
                assert!(advice.ends_with(&tail), "{advice}");
                assert!(advice.contains("Outlook") && advice.contains("Thunderbird"));
            }
            assert_eq!(
                a.check_key_format(KeyFormat::OpenPgp).is_err(),
                a.is_aead(),
                "{a}"
            );
            assert!(a.check_key_format(KeyFormat::X509).is_ok());
        }
    }

    #[test]
    fn unknown_names_are_invalid_input() {
        let err = "des".parse::<Algorithm>().unwrap_err();
        assert_eq!(err.code(), "input.unknown_algorithm");
        assert_eq!(
            err.to_string(),
            "unknown algorithm \"des\": use aes128, aes256, aes256-gcm or chacha20-poly1305"
        );
        let err = "v3".parse::<PgpFormat>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown OpenPGP format \"v3\": use auto, seipdv1 or seipdv2"
        );
        let long = "x".repeat(1000);
        assert!(long.parse::<Algorithm>().unwrap_err().to_string().len() < 200);
    }
}
