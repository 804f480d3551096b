//! Recognising private keys, so that they are refused before they go anywhere.
//!
//! Covers PEM labels of every common private key format and their DER forms: PKCS#8
//! (RFC 5958), encrypted PKCS#8 with PBES2 or the old PBES1 and PKCS#12 password-based
//! schemes, PKCS#1 RSA (RFC 8017), SEC1 EC (RFC 5915); GnuPG's agent key files
//! (`private-keys-v1.d/*.key`) and PuTTY key files. PKCS#12 files are looked into in
//! [`super::pkcs12`], OpenPGP secret keys are recognised in [`super::openpgp`].

use der::Decode;
use der::asn1::{ObjectIdentifier, OctetStringRef};

use crate::error::PrivateKeyKind;

/// The kind of private key a PEM label names, if it names one.
pub(crate) fn from_label(label: &str) -> Option<PrivateKeyKind> {
    Some(match label {
        "PRIVATE KEY" => PrivateKeyKind::Pkcs8,
        "ENCRYPTED PRIVATE KEY" => PrivateKeyKind::EncryptedPkcs8,
        "RSA PRIVATE KEY" => PrivateKeyKind::Pkcs1,
        "EC PRIVATE KEY" => PrivateKeyKind::Sec1,
        "PGP PRIVATE KEY BLOCK" | "PGP SECRET KEY BLOCK" => PrivateKeyKind::OpenPgp,
        l if l.contains("PRIVATE KEY") || l.contains("SECRET KEY") => PrivateKeyKind::Other,
        _ => return None,
    })
}

/// The kind of private key a DER structure is, if it is one.
pub(crate) fn from_der(der: &[u8]) -> Option<PrivateKeyKind> {
    if pkcs8::PrivateKeyInfo::from_der(der).is_ok() {
        Some(PrivateKeyKind::Pkcs8)
    } else if pkcs8::EncryptedPrivateKeyInfo::from_der(der).is_ok() || is_password_encrypted(der) {
        Some(PrivateKeyKind::EncryptedPkcs8)
    } else if pkcs1::RsaPrivateKey::from_der(der).is_ok() {
        Some(PrivateKeyKind::Pkcs1)
    } else if sec1::EcPrivateKey::from_der(der).is_ok() {
        Some(PrivateKeyKind::Sec1)
    } else {
        None
    }
}

/// `EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm AlgorithmIdentifier,
/// encryptedData OCTET STRING }` (RFC 5958 §3), decoded without looking into the algorithm's
/// parameters, which the `pkcs8` crate reads for PBES2 and a few PBES1 schemes only.
#[derive(der::Sequence)]
struct EncryptedKeyOutline<'a> {
    algorithm: spki::AlgorithmIdentifierRef<'a>,
    data: OctetStringRef<'a>,
}

/// The password-based encryption schemes of PKCS#5 (`pkcs-5`, PBES1 and PBES2, RFC 8018)
/// and PKCS#12 (`pkcs-12PbeIds`, RFC 7292 Appendix C).
const PBE_ARCS: &[ObjectIdentifier] = &[
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.5"),
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1"),
];

/// Whether `der` is an encrypted PKCS#8 key with any password-based scheme, old or new.
fn is_password_encrypted(der: &[u8]) -> bool {
    EncryptedKeyOutline::from_der(der).is_ok_and(|k| {
        let oid = k.algorithm.oid;
        PBE_ARCS.iter().any(|arc| oid.parent() == Some(*arc))
    })
}

/// The kind of private key a text or S-expression file is, if it is one: GnuPG's agent key
/// files and PuTTY key files.
///
/// GnuPG (`private-keys-v1.d/*.key`) writes either a canonical S-expression,
/// `(21:protected-private-key(3:rsa…`, `(11:private-key…` or `(20:shadowed-private-key…`
/// (a stub pointing to a smartcard), or, since 2.1.12 on request and 2.3 by default, the
/// extended format: `Name: value` lines, one of them `Key: (protected-private-key (rsa …`.
pub(crate) fn from_text(data: &[u8]) -> Option<PrivateKeyKind> {
    let trimmed = data.trim_ascii_start();
    if trimmed.starts_with(b"(") && names_private_key(trimmed) {
        return Some(PrivateKeyKind::GnuPgKeyFile);
    }
    if trimmed.starts_with(b"PuTTY-User-Key-File-") {
        return Some(PrivateKeyKind::Other);
    }
    let extended = data.split(|b| *b == b'\n').any(|line| {
        let Some((name, value)) = line.split_at_checked(4) else {
            return false;
        };
        name.eq_ignore_ascii_case(b"key:") && {
            let value = value.trim_ascii_start();
            value.starts_with(b"(") && names_private_key(value)
        }
    });
    extended.then_some(PrivateKeyKind::GnuPgKeyFile)
}

/// Whether an S-expression (canonical `(21:protected-private-key…` or advanced
/// `(protected-private-key …`) starts with the name of one of GnuPG's private key forms.
fn names_private_key(sexp: &[u8]) -> bool {
    const NAMES: &[&[u8]] = &[
        b"protected-private-key",
        b"private-key",
        b"shadowed-private-key",
    ];
    let Some(rest) = sexp.strip_prefix(b"(") else {
        return false;
    };
    let rest = rest.trim_ascii_start();
    // Canonical: a decimal length and a colon before the name.
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let name = match rest.get(digits..) {
        Some([b':', name @ ..]) if digits > 0 => name,
        _ => rest,
    };
    NAMES.iter().any(|n| {
        name.strip_prefix(*n).is_some_and(|after| {
            after
                .first()
                .is_none_or(|b| !b.is_ascii_alphanumeric() && *b != b'-')
        })
    })
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

    #[test]
    fn gnupg_key_files_are_recognised() {
        let gnupg = Some(PrivateKeyKind::GnuPgKeyFile);
        // Old format: canonical S-expressions.
        assert_eq!(
            from_text(b"(21:protected-private-key(3:rsa(1:n3:\x00\x01\x02)))"),
            gnupg
        );
        assert_eq!(
            from_text(b"(11:private-key(3:ecc(5:curve7:Ed25519)))"),
            gnupg
        );
        assert_eq!(from_text(b"(20:shadowed-private-key(3:rsa))"), gnupg);
        // Advanced (readable) S-expression.
        assert_eq!(from_text(b"\n(private-key\n (rsa\n  (n #00AB#)))\n"), gnupg);
        // Extended format, with the Key line anywhere and continuation lines.
        let extended = b"Created: 20240101T000000\nKey: (protected-private-key (rsa (n #00\n  AABB#)\n (protected openpgp-s2k3-ocb-aes ((sha1 #01#)))))\n";
        assert_eq!(from_text(extended), gnupg);
        assert_eq!(from_text(b"key:(private-key (ecc))\r\n"), gnupg);
        // Not keys.
        assert_eq!(from_text(b"(10:public-key(3:rsa))"), None);
        assert_eq!(from_text(b"(private-keyring)"), None);
        assert_eq!(from_text(b"Key: value\nCreated: 20240101T000000\n"), None);
        assert_eq!(from_text(b"Hello (private-key)"), None);
        assert_eq!(
            from_text(b"PuTTY-User-Key-File-3: ssh-ed25519\n"),
            Some(PrivateKeyKind::Other)
        );
    }
}
