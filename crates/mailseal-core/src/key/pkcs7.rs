//! PKCS#7 / CMS "certs-only" bundles (`.p7b`, `.p7c`; RFC 5652 §5, RFC 8551 §3.2.2), in DER
//! or in BER with indefinite lengths (as Windows and some CAs export them).
//!
//! Read with the crate's BER reader rather than a DER decoder; each certificate is parsed
//! from its own bytes, so that its fingerprint is that of the certificate as issued.

use der::Decode;
use der::asn1::ObjectIdentifier;

use super::x509::X509Cert;
use crate::ber::{self, BerError, Tlv};
use crate::error::KeyError;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// Content types that hold an encrypted message: PKCS#7 envelopedData,
/// signedAndEnvelopedData, encryptedData, and CMS authEnvelopedData (RFC 5083).
const ENCRYPTED: &[ObjectIdentifier] = &[
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3"),
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.4"),
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6"),
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.23"),
];

/// What a ContentInfo holds, as far as key intake cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Content {
    /// SignedData: a certs-only bundle (or a signed message, with certificates or not).
    SignedData,
    /// An encrypted message.
    Encrypted,
    /// Anything else (data, digested, compressed, …).
    Other,
}

const NO_CERTIFICATES: KeyError = KeyError::NotAKey {
    found: "a PKCS#7 structure without certificates",
};
const ENCRYPTED_MESSAGE: KeyError = KeyError::NotAKey {
    found: "an encrypted message (PKCS#7/CMS)",
};

fn malformed(e: BerError) -> KeyError {
    KeyError::Malformed {
        format: "PKCS#7",
        detail: e.0.to_owned(),
    }
}

/// The ContentInfo's type and its `[0]` content, if `data` is one (DER or BER).
fn content_info(data: &[u8]) -> Result<(ObjectIdentifier, Option<Tlv<'_>>), BerError> {
    let ci = ber::read_all(data)?;
    if ci.tag != 0x30 {
        return Err(BerError("a ContentInfo is a SEQUENCE"));
    }
    let mut fields = ci.children()?.into_iter();
    let oid = fields
        .next()
        .filter(|f| f.tag == 0x06)
        .and_then(|f| ObjectIdentifier::from_der(f.raw).ok())
        .ok_or(BerError("a ContentInfo starts with its content type"))?;
    let content = fields.next();
    if content.is_some_and(|c| c.tag != 0xa0) || fields.next().is_some() {
        return Err(BerError("unexpected fields in the ContentInfo"));
    }
    Ok((oid, content))
}

/// What `data` holds, if it is a ContentInfo.
pub(crate) fn content(data: &[u8]) -> Option<Content> {
    let (oid, _) = content_info(data).ok()?;
    Some(if oid == ID_SIGNED_DATA {
        Content::SignedData
    } else if ENCRYPTED.contains(&oid) {
        Content::Encrypted
    } else {
        Content::Other
    })
}

/// Whether `data` starts like a PKCS#7 ContentInfo (a SEQUENCE whose first field is a
/// PKCS#7 content type), even if it is damaged further on.
pub(crate) fn looks_like(data: &[u8]) -> bool {
    // 1.2.840.113549.1.7.x, the PKCS#7 content types.
    const ARC: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07];
    data.first() == Some(&0x30) && ber::after_header(data).is_some_and(|r| r.starts_with(ARC))
}

/// The certificates of a certs-only bundle (DER or BER), in the order they are stored.
pub(crate) fn certificates(data: &[u8]) -> Result<Vec<X509Cert>, KeyError> {
    let (oid, content) = content_info(data).map_err(malformed)?;
    if ENCRYPTED.contains(&oid) {
        return Err(ENCRYPTED_MESSAGE);
    }
    if oid != ID_SIGNED_DATA {
        return Err(NO_CERTIFICATES);
    }
    let content = content.ok_or_else(|| malformed(BerError("SignedData without content")))?;
    let signed_data = match content.children().map_err(malformed)?.as_slice() {
        [sd] if sd.tag == 0x30 => *sd,
        _ => return Err(malformed(BerError("the content is not one SignedData"))),
    };
    let mut out = Vec::new();
    for cert in signed_data_certificates(&signed_data).map_err(malformed)? {
        out.push(X509Cert::from_embedded(cert.raw)?);
    }
    if out.is_empty() {
        return Err(NO_CERTIFICATES);
    }
    Ok(out)
}

/// The X.509 certificates (CertificateChoices `certificate`) of a SignedData (RFC 5652 §5.1):
/// `SEQUENCE { version, digestAlgorithms SET, encapContentInfo SEQUENCE, [0] certificates
/// OPTIONAL, [1] crls OPTIONAL, signerInfos SET }`. Other choices (attribute certificates,
/// `other`) are skipped.
fn signed_data_certificates<'a>(sd: &Tlv<'a>) -> Result<Vec<Tlv<'a>>, BerError> {
    let fields = sd.children()?;
    let tags: Vec<u8> = fields.iter().map(|f| f.tag).collect();
    let certs = match tags.as_slice() {
        [0x02, 0x31, 0x30, 0xa0, 0xa1, 0x31] | [0x02, 0x31, 0x30, 0xa0, 0x31] => fields.get(3),
        [0x02, 0x31, 0x30, 0xa1, 0x31] | [0x02, 0x31, 0x30, 0x31] => None,
        _ => {
            return Err(BerError(
                "the SignedData fields are not as RFC 5652 has them",
            ));
        }
    };
    let Some(certs) = certs else {
        return Ok(Vec::new());
    };
    Ok(certs
        .children()?
        .into_iter()
        .filter(|c| c.tag == 0x30)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_told_apart() {
        // ContentInfo { data } and ContentInfo { envelopedData }, without content.
        let data = [
            0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
        ];
        let enveloped = [
            0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03,
        ];
        assert_eq!(content(&data), Some(Content::Other));
        assert_eq!(content(&enveloped), Some(Content::Encrypted));
        assert_eq!(certificates(&enveloped).unwrap_err(), ENCRYPTED_MESSAGE);
        assert_eq!(certificates(&data).unwrap_err(), NO_CERTIFICATES);
        assert_eq!(content(&[0x30, 0x03, 0x02, 0x01, 0x00]), None);
    }

    #[test]
    fn empty_signed_data_has_no_certificates() {
        // ContentInfo { signedData, [0] SignedData { 1, {}, { data }, {} } }, in BER with
        // indefinite lengths.
        let mut ber = vec![
            0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0,
            0x80, 0x30, 0x80, 0x02, 0x01, 0x01, 0x31, 0x00, 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86,
            0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0x31, 0x00,
        ];
        ber.extend([0; 6]);
        assert_eq!(content(&ber), Some(Content::SignedData));
        assert_eq!(certificates(&ber).unwrap_err(), NO_CERTIFICATES);
        // A field too many is damage.
        let mut extra = ber.clone();
        extra.splice(35..35, [0x05, 0x00]);
        assert_eq!(certificates(&extra).unwrap_err().code(), "key.malformed");
    }
}
