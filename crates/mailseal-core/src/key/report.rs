//! What validation found out about a key: owned data, ready for printing, JSON and bindings.

use std::time::SystemTime;

use super::fingerprint::Fingerprint;
use super::problem::{Problem, Severity};

/// The kind of key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyFormat {
    /// OpenPGP certificates (PGP/MIME encryption).
    OpenPgp,
    /// X.509 certificates (S/MIME encryption).
    X509,
}

impl KeyFormat {
    /// `"openpgp"` or `"x509"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            KeyFormat::OpenPgp => "openpgp",
            KeyFormat::X509 => "x509",
        }
    }
}

/// What a certificate is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertificateRole {
    /// Mail will be encrypted to it.
    Recipient,
    /// A CA certificate that issued a recipient; kept for display, never encrypted to.
    Chain,
    /// Not used: it has an error, or it does not match the requested address.
    Unused,
}

impl CertificateRole {
    /// `"recipient"`, `"chain"` or `"unused"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CertificateRole::Recipient => "recipient",
            CertificateRole::Chain => "chain",
            CertificateRole::Unused => "unused",
        }
    }
}

/// Whether a Stalwart server can encrypt mail at rest to a key. Storing mail on the server is
/// what the check is for, so this verdict leads the summary and the command's exit status;
/// [`KeyReport::usable`] says whether mailseal itself can encrypt to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSupport {
    /// Whether the server can encrypt incoming mail to the key.
    pub usable: bool,
    /// Why not, for people; `None` when it can.
    pub reason: Option<String>,
    /// The Stalwart versions this verdict holds for.
    pub versions: &'static str,
}

impl ServerSupport {
    /// The Stalwart versions whose encryption code the verdict is based on.
    pub const VERSIONS: &'static str = "Stalwart 0.15 and 0.16 (checked up to 0.16.19)";

    /// The server's verdict for a report whose recipients mailseal can (`usable`) or cannot
    /// encrypt to, with its `problems`.
    pub(crate) fn judge(usable: bool, problems: &[Problem]) -> Self {
        use super::problem::ProblemCode;
        let reason = if usable {
            problems
                .iter()
                .find(|p| {
                    matches!(
                        p.code,
                        ProblemCode::EcLimitedSupport | ProblemCode::StorageOnlySubkey
                    )
                })
                .map(|p| match p.code {
                    ProblemCode::EcLimitedSupport => "Stalwart encrypts S/MIME mail only to RSA \
                         certificates: with this one every incoming message would wait in the \
                         delivery queue"
                        .to_owned(),
                    _ => "Stalwart encrypts only to OpenPGP subkeys marked for communication \
                          (transport), and this key has only a storage subkey"
                        .to_owned(),
                })
        } else {
            Some("the key cannot be used at all (see the errors)".to_owned())
        };
        ServerSupport {
            usable: reason.is_none(),
            reason,
            versions: Self::VERSIONS,
        }
    }
}

/// The outcome of validating a key at one point in time under one [`Policy`](crate::Policy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyReport {
    /// OpenPGP or X.509.
    pub format: KeyFormat,
    /// Whether mailseal can encrypt to at least one certificate.
    pub usable: bool,
    /// Whether a Stalwart server can encrypt to it (what encryption at rest needs).
    pub server: ServerSupport,
    /// Every certificate found, in input order.
    pub certificates: Vec<CertificateReport>,
    /// Everything worth telling, errors first.
    pub problems: Vec<Problem>,
    /// When encryption to this key stops working (the earliest expiry that matters).
    pub expires: Option<SystemTime>,
    /// The time the key was evaluated at.
    pub evaluated_at: SystemTime,
}

impl KeyReport {
    /// The certificates mail will be encrypted to.
    pub fn recipients(&self) -> impl Iterator<Item = &CertificateReport> {
        self.certificates
            .iter()
            .filter(|c| c.role == CertificateRole::Recipient)
    }

    /// The fingerprints (uppercase hex) of the certificates that will be used: the primary key
    /// fingerprint for OpenPGP, the SHA-256 fingerprint for X.509.
    pub fn fingerprints(&self) -> Vec<String> {
        self.recipients().map(|c| c.fingerprint.to_hex()).collect()
    }

    /// The problems of severity [`Severity::Error`].
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }

    /// The problems of severity [`Severity::Warning`].
    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
    }
}

/// One certificate in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateReport {
    /// Whether it is encrypted to.
    pub role: CertificateRole,
    /// The primary key fingerprint (OpenPGP) or the SHA-256 fingerprint (X.509).
    pub fingerprint: Fingerprint,
    /// When encryption to this certificate stops working, if it expires.
    pub expires: Option<SystemTime>,
    /// Format-specific facts.
    pub details: CertificateDetails,
}

/// Format-specific facts about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateDetails {
    /// An OpenPGP certificate.
    OpenPgp(OpenPgpDetails),
    /// An X.509 certificate.
    X509(X509Details),
}

/// Facts about an OpenPGP certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPgpDetails {
    /// The key version: 4 or 6.
    pub version: u8,
    /// The user IDs, as written.
    pub user_ids: Vec<String>,
    /// The primary key.
    pub primary: KeyDetails,
    /// The subkeys.
    pub subkeys: Vec<KeyDetails>,
    /// Whether the certificate asks for SEIPDv2 (AEAD) encryption in its Features.
    pub seipdv2: bool,
}

/// Facts about one OpenPGP key (primary or subkey).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDetails {
    /// Its fingerprint.
    pub fingerprint: Fingerprint,
    /// The algorithm, e.g. `RSA 3072` or `ECDH Curve25519`.
    pub algorithm: String,
    /// When it was created.
    pub created: SystemTime,
    /// When it expires, if it does.
    pub expires: Option<SystemTime>,
    /// gpg's capability letters: `S`ign, `C`ertify, `E`ncrypt, `A`uthenticate.
    pub capabilities: String,
    /// Whether mail will be encrypted to this key.
    pub encrypts: bool,
}

/// Facts about an X.509 certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X509Details {
    /// The subject name (RFC 4514).
    pub subject: String,
    /// The issuer name (RFC 4514).
    pub issuer: String,
    /// The serial number, uppercase hex.
    pub serial: String,
    /// Start of the validity window.
    pub not_before: SystemTime,
    /// End of the validity window.
    pub not_after: SystemTime,
    /// The key algorithm, e.g. `RSA 3072` or `EC P-256`.
    pub key_algorithm: String,
    /// The e-mail addresses (subjectAltName and subject emailAddress).
    pub emails: Vec<String>,
    /// SHA-1 fingerprint of the DER certificate.
    pub sha1: Fingerprint,
    /// Whether it is a CA certificate.
    pub is_ca: bool,
}
