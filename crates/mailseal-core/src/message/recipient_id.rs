//! [`RecipientId`]: whom an encrypted message names as a recipient, as written in its
//! OpenPGP session-key packets (RFC 9580 §5.1, §5.3) or its CMS RecipientInfos (RFC 5652
//! §6.2). Read by `smime::addressees` and `pgp::addressees`, listed by
//! [`encrypted_for`](crate::encrypted_for).

use std::fmt;

use crate::key::fingerprint::{Fingerprint, hex_upper};

/// One recipient named by an encrypted message: what a key holder (or password holder) is
/// told to look for to open it.
///
/// Two values are equal when the message names the same recipient in the same way; a key ID
/// and the fingerprint it comes from are different values (a message names a key by one or the
/// other, see [`Recipients::addressees`](crate::Recipients::addressees)).
///
/// ```
/// use mailseal_core::RecipientId;
/// let id = RecipientId::OpenPgpKeyId([0x17, 0xCC, 0xFF, 0x52, 0xEF, 0xCA, 0x2B, 0x3F]);
/// assert_eq!(id.to_string(), "OpenPGP key ID 17CCFF52EFCA2B3F");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RecipientId {
    /// CMS KEKRecipientInfo: a key-encryption key shared in advance, by its identifier.
    CmsKek(Vec<u8>),
    /// CMS OtherRecipientInfo, by its type (dotted OID).
    CmsOther(String),
    /// CMS IssuerAndSerialNumber (KeyTransRecipientInfo or KeyAgreeRecipientInfo): the
    /// certificate with this issuer and serial number. This is what mailseal and Stalwart write.
    IssuerAndSerial {
        /// The issuer's distinguished name, DER (the `Name` SEQUENCE).
        issuer: Vec<u8>,
        /// The serial number: the content octets of its DER INTEGER (big-endian, with a leading
        /// zero when the top bit is set).
        serial: Vec<u8>,
    },
    /// OpenPGP PKESK v6: the recipient key's fingerprint (v4 or v6 key).
    OpenPgpFingerprint(Fingerprint),
    /// OpenPGP PKESK v3: the recipient key's 64-bit key ID.
    OpenPgpKeyId([u8; 8]),
    /// OpenPGP PKESK v3 or v6 that does not name its key (a wildcard or anonymous recipient,
    /// as `gpg --throw-keyids` writes): anyone's key might open it.
    OpenPgpWildcard,
    /// A password: an OpenPGP SKESK packet or a CMS PasswordRecipientInfo. Whoever knows the
    /// password can open the message.
    Password,
    /// CMS SubjectKeyIdentifier (KeyTransRecipientInfo, or RecipientKeyIdentifier of a
    /// KeyAgreeRecipientInfo): the certificate with this subject key identifier.
    SubjectKeyId(Vec<u8>),
}

impl fmt::Display for RecipientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecipientId::CmsKek(id) => write!(f, "CMS key-encryption key {}", hex_upper(id)),
            RecipientId::CmsOther(oid) => write!(f, "CMS recipient of type {oid}"),
            RecipientId::IssuerAndSerial { serial, .. } => {
                write!(f, "certificate with serial number {}", hex_upper(serial))
            }
            RecipientId::OpenPgpFingerprint(fp) => write!(f, "OpenPGP key {}", fp.to_hex()),
            RecipientId::OpenPgpKeyId(id) => write!(f, "OpenPGP key ID {}", hex_upper(id)),
            RecipientId::OpenPgpWildcard => f.write_str("an OpenPGP key that is not named"),
            RecipientId::Password => f.write_str("a password"),
            RecipientId::SubjectKeyId(id) => {
                write!(
                    f,
                    "certificate with subject key identifier {}",
                    hex_upper(id)
                )
            }
        }
    }
}
