//! Encryption at rest: `x:AccountSettings.encryptionAtRest` and `x:PublicKey` (spec §8–§9).
//!
//! The key is validated locally with mailseal-core before anything is sent: private keys and
//! unusable keys are refused, only the end-entity certificates (or the OpenPGP certificate)
//! are kept, and the upload is converted to the text form Stalwart accepts (PEM, or armor
//! without the headers that make Stalwart reject a good key). EC S/MIME certificates are
//! refused unless explicitly allowed: Stalwart accepts them, then every delivery fails
//! temporarily and mail sits in the queue (fixture `12-smime-ec-p256-aes128`). A key for
//! another address than the account's is refused unless explicitly allowed too: the server
//! would encrypt the user's mail to someone else.
//!
//! Keys do not pile up (Stalwart allows five per account): a stored key with the same
//! certificates is used again instead of uploading a copy, the key that encryption no longer
//! uses after a switch is removed, and switching off removes the key unless asked to keep it.

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
    /// Use a certificate or key that names another address than the account's (mail would
    /// be readable by that key's owner only). Off by default.
    pub allow_other_address: bool,
}

/// What switching encryption at rest on did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionEnabled {
    /// The key as validated, with its warnings.
    pub report: KeyReport,
    /// The id of the stored key mail is now encrypted to.
    pub key_id: String,
    /// Whether that key was stored already (no new upload).
    pub reused_key: bool,
    /// The key that encryption used before and that was removed, if any.
    pub removed_key: Option<String>,
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
            allow_other_address: false,
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
        if self.is_rest() {
            return self.rest_encryption_settings().await;
        }
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
        if self.is_rest() {
            return Ok(self
                .rest_encryption_settings()
                .await?
                .key
                .into_iter()
                .collect());
        }
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

    /// Deletes a stored public key. The key encryption at rest uses cannot be deleted:
    /// switch encryption off or to another key first (the error says so).
    pub async fn delete_public_key(&self, id: &str) -> Result<(), Error> {
        if self.is_rest() {
            return Err(Error::NotAvailable {
                reason: "this server (Stalwart before 0.16) keeps only the key encryption at                          rest uses, inside the setting; switch encryption at rest off to remove                          it (`mailseal account encryption disable`)"
                    .into(),
            });
        }
        let resp: SetResponse<serde_json::Value> = self
            .call(&format!("{PUBLIC_KEY}/set"), &SetArgs::destroy(id))
            .await?;
        resp.destroyed(id).map_err(|e| match e {
            Error::Set(s) if s.kind == "objectIsLinked" => Error::Set(s.with_hint(format!(
                "key {id} is the one encryption at rest uses: switch encryption at rest off \
                 first (`mailseal account encryption disable`), or enable it with another key"
            ))),
            Error::Set(s) if s.kind == "notFound" => Error::Set(s.with_hint(format!(
                "there is no stored key {id}; `mailseal account encryption keys` lists them"
            ))),
            other => other,
        })
    }

    /// Validates `key` locally and switches encryption at rest on with it. A stored key with
    /// the same certificates is used again; otherwise the key is uploaded. After the switch,
    /// the key encryption used before is removed. If switching on fails, a key uploaded for
    /// it is deleted again, so the previous settings stay as they were.
    pub async fn enable_encryption(
        &self,
        key: &[u8],
        email: Option<&str>,
        request: &EncryptionRequest,
    ) -> Result<EncryptionEnabled, Error> {
        if self.is_rest() {
            return self.rest_enable_encryption(key, email, request).await;
        }
        let (recipients, report) = validate_key(key, email, request)?;
        let before = self.encryption_key_id().await?;
        let stored = self.public_keys().await?;
        let same = stored.iter().find(|k| {
            k.report
                .as_ref()
                .is_some_and(|r| r.format == report.format && same_keys(r, &report))
        });
        let (key_id, reused_key) = match same {
            Some(k) => (k.id.clone(), true),
            None => (
                self.upload_key(&recipients, email, request, &stored)
                    .await?,
                false,
            ),
        };
        let settings = EncryptionAtRest::with(
            request.algorithm,
            EncryptionParams {
                public_key: Some(key_id.clone()),
                encrypt_on_append: request.encrypt_on_append,
                allow_spam_training: request.allow_spam_training,
            },
        );
        if let Err(e) = self.set_encryption_at_rest(settings).await {
            // Leave the account as it was: remove the key we just added.
            if !reused_key {
                let _ = self.delete_public_key(&key_id).await;
            }
            return Err(match e {
                Error::Set(s) if s.kind == "invalidPatch" && request.algorithm.is_aead() => {
                    Error::NotAvailable {
                        reason: format!(
                            "this server's Stalwart version does not offer {} (added in \
                             0.16.11); choose {}",
                            request.algorithm.display_name(),
                            Algorithm::DEFAULT
                        ),
                    }
                }
                other => other,
            });
        }
        // The switch is done; the key used before is no longer linked. A failure to remove
        // it leaves one unused key behind, which `encryption keys` shows.
        let removed_key = match before {
            Some(old) if old != key_id => self.delete_public_key(&old).await.ok().map(|()| old),
            _ => None,
        };
        Ok(EncryptionEnabled {
            report,
            key_id,
            reused_key,
            removed_key,
        })
    }

    /// The id of the key encryption at rest uses now, if it is on.
    async fn encryption_key_id(&self) -> Result<Option<String>, Error> {
        let settings: Option<AccountSettings> = self.get_singleton(ACCOUNT_SETTINGS).await?;
        Ok(settings
            .and_then(|s| s.encryption_at_rest)
            .and_then(|e| e.on().and_then(|(_, p)| p.public_key.clone())))
    }

    /// Uploads the validated key; the server's five-key quota gets an explanation naming the
    /// keys stored.
    async fn upload_key(
        &self,
        recipients: &mailseal_core::Recipients,
        email: Option<&str>,
        request: &EncryptionRequest,
        stored: &[StoredKey],
    ) -> Result<String, Error> {
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
        match resp.created("k1") {
            Ok(created) => Ok(created.id),
            Err(Error::Set(s)) if s.kind == "overQuota" => {
                let list = stored
                    .iter()
                    .map(|k| format!("{} ({})", k.id, k.description))
                    .collect::<Vec<_>>()
                    .join(", ");
                Err(Error::Set(s.with_hint(format!(
                    "the server keeps at most this many keys per account; delete one you no \
                     longer use (`mailseal account encryption delete-key ID`), stored now: \
                     {list}"
                ))))
            }
            Err(e) => Err(e),
        }
    }

    /// Switches encryption at rest off (messages already stored stay encrypted) and, unless
    /// `keep_key`, deletes the key it used. Returns the id of the deleted key.
    pub async fn disable_encryption(&self, keep_key: bool) -> Result<Option<String>, Error> {
        if self.is_rest() {
            return self.rest_disable_encryption().await;
        }
        let before = self.encryption_key_id().await?;
        self.set_encryption_at_rest(EncryptionAtRest::Disabled)
            .await?;
        match before {
            Some(id) if !keep_key => match self.delete_public_key(&id).await {
                Ok(()) => Ok(Some(id)),
                // Deleted meanwhile (by another client): nothing left to do.
                Err(Error::Set(s)) if s.kind == "notFound" => Ok(None),
                Err(e) => Err(e),
            },
            _ => Ok(None),
        }
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

/// The local checks every upload passes, on JMAP and REST alike: the key is read and
/// validated (private keys and unusable keys refused), one OpenPGP certificate only, EC
/// S/MIME certificates and keys for another address only when allowed.
pub(crate) fn validate_key(
    key: &[u8],
    email: Option<&str>,
    request: &EncryptionRequest,
) -> Result<(mailseal_core::Recipients, KeyReport), Error> {
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
             bouncing. Use an RSA certificate or an OpenPGP key, or, only if your \
             server is known to support EC certificates, allow it \
             (--allow-ec-certificate; allow_ec_certificate in the API)"
                .into(),
        });
    }
    if !ec && !report.server.usable {
        return Err(Error::NotAvailable {
            reason: format!(
                "the server cannot encrypt to this key: {}",
                report
                    .server
                    .reason
                    .as_deref()
                    .unwrap_or("it is not supported")
            ),
        });
    }
    if let Some(mismatch) = report
        .problems
        .iter()
        .find(|p| p.code == ProblemCode::EmailMismatch)
        && !request.allow_other_address
    {
        return Err(Error::NotAvailable {
            reason: format!(
                "{} Stalwart would encrypt your mail to it, and only that key's owner could \
             read it. Use your own certificate or key, or, if this really is yours, \
             allow it (--allow-other-address; allow_other_address in the API)",
                mismatch.message
            ),
        });
    }
    Ok((recipients, report))
}

/// Whether two reports name the same certificates (the same fingerprints, in any order).
fn same_keys(a: &KeyReport, b: &KeyReport) -> bool {
    let mut x = a.fingerprints();
    let mut y = b.fingerprints();
    x.sort();
    y.sort();
    !x.is_empty() && x == y
}
