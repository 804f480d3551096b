//! Whom a CMS EnvelopedData or AuthEnvelopedData is encrypted to (RFC 5652 §6.2, RFC 5083),
//! read without a key: the RecipientInfos and the content-encryption algorithm. Only the
//! front of the structure is read; the encrypted content is not.

use std::io::BufRead;

use cms::enveloped_data::{KeyAgreeRecipientIdentifier, RecipientIdentifier, RecipientInfo};
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};

use super::decrypt::read_head;
use super::envelope::{AES128_CBC, AES256_CBC, AES256_GCM, CHACHA20_POLY1305};
use crate::ber;
use crate::ber_stream::BerStream;
use crate::error::{DecryptError, Error};
use crate::message::options::Algorithm;
use crate::message::recipient_id::RecipientId;

/// What the front of a CMS message says.
#[derive(Debug)]
pub(crate) struct CmsAddressees {
    /// AuthEnvelopedData rather than EnvelopedData.
    pub(crate) auth: bool,
    /// One entry per recipient, in the order of the RecipientInfos.
    pub(crate) recipients: Vec<RecipientId>,
    /// The content-encryption algorithm.
    pub(crate) content_oid: ObjectIdentifier,
    /// The same, when it is one mailseal writes.
    pub(crate) algorithm: Option<Algorithm>,
}

fn malformed(detail: &str) -> Error {
    DecryptError::Malformed {
        detail: detail.to_owned(),
    }
    .into()
}

/// Reads the recipients of the DER or BER CMS ContentInfo at the start of `input`.
pub(crate) fn read(input: impl BufRead) -> Result<CmsAddressees, Error> {
    let head = read_head(&mut BerStream::new(input))?;
    let set = ber::read_all(&head.recipient_infos).map_err(DecryptError::from)?;
    if set.tag != 0x31 {
        return Err(malformed("RecipientInfos is not a SET"));
    }
    let mut recipients = Vec::new();
    for child in set.children().map_err(DecryptError::from)? {
        // Any RecipientInfo that cannot be read could be for anyone: an error, not a skip.
        let der = ber::to_der(child.raw).map_err(DecryptError::from)?;
        let info = RecipientInfo::from_der(&der).map_err(|_| malformed("bad RecipientInfo"))?;
        push_ids(&info, &mut recipients)?;
    }
    if recipients.is_empty() {
        return Err(malformed("no RecipientInfo"));
    }
    let content_oid = head.alg.oid;
    let algorithm = match content_oid {
        o if o == AES128_CBC => Some(Algorithm::Aes128),
        o if o == AES256_CBC => Some(Algorithm::Aes256),
        o if o == AES256_GCM => Some(Algorithm::Aes256Gcm),
        o if o == CHACHA20_POLY1305 => Some(Algorithm::ChaCha20Poly1305),
        _ => None,
    };
    Ok(CmsAddressees {
        auth: head.auth,
        recipients,
        content_oid,
        algorithm,
    })
}

/// The recipients one RecipientInfo names (a KeyAgreeRecipientInfo may name several).
fn push_ids(info: &RecipientInfo, out: &mut Vec<RecipientId>) -> Result<(), Error> {
    let issuer_and_serial = |ias: &cms::cert::IssuerAndSerialNumber| -> Result<_, Error> {
        Ok(RecipientId::IssuerAndSerial {
            issuer: ias
                .issuer
                .to_der()
                .map_err(|_| malformed("bad issuer name"))?,
            serial: ias.serial_number.as_bytes().to_vec(),
        })
    };
    match info {
        RecipientInfo::Ktri(k) => out.push(match &k.rid {
            RecipientIdentifier::IssuerAndSerialNumber(ias) => issuer_and_serial(ias)?,
            RecipientIdentifier::SubjectKeyIdentifier(ski) => {
                RecipientId::SubjectKeyId(ski.0.as_bytes().to_vec())
            }
        }),
        RecipientInfo::Kari(k) => {
            if k.recipient_enc_keys.is_empty() {
                return Err(malformed("KeyAgreeRecipientInfo without recipients"));
            }
            for rek in &k.recipient_enc_keys {
                out.push(match &rek.rid {
                    KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(ias) => {
                        issuer_and_serial(ias)?
                    }
                    KeyAgreeRecipientIdentifier::RKeyId(r) => {
                        RecipientId::SubjectKeyId(r.subject_key_identifier.0.as_bytes().to_vec())
                    }
                });
            }
        }
        RecipientInfo::Kekri(k) => {
            out.push(RecipientId::CmsKek(
                k.kek_id.kek_identifier.as_bytes().to_vec(),
            ));
        }
        RecipientInfo::Pwri(_) => out.push(RecipientId::Password),
        RecipientInfo::Ori(o) => out.push(RecipientId::CmsOther(o.ori_type.to_string())),
    }
    Ok(())
}
