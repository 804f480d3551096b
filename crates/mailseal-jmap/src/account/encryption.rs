//! Encryption at rest: `x:AccountSettings.encryptionAtRest` and `x:PublicKey` (spec §8–§9).
//!
//! The key is validated locally with mailseal-core before anything is sent: private keys and
//! unusable keys are refused, only the end-entity certificates (or the OpenPGP certificate)
//! are kept, and the upload is converted to the text form Stalwart accepts (PEM, or armor
//! without the headers that make Stalwart reject a good key). EC S/MIME certificates are
//! refused unless explicitly allowed: Stalwart accepts them, then every delivery fails
//! temporarily and mail sits in the queue (fixture `12-smime-ec-p256-aes128`).

use mailseal_core::{Algorithm, KeyFormat, KeyReport, Policy, ProblemCode, RecipientKey};

use crate::client::Client;
use crate::envelope::{SetArgs, SetResponse};
use crate::error::Error;
use crate::objects::{
    ACCOUNT_SETTINGS, AccountSettings, AccountSettingsPatch, CreatedId, EncryptionAtRest,
    EncryptionParams, NewPublicKeyObject, PUBLIC_KEY, PublicKeyObject, SINGLETON, StringSet,
};

/// The settings to switch encryption at rest on with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionRequest {
    /// The content-encryption algorithm.
    pub algorithm: Algorithm,
    /// Also encrypt messages added by IMAP/JMAP (needs the server-wide setting too).
    pub encrypt_on_append: bool,
    /// Let the spam filter train on messages before they are encrypted.
    pub allow_spam_training: bool,
    /// A label for the key on the server.
    pub description: String,
    /// Upload an EC S/MIME certificate although Stalwart 0.16 cannot encrypt to it (for
    /// servers known to have fixed it). Off by default.
    pub allow_ec_certificate: bool,
}

impl EncryptionRequest {
    /// AES-256, no encrypt-on-append, no spam training, EC certificates refused.
    pub fn new(algorithm: Algorithm) -> Self {
        EncryptionRequest {
            algorithm,
            encrypt_on_append: false,
            allow_spam_training: false,
            description: "Encryption at rest (mailseal)".into(),
            allow_ec_certificate: false,
        }
    }

    /// What the user should hear about the chosen algorithm before switching on (AEAD
    /// algorithms that common mail programs cannot open), if anything: [`Algorithm::advice`].
    ///
    /// ```
    /// use mailseal_core::Algorithm;
    /// use mailseal_jmap::EncryptionRequest;
    /// assert!(EncryptionRequest::new(Algorithm::Aes256).advice().is_none());
    /// let advice = EncryptionRequest::new(Algorithm::ChaCha20Poly1305).advice().unwrap();
    /// assert!(advice.contains("OpenSSL 3.0") && advice.contains("aes256"));
    /// ```
    pub fn advice(&self) -> Option<&'static str> {
        self.algorithm.advice()
    }
}

/// A public key stored on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// Its id.
    pub id: String,
    /// Its description.
    pub description: String,
    /// The key as stored (PEM or armor).
    pub key: String,
    /// What mailseal-core says about it now, when it can be read.
    pub report: Option<KeyReport>,
}

/// The encryption-at-rest settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionSettings {
    /// The algorithm, or `None` when encryption at rest is off.
    pub algorithm: Option<Algorithm>,
    /// Whether appended messages are encrypted too.
    pub encrypt_on_append: bool,
    /// Whether spam training sees messages first.
    pub allow_spam_training: bool,
    /// The key mail is encrypted to.
    pub key: Option<StoredKey>,
}

impl Client {
    /// The encryption-at-rest settings and the key in use.
    pub async fn encryption_settings(&self) -> Result<EncryptionSettings, Error> {
        let settings: Option<AccountSettings> = self.get_singleton(ACCOUNT_SETTINGS).await?;
        let ear = settings
            .and_then(|s| s.encryption_at_rest)
            .unwrap_or(EncryptionAtRest::Disabled);
        let Some((algorithm, params)) = ear.on() else {
            return Ok(EncryptionSettings {
                algorithm: None,
                encrypt_on_append: false,
                allow_spam_training: false,
                key: None,
            });
        };
        let key = match &params.public_key {
            Some(id) => self.public_keys().await?.into_iter().find(|k| &k.id == id),
            None => None,
        };
        Ok(EncryptionSettings {
            algorithm: Some(algorithm),
            encrypt_on_append: params.encrypt_on_append,
            allow_spam_training: params.allow_spam_training,
            key,
        })
    }

    /// Lists the public keys stored for this account.
    pub async fn public_keys(&self) -> Result<Vec<StoredKey>, Error> {
        let list: Vec<PublicKeyObject> = self.query_and_get(PUBLIC_KEY).await?;
        Ok(list
            .into_iter()
            .map(|k| {
                let report = RecipientKey::from_bytes(k.key.as_bytes())
                    .ok()
                    .map(|r| r.inspect(&Policy::standard()));
                StoredKey {
                    id: k.id,
                    description: k.description,
                    key: k.key,
                    report,
                }
            })
            .collect())
    }

    /// Deletes a stored public key (refused by the server while encryption uses it).
    pub async fn delete_public_key(&self, id: &str) -> Result<(), Error> {
        let resp: SetResponse<serde_json::Value> = self
            .call(&format!("{PUBLIC_KEY}/set"), &SetArgs::destroy(id))
            .await?;
        resp.destroyed(id)
    }

    /// Validates `key` locally, uploads it and switches encryption at rest on. Returns the
    /// validation report (with its warnings). If switching on fails, the uploaded key is
    /// deleted again, so the previous settings stay as they were.
    pub async fn enable_encryption(
        &self,
        key: &[u8],
        email: Option<&str>,
        request: &EncryptionRequest,
    ) -> Result<KeyReport, Error> {
        let mut policy = Policy::standard();
        if let Some(e) = email {
            policy = policy.with_email(e);
        }
        let recipients = RecipientKey::from_bytes(key)?.validate(&policy)?;
        let report = recipients.report().clone();
        request.algorithm.check_key_format(report.format)?;
        if report.format == KeyFormat::OpenPgp && recipients.certificate_count() > 1 {
            return Err(Error::invalid(
                "Stalwart uses one OpenPGP certificate per account: pick one (give the \
                 account's address to choose from a keyring)",
            ));
        }
        let ec = report
            .warnings()
            .any(|p| p.code == ProblemCode::EcLimitedSupport);
        if ec && !request.allow_ec_certificate {
            return Err(Error::NotAvailable {
                reason: "this is an EC (elliptic-curve) S/MIME certificate: Stalwart 0.16 \
                         accepts it, but then cannot encrypt any incoming message to it, and \
                         new mail waits in the delivery queue for days without arriving or \
                         bouncing. Use an RSA certificate or an OpenPGP key (or override only \
                         if your server is known to support EC certificates)"
                    .into(),
            });
        }
        let text = recipients.to_upload_text()?;
        let key_object = NewPublicKeyObject {
            description: &request.description,
            key: &text,
            email_addresses: email.map(|e| StringSet::from([(e.to_owned(), true)])),
        };
        let resp: SetResponse<CreatedId> = self
            .call(
                &format!("{PUBLIC_KEY}/set"),
                &SetArgs::create("k1", key_object),
            )
            .await?;
        let key_id = resp.created("k1")?.id;
        let settings = EncryptionAtRest::with(
            request.algorithm,
            EncryptionParams {
                public_key: Some(key_id.clone()),
                encrypt_on_append: request.encrypt_on_append,
                allow_spam_training: request.allow_spam_training,
            },
        );
        let result = self.set_encryption_at_rest(settings).await;
        if let Err(e) = result {
            // Leave the account as it was: remove the key we just added.
            let _ = self.delete_public_key(&key_id).await;
            return Err(match e {
                Error::Set(s) if s.kind == "invalidPatch" && request.algorithm.is_aead() => {
                    Error::NotAvailable {
                        reason: format!(
                            "this server's Stalwart version does not offer {} (added in \
                             0.16.11); choose aes256",
                            request.algorithm.display_name()
                        ),
                    }
                }
                other => other,
            });
        }
        Ok(report)
    }

    /// Switches encryption at rest off (messages already stored stay encrypted).
    pub async fn disable_encryption(&self) -> Result<(), Error> {
        self.set_encryption_at_rest(EncryptionAtRest::Disabled)
            .await
    }

    async fn set_encryption_at_rest(&self, settings: EncryptionAtRest) -> Result<(), Error> {
        let patch = AccountSettingsPatch {
            encryption_at_rest: settings,
        };
        let resp: SetResponse<serde_json::Value> = self
            .call(
                &format!("{ACCOUNT_SETTINGS}/set"),
                &SetArgs::update(SINGLETON, patch),
            )
            .await?;
        resp.not_refused_update(SINGLETON)
    }
}
