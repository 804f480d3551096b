//! Encryption at rest: `x:AccountSettings.encryptionAtRest` and `x:PublicKey` (spec §8–§9).
//!
//! The key is validated locally with mailseal-core before anything is sent: private keys and
//! unusable keys are refused, only the end-entity certificates (or the OpenPGP certificate)
//! are kept, and the upload is converted to the text form Stalwart accepts (PEM, or armor
//! without the headers that make Stalwart reject a good key). EC S/MIME certificates are
//! refused unless explicitly allowed: Stalwart accepts them, then every delivery fails
//! temporarily and mail sits in the queue (fixture `12-smime-ec-p256-aes128`).

use serde_json::{Value, json};

use mailseal_core::{Algorithm, KeyFormat, KeyReport, Policy, ProblemCode, RecipientKey};

use crate::client::{Client, set_error};
use crate::error::Error;

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
    /// algorithms that common mail programs cannot open), if anything; see
    /// [`algorithm_advice`].
    ///
    /// ```
    /// use mailseal_core::Algorithm;
    /// use mailseal_jmap::EncryptionRequest;
    /// assert!(EncryptionRequest::new(Algorithm::Aes256).advice().is_none());
    /// let advice = EncryptionRequest::new(Algorithm::ChaCha20Poly1305).advice().unwrap();
    /// assert!(advice.contains("OpenSSL 3.0") && advice.contains("aes256"));
    /// ```
    pub fn advice(&self) -> Option<&'static str> {
        algorithm_advice(self.algorithm)
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

fn wire_algorithm(a: Algorithm) -> &'static str {
    match a {
        Algorithm::Aes128 => "Aes128",
        Algorithm::Aes256 => "Aes256",
        Algorithm::Aes256Gcm => "Aes256Gcm",
        Algorithm::ChaCha20Poly1305 => "ChaCha20Poly1305",
    }
}

fn from_wire(s: &str) -> Option<Algorithm> {
    Algorithm::ALL.into_iter().find(|a| wire_algorithm(*a) == s)
}

/// What the user should know about an algorithm choice, if anything.
pub fn algorithm_advice(a: Algorithm) -> Option<&'static str> {
    match a {
        Algorithm::Aes256Gcm => Some(
            "AES-256-GCM mail cannot be opened by OpenSSL 1.x, Outlook, .NET or Thunderbird \
             (NSS); aes256 works everywhere",
        ),
        Algorithm::ChaCha20Poly1305 => Some(
            "ChaCha20-Poly1305 mail cannot be opened by OpenSSL 3.0, Outlook, .NET or \
             Thunderbird; aes256 works everywhere",
        ),
        _ => None,
    }
}

impl Client {
    /// The encryption-at-rest settings and the key in use.
    pub async fn encryption_settings(&self) -> Result<EncryptionSettings, Error> {
        let resp = self
            .call1("x:AccountSettings/get", json!({ "ids": ["singleton"] }))
            .await?;
        let ear = resp
            .get("list")
            .and_then(Value::as_array)
            .and_then(|l| l.first())
            .and_then(|s| s.get("encryptionAtRest"))
            .cloned()
            .unwrap_or(Value::Null);
        let kind = ear
            .get("@type")
            .and_then(Value::as_str)
            .unwrap_or("Disabled");
        let algorithm = from_wire(kind);
        let flag = |k: &str| ear.get(k).and_then(Value::as_bool).unwrap_or(false);
        let key = match ear.get("publicKey").and_then(Value::as_str) {
            Some(id) if algorithm.is_some() => {
                self.public_keys().await?.into_iter().find(|k| k.id == id)
            }
            _ => None,
        };
        Ok(EncryptionSettings {
            algorithm,
            encrypt_on_append: flag("encryptOnAppend"),
            allow_spam_training: flag("allowSpamTraining"),
            key,
        })
    }

    /// Lists the public keys stored for this account.
    pub async fn public_keys(&self) -> Result<Vec<StoredKey>, Error> {
        let list = self.query_and_get("x:PublicKey").await?;
        Ok(list
            .iter()
            .map(|v| {
                let s = |k: &str| {
                    v.get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                let key = s("key");
                let report = RecipientKey::from_bytes(key.as_bytes())
                    .ok()
                    .map(|k| k.inspect(&Policy::standard()));
                StoredKey {
                    id: s("id"),
                    description: s("description"),
                    key,
                    report,
                }
            })
            .collect())
    }

    /// Deletes a stored public key (refused by the server while encryption uses it).
    pub async fn delete_public_key(&self, id: &str) -> Result<(), Error> {
        let resp = self
            .call1("x:PublicKey/set", json!({ "destroy": [id] }))
            .await?;
        match set_error(&resp, "notDestroyed", id) {
            Some(e) => Err(Error::Set(e)),
            None => Ok(()),
        }
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
        if report.format == KeyFormat::OpenPgp && request.algorithm.is_aead() {
            return Err(Error::Key(mailseal_core::Error::Encrypt(
                mailseal_core::EncryptError::AeadWithOpenPgp {
                    algorithm: request.algorithm.display_name(),
                },
            )));
        }
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
        let key_obj = match email {
            Some(e) => json!({
                "description": request.description,
                "key": text,
                "emailAddresses": { e: true },
            }),
            None => json!({ "description": request.description, "key": text }),
        };
        let resp = self
            .call1("x:PublicKey/set", json!({ "create": { "k1": key_obj } }))
            .await?;
        if let Some(e) = set_error(&resp, "notCreated", "k1") {
            return Err(Error::Set(e));
        }
        let key_id = resp
            .get("created")
            .and_then(|c| c.get("k1"))
            .and_then(|k| k.get("id"))
            .and_then(Value::as_str)
            .ok_or_else(|| Error::protocol("the key was not stored"))?
            .to_owned();
        let settings = json!({
            "@type": wire_algorithm(request.algorithm),
            "publicKey": key_id,
            "encryptOnAppend": request.encrypt_on_append,
            "allowSpamTraining": request.allow_spam_training,
        });
        let result = self
            .call1(
                "x:AccountSettings/set",
                json!({ "update": { "singleton": { "encryptionAtRest": settings } } }),
            )
            .await
            .and_then(|resp| match set_error(&resp, "notUpdated", "singleton") {
                Some(e) => Err(Error::Set(e)),
                None => Ok(()),
            });
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
        let resp = self
            .call1(
                "x:AccountSettings/set",
                json!({ "update": { "singleton": { "encryptionAtRest": { "@type": "Disabled" } } } }),
            )
            .await?;
        match set_error(&resp, "notUpdated", "singleton") {
            Some(e) => Err(Error::Set(e)),
            None => Ok(()),
        }
    }
}
