//! Recognising private keys, so that they are refused before they go anywhere.
//!
//! Covers PEM labels of every common private key format and their DER forms: PKCS#8
//! (RFC 5958), encrypted PKCS#8, PKCS#1 RSA (RFC 8017), SEC1 EC (RFC 5915) and PKCS#12
//! (RFC 7292). OpenPGP secret keys are recognised in [`super::openpgp`].

use der::Decode;

use crate::error::PrivateKeyKind;

/// The kind of private key a PEM label names, if it names one.
pub(crate) fn from_label(label: &str) -> Option<PrivateKeyKind> {
    Some(match label {
        "PRIVATE KEY" => PrivateKeyKind::Pkcs8,
        "ENCRYPTED PRIVATE KEY" => PrivateKeyKind::EncryptedPkcs8,
        "RSA PRIVATE KEY" => PrivateKeyKind::Pkcs1,
        "EC PRIVATE KEY" => PrivateKeyKind::Sec1,
        "PGP PRIVATE KEY BLOCK" | "PGP SECRET KEY BLOCK" => PrivateKeyKind::OpenPgp,
        "PKCS12" => PrivateKeyKind::Pkcs12,
        l if l.contains("PRIVATE KEY") || l.contains("SECRET KEY") => PrivateKeyKind::Other,
        _ => return None,
    })
}

/// The kind of private key a DER structure is, if it is one.
pub(crate) fn from_der(der: &[u8]) -> Option<PrivateKeyKind> {
    if pkcs8::PrivateKeyInfo::from_der(der).is_ok() {
        Some(PrivateKeyKind::Pkcs8)
    } else if pkcs8::EncryptedPrivateKeyInfo::from_der(der).is_ok() {
        Some(PrivateKeyKind::EncryptedPkcs8)
    } else if pkcs1::RsaPrivateKey::from_der(der).is_ok() {
        Some(PrivateKeyKind::Pkcs1)
    } else if sec1::EcPrivateKey::from_der(der).is_ok() {
        Some(PrivateKeyKind::Sec1)
    } else if Pfx::from_der(der).is_ok() {
        Some(PrivateKeyKind::Pkcs12)
    } else {
        None
    }
}

/// The outer structure of a PKCS#12 file (RFC 7292 §4):
/// `PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL }`.
#[derive(der::Sequence)]
struct Pfx {
    version: u8,
    auth_safe: cms::content_info::ContentInfo,
    mac_data: Option<der::Any>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_recognised() {
        assert_eq!(from_label("PRIVATE KEY"), Some(PrivateKeyKind::Pkcs8));
        assert_eq!(
            from_label("OPENSSH PRIVATE KEY"),
            Some(PrivateKeyKind::Other)
        );
        assert_eq!(from_label("CERTIFICATE"), None);
        assert_eq!(from_label("PGP PUBLIC KEY BLOCK"), None);
    }

    #[test]
    fn random_der_is_not_a_private_key() {
        assert_eq!(from_der(&[0x30, 0x03, 0x02, 0x01, 0x00]), None);
    }
}
