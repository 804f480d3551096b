//! Stalwart's `x:` objects as this client reads and writes them (spec §4–§9), as typed
//! structs: what goes on the wire is defined here once, never as JSON built by hand.
//! Values that carry secrets serialize through [`Exposed`] into wiped request bodies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::secret::Exposed;

/// Object type names.
pub(crate) const ACCOUNT_PASSWORD: &str = "x:AccountPassword";
/// Object type names.
pub(crate) const ACCOUNT_SETTINGS: &str = "x:AccountSettings";
/// Object type names.
pub(crate) const PUBLIC_KEY: &str = "x:PublicKey";
/// Object type names.
pub(crate) const APP_PASSWORD: &str = "x:AppPassword";
/// Object type names.
pub(crate) const API_KEY: &str = "x:ApiKey";

/// The id of the singletons.
pub(crate) const SINGLETON: &str = "singleton";

/// A set of strings as Stalwart sends it: `{"value": true, …}`.
pub(crate) type StringSet = BTreeMap<String, bool>;

/// `x:AccountPassword` as read.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountPassword {
    #[serde(default)]
    pub(crate) otp_auth: Option<OtpAuth>,
}

/// `otpAuth` as read: `otpUrl` is `null` while TOTP is off.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OtpAuth {
    #[serde(default)]
    pub(crate) otp_url: Option<Value>,
}

impl AccountPassword {
    /// Whether TOTP is on.
    pub(crate) fn totp_enabled(&self) -> bool {
        self.otp_auth
            .as_ref()
            .and_then(|o| o.otp_url.as_ref())
            .is_some_and(|u| !u.is_null())
    }
}

/// A patch of `x:AccountPassword`; the server wants `currentSecret` with every change.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountPasswordPatch<'a> {
    pub(crate) current_secret: Exposed<'a>,
    /// A new password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) secret: Option<Exposed<'a>>,
    /// The current TOTP code, required with a new password while TOTP is on.
    #[serde(rename = "otpAuth/otpCode", skip_serializing_if = "Option::is_none")]
    pub(crate) otp_code: Option<&'a str>,
    /// A new TOTP configuration (or `otpUrl: null` to turn TOTP off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) otp_auth: Option<OtpAuthPatch<'a>>,
}

/// `otpAuth` as written.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OtpAuthPatch<'a> {
    /// The `otpauth://` URL, or `None` (sent as `null`) to turn TOTP off.
    pub(crate) otp_url: Option<Exposed<'a>>,
    /// The current code, when TOTP is on already.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) otp_code: Option<&'a str>,
}

/// An app password or API key as read (the secret is never given again).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CredentialObject {
    #[serde(default)]
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) created_at: Option<String>,
    #[serde(default)]
    pub(crate) expires_at: Option<String>,
    #[serde(default)]
    pub(crate) allowed_ips: Option<StringSet>,
    #[serde(default)]
    pub(crate) permissions: Option<PermissionsObject>,
}

/// An app password or API key to create.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NewCredentialObject<'a> {
    pub(crate) description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expires_at: Option<String>,
    pub(crate) allowed_ips: StringSet,
    pub(crate) permissions: PermissionsObject,
}

/// A patch of an app password or API key: only the fields that are `Some` are sent.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CredentialPatch<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
    /// `Some(None)` removes the expiry (sent as `null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expires_at: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) allowed_ips: Option<StringSet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) permissions: Option<PermissionsObject>,
}

/// What the server says about a created app password or API key.
#[derive(Deserialize)]
pub(crate) struct CreatedCredentialObject {
    pub(crate) id: String,
    pub(crate) secret: String,
}

impl Drop for CreatedCredentialObject {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

/// A credential's permissions on the wire.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "@type")]
pub(crate) enum PermissionsObject {
    /// Everything the account may do.
    Inherit,
    /// Everything except these.
    Disable {
        #[serde(default)]
        permissions: StringSet,
    },
    /// Only these.
    Replace {
        #[serde(default)]
        permissions: StringSet,
    },
}

/// A public key as read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PublicKeyObject {
    #[serde(default)]
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) key: String,
}

/// A public key to store.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NewPublicKeyObject<'a> {
    pub(crate) description: &'a str,
    pub(crate) key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) email_addresses: Option<StringSet>,
}

/// What the server says about a created object: its id.
#[derive(Deserialize)]
pub(crate) struct CreatedId {
    pub(crate) id: String,
}

/// `x:AccountSettings` as read (only what this client uses).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountSettings {
    #[serde(default)]
    pub(crate) encryption_at_rest: Option<EncryptionAtRest>,
}

/// `encryptionAtRest`: `Disabled`, or the algorithm with the key and flags.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "@type")]
pub(crate) enum EncryptionAtRest {
    /// Off.
    Disabled,
    /// AES-128.
    Aes128(EncryptionParams),
    /// AES-256.
    Aes256(EncryptionParams),
    /// AES-256-GCM (0.16.11 and later).
    Aes256Gcm(EncryptionParams),
    /// ChaCha20-Poly1305 (0.16.11 and later).
    ChaCha20Poly1305(EncryptionParams),
    /// A type this client does not know.
    #[serde(other)]
    Unknown,
}

/// The settings beside the algorithm.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EncryptionParams {
    #[serde(default)]
    pub(crate) public_key: Option<String>,
    #[serde(default)]
    pub(crate) encrypt_on_append: bool,
    #[serde(default)]
    pub(crate) allow_spam_training: bool,
}

/// The patch that sets `encryptionAtRest`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountSettingsPatch {
    pub(crate) encryption_at_rest: EncryptionAtRest,
}

impl EncryptionAtRest {
    /// The algorithm and parameters, when encryption is on.
    pub(crate) fn on(&self) -> Option<(mailseal_core::Algorithm, &EncryptionParams)> {
        use mailseal_core::Algorithm;
        match self {
            EncryptionAtRest::Aes128(p) => Some((Algorithm::Aes128, p)),
            EncryptionAtRest::Aes256(p) => Some((Algorithm::Aes256, p)),
            EncryptionAtRest::Aes256Gcm(p) => Some((Algorithm::Aes256Gcm, p)),
            EncryptionAtRest::ChaCha20Poly1305(p) => Some((Algorithm::ChaCha20Poly1305, p)),
            EncryptionAtRest::Disabled | EncryptionAtRest::Unknown => None,
        }
    }

    /// Encryption with `algorithm` and `params`.
    pub(crate) fn with(algorithm: mailseal_core::Algorithm, params: EncryptionParams) -> Self {
        use mailseal_core::Algorithm;
        match algorithm {
            Algorithm::Aes128 => EncryptionAtRest::Aes128(params),
            Algorithm::Aes256 => EncryptionAtRest::Aes256(params),
            Algorithm::Aes256Gcm => EncryptionAtRest::Aes256Gcm(params),
            Algorithm::ChaCha20Poly1305 => EncryptionAtRest::ChaCha20Poly1305(params),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::secret::Secret;

    #[test]
    fn encryption_settings_have_the_recorded_shape() {
        let on = EncryptionAtRest::with(
            mailseal_core::Algorithm::Aes256,
            EncryptionParams {
                public_key: Some("a".into()),
                encrypt_on_append: false,
                allow_spam_training: true,
            },
        );
        assert_eq!(
            serde_json::to_value(&on).unwrap(),
            json!({"@type": "Aes256", "publicKey": "a", "encryptOnAppend": false, "allowSpamTraining": true})
        );
        assert_eq!(
            serde_json::to_value(EncryptionAtRest::Disabled).unwrap(),
            json!({"@type": "Disabled"})
        );
        let read: EncryptionAtRest =
            serde_json::from_value(json!({"@type": "ChaCha20Poly1305", "publicKey": "b"})).unwrap();
        assert_eq!(
            read.on().map(|(a, p)| (a, p.public_key.clone())),
            Some((
                mailseal_core::Algorithm::ChaCha20Poly1305,
                Some("b".to_owned())
            ))
        );
        let unknown: EncryptionAtRest = serde_json::from_value(json!({"@type": "Aes512"})).unwrap();
        assert_eq!(unknown, EncryptionAtRest::Unknown);
    }

    #[test]
    fn password_patches_have_the_recorded_shape() {
        let current = Secret::new("old");
        let new = Secret::new("new");
        let url = Secret::new("otpauth://totp/x");
        let change = AccountPasswordPatch {
            current_secret: Exposed(&current),
            secret: Some(Exposed(&new)),
            otp_code: Some("123456"),
            otp_auth: None,
        };
        assert_eq!(
            serde_json::to_value(&change).unwrap(),
            json!({"currentSecret": "old", "secret": "new", "otpAuth/otpCode": "123456"})
        );
        let enable = AccountPasswordPatch {
            current_secret: Exposed(&current),
            secret: None,
            otp_code: None,
            otp_auth: Some(OtpAuthPatch {
                otp_url: Some(Exposed(&url)),
                otp_code: None,
            }),
        };
        assert_eq!(
            serde_json::to_value(&enable).unwrap(),
            json!({"currentSecret": "old", "otpAuth": {"otpUrl": "otpauth://totp/x"}})
        );
        let disable = AccountPasswordPatch {
            current_secret: Exposed(&current),
            secret: None,
            otp_code: None,
            otp_auth: Some(OtpAuthPatch {
                otp_url: None,
                otp_code: Some("654321"),
            }),
        };
        assert_eq!(
            serde_json::to_value(&disable).unwrap(),
            json!({"currentSecret": "old", "otpAuth": {"otpUrl": null, "otpCode": "654321"}})
        );
    }

    #[test]
    fn credentials_have_the_recorded_shape() {
        let new = NewCredentialObject {
            description: "laptop",
            expires_at: Some("2030-01-01T00:00:00Z".into()),
            allowed_ips: StringSet::from([("10.0.0.0/8".into(), true)]),
            permissions: PermissionsObject::Inherit,
        };
        assert_eq!(
            serde_json::to_value(&new).unwrap(),
            json!({"description": "laptop", "expiresAt": "2030-01-01T00:00:00Z",
                   "allowedIps": {"10.0.0.0/8": true}, "permissions": {"@type": "Inherit"}})
        );
        let patch = CredentialPatch {
            expires_at: Some(None),
            ..CredentialPatch::default()
        };
        assert_eq!(
            serde_json::to_value(&patch).unwrap(),
            json!({"expiresAt": null})
        );
    }
}
