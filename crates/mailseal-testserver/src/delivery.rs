//! Local delivery with encryption at rest, as far as step 12 of the recording shows it
//! (`12-*.json`, `messages/results.json`).
//!
//! There is no SMTP listener: a test hands a message to [`TestServer::deliver`] as if it had
//! arrived over SMTP from 127.0.0.1 on port 10025 (unauthenticated) for one local recipient.
//!
//! * With `encryptionAtRest` `Disabled`, or with an OpenPGP key, or with S/MIME
//!   certificates that all carry RSA keys, the message counts as **stored**: it is recorded
//!   in the account's part of the state ([`MailStore::stored`]) as received, together with
//!   the encryption the real server would have applied. This server does not encrypt it; it
//!   serves it as received (plus `Delivered-To`) in Inbox over JMAP (see [`crate::mail`]).
//! * With an S/MIME certificate whose key is not RSA (an EC key of any curve, for example)
//!   the real server's encryption fails (it reads the certificate's `subjectPublicKey` as a
//!   PKCS#1 `RSAPublicKey`, and an EC point starts with an OCTET STRING tag), and the failure
//!   counts as **temporary**: the message stays in the delivery queue with a
//!   `TemporaryFailure` status (451 4.3.0 "Transient server failure."), the first retry
//!   2 minutes later, a delay notification due after 1 day and expiry after 3 days. Nothing is
//!   stored and nothing bounces. The administrator sees it as an `x:QueuedMessage` and may
//!   destroy it. This server never retries a queued message.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use der::asn1::UintRef;
use der::{Decode, Sequence, SliceReader};
use serde::{Deserialize, Serialize};
use x509_cert::Certificate;

use crate::directory::{Directory, EncryptionAtRest};
use crate::ids::{base32_encode, encode_id};
use crate::key_check::lenient_base64;
use crate::server::{Error, TestServer};

/// Seconds from a failed attempt to the next retry (Stalwart's first retry interval).
pub const RETRY_DELAY_SECS: i64 = 2 * 60;
/// Seconds from queueing to the delay notification (DSN).
pub const NOTIFY_DELAY_SECS: i64 = 24 * 60 * 60;
/// Seconds from queueing to expiry.
pub const EXPIRY_SECS: i64 = 3 * 24 * 60 * 60;
/// The queue local deliveries wait in.
pub const QUEUE_NAME: &str = "local";
/// The address deliveries are taken to come from.
pub const RECEIVED_FROM_IP: &str = "127.0.0.1";
/// The SMTP port deliveries are taken to arrive on (the recorded server's listener).
pub const RECEIVED_VIA_PORT: u16 = 10025;

/// What became of a message handed to [`TestServer::deliver`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// The message reached the recipient's account (see [`StoredMessage`]).
    Stored {
        /// JMAP id of the recipient's account.
        account_id: String,
        /// Blob id of the message.
        blob_id: String,
        /// How the real server would have encrypted it (`None`: stored as received).
        encryption: Option<StoredEncryption>,
    },
    /// Delivery failed temporarily; the message waits in the queue (see [`QueuedMessage`]).
    Queued {
        /// The `x:QueuedMessage` id.
        queue_id: String,
        /// Blob id of the message.
        blob_id: String,
        /// What the real server logged (`store.crypto-error`).
        reason: String,
    },
}

/// The kind of key a message was encrypted for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EncryptionMethod {
    /// OpenPGP (PGP/MIME).
    OpenPgp,
    /// S/MIME (CMS).
    Smime,
}

/// The encryption at rest a stored message got (on the real server).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredEncryption {
    /// OpenPGP or S/MIME.
    pub method: EncryptionMethod,
    /// The `encryptionAtRest` `@type` (`Aes128`, `Aes256`, `Aes256Gcm`, `ChaCha20Poly1305`).
    pub algorithm: String,
    /// JMAP id of the `x:PublicKey` used.
    pub public_key: String,
}

/// A message delivered to an account. `message` holds the bytes as received (this server
/// does not encrypt).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredMessage {
    /// The recipient's account number.
    pub account_id: u32,
    /// The envelope recipient.
    pub recipient: String,
    /// The envelope sender.
    pub return_path: String,
    /// Delivery time (Unix seconds).
    pub received_at: i64,
    /// Size in bytes.
    pub size: u64,
    /// Blob id (content-addressed).
    pub blob_id: String,
    /// The encryption the real server would have applied.
    pub encryption: Option<StoredEncryption>,
    /// The message as received.
    #[serde(with = "base64_bytes")]
    pub message: Vec<u8>,
}

/// A message in the delivery queue (`x:QueuedMessage`), with one recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedMessage {
    /// Global id (12 characters when written), from the same generator as PublicKey ids.
    pub id: u64,
    /// The envelope recipient, lower-cased.
    pub recipient: String,
    /// The recipient's account number.
    pub account_id: u32,
    /// The envelope sender.
    pub return_path: String,
    /// Queueing time (Unix seconds).
    pub created_at: i64,
    /// Next delivery attempt (Unix seconds).
    pub next_retry: i64,
    /// When the delay notification is due (Unix seconds).
    pub next_notify: i64,
    /// When the message expires (Unix seconds).
    pub expires_at: i64,
    /// Delivery attempts made.
    pub retry_count: u32,
    /// Blob id (content-addressed).
    pub blob_id: String,
    /// Size in bytes.
    pub size: u64,
    /// Why the last attempt failed (the real server's log text).
    pub reason: String,
    /// The message as received.
    #[serde(with = "base64_bytes")]
    pub message: Vec<u8>,
}

impl QueuedMessage {
    /// The JMAP id.
    pub fn jmap_id(&self) -> String {
        encode_id(self.id)
    }
}

/// Delivered and queued mail.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailStore {
    /// The delivery queue, by id.
    pub queue: BTreeMap<u64, QueuedMessage>,
    /// Messages stored in accounts, in delivery order.
    pub stored: Vec<StoredMessage>,
}

/// Delivers `message` from `return_path` to the local address `rcpt` at `now` (Unix
/// seconds): stores it or queues it, as described in the module documentation.
pub fn deliver(
    dir: &mut Directory,
    now: i64,
    rcpt: &str,
    return_path: &str,
    message: &[u8],
) -> Result<Delivery, Error> {
    let account_id = dir
        .account_id_by_login(rcpt)
        .ok_or_else(|| Error::UnknownUser(rcpt.to_owned()))?;
    let encryption_at_rest = dir
        .accounts
        .get(&account_id)
        .map(|a| a.settings.encryption_at_rest.clone())
        .ok_or_else(|| Error::UnknownUser(rcpt.to_owned()))?;
    let blob_id = blob_id(message);
    let size = u64::try_from(message.len()).unwrap_or(u64::MAX);
    let recipient = rcpt.trim().to_lowercase();

    let mut encryption = None;
    if let Some(settings) = encryption_at_rest.settings()
        && let Some(key) = settings.public_key.and_then(|id| dir.public_keys.get(&id))
    {
        let certificates = certificate_blocks(&key.key);
        let method = if certificates.is_empty() {
            EncryptionMethod::OpenPgp
        } else {
            EncryptionMethod::Smime
        };
        if let Some(reason) = certificates.iter().find_map(|der| smime_key_error(der)) {
            let id = dir.next_public_key_id(now);
            dir.mail.queue.insert(
                id,
                QueuedMessage {
                    id,
                    recipient,
                    account_id,
                    return_path: return_path.to_owned(),
                    created_at: now,
                    next_retry: now.saturating_add(RETRY_DELAY_SECS),
                    next_notify: now.saturating_add(NOTIFY_DELAY_SECS),
                    expires_at: now.saturating_add(EXPIRY_SECS),
                    retry_count: 1,
                    blob_id: blob_id.clone(),
                    size,
                    reason: reason.clone(),
                    message: message.to_vec(),
                },
            );
            return Ok(Delivery::Queued {
                queue_id: encode_id(id),
                blob_id,
                reason,
            });
        }
        encryption = Some(StoredEncryption {
            method,
            algorithm: algorithm_name(&encryption_at_rest).to_owned(),
            public_key: encode_id(key.id),
        });
    }

    dir.mail.stored.push(StoredMessage {
        account_id,
        recipient,
        return_path: return_path.to_owned(),
        received_at: now,
        size,
        blob_id: blob_id.clone(),
        encryption: encryption.clone(),
        message: message.to_vec(),
    });
    Ok(Delivery::Stored {
        account_id: encode_id(u64::from(account_id)),
        blob_id,
        encryption,
    })
}

/// The `@type` of an `encryptionAtRest` value.
fn algorithm_name(value: &EncryptionAtRest) -> &'static str {
    match value {
        EncryptionAtRest::Disabled => "Disabled",
        EncryptionAtRest::Aes128(_) => "Aes128",
        EncryptionAtRest::Aes256(_) => "Aes256",
        EncryptionAtRest::Aes256Gcm(_) => "Aes256Gcm",
        EncryptionAtRest::ChaCha20Poly1305(_) => "ChaCha20Poly1305",
    }
}

/// The DER bytes of every `CERTIFICATE` block of a stored key text (the text passed the
/// upload check, so a simple reading suffices).
pub fn certificate_blocks(text: &str) -> Vec<Vec<u8>> {
    let mut blocks = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("-----BEGIN") {
            body = line.contains("CERTIFICATE").then(String::new);
        } else if line.starts_with("-----END") {
            if let Some(b64) = body.take()
                && let Some(der) = lenient_base64(b64.as_bytes())
            {
                blocks.push(der);
            }
        } else if let Some(b64) = body.as_mut() {
            b64.push_str(line);
        }
    }
    blocks
}

/// PKCS#1 `RSAPublicKey`, the only key the real server can encrypt S/MIME mail for.
#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// Why the real server cannot encrypt for this DER certificate, in its log's words
/// (`None`: an RSA key, which works). The certificate's `subjectPublicKey` is read as a
/// PKCS#1 `RSAPublicKey`; for an EC key (any curve) this gives "Failed to parse public key:
/// public key error: ASN.1 error: unexpected ASN.1 DER tag: expected SEQUENCE, got OCTET
/// STRING".
pub fn smime_key_error(der: &[u8]) -> Option<String> {
    let certificate = match SliceReader::new(der).and_then(|mut r| Certificate::decode(&mut r)) {
        Ok(certificate) => certificate,
        Err(err) => return Some(format!("Failed to decode X509 certificate: {err}")),
    };
    let key = certificate
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    match RsaPublicKey::from_der(key) {
        Ok(_) => None,
        Err(err) => Some(format!(
            "Failed to parse public key: public key error: ASN.1 error: {}",
            err.kind()
        )),
    }
}

/// A content-addressed blob id in the shape of Stalwart's (`e` and base 32), not its value.
fn blob_id(message: &[u8]) -> String {
    let mut digest = Vec::with_capacity(32);
    for seed in 0u64..4 {
        let mut hasher = DefaultHasher::new();
        seed.hash(&mut hasher);
        message.hash(&mut hasher);
        digest.extend_from_slice(&hasher.finish().to_be_bytes());
    }
    let size = u32::try_from(message.len()).unwrap_or(u32::MAX);
    digest.extend_from_slice(&size.to_be_bytes());
    format!("e{}", base32_encode(&digest))
}

impl TestServer {
    /// Delivers `message` from the envelope sender `return_path` to the local address
    /// `rcpt`, as the real server's SMTP listener on 127.0.0.1:10025 would (see
    /// [`crate::delivery`]): `Stored` when the account stores it (it is then also served
    /// over JMAP: an e-mail in Inbox, without keywords, `receivedAt` now, its bytes
    /// `Delivered-To: <rcpt>` followed by `message`; this server does not encrypt it) (plain or, on the real
    /// server, encrypted at rest), `Queued` when encryption at rest fails temporarily (an
    /// S/MIME certificate with an EC key). Fails with [`Error::UnknownUser`] for an address
    /// that is not an account's.
    pub fn deliver(
        &self,
        rcpt: &str,
        return_path: &str,
        message: &[u8],
    ) -> Result<Delivery, Error> {
        let now = self.shared().clock.unix();
        let mut dir = self.shared().directory();
        let outcome = deliver(&mut dir, now, rcpt, return_path, message)?;
        if let Delivery::Stored { .. } = outcome
            && let Some(account_id) = dir.account_id_by_login(rcpt)
        {
            // Served over JMAP as the real server stores it: `Delivered-To` first, in Inbox.
            let mut raw = format!("Delivered-To: {}\r\n", rcpt.trim().to_lowercase()).into_bytes();
            raw.extend_from_slice(message);
            let inbox = std::collections::BTreeSet::from([0]);
            self.shared().mail().account(account_id).insert_email(
                std::sync::Arc::from(raw),
                inbox,
                std::collections::BTreeSet::new(),
                now,
                true,
            );
        }
        Ok(outcome)
    }

    /// The delivery queue (`x:QueuedMessage`), oldest first.
    pub fn queued_messages(&self) -> Vec<QueuedMessage> {
        self.shared()
            .directory()
            .mail
            .queue
            .values()
            .cloned()
            .collect()
    }

    /// The messages stored in the account with this address, in delivery order.
    pub fn stored_messages(&self, email: &str) -> Vec<StoredMessage> {
        let dir = self.shared().directory();
        let Some(id) = dir.account_id_by_login(email) else {
            return Vec::new();
        };
        dir.mail
            .stored
            .iter()
            .filter(|m| m.account_id == id)
            .cloned()
            .collect()
    }
}

/// Bytes as a base64 string in the JSON state.
mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_are_content_addressed() {
        assert_eq!(blob_id(b"one"), blob_id(b"one"));
        assert_ne!(blob_id(b"one"), blob_id(b"two"));
        assert!(blob_id(b"one").starts_with('e'));
    }

    #[test]
    fn an_ec_point_is_not_an_rsa_public_key() {
        // An uncompressed P-256 point: 0x04 followed by 64 bytes.
        let mut point = vec![0x04];
        point.extend_from_slice(&[0x11; 64]);
        let err = RsaPublicKey::from_der(&point).map(|_| ()).unwrap_err();
        assert_eq!(
            err.kind().to_string(),
            "unexpected ASN.1 DER tag: expected SEQUENCE, got OCTET STRING"
        );
    }
}
