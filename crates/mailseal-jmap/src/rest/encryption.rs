//! Encryption at rest on 0.15: `GET|POST /api/account/crypto` with the literal tags `pGP`,
//! `sMIME` and `disabled`, `algo` `Aes128`/`Aes256`, and `allow_spam_training`, which
//! 0.15 requires (fixture 41) and older versions ignore, so it is always sent. The key goes
//! through the same local checks and conversion as on JMAP (armor headers removed: 0.15
//! refuses a key with a `Comment:` line, fixture 44). The server keeps the one key inside
//! the setting; it is read back from the opaque blob.

use mailseal_core::{Algorithm, KeyFormat, Policy, RecipientKey};
use serde::Serialize;

use crate::account::encryption::{
    EncryptionEnabled, EncryptionRequest, EncryptionSettings, StoredKey, validate_key,
};
use crate::client::Client;
use crate::error::Error;

use super::CRYPTO;
use super::blob::leading_key;
use super::envelope::{CryptoInfo, CryptoParams};

/// The id under which the one stored key is shown.
pub(crate) const KEY_ID: &str = "current";

/// The body of `POST /api/account/crypto` (field names as 0.15 wants them).
#[derive(Serialize)]
#[serde(tag = "type")]
enum CryptoRequest<'a> {
    #[serde(rename = "pGP")]
    Pgp {
        algo: &'static str,
        certs: &'a str,
        allow_spam_training: bool,
    },
    #[serde(rename = "sMIME")]
    Smime {
        algo: &'static str,
        certs: &'a str,
        allow_spam_training: bool,
    },
    #[serde(rename = "disabled")]
    Disabled,
}

/// The 0.15 `algo` of an algorithm, if 0.15 has it.
fn algo(algorithm: Algorithm) -> Option<&'static str> {
    match algorithm {
        Algorithm::Aes128 => Some("Aes128"),
        Algorithm::Aes256 => Some("Aes256"),
        _ => None,
    }
}

fn settings(params: &CryptoParams) -> Result<EncryptionSettings, Error> {
    let algorithm = match params.algo.as_str() {
        "Aes128" => Algorithm::Aes128,
        "Aes256" => Algorithm::Aes256,
        other => return Err(Error::protocol(format!("unknown algo {other}"))),
    };
    let key = leading_key(&params.certs).map(|text| {
        let report = RecipientKey::from_bytes(text.as_bytes())
            .ok()
            .map(|r| r.inspect(&Policy::standard()));
        StoredKey {
            id: KEY_ID.into(),
            description: "the key of the encryption-at-rest setting".into(),
            key: text,
            report,
        }
    });
    Ok(EncryptionSettings {
        algorithm: Some(algorithm),
        encrypt_on_append: false,
        allow_spam_training: params.allow_spam_training,
        key,
    })
}

impl Client {
    /// [`Client::encryption_settings`] on a REST server.
    pub(crate) async fn rest_encryption_settings(&self) -> Result<EncryptionSettings, Error> {
        match self.rest_get::<CryptoInfo>(CRYPTO).await? {
            CryptoInfo::Disabled => Ok(EncryptionSettings {
                algorithm: None,
                encrypt_on_append: false,
                allow_spam_training: false,
                key: None,
            }),
            CryptoInfo::Pgp(p) | CryptoInfo::Smime(p) => settings(&p),
        }
    }

    /// [`Client::enable_encryption`] on a REST server.
    pub(crate) async fn rest_enable_encryption(
        &self,
        key: &[u8],
        email: Option<&str>,
        request: &EncryptionRequest,
    ) -> Result<EncryptionEnabled, Error> {
        let (recipients, report) = validate_key(key, email, request)?;
        let Some(algo) = algo(request.algorithm) else {
            return Err(Error::NotAvailable {
                reason: format!(
                    "this server (Stalwart before 0.16) offers only AES-128 and AES-256, not {}; \
                     choose {}",
                    request.algorithm.display_name(),
                    Algorithm::DEFAULT
                ),
            });
        };
        if request.encrypt_on_append {
            return Err(Error::NotAvailable {
                reason: "this server (Stalwart before 0.16) cannot encrypt messages added by \
                         IMAP or JMAP; switch that option off"
                    .into(),
            });
        }
        let text = recipients.to_upload_text()?;
        let allow_spam_training = request.allow_spam_training;
        let body = match report.format {
            KeyFormat::OpenPgp => CryptoRequest::Pgp {
                algo,
                certs: &text,
                allow_spam_training,
            },
            KeyFormat::X509 => CryptoRequest::Smime {
                algo,
                certs: &text,
                allow_spam_training,
            },
        };
        self.rest_post(CRYPTO, &body).await?;
        Ok(EncryptionEnabled {
            report,
            key_id: KEY_ID.into(),
            reused_key: false,
            removed_key: None,
        })
    }

    /// [`Client::disable_encryption`] on a REST server: the key goes with the setting.
    pub(crate) async fn rest_disable_encryption(&self) -> Result<Option<String>, Error> {
        let was_on = !matches!(
            self.rest_get::<CryptoInfo>(CRYPTO).await?,
            CryptoInfo::Disabled
        );
        self.rest_post(CRYPTO, &CryptoRequest::Disabled).await?;
        Ok(was_on.then(|| KEY_ID.to_owned()))
    }
}
