//! Which features a 0.15 account may use: `manage-passwords` gates the password, TOTP and
//! app passwords (`/api/account/auth`), `manage-encryption` encryption at rest
//! (`/api/account/crypto`). The server names no permission in its 403 (spec §5), so each
//! endpoint is probed with a read. API keys do not exist for users on 0.15.

use crate::account::availability::{Availability, Feature, FeatureStatus};
use crate::client::Client;
use crate::error::Error;

use super::{AUTH, CRYPTO};

/// The permission behind each feature on 0.15, `None` for what 0.15 cannot do.
pub(crate) fn permission(feature: Feature) -> Option<&'static str> {
    match feature {
        Feature::Password | Feature::Totp | Feature::AppPasswords => Some("manage-passwords"),
        Feature::EncryptionAtRest => Some("manage-encryption"),
        Feature::ApiKeys => None,
    }
}

/// The error for a feature 0.15 does not have.
pub(crate) fn not_on_rest(what: &str) -> Error {
    Error::NotAvailable {
        reason: format!(
            "{what} needs Stalwart 0.16 or later; this server runs an older version (REST API), \
             so ask the administrator to upgrade"
        ),
    }
}

impl Client {
    /// Whether the account may read `path` (403 means it lacks the permission).
    async fn may_read(&self, path: &str) -> Result<bool, Error> {
        match self.get_json(self.url(path)?).await {
            Ok(_) => Ok(true),
            Err(Error::HttpForbidden { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// [`Client::availability`] on a REST server.
    pub(crate) async fn rest_availability(&self) -> Result<Availability, Error> {
        let passwords = self.may_read(AUTH).await?;
        let encryption = self.may_read(CRYPTO).await?;
        let features = Feature::ALL
            .iter()
            .map(|f| {
                let (available, missing) = match permission(*f) {
                    Some(p) => {
                        let granted = if p == "manage-passwords" {
                            passwords
                        } else {
                            encryption
                        };
                        (
                            granted,
                            if granted {
                                Vec::new()
                            } else {
                                vec![p.to_owned()]
                            },
                        )
                    }
                    None => (false, Vec::new()),
                };
                FeatureStatus {
                    feature: *f,
                    available,
                    missing_permissions: missing,
                }
            })
            .collect();
        Ok(Availability {
            unavailable: None,
            external_directory: false,
            features,
        })
    }
}
