//! PKCS#12 files (`.p12`, `.pfx`; RFC 7292), looked into without a password.
//!
//! A PKCS#12 file is a list of "safe contents", each either in the clear or encrypted with a
//! password; in them, "bags" hold private keys, certificates, CRLs or other secrets.
//! `openssl pkcs12 -export` puts the certificates in an encrypted part and the key, itself
//! encrypted, in a clear part; with `-nokeys` there is no key bag at all.
//!
//! - A key or secret bag in sight: the file holds a private key, refused.
//! - Otherwise, an encrypted part: what it holds cannot be seen, and a private key may be in
//!   it; mailseal never asks for the password, so the file is refused as
//!   [`KeyError::Pkcs12Protected`].
//! - Otherwise (everything in the clear, no key): its certificates are read.
//!
//! DER and BER (Windows writes indefinite lengths) are read alike.

use der::Decode;
use der::asn1::ObjectIdentifier;

use super::x509::X509Cert;
use crate::ber::{self, BerError, Tlv};
use crate::error::{KeyError, PrivateKeyKind};

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const KEY_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.1");
const SHROUDED_KEY_BAG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.2");
const CERT_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.3");
const SECRET_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.5");
const SAFE_CONTENTS_BAG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.6");
const X509_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.22.1");

/// Nested safe-contents bags deeper than this are refused.
const MAX_NESTING: usize = 8;

fn malformed(e: BerError) -> KeyError {
    KeyError::Malformed {
        format: "PKCS#12",
        detail: e.0.to_owned(),
    }
}

/// Whether `data` has the outline of a PKCS#12 file:
/// `PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL }`.
pub(crate) fn is_pfx(data: &[u8]) -> bool {
    pfx_auth_safe(data).is_ok()
}

/// Whether `data` starts like a PFX (a SEQUENCE holding version 3 and a SEQUENCE), even if
/// it is damaged further on.
pub(crate) fn looks_like(data: &[u8]) -> bool {
    data.first() == Some(&0x30)
        && ber::after_header(data).is_some_and(|r| r.starts_with(&[0x02, 0x01, 0x03, 0x30]))
}

/// The authSafe ContentInfo of a PFX.
fn pfx_auth_safe(data: &[u8]) -> Result<Tlv<'_>, BerError> {
    let pfx = ber::read_all(data)?;
    if pfx.tag != 0x30 {
        return Err(BerError("a PFX is a SEQUENCE"));
    }
    match pfx.children()?.as_slice() {
        [version, auth_safe, rest @ ..]
            if version.tag == 0x02
                && version.content == [3]
                && auth_safe.tag == 0x30
                && matches!(rest, [] | [Tlv { tag: 0x30, .. }]) =>
        {
            Ok(*auth_safe)
        }
        _ => Err(BerError("not a version 3 PFX")),
    }
}

/// What a PKCS#12 file shows without its password.
#[derive(Default)]
struct Seen {
    private: bool,
    encrypted: bool,
    certificates: Vec<Vec<u8>>,
}

/// The certificates of a PKCS#12 file that holds nothing else in sight (see the module docs).
pub(crate) fn certificates(data: &[u8]) -> Result<Vec<X509Cert>, KeyError> {
    let mut seen = Seen::default();
    let auth_safe = pfx_auth_safe(data).map_err(malformed)?;
    let authenticated_safe = clear_content(&auth_safe)
        .map_err(malformed)?
        .ok_or(KeyError::Pkcs12Protected)?;
    let list = ber::read_all(&authenticated_safe).map_err(malformed)?;
    for part in list.children().map_err(malformed)? {
        match clear_content(&part).map_err(malformed)? {
            Some(safe_contents) => safe_bags(&safe_contents, &mut seen, 0).map_err(malformed)?,
            None => seen.encrypted = true,
        }
    }
    if seen.private {
        return Err(KeyError::PrivateKey {
            kind: PrivateKeyKind::Pkcs12,
        });
    }
    if seen.encrypted {
        return Err(KeyError::Pkcs12Protected);
    }
    if seen.certificates.is_empty() {
        return Err(KeyError::NotAKey {
            found: "a PKCS#12 file without certificates",
        });
    }
    seen.certificates
        .iter()
        .map(|c| X509Cert::from_embedded(c))
        .collect()
}

/// The octets a ContentInfo holds in the clear (`data`, or the encapsulated content of
/// `signedData` in public-key integrity mode), or `None` for an encrypted or unknown one.
fn clear_content(ci: &Tlv<'_>) -> Result<Option<Vec<u8>>, BerError> {
    let fields = ci.children()?;
    let (oid, content) = match fields.as_slice() {
        [oid, content] if oid.tag == 0x06 && content.tag == 0xa0 => (oid, content),
        _ => return Err(BerError("a ContentInfo is a type and a [0] content")),
    };
    let oid = ObjectIdentifier::from_der(oid.raw).map_err(|_| BerError("bad content type"))?;
    let inner = match content.children()?.as_slice() {
        [inner] => *inner,
        _ => return Err(BerError("the [0] content holds one element")),
    };
    if oid == ID_DATA {
        // An OCTET STRING, primitive or (BER) constructed.
        if inner.tag & 0xdf != 0x04 {
            return Err(BerError("data content is an OCTET STRING"));
        }
        return inner.octets().map(Some);
    }
    if oid == ID_SIGNED_DATA && inner.tag == 0x30 {
        // SignedData { version, digestAlgorithms, encapContentInfo { data, [0] OCTET STRING } … }
        let sd = inner.children()?;
        if let Some(encap) = sd.get(2).filter(|e| e.tag == 0x30) {
            return clear_content(encap);
        }
        return Err(BerError("SignedData without encapsulated content"));
    }
    Ok(None)
}

/// Looks at the bags of one SafeContents (`SEQUENCE OF SafeBag`).
fn safe_bags(safe_contents: &[u8], seen: &mut Seen, depth: usize) -> Result<(), BerError> {
    if depth > MAX_NESTING {
        return Err(BerError("safe contents nested too deeply"));
    }
    let list = ber::read_all(safe_contents)?;
    for bag in list.children()? {
        // SafeBag ::= SEQUENCE { bagId OID, bagValue [0] EXPLICIT ANY, bagAttributes SET OPTIONAL }
        let fields = bag.children()?;
        let (id, value) = match fields.as_slice() {
            [id, value, ..] if id.tag == 0x06 && value.tag == 0xa0 => (id, value),
            _ => return Err(BerError("a SafeBag is an identifier and a [0] value")),
        };
        let id = ObjectIdentifier::from_der(id.raw).map_err(|_| BerError("bad bag type"))?;
        let value = value
            .children()?
            .into_iter()
            .next()
            .ok_or(BerError("empty bag"))?;
        if id == KEY_BAG || id == SHROUDED_KEY_BAG || id == SECRET_BAG {
            seen.private = true;
        } else if id == CERT_BAG {
            // CertBag ::= SEQUENCE { certId OID, certValue [0] EXPLICIT OCTET STRING }
            if let [cert_id, cert_value] = value.children()?.as_slice()
                && ObjectIdentifier::from_der(cert_id.raw).ok() == Some(X509_CERTIFICATE)
                && let Some(octets) = cert_value.children()?.first()
            {
                seen.certificates.push(octets.octets()?);
            }
        } else if id == SAFE_CONTENTS_BAG {
            safe_bags(value.raw, seen, depth + 1)?;
        }
    }
    Ok(())
}
