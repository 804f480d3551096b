//! Which account-security features this user may use on this server, and why not.

use serde::Deserialize;

use crate::client::Client;
use crate::error::Error;

/// An account-security feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    /// Changing the account password.
    Password,
    /// Two-factor authentication (TOTP).
    Totp,
    /// App passwords.
    AppPasswords,
    /// API keys.
    ApiKeys,
    /// Encryption at rest.
    EncryptionAtRest,
}

impl Feature {
    /// Every feature.
    pub const ALL: [Feature; 5] = [
        Feature::Password,
        Feature::Totp,
        Feature::AppPasswords,
        Feature::ApiKeys,
        Feature::EncryptionAtRest,
    ];

    /// A stable name: `password`, `totp`, `app_passwords`, `api_keys`, `encryption_at_rest`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Feature::Password => "password",
            Feature::Totp => "totp",
            Feature::AppPasswords => "app_passwords",
            Feature::ApiKeys => "api_keys",
            Feature::EncryptionAtRest => "encryption_at_rest",
        }
    }

    /// The Stalwart permissions the feature needs (spec §3.1).
    pub fn permissions(&self) -> &'static [&'static str] {
        match self {
            Feature::Password | Feature::Totp => {
                &["sysAccountPasswordGet", "sysAccountPasswordUpdate"]
            }
            Feature::AppPasswords => &[
                "sysAppPasswordGet",
                "sysAppPasswordQuery",
                "sysAppPasswordCreate",
                "sysAppPasswordUpdate",
                "sysAppPasswordDestroy",
            ],
            Feature::ApiKeys => &[
                "sysApiKeyGet",
                "sysApiKeyQuery",
                "sysApiKeyCreate",
                "sysApiKeyUpdate",
                "sysApiKeyDestroy",
            ],
            Feature::EncryptionAtRest => &[
                "sysAccountSettingsGet",
                "sysAccountSettingsUpdate",
                "sysPublicKeyGet",
                "sysPublicKeyQuery",
                "sysPublicKeyCreate",
                "sysPublicKeyDestroy",
            ],
        }
    }
}

/// Whether one feature can be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureStatus {
    /// The feature.
    pub feature: Feature,
    /// Whether it can be used.
    pub available: bool,
    /// The permissions the user lacks for it.
    pub missing_permissions: Vec<String>,
}

/// Why account security cannot be managed at all, when it cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// The server offers neither Stalwart 0.16's `urn:stalwart:jmap` nor the REST API of
    /// 0.11–0.15 (e.g. a proxy does not pass `/api` on).
    ServerTooOld,
}

/// Which account-security features this user may use on this server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    /// Set when nothing can be managed over JMAP on this server.
    pub unavailable: Option<Unavailable>,
    /// Whether the password lives in an external directory (LDAP, SQL, OIDC): the server
    /// hides password and TOTP management from such accounts.
    pub external_directory: bool,
    /// Per feature.
    pub features: Vec<FeatureStatus>,
}

impl Availability {
    /// Whether `feature` can be used.
    pub fn can(&self, feature: Feature) -> bool {
        self.features
            .iter()
            .any(|f| f.feature == feature && f.available)
    }

    /// A sentence for people when something is not available, `None` when everything is.
    pub fn message(&self) -> Option<String> {
        const HEAD: &str = "Account security management is not available for this mail server";
        if self.unavailable == Some(Unavailable::ServerTooOld) {
            return Some(format!(
                "{HEAD}: it offers neither JMAP account management (urn:stalwart:jmap, \
                 Stalwart 0.16+) nor the REST API of Stalwart 0.11–0.15 (is /api passed on by \
                 the proxy?); ask the administrator"
            ));
        }
        let mut parts = Vec::new();
        if self.external_directory {
            parts.push(
                "the password and two-factor authentication are managed by the organisation's \
                 directory (LDAP, SQL or single sign-on), not by the mail server"
                    .to_owned(),
            );
        }
        let mut missing: Vec<&str> = Vec::new();
        for f in &self.features {
            if self.external_directory && matches!(f.feature, Feature::Password | Feature::Totp) {
                continue;
            }
            for p in &f.missing_permissions {
                if !missing.contains(&p.as_str()) {
                    missing.push(p);
                }
            }
        }
        if !missing.is_empty() {
            parts.push(format!(
                "your account lacks the permissions {}; ask the administrator to grant them",
                missing.join(", ")
            ));
        }
        if parts.is_empty() {
            None
        } else {
            Some(format!("{HEAD}: {}", parts.join("; ")))
        }
    }

    /// The error to return when `feature` is used although it is not available.
    pub fn require(&self, feature: Feature) -> Result<(), Error> {
        if self.can(feature) {
            Ok(())
        } else {
            Err(Error::NotAvailable {
                reason: self
                    .message()
                    .unwrap_or_else(|| format!("{} is not available", feature.as_str())),
            })
        }
    }
}

/// What `GET /api/account` says (only what this client reads).
#[derive(Deserialize)]
struct ApiAccount {
    #[serde(default)]
    permissions: Vec<String>,
}

impl Client {
    /// Finds out which account-security features this user may use (`GET /api/account`).
    ///
    /// On a REST server (Stalwart 0.11–0.15) the missing permissions are the 0.15 names
    /// (`manage-passwords`, `manage-encryption`), and API keys are never available.
    pub async fn availability(&self) -> Result<Availability, Error> {
        if self.server_api() == crate::rest::ServerApi::Rest {
            return self.rest_availability().await;
        }
        if self.server_api() != crate::rest::ServerApi::Jmap {
            return Ok(Availability {
                unavailable: Some(Unavailable::ServerTooOld),
                external_directory: false,
                features: Feature::ALL
                    .iter()
                    .map(|f| FeatureStatus {
                        feature: *f,
                        available: false,
                        missing_permissions: Vec::new(),
                    })
                    .collect(),
            });
        }
        let value = self.get_json(self.url("/api/account")?).await?;
        let account = ApiAccount::deserialize(&value)
            .map_err(|e| Error::protocol(format!("/api/account: {e}")))?;
        let granted: Vec<&str> = account.permissions.iter().map(String::as_str).collect();
        let features: Vec<FeatureStatus> = Feature::ALL
            .iter()
            .map(|f| {
                let missing: Vec<String> = f
                    .permissions()
                    .iter()
                    .filter(|p| !granted.contains(p))
                    .map(|p| (*p).to_owned())
                    .collect();
                FeatureStatus {
                    feature: *f,
                    available: missing.is_empty(),
                    missing_permissions: missing,
                }
            })
            .collect();
        // The server removes the password permissions, and only those, for accounts of an
        // external directory (spec §2.6).
        let has_password = granted.contains(&"sysAccountPasswordGet");
        let has_other_self_service =
            granted.contains(&"sysAppPasswordGet") || granted.contains(&"sysAccountSettingsGet");
        Ok(Availability {
            unavailable: None,
            external_directory: !has_password && has_other_self_service,
            features,
        })
    }
}
