//! PKCS#7 / CMS "certs-only" bundles (`.p7b`, `.p7c`; RFC 5652 §5, RFC 8551 §3.2.2).

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::Decode;
use der::asn1::ObjectIdentifier;

use super::x509::X509Cert;
use crate::error::KeyError;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");

/// Whether `der` decodes as a CMS ContentInfo holding SignedData.
pub(crate) fn is_signed_data(der: &[u8]) -> bool {
    ContentInfo::from_der(der).is_ok_and(|ci| ci.content_type == ID_SIGNED_DATA)
}

/// The certificates of a DER certs-only bundle, in the order they are stored.
pub(crate) fn certificates(der: &[u8]) -> Result<Vec<X509Cert>, KeyError> {
    let malformed = |detail: String| KeyError::Malformed {
        format: "PKCS#7",
        detail,
    };
    let ci = ContentInfo::from_der(der).map_err(|e| malformed(e.to_string()))?;
    if ci.content_type != ID_SIGNED_DATA {
        return Err(KeyError::NotAKey {
            found: "a PKCS#7 structure without certificates",
        });
    }
    let sd: SignedData = ci
        .content
        .decode_as()
        .map_err(|e| malformed(e.to_string()))?;
    let mut out = Vec::new();
    if let Some(set) = sd.certificates {
        for choice in set.0.into_vec() {
            if let cms::cert::CertificateChoices::Certificate(cert) = choice {
                out.push(X509Cert::from_cert(cert)?);
            }
        }
    }
    if out.is_empty() {
        return Err(KeyError::NotAKey {
            found: "a PKCS#7 structure without certificates",
        });
    }
    Ok(out)
}
