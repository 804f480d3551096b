//! The server's stored state: accounts with their credentials and settings, roles and
//! public keys.
//!
//! Secrets are stored in clear (this is a test server): the password, the TOTP URL and
//! the full app password / API key strings. Tests read this state through
//! [`crate::TestServer::directory`] to prove what was or was not stored.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::config::{Config, UserConfig, UserKind};
use crate::ids::encode_id;
use crate::permissions::{PermissionSet, SELF_SERVICE};

/// Role id of the built-in User role (`"b"`).
pub const ROLE_USER: u32 = 1;
/// Role id of the built-in Group role (`"c"`).
pub const ROLE_GROUP: u32 = 2;
/// Role id of the built-in Tenant Administrator role (`"d"`).
pub const ROLE_TENANT_ADMIN: u32 = 3;
/// Role id of the built-in System Administrator role (`"e"`).
pub const ROLE_SYSTEM_ADMIN: u32 = 4;

/// Everything the server stores.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Directory {
    /// The one mail domain (`example.org`).
    pub domain: String,
    /// Accounts by numeric id.
    pub accounts: BTreeMap<u32, Account>,
    /// Roles by numeric id.
    pub roles: BTreeMap<u32, Role>,
    /// Public keys (`x:PublicKey`) of every account, by numeric id.
    pub public_keys: BTreeMap<u64, PublicKey>,
    /// The last public key id handed out (ids only grow).
    pub last_public_key_id: u64,
    /// Delivered and queued mail ([`crate::TestServer::deliver`]).
    #[serde(default)]
    pub mail: crate::delivery::MailStore,
}

/// A user or administrator account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// Numeric id (`2` is written `"c"`).
    pub id: u32,
    /// Local part of the address (`alice`).
    pub name: String,
    /// Display name (AccountSettings `description`).
    pub description: Option<String>,
    /// Roles the account has.
    pub roles: Roles,
    /// Per-account permission changes on top of the roles.
    pub permissions: AccountPermissions,
    /// Whether the account lives in an external directory (no password self-service).
    pub external_directory: bool,
    /// Credentials in stored order: the password first, then app passwords and API keys.
    pub credentials: Vec<Credential>,
    /// `x:AccountSettings`.
    pub settings: AccountSettings,
    /// Bumped on every change of the credentials (the session state derives from it).
    pub revision: u64,
}

/// The roles of an account (`roles` of `x:Account`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "@type")]
pub enum Roles {
    /// The default User role.
    User,
    /// The administrator role.
    Admin,
    /// An explicit list of role ids.
    Custom {
        /// The role ids.
        #[serde(rename = "roleIds")]
        role_ids: BTreeSet<u32>,
    },
}

/// Per-account permission changes (`permissions` of `x:Account`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "@type")]
pub enum AccountPermissions {
    /// Exactly the roles' permissions.
    #[default]
    Inherit,
    /// The roles' permissions plus `enabled`, minus `disabled`.
    Merge {
        /// Added permissions.
        #[serde(rename = "enabledPermissions")]
        enabled: PermissionSet,
        /// Removed permissions.
        #[serde(rename = "disabledPermissions")]
        disabled: PermissionSet,
    },
    /// Only `enabled`.
    Replace {
        /// The permissions.
        #[serde(rename = "enabledPermissions")]
        enabled: PermissionSet,
    },
}

/// A role (`x:Role`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    /// Numeric id.
    pub id: u32,
    /// Name shown to people.
    pub description: String,
    /// Roles whose permissions this role includes.
    pub role_ids: BTreeSet<u32>,
    /// Permissions added.
    pub enabled_permissions: PermissionSet,
    /// Permissions removed.
    pub disabled_permissions: PermissionSet,
}

/// One credential of an account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "@type")]
pub enum Credential {
    /// The account password (with the TOTP URL).
    Password(PasswordCredential),
    /// An app password.
    AppPassword(SecondaryCredential),
    /// An API key.
    ApiKey(SecondaryCredential),
}

impl Credential {
    /// The per-account credential id (`0` is written `"a"`).
    pub fn id(&self) -> u32 {
        match self {
            Credential::Password(c) => c.id,
            Credential::AppPassword(c) | Credential::ApiKey(c) => c.id,
        }
    }
}

/// The password credential. `Debug` masks the password and the TOTP URL.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordCredential {
    /// Credential id (normally 0).
    pub id: u32,
    /// The password, in clear.
    pub secret: String,
    /// The stored `otpauth://` URL, verbatim, when TOTP is on.
    pub otp_url: Option<String>,
    /// Expiry of the password (Unix seconds).
    pub expires_at: Option<i64>,
    /// Allowed client addresses (IP or CIDR); empty means anywhere.
    pub allowed_ips: Vec<String>,
}

/// An app password or API key. `Debug` masks the secret.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecondaryCredential {
    /// Credential id, shared numbering with the password credential.
    pub id: u32,
    /// The label.
    pub description: String,
    /// The full secret as handed to the client (`app_…` or `API_…`).
    pub secret: String,
    /// Creation time (Unix seconds).
    pub created_at: i64,
    /// Expiry (Unix seconds).
    pub expires_at: Option<i64>,
    /// What the credential may do.
    pub permissions: CredentialPermissions,
    /// Allowed client addresses (IP or CIDR); empty means anywhere.
    pub allowed_ips: Vec<String>,
}

impl std::fmt::Debug for PasswordCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordCredential")
            .field("id", &self.id)
            .field("secret", &"****")
            .field("otp_url", &self.otp_url.as_ref().map(|_| "****"))
            .field("expires_at", &self.expires_at)
            .field("allowed_ips", &self.allowed_ips)
            .finish()
    }
}

impl std::fmt::Debug for SecondaryCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondaryCredential")
            .field("id", &self.id)
            .field("description", &self.description)
            .field("secret", &"****")
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("permissions", &self.permissions)
            .field("allowed_ips", &self.allowed_ips)
            .finish()
    }
}

/// The `permissions` of an app password or API key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "@type")]
pub enum CredentialPermissions {
    /// The account's permissions.
    #[default]
    Inherit,
    /// The account's permissions minus these.
    Disable {
        /// Removed permissions.
        permissions: PermissionSet,
    },
    /// Only these (and only those the account has).
    Replace {
        /// The permissions.
        permissions: PermissionSet,
    },
}

/// `x:AccountSettings` of an account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSettings {
    /// Locale, e.g. `en_US`.
    pub locale: String,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// Encryption at rest.
    pub encryption_at_rest: EncryptionAtRest,
}

impl Default for AccountSettings {
    fn default() -> Self {
        Self {
            locale: "en_US".to_owned(),
            time_zone: None,
            encryption_at_rest: EncryptionAtRest::Disabled,
        }
    }
}

/// The `encryptionAtRest` setting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "@type")]
pub enum EncryptionAtRest {
    /// Mail is stored as received.
    Disabled,
    /// AES-128 (CBC for S/MIME).
    Aes128(EncryptionSettings),
    /// AES-256 (CBC for S/MIME).
    Aes256(EncryptionSettings),
    /// AES-256-GCM (S/MIME only).
    Aes256Gcm(EncryptionSettings),
    /// ChaCha20-Poly1305 (S/MIME only).
    ChaCha20Poly1305(EncryptionSettings),
}

impl EncryptionAtRest {
    /// The settings of an enabled variant.
    pub fn settings(&self) -> Option<&EncryptionSettings> {
        match self {
            EncryptionAtRest::Disabled => None,
            EncryptionAtRest::Aes128(s)
            | EncryptionAtRest::Aes256(s)
            | EncryptionAtRest::Aes256Gcm(s)
            | EncryptionAtRest::ChaCha20Poly1305(s) => Some(s),
        }
    }
}

/// The settings of an enabled `encryptionAtRest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionSettings {
    /// The PublicKey id; `None` until one is given (the registry's "invalid id").
    pub public_key: Option<u64>,
    /// Encrypt mail appended by IMAP/JMAP too.
    pub encrypt_on_append: bool,
    /// Let the spam filter train on the plaintext.
    pub allow_spam_training: bool,
}

/// An uploaded encryption key (`x:PublicKey`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    /// Global numeric id (12 characters when written).
    pub id: u64,
    /// Owner.
    pub account_id: u32,
    /// The key text as stored (trimmed, with one final newline).
    pub key: String,
    /// The label.
    pub description: String,
    /// Creation time (Unix seconds).
    pub created_at: i64,
    /// Expiry metadata (Unix seconds).
    pub expires_at: Option<i64>,
    /// Address metadata.
    pub email_addresses: Vec<String>,
}

impl Directory {
    /// Builds the initial state from the configuration.
    pub fn from_config(config: &Config) -> Self {
        let mut roles = BTreeMap::new();
        for (id, description) in [
            (ROLE_USER, "User"),
            (ROLE_GROUP, "Group"),
            (ROLE_TENANT_ADMIN, "Tenant Administrator"),
            (ROLE_SYSTEM_ADMIN, "System Administrator"),
        ] {
            roles.insert(
                id,
                Role {
                    id,
                    description: description.to_owned(),
                    role_ids: BTreeSet::new(),
                    enabled_permissions: PermissionSet::new(),
                    disabled_permissions: PermissionSet::new(),
                },
            );
        }
        let mut dir = Directory {
            domain: config.domain.clone(),
            accounts: BTreeMap::new(),
            roles,
            public_keys: BTreeMap::new(),
            last_public_key_id: 0,
            mail: crate::delivery::MailStore::default(),
        };
        let mut next_id = 1;
        for user in &config.users {
            let id = user.id.unwrap_or(next_id);
            next_id = next_id.max(id + 1);
            dir.add_user(user, id);
        }
        dir
    }

    /// Adds (or replaces) the account `id` described by `user`.
    pub fn add_user(&mut self, user: &UserConfig, id: u32) {
        let local = user
            .email
            .split_once('@')
            .map_or(user.email.as_str(), |(local, _)| local)
            .to_lowercase();
        let mut credentials = Vec::new();
        if let Some(password) = &user.password {
            credentials.push(Credential::Password(PasswordCredential {
                id: 0,
                secret: password.clone(),
                otp_url: user.otp_url.clone(),
                expires_at: None,
                allowed_ips: Vec::new(),
            }));
        }
        let permissions = if user.self_service {
            AccountPermissions::Inherit
        } else {
            AccountPermissions::Merge {
                enabled: PermissionSet::new(),
                disabled: PermissionSet::from_names(SELF_SERVICE.iter().copied()),
            }
        };
        self.accounts.insert(
            id,
            Account {
                id,
                name: local,
                description: user.description.clone(),
                roles: match user.kind {
                    UserKind::User => Roles::User,
                    UserKind::Admin => Roles::Admin,
                },
                permissions,
                external_directory: user.external_directory,
                credentials,
                settings: AccountSettings {
                    locale: user.locale.clone(),
                    ..AccountSettings::default()
                },
                revision: 1,
            },
        );
    }

    /// The account whose address (or bare local part) is `login`, lower-cased.
    pub fn account_id_by_login(&self, login: &str) -> Option<u32> {
        let login = login.trim().to_lowercase();
        let (local, domain) = match login.split_once('@') {
            Some((local, domain)) => (local.to_owned(), domain.to_owned()),
            None => (login.clone(), self.domain.clone()),
        };
        if domain != self.domain {
            return None;
        }
        self.accounts
            .values()
            .find(|account| account.name == local)
            .map(|account| account.id)
    }

    /// The full address of an account.
    pub fn email_of(&self, account: &Account) -> String {
        format!("{}@{}", account.name, self.domain)
    }

    /// The permissions an account has through its roles and per-account changes.
    pub fn account_permissions(&self, account: &Account) -> PermissionSet {
        let mut perms = match &account.roles {
            Roles::User => PermissionSet::user_role(),
            Roles::Admin => PermissionSet::admin_role(),
            Roles::Custom { role_ids } => {
                let mut perms = PermissionSet::new();
                for id in role_ids {
                    perms.extend(&self.role_permissions(*id, 0));
                }
                perms
            }
        };
        match &account.permissions {
            AccountPermissions::Inherit => {}
            AccountPermissions::Merge { enabled, disabled } => {
                perms.extend(enabled);
                perms.subtract(disabled);
            }
            AccountPermissions::Replace { enabled } => perms = enabled.clone(),
        }
        perms
    }

    /// The permissions a role grants (built-in roles and custom roles, nested).
    pub fn role_permissions(&self, role_id: u32, depth: usize) -> PermissionSet {
        let mut perms = match role_id {
            ROLE_USER => PermissionSet::user_role(),
            ROLE_SYSTEM_ADMIN => PermissionSet::admin_role(),
            _ => PermissionSet::new(),
        };
        if depth < 8
            && let Some(role) = self.roles.get(&role_id)
        {
            for inner in &role.role_ids {
                perms.extend(&self.role_permissions(*inner, depth + 1));
            }
            perms.extend(&role.enabled_permissions);
            perms.subtract(&role.disabled_permissions);
        }
        perms
    }

    /// Hands out the next PublicKey id: 12 characters when written, growing with time.
    pub fn next_public_key_id(&mut self, now_unix: i64) -> u64 {
        let millis = u64::try_from(now_unix).unwrap_or(0).saturating_mul(1000);
        let from_time = millis << 18;
        let id = from_time.max(self.last_public_key_id.saturating_add(512));
        self.last_public_key_id = id;
        id
    }

    /// Whether `account_id` owns the public key `id`.
    pub fn owns_public_key(&self, account_id: u32, id: u64) -> bool {
        self.public_keys
            .get(&id)
            .is_some_and(|key| key.account_id == account_id)
    }

    /// Accounts whose `encryptionAtRest` references the public key `id`.
    pub fn accounts_using_key(&self, id: u64) -> Vec<u32> {
        self.accounts
            .values()
            .filter(|account| {
                account
                    .settings
                    .encryption_at_rest
                    .settings()
                    .and_then(|s| s.public_key)
                    == Some(id)
            })
            .map(|account| account.id)
            .collect()
    }

    /// The next free account id.
    pub fn next_account_id(&self) -> u32 {
        self.accounts.keys().next_back().map_or(1, |id| id + 1)
    }

    /// The next free role id.
    pub fn next_role_id(&self) -> u32 {
        self.roles.keys().next_back().map_or(1, |id| id + 1)
    }
}

impl Account {
    /// The password credential, if the account has one.
    pub fn password(&self) -> Option<&PasswordCredential> {
        self.credentials.iter().find_map(|c| match c {
            Credential::Password(p) => Some(p),
            _ => None,
        })
    }

    /// The password credential, mutable.
    pub fn password_mut(&mut self) -> Option<&mut PasswordCredential> {
        self.credentials.iter_mut().find_map(|c| match c {
            Credential::Password(p) => Some(p),
            _ => None,
        })
    }

    /// The app passwords.
    pub fn app_passwords(&self) -> impl Iterator<Item = &SecondaryCredential> {
        self.credentials.iter().filter_map(|c| match c {
            Credential::AppPassword(s) => Some(s),
            _ => None,
        })
    }

    /// The API keys.
    pub fn api_keys(&self) -> impl Iterator<Item = &SecondaryCredential> {
        self.credentials.iter().filter_map(|c| match c {
            Credential::ApiKey(s) => Some(s),
            _ => None,
        })
    }

    /// The JMAP id of the account.
    pub fn jmap_id(&self) -> String {
        encode_id(u64::from(self.id))
    }
}
