//! Whom a stored message is encrypted to, read without a private key ([`encrypted_for`]),
//! and whom [`encrypt`](crate::encrypt) would encrypt to ([`Recipients::addressees`]): so that
//! a job that encrypts, uploads and reads a message back can check that the copy is encrypted
//! to exactly the configured recipients ([`EncryptedFor::is_exactly`]).
//!
//! The layouts are those [`decrypt`](crate::decrypt) reads: PGP/MIME (RFC 3156, the armored
//! second part), inline PGP in a text body, and S/MIME `application/pkcs7-mime` (RFC 8551;
//! also `application/octet-stream`) with a base64 or binary CMS EnvelopedData (RFC 5652 §6) or
//! AuthEnvelopedData (RFC 5083). Only the front of the encrypted data is read: the OpenPGP
//! session-key packets up to the SEIPD header (RFC 9580 §5.1, §5.3, §5.13), the CMS
//! RecipientInfos up to the content-encryption algorithm.

use std::collections::HashSet;
use std::io::BufReader;

use der::Encode;

use super::decrypt::{Base64Body, PgpPart, decode_body};
use super::detect;
use super::mime;
use super::options::{Algorithm, EncryptOptions};
use super::recipient_id::RecipientId;
use crate::error::{DecryptError, EncryptError, Error};
use crate::key::fingerprint::Fingerprint;
use crate::key::recipient::{RecipientKeys, Recipients};
use crate::key::report::KeyFormat;
use crate::pgp::addressees as pgp;
use crate::pgp::encrypt::{encryption_keys, uses_seipdv2};
use crate::smime::addressees as smime;

/// The encrypted container a message uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Container {
    /// CMS AuthEnvelopedData (RFC 5083): AES-GCM or ChaCha20-Poly1305.
    AuthEnvelopedData,
    /// CMS EnvelopedData (RFC 5652 §6): AES-CBC.
    EnvelopedData,
    /// OpenPGP SEIPD version 1 (CFB with a modification detection code). Its cipher is inside
    /// the encrypted session keys and cannot be seen without a private key.
    Seipdv1,
    /// OpenPGP SEIPD version 2 (AEAD, RFC 9580 §5.13.2), whose header names its cipher.
    Seipdv2,
}

impl Container {
    /// The kind of keys this container is encrypted to: [`KeyFormat::X509`] for the CMS
    /// containers (S/MIME), [`KeyFormat::OpenPgp`] for SEIPD.
    ///
    /// ```
    /// use mailseal_core::{Container, KeyFormat};
    /// assert_eq!(Container::EnvelopedData.format(), KeyFormat::X509);
    /// assert_eq!(Container::Seipdv2.format(), KeyFormat::OpenPgp);
    /// ```
    pub fn format(&self) -> KeyFormat {
        match self {
            Container::AuthEnvelopedData | Container::EnvelopedData => KeyFormat::X509,
            Container::Seipdv1 | Container::Seipdv2 => KeyFormat::OpenPgp,
        }
    }
}

/// Whom an encrypted message is encrypted to, as [`encrypted_for`] reads it.
///
/// ```
/// use mailseal_core::{encrypt, encrypted_for, Container, EncryptOptions, Policy, RecipientKey};
///
/// let key = RecipientKey::from_bytes(include_bytes!("../../../../examples/keys/alice.crt.pem"))?;
/// let recipients = key.validate(&Policy::standard())?;
/// let stored = encrypt(b"Subject: hi\r\n\r\nhello\r\n", &recipients, &EncryptOptions::default())?;
///
/// let found = encrypted_for(&stored.message)?;
/// assert_eq!(found.container, Container::EnvelopedData);
/// assert_eq!(found.recipients, recipients.addressees(&EncryptOptions::default())?);
/// assert!(found.is_exactly(&recipients));
/// # Ok::<(), mailseal_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EncryptedFor {
    /// The container, and with it the method: S/MIME or OpenPGP ([`Container::format`]).
    pub container: Container,
    /// Every recipient the message names, in the order it names them: one per OpenPGP
    /// session-key packet, one per CMS RecipientInfo (or per recipient of a
    /// KeyAgreeRecipientInfo). Never empty.
    pub recipients: Vec<RecipientId>,
    /// The content-encryption algorithm, when the message shows it and it is one of
    /// [`Algorithm::ALL`]: always shown by CMS; for OpenPGP only by SEIPDv2 (whose AES is in
    /// an AEAD mode, not the CFB [`Algorithm::Aes256`] means for SEIPDv1); `None` otherwise.
    pub algorithm: Option<Algorithm>,
    /// For CMS, the content-encryption algorithm's OID in dotted form, also when it is not
    /// one mailseal writes (e.g. `2.16.840.1.101.3.4.1.22`, AES-192-CBC); `None` for OpenPGP.
    pub content_encryption_oid: Option<String>,
}

impl EncryptedFor {
    /// Whether the message is encrypted to exactly `recipients`: the same method, and the
    /// same set of recipients as [`encrypt`](crate::encrypt) writes for them in this
    /// container, nothing more and nothing less (a password, a wildcard or any other
    /// recipient makes it false). Recipients named twice count once. The algorithm is not
    /// compared; see [`EncryptedFor::algorithm`].
    ///
    /// ```
    /// use mailseal_core::{encrypt, encrypted_for, EncryptOptions, Policy, RecipientKey};
    ///
    /// let policy = Policy::standard();
    /// let alice = RecipientKey::from_bytes(include_bytes!("../../../../examples/keys/alice.pub.asc"))?
    ///     .validate(&policy)?;
    /// let stored = encrypt(b"Subject: hi\r\n\r\nhello\r\n", &alice, &EncryptOptions::default())?;
    /// assert!(encrypted_for(&stored.message)?.is_exactly(&alice));
    ///
    /// let other = RecipientKey::from_bytes(include_bytes!("../../../../examples/keys/alice.crt.pem"))?
    ///     .validate(&policy)?;
    /// assert!(!encrypted_for(&stored.message)?.is_exactly(&other));
    /// # Ok::<(), mailseal_core::Error>(())
    /// ```
    pub fn is_exactly(&self, recipients: &Recipients) -> bool {
        if self.container.format() != recipients.format() || self.recipients.is_empty() {
            return false;
        }
        let Ok(want) = ids(recipients, self.container == Container::Seipdv2) else {
            return false;
        };
        let want: HashSet<&RecipientId> = want.iter().collect();
        let got: HashSet<&RecipientId> = self.recipients.iter().collect();
        want == got
    }
}

/// Lists whom a stored message is encrypted to, without a private key.
///
/// Reads PGP/MIME, inline PGP and S/MIME messages as [`decrypt`](crate::decrypt) does; only
/// the session-key packets or RecipientInfos are read, not the encrypted content, so a message
/// whose content is damaged further on is not noticed here.
///
/// Errors: a message that is not encrypted gives [`DecryptError::NotEncrypted`]
/// (`decrypt.not_encrypted`); damaged encrypted data, or a session-key packet or
/// RecipientInfo that cannot be read, [`DecryptError::Malformed`] (`decrypt.malformed`); an
/// OpenPGP container other than SEIPD, [`DecryptError::Unsupported`] (`decrypt.unsupported`).
///
/// ```
/// use mailseal_core::{encrypt, encrypted_for, Container, EncryptOptions, Policy, RecipientKey, RecipientId};
///
/// let key = RecipientKey::from_bytes(include_bytes!("../../../../examples/keys/alice.pub.asc"))?;
/// let stored = encrypt(b"Subject: hi\r\n\r\nhello\r\n", &key.validate(&Policy::standard())?, &EncryptOptions::default())?;
///
/// let found = encrypted_for(&stored.message)?;
/// assert_eq!(found.container, Container::Seipdv1);
/// assert!(matches!(found.recipients[..], [RecipientId::OpenPgpKeyId(_)]));
///
/// let err = encrypted_for(b"Subject: hi\r\n\r\nhello\r\n").unwrap_err();
/// assert_eq!(err.code(), "decrypt.not_encrypted");
/// # Ok::<(), mailseal_core::Error>(())
/// ```
pub fn encrypted_for(message: &[u8]) -> Result<EncryptedFor, Error> {
    let (hdr_end, body_start) = mime::header_end(message).unwrap_or((message.len(), message.len()));
    let headers = mime::split_headers(message.get(..hdr_end).unwrap_or_default());
    let body = message.get(body_start..).unwrap_or_default();
    let ct = headers
        .content_type
        .clone()
        .unwrap_or_else(|| mime::ContentType::parse(b"text/plain"));
    match ct.mime_type.as_str() {
        "multipart/encrypted" => {
            let boundary = ct
                .param("boundary")
                .ok_or_else(|| malformed("multipart/encrypted without boundary"))?;
            Ok(from_pgp(pgp::read(PgpPart::new(body, boundary))?))
        }
        "application/pkcs7-mime" | "application/x-pkcs7-mime" | "application/octet-stream" => {
            let cms = if headers.transfer_encoding.as_deref() == Some("base64") {
                smime::read(BufReader::new(Base64Body::new(body)))?
            } else {
                smime::read(body)?
            };
            Ok(EncryptedFor {
                container: if cms.auth {
                    Container::AuthEnvelopedData
                } else {
                    Container::EnvelopedData
                },
                recipients: cms.recipients,
                algorithm: cms.algorithm,
                content_encryption_oid: Some(cms.content_oid.to_string()),
            })
        }
        t if t.starts_with("text/") && detect::head_is_encrypted(&headers, body) => {
            let data = decode_body(&headers, body)?;
            Ok(from_pgp(pgp::read(&data[..])?))
        }
        _ => Err(DecryptError::NotEncrypted.into()),
    }
}

impl Recipients {
    /// The recipients [`encrypt`](crate::encrypt) names in a message it encrypts to these
    /// keys with `options`, in the order it writes them: what [`encrypted_for`] reads back.
    ///
    /// - X.509: one [`RecipientId::IssuerAndSerial`] per certificate.
    /// - OpenPGP with SEIPDv1: one [`RecipientId::OpenPgpKeyId`] per encryption key (PKESK v3).
    /// - OpenPGP with SEIPDv2 (v6 keys, or on request): one [`RecipientId::OpenPgpFingerprint`]
    ///   per encryption key (PKESK v6).
    ///
    /// Fails as `encrypt` would for these options: `encrypt.aead_with_openpgp`,
    /// `encrypt.seipdv1_with_v6_key`.
    ///
    /// ```
    /// use mailseal_core::{EncryptOptions, Policy, RecipientId, RecipientKey};
    /// let key = RecipientKey::from_bytes(include_bytes!("../../../../examples/keys/alice.pub.asc"))?;
    /// let ids = key.validate(&Policy::standard())?.addressees(&EncryptOptions::default())?;
    /// assert_eq!(ids.len(), 1);
    /// assert!(matches!(ids[0], RecipientId::OpenPgpKeyId(_)));
    /// # Ok::<(), mailseal_core::Error>(())
    /// ```
    pub fn addressees(&self, options: &EncryptOptions) -> Result<Vec<RecipientId>, Error> {
        let seipdv2 = match &self.keys {
            RecipientKeys::X509(_) => false,
            RecipientKeys::OpenPgp(certs) => {
                options.algorithm.check_key_format(KeyFormat::OpenPgp)?;
                uses_seipdv2(certs, options.pgp_format)?
            }
        };
        ids(self, seipdv2)
    }
}

/// The recipients `encrypt` writes for `recipients`, with SEIPDv2 if `seipdv2` (OpenPGP).
fn ids(recipients: &Recipients, seipdv2: bool) -> Result<Vec<RecipientId>, Error> {
    match &recipients.keys {
        RecipientKeys::X509(certs) => certs
            .iter()
            .map(|c| {
                let ias = c.issuer_and_serial();
                Ok(RecipientId::IssuerAndSerial {
                    issuer: ias.issuer.to_der().map_err(|e| EncryptError::Backend {
                        detail: e.to_string(),
                    })?,
                    serial: ias.serial_number.as_bytes().to_vec(),
                })
            })
            .collect(),
        RecipientKeys::OpenPgp(certs) => encryption_keys(certs)
            .into_iter()
            .map(|k| {
                if seipdv2 {
                    return Ok(RecipientId::OpenPgpFingerprint(Fingerprint::from(
                        &k.fingerprint(),
                    )));
                }
                let id = k.keyid();
                let id = id
                    .as_bytes()
                    .try_into()
                    .map_err(|_| EncryptError::Backend {
                        detail: "a key ID is not 8 bytes".to_owned(),
                    })?;
                Ok(RecipientId::OpenPgpKeyId(id))
            })
            .collect(),
    }
}

fn from_pgp(found: pgp::PgpAddressees) -> EncryptedFor {
    EncryptedFor {
        container: if found.seipd == 2 {
            Container::Seipdv2
        } else {
            Container::Seipdv1
        },
        recipients: found.recipients,
        algorithm: found.algorithm,
        content_encryption_oid: None,
    }
}

fn malformed(detail: &str) -> Error {
    DecryptError::Malformed {
        detail: detail.to_owned(),
    }
    .into()
}
