//! Problems found while validating a key: a stable code, a severity and a sentence for people.

use std::fmt;
use std::time::SystemTime;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The key (or the certificate named in the problem) cannot be used.
    Error,
    /// The key can be used, but the user should know this.
    Warning,
}

impl Severity {
    /// `"error"` or `"warning"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! problem_codes {
    ($( $(#[$doc:meta])* $variant:ident => $code:literal, )*) => {
        /// The machine-readable kind of a [`Problem`]. Codes are stable: never renamed.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ProblemCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ProblemCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ProblemCode] = &[ $( ProblemCode::$variant, )* ];

            /// The stable dotted code, e.g. `key.expired`.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $( ProblemCode::$variant => $code, )*
                }
            }
        }
    };
}

problem_codes! {
    /// Only certificate-authority certificates were given; they are never recipients.
    CaNotEndEntity => "key.ca_not_end_entity",
    /// An EC or X25519 S/MIME certificate: few programs can open mail encrypted to it, and
    /// Stalwart 0.16 cannot encrypt to it at all.
    EcLimitedSupport => "key.ec_limited_support",
    /// The key does not carry the address it should belong to.
    EmailMismatch => "key.email_mismatch",
    /// The only encryption subkeys have expired.
    EncryptionSubkeyExpired => "key.encryption_subkey_expired",
    /// The only encryption subkeys have been revoked.
    EncryptionSubkeyRevoked => "key.encryption_subkey_revoked",
    /// The key or certificate has expired.
    Expired => "key.expired",
    /// The key stops working soon.
    ExpiresSoon => "key.expires_soon",
    /// The certificate's extendedKeyUsage does not allow e-mail protection.
    MissingEmailProtection => "key.missing_email_protection",
    /// An EC or X25519 certificate whose keyUsage lacks keyAgreement.
    MissingKeyAgreement => "key.missing_key_agreement",
    /// An RSA certificate whose keyUsage lacks keyEncipherment.
    MissingKeyEncipherment => "key.missing_key_encipherment",
    /// An address was asked for, and no certificate of the keyring carries it.
    NoCertificateForEmail => "key.no_certificate_for_email",
    /// The key has no subkey that can encrypt (sign-only key).
    NoEncryptionKey => "key.no_encryption_key",
    /// The certificate is not valid yet.
    NotYetValid => "key.not_yet_valid",
    /// Sequoia's standard policy rejected the key for another reason.
    PolicyRejected => "key.policy_rejected",
    /// The key has been revoked by its owner.
    Revoked => "key.revoked",
    /// The RSA key is too large to be used safely.
    RsaTooLarge => "key.rsa_too_large",
    /// The RSA key is too small to be secure.
    RsaTooSmall => "key.rsa_too_small",
    /// The key announces SEIPDv2 (AEAD) support: Stalwart will write mail GnuPG 2.2 cannot read.
    Seipdv2Preferred => "key.seipdv2_preferred",
    /// The certificate is self-signed.
    SelfSigned => "key.self_signed",
    /// OpenPGP self-signatures made with SHA-1, which current software rejects.
    Sha1BindingSignature => "key.sha1_binding_signature",
    /// An X.509 certificate signed with a broken hash: MD2, MD4, MD5 or SHA-1 (also as the
    /// hash of an RSASSA-PSS signature).
    WeakCertificateSignature => "key.weak_certificate_signature",
    /// The encryption subkeys are marked for storage only; Stalwart 0.16 ignores them.
    StorageOnlySubkey => "key.storage_only_subkey",
    /// The key algorithm cannot be used for encryption here.
    UnsupportedAlgorithm => "key.unsupported_algorithm",
    /// An OpenPGP v6 key: GnuPG 2.2 and 2.4 cannot read mail encrypted to it.
    V6Key => "key.v6_key",
    // X.509 intake additions:
    /// The only certificate given is self-signed and marked as a CA (as `openssl req -x509`
    /// does by default), but made for e-mail with an address: it is read as the recipient.
    SelfSignedCa => "key.self_signed_ca",
    /// The certificate has a critical extension this program does not know; RFC 5280 §4.2
    /// says it must not be used.
    UnknownCriticalExtension => "key.unknown_critical_extension",
    // OpenPGP intake additions:
    /// A certificate of the input was left out (an old v3 or a LibrePGP v5 OpenPGP key);
    /// the others are used.
    CertificateSkipped => "key.certificate_skipped",
}

impl fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing found while validating a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What kind of problem this is.
    pub code: ProblemCode,
    /// Whether it makes the certificate unusable.
    pub severity: Severity,
    /// A sentence for people, saying what is wrong and what to do about it.
    pub message: String,
    /// The fingerprint (uppercase hex) of the certificate or subkey concerned, if one.
    pub subject: Option<String>,
    /// The date the problem is about (the expiry date, for example), if one.
    pub date: Option<SystemTime>,
    /// Technical detail for developers (e.g. what the OpenPGP library reported), if any; the
    /// message says it in words.
    pub detail: Option<String>,
}

impl Problem {
    pub(crate) fn error(code: ProblemCode, message: impl Into<String>) -> Self {
        Problem {
            code,
            severity: Severity::Error,
            message: message.into(),
            subject: None,
            date: None,
            detail: None,
        }
    }

    pub(crate) fn warning(code: ProblemCode, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(code, message)
        }
    }

    pub(crate) fn about(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    pub(crate) fn on(mut self, date: SystemTime) -> Self {
        self.date = Some(date);
        self
    }

    pub(crate) fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Whether this problem makes its certificate unusable.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.severity, self.code, self.message)
    }
}

/// Formats a time as an RFC 3339 date for messages (`2027-01-31`).
pub(crate) fn day(t: SystemTime) -> String {
    // Certificate and key dates are within the years 0000 to 9999; say so if one is not.
    crate::time::format_date(t)
        .unwrap_or_else(|_| "a date outside the years 0000 to 9999".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_dotted() {
        let mut seen = HashSet::new();
        for c in ProblemCode::ALL {
            assert!(c.as_str().starts_with("key."), "{c}");
            assert!(seen.insert(c.as_str()), "duplicate {c}");
        }
    }
}
