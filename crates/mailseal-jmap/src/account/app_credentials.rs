//! App passwords (`x:AppPassword`, spec §6) and API keys (`x:ApiKey`, spec §7): one model,
//! two object types.

use std::time::SystemTime;

use crate::client::{Client, check_ip_range};
use crate::envelope::{SetArgs, SetResponse};
use crate::error::Error;
use crate::objects::{
    API_KEY, APP_PASSWORD, CreatedCredentialObject, CredentialObject, CredentialPatch,
    NewCredentialObject, PermissionsObject, StringSet,
};
use crate::rest::availability::not_on_rest;
use crate::secret::Secret;

/// Which kind of secondary credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// An app password: used as the password with HTTP Basic, IMAP, SMTP.
    AppPassword,
    /// An API key: used as a Bearer token.
    ApiKey,
}

impl CredentialKind {
    fn object(&self) -> &'static str {
        match self {
            CredentialKind::AppPassword => APP_PASSWORD,
            CredentialKind::ApiKey => API_KEY,
        }
    }
}

/// What a credential may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permissions {
    /// Everything the account may do.
    Inherit,
    /// Everything except these permissions.
    Disable(Vec<String>),
    /// Only these permissions (and only those the account has).
    Replace(Vec<String>),
}

impl Permissions {
    fn to_object(&self) -> PermissionsObject {
        let set =
            |list: &[String]| -> StringSet { list.iter().map(|p| (p.clone(), true)).collect() };
        match self {
            Permissions::Inherit => PermissionsObject::Inherit,
            Permissions::Disable(l) => PermissionsObject::Disable {
                permissions: set(l),
            },
            Permissions::Replace(l) => PermissionsObject::Replace {
                permissions: set(l),
            },
        }
    }

    fn from_object(object: Option<PermissionsObject>) -> Permissions {
        match object {
            Some(PermissionsObject::Disable { permissions }) => {
                Permissions::Disable(permissions.into_keys().collect())
            }
            Some(PermissionsObject::Replace { permissions }) => {
                Permissions::Replace(permissions.into_keys().collect())
            }
            Some(PermissionsObject::Inherit) | None => Permissions::Inherit,
        }
    }
}

/// A credential to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    /// The label shown in lists, e.g. "Thunderbird laptop". Required.
    pub description: String,
    /// When it stops working; `None` for never.
    pub expires_at: Option<SystemTime>,
    /// IP addresses or CIDR ranges it may be used from; empty for anywhere.
    pub allowed_ips: Vec<String>,
    /// What it may do.
    pub permissions: Permissions,
}

impl NewCredential {
    /// A credential with a description, no expiry, usable from anywhere, inheriting the
    /// account's permissions.
    pub fn new(description: impl Into<String>) -> Self {
        NewCredential {
            description: description.into(),
            expires_at: None,
            allowed_ips: Vec::new(),
            permissions: Permissions::Inherit,
        }
    }
}

/// A change to an existing credential: only the fields that are `Some` change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CredentialUpdate {
    /// A new description.
    pub description: Option<String>,
    /// A new expiry (`Some(None)` removes it).
    pub expires_at: Option<Option<SystemTime>>,
    /// A new IP allow-list.
    pub allowed_ips: Option<Vec<String>>,
    /// New permissions.
    pub permissions: Option<Permissions>,
}

/// A stored credential, as listed (the secret is never shown again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialInfo {
    /// Its id.
    pub id: String,
    /// Its description.
    pub description: String,
    /// When it was created (RFC 3339), if the server says.
    pub created_at: Option<String>,
    /// When it expires (RFC 3339), or `None` for never.
    pub expires_at: Option<String>,
    /// Where it may be used from.
    pub allowed_ips: Vec<String>,
    /// What it may do.
    pub permissions: Permissions,
}

/// A credential just created: its id and secret. The secret is shown this once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedCredential {
    /// Its id.
    pub id: String,
    /// The secret (`app_…` or `API_…`).
    pub secret: Secret,
}

/// An expiry as sent: RFC 3339, and in the future (a credential that expired at birth
/// would never work, while its secret is shown as if usable).
fn rfc3339(t: SystemTime) -> Result<String, Error> {
    let text = mailseal_core::time::format_rfc3339(t)?;
    if t <= SystemTime::now() {
        return Err(Error::invalid(format!(
            "the expiry {text} is in the past; give a time to come"
        )));
    }
    Ok(text)
}

fn ip_set(ips: &[String]) -> Result<StringSet, Error> {
    ips.iter()
        .map(|ip| check_ip_range(ip).map(|()| (ip.clone(), true)))
        .collect()
}

impl Client {
    /// Creates an app password or API key.
    pub async fn create_credential(
        &self,
        kind: CredentialKind,
        new: &NewCredential,
    ) -> Result<CreatedCredential, Error> {
        if self.is_rest() {
            return match kind {
                CredentialKind::AppPassword => self.rest_create_app_password(new).await,
                CredentialKind::ApiKey => Err(not_on_rest("API keys")),
            };
        }
        if new.description.trim().is_empty() {
            return Err(Error::invalid("a description is required"));
        }
        let object = NewCredentialObject {
            description: &new.description,
            expires_at: new.expires_at.map(rfc3339).transpose()?,
            allowed_ips: ip_set(&new.allowed_ips)?,
            permissions: new.permissions.to_object(),
        };
        let resp: SetResponse<CreatedCredentialObject> = self
            .call(
                &format!("{}/set", kind.object()),
                &SetArgs::create("new1", object),
            )
            .await?;
        let created = resp.created("new1")?;
        Ok(CreatedCredential {
            id: created.id.clone(),
            secret: Secret::new(created.secret.as_str()),
        })
    }

    /// Lists the app passwords or API keys (query, then get).
    pub async fn list_credentials(
        &self,
        kind: CredentialKind,
    ) -> Result<Vec<CredentialInfo>, Error> {
        if self.is_rest() {
            return match kind {
                CredentialKind::AppPassword => self.rest_list_app_passwords().await,
                CredentialKind::ApiKey => Err(not_on_rest("API keys")),
            };
        }
        let list: Vec<CredentialObject> = self.query_and_get(kind.object()).await?;
        Ok(list
            .into_iter()
            .map(|c| CredentialInfo {
                id: c.id,
                description: c.description,
                created_at: c.created_at,
                expires_at: c.expires_at,
                allowed_ips: c.allowed_ips.unwrap_or_default().into_keys().collect(),
                permissions: Permissions::from_object(c.permissions),
            })
            .collect())
    }

    /// Changes an app password or API key.
    pub async fn update_credential(
        &self,
        kind: CredentialKind,
        id: &str,
        update: &CredentialUpdate,
    ) -> Result<(), Error> {
        if self.is_rest() {
            return Err(match kind {
                CredentialKind::AppPassword => Error::NotAvailable {
                    reason: "app passwords cannot be changed on this server (Stalwart before \
                             0.16): create a new one and revoke the old one"
                        .into(),
                },
                CredentialKind::ApiKey => not_on_rest("API keys"),
            });
        }
        if update
            .description
            .as_deref()
            .is_some_and(|d| d.trim().is_empty())
        {
            return Err(Error::invalid("a description is required"));
        }
        let patch = CredentialPatch {
            description: update.description.as_deref(),
            expires_at: match update.expires_at {
                Some(Some(t)) => Some(Some(rfc3339(t)?)),
                Some(None) => Some(None),
                None => None,
            },
            allowed_ips: update.allowed_ips.as_deref().map(ip_set).transpose()?,
            permissions: update.permissions.as_ref().map(Permissions::to_object),
        };
        let resp: SetResponse<serde_json::Value> = self
            .call(
                &format!("{}/set", kind.object()),
                &SetArgs::update(id, patch),
            )
            .await?;
        resp.not_refused_update(id)
    }

    /// Revokes (destroys) an app password or API key; it stops working at once.
    pub async fn revoke_credential(&self, kind: CredentialKind, id: &str) -> Result<(), Error> {
        if self.is_rest() {
            return match kind {
                CredentialKind::AppPassword => self.rest_revoke_app_password(id).await,
                CredentialKind::ApiKey => Err(not_on_rest("API keys")),
            };
        }
        let resp: SetResponse<serde_json::Value> = self
            .call(&format!("{}/set", kind.object()), &SetArgs::destroy(id))
            .await?;
        resp.destroyed(id)
    }
}
