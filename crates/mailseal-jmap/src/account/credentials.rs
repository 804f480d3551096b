//! App passwords (`x:AppPassword`, spec §6) and API keys (`x:ApiKey`, spec §7): one model,
//! two object types.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use crate::client::{Client, check_ip_range, set_error};
use crate::error::Error;
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
            CredentialKind::AppPassword => "x:AppPassword",
            CredentialKind::ApiKey => "x:ApiKey",
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
    fn to_json(&self) -> Value {
        let set = |list: &[String]| -> Value {
            Value::Object(
                list.iter()
                    .map(|p| (p.clone(), Value::Bool(true)))
                    .collect(),
            )
        };
        match self {
            Permissions::Inherit => json!({ "@type": "Inherit" }),
            Permissions::Disable(l) => json!({ "@type": "Disable", "permissions": set(l) }),
            Permissions::Replace(l) => json!({ "@type": "Replace", "permissions": set(l) }),
        }
    }

    fn from_json(v: &Value) -> Permissions {
        let list = || -> Vec<String> {
            v.get("permissions")
                .and_then(Value::as_object)
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default()
        };
        match v.get("@type").and_then(Value::as_str) {
            Some("Disable") => Permissions::Disable(list()),
            Some("Replace") => Permissions::Replace(list()),
            _ => Permissions::Inherit,
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

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn ip_set(ips: &[String]) -> Result<Value, Error> {
    let mut m = Map::new();
    for ip in ips {
        check_ip_range(ip)?;
        m.insert(ip.clone(), Value::Bool(true));
    }
    Ok(Value::Object(m))
}

impl Client {
    /// Creates an app password or API key.
    pub async fn create_credential(
        &self,
        kind: CredentialKind,
        new: &NewCredential,
    ) -> Result<CreatedCredential, Error> {
        if new.description.trim().is_empty() {
            return Err(Error::invalid("a description is required"));
        }
        let mut obj = Map::new();
        obj.insert("description".into(), Value::String(new.description.clone()));
        if let Some(t) = new.expires_at {
            obj.insert("expiresAt".into(), Value::String(rfc3339(t)));
        }
        obj.insert("allowedIps".into(), ip_set(&new.allowed_ips)?);
        obj.insert("permissions".into(), new.permissions.to_json());
        let resp = self
            .call1(
                &format!("{}/set", kind.object()),
                json!({ "create": { "new1": Value::Object(obj) } }),
            )
            .await?;
        if let Some(e) = set_error(&resp, "notCreated", "new1") {
            return Err(Error::Set(e));
        }
        let created = resp
            .get("created")
            .and_then(|c| c.get("new1"))
            .ok_or_else(|| Error::protocol("the credential was not created"))?;
        let id = created
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::protocol("no id for the new credential"))?;
        let secret = created
            .get("secret")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::protocol("no secret for the new credential"))?;
        Ok(CreatedCredential {
            id: id.to_owned(),
            secret: Secret::new(secret),
        })
    }

    /// Lists the app passwords or API keys (query, then get).
    pub async fn list_credentials(
        &self,
        kind: CredentialKind,
    ) -> Result<Vec<CredentialInfo>, Error> {
        let list = self.query_and_get(kind.object()).await?;
        Ok(list
            .iter()
            .map(|v| {
                let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
                CredentialInfo {
                    id: s("id").unwrap_or_default(),
                    description: s("description").unwrap_or_default(),
                    created_at: s("createdAt"),
                    expires_at: s("expiresAt"),
                    allowed_ips: v
                        .get("allowedIps")
                        .and_then(Value::as_object)
                        .map(|o| o.keys().cloned().collect())
                        .unwrap_or_default(),
                    permissions: v
                        .get("permissions")
                        .map(Permissions::from_json)
                        .unwrap_or(Permissions::Inherit),
                }
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
        let mut patch = Map::new();
        if let Some(d) = &update.description {
            if d.trim().is_empty() {
                return Err(Error::invalid("a description is required"));
            }
            patch.insert("description".into(), Value::String(d.clone()));
        }
        if let Some(e) = &update.expires_at {
            patch.insert(
                "expiresAt".into(),
                e.map_or(Value::Null, |t| Value::String(rfc3339(t))),
            );
        }
        if let Some(ips) = &update.allowed_ips {
            patch.insert("allowedIps".into(), ip_set(ips)?);
        }
        if let Some(p) = &update.permissions {
            patch.insert("permissions".into(), p.to_json());
        }
        let resp = self
            .call1(
                &format!("{}/set", kind.object()),
                json!({ "update": { id: Value::Object(patch) } }),
            )
            .await?;
        match set_error(&resp, "notUpdated", id) {
            Some(e) => Err(Error::Set(e)),
            None => Ok(()),
        }
    }

    /// Revokes (destroys) an app password or API key; it stops working at once.
    pub async fn revoke_credential(&self, kind: CredentialKind, id: &str) -> Result<(), Error> {
        let resp = self
            .call1(
                &format!("{}/set", kind.object()),
                json!({ "destroy": [id] }),
            )
            .await?;
        match set_error(&resp, "notDestroyed", id) {
            Some(e) => Err(Error::Set(e)),
            None => Ok(()),
        }
    }
}
