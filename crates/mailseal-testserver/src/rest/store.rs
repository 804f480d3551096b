//! What a 0.15 server stores per principal: the flat `secrets` list (password hashes or
//! plain text, `$app$<name>$<hash>` app passwords, `otpauth://` URLs) in stored order, the
//! encryption-at-rest setting, and the fields the admin principal API shows.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::config::{Config, UserKind};
use crate::directory::Directory;

use super::sha512_crypt;

/// Prefix of a stored app password.
pub const APP_PREFIX: &str = "$app$";
/// Prefix that makes a secret a TOTP URL (case-sensitive, as on the server).
pub const OTP_PREFIX: &str = "otpauth://";

/// The `algo` of an encryption-at-rest setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algo {
    /// `Aes128`.
    Aes128,
    /// `Aes256`.
    Aes256,
}

impl Algo {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Algo::Aes128 => "Aes128",
            Algo::Aes256 => "Aes256",
        }
    }
}

/// The encryption method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `pGP`.
    Pgp,
    /// `sMIME`.
    Smime,
}

impl Method {
    /// The wire tag.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Pgp => "pGP",
            Method::Smime => "sMIME",
        }
    }
}

/// An enabled encryption-at-rest setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crypto {
    /// PGP or S/MIME.
    pub method: Method,
    /// The cipher.
    pub algo: Algo,
    /// The keys as stored: DER certificates for S/MIME, armored text for OpenPGP.
    pub certs: Vec<Vec<u8>>,
    /// `allow_spam_training`.
    pub allow_spam_training: bool,
}

/// A principal of the 0.15 directory.
#[derive(Clone, Debug, PartialEq)]
pub struct Principal {
    /// Numeric id.
    pub id: u32,
    /// `individual` or `domain`.
    pub kind: String,
    /// Login name (lower case).
    pub name: String,
    /// Display name.
    pub description: Option<String>,
    /// The secrets in stored order.
    pub secrets: Vec<String>,
    /// Addresses.
    pub emails: Vec<String>,
    /// Role names.
    pub roles: Vec<String>,
    /// `disabledPermissions`.
    pub disabled_permissions: Vec<String>,
    /// Whether the account lives in an external directory (password and TOTP actions are
    /// `unsupported`).
    pub external_directory: bool,
    /// Encryption at rest, when on.
    pub crypto: Option<Crypto>,
}

impl Principal {
    /// Whether a TOTP URL is stored.
    pub fn otp_enabled(&self) -> bool {
        self.secrets.iter().any(|s| s.starts_with(OTP_PREFIX))
    }

    /// The stored TOTP URL (the first).
    pub fn otp_url(&self) -> Option<&str> {
        self.secrets
            .iter()
            .find(|s| s.starts_with(OTP_PREFIX))
            .map(String::as_str)
    }

    /// The names of the app passwords, in stored order.
    pub fn app_password_names(&self) -> Vec<String> {
        self.secrets
            .iter()
            .filter_map(|s| s.strip_prefix(APP_PREFIX))
            .map(|rest| {
                rest.split_once('$')
                    .map_or(rest, |(name, _)| name)
                    .to_owned()
            })
            .collect()
    }

    /// The password entries (neither app passwords nor TOTP URLs).
    pub fn passwords(&self) -> impl Iterator<Item = &str> {
        self.secrets
            .iter()
            .filter(|s| !s.starts_with(APP_PREFIX) && !s.starts_with(OTP_PREFIX))
            .map(String::as_str)
    }

    /// Whether `given` matches one of the password entries.
    pub fn password_matches(&self, given: &str) -> bool {
        self.passwords().any(|stored| secret_matches(stored, given))
    }

    /// Whether `given` matches one of the app passwords.
    pub fn app_password_matches(&self, given: &str) -> bool {
        self.secrets
            .iter()
            .filter_map(|s| s.strip_prefix(APP_PREFIX))
            .filter_map(|rest| rest.split_once('$').map(|(_, hash)| hash))
            .any(|stored| secret_matches(stored, given))
    }

    /// Stores a new secret the way `update_principal` does on 0.14+: an app password or TOTP
    /// URL is added (an identical entry is not duplicated; a TOTP URL replaces the old one);
    /// anything else replaces the password entries.
    pub fn add_secret(&mut self, value: &str) {
        if value.starts_with(APP_PREFIX) {
            if !self.secrets.iter().any(|s| s == value) {
                self.secrets.push(value.to_owned());
            }
        } else if value.starts_with(OTP_PREFIX) {
            self.secrets.retain(|s| !s.starts_with(OTP_PREFIX));
            self.secrets.push(value.to_owned());
        } else {
            let first = self
                .secrets
                .iter()
                .position(|s| !s.starts_with(APP_PREFIX) && !s.starts_with(OTP_PREFIX));
            self.secrets
                .retain(|s| s.starts_with(APP_PREFIX) || s.starts_with(OTP_PREFIX));
            let at = first.unwrap_or(0).min(self.secrets.len());
            self.secrets.insert(at, value.to_owned());
        }
    }

    /// Removes every secret that starts with `prefix`; the empty prefix removes the app
    /// passwords and TOTP URLs (0.14+ semantics, which is what `setPassword` runs first).
    pub fn remove_secrets(&mut self, prefix: &str) {
        if prefix.is_empty() {
            self.secrets
                .retain(|s| !s.starts_with(APP_PREFIX) && !s.starts_with(OTP_PREFIX));
        } else {
            self.secrets.retain(|s| !s.starts_with(prefix));
        }
    }

    /// The admin API view (`GET /api/principal/{name}`); multi-valued fields are arrays.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("id".into(), json!(self.id));
        map.insert("type".into(), json!(self.kind));
        map.insert("name".into(), json!(self.name));
        if let Some(d) = &self.description {
            map.insert("description".into(), json!(d));
        }
        if !self.secrets.is_empty() {
            map.insert("secrets".into(), json!(self.secrets));
        }
        if !self.emails.is_empty() {
            map.insert("emails".into(), json!(self.emails));
        }
        if !self.roles.is_empty() {
            map.insert("roles".into(), json!(self.roles));
        }
        if !self.disabled_permissions.is_empty() {
            map.insert(
                "disabledPermissions".into(),
                json!(self.disabled_permissions),
            );
        }
        Value::Object(map)
    }
}

/// Whether a presented secret matches a stored one: `$6$` hashes are verified, other
/// strings compared verbatim (the server's plain-text case).
pub fn secret_matches(stored: &str, given: &str) -> bool {
    if stored.starts_with("$6$") {
        sha512_crypt::verify(stored, given.as_bytes())
    } else {
        !stored.is_empty() && stored == given
    }
}

/// Every principal of a 0.15 server.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Store {
    /// Principals by id.
    pub principals: BTreeMap<u32, Principal>,
    /// The fallback administrator's secret after a `setPassword` (the configured one until
    /// then).
    pub fallback_secret: Option<String>,
}

impl Store {
    /// The principals of the configured users: each password (and TOTP URL) becomes a
    /// secret; administrators get the `admin` role, accounts without self-service lose
    /// `manage-passwords` and `manage-encryption`.
    pub fn from_config(config: &Config, dir: &Directory) -> Self {
        let mut store = Store::default();
        for user in &config.users {
            let Some(id) = dir.account_id_by_login(&user.email) else {
                continue;
            };
            let name = user.email.trim().to_lowercase();
            let mut secrets: Vec<String> = user.password.iter().cloned().collect();
            secrets.extend(user.otp_url.iter().cloned());
            store.principals.insert(
                id,
                Principal {
                    id,
                    kind: "individual".into(),
                    name: name.clone(),
                    description: user.description.clone(),
                    secrets,
                    emails: vec![name.clone()],
                    roles: vec![match user.kind {
                        UserKind::Admin => "admin".into(),
                        UserKind::User => "user".into(),
                    }],
                    disabled_permissions: if user.self_service {
                        Vec::new()
                    } else {
                        vec!["manage-encryption".into(), "manage-passwords".into()]
                    },
                    external_directory: user.external_directory,
                    crypto: None,
                },
            );
        }
        store
    }

    /// The principal with this login name.
    pub fn by_name(&self, name: &str) -> Option<&Principal> {
        self.principals.values().find(|p| p.name == name)
    }

    /// The principal with this login name, to change.
    pub fn by_name_mut(&mut self, name: &str) -> Option<&mut Principal> {
        self.principals.values_mut().find(|p| p.name == name)
    }

    /// The next free principal id.
    pub fn next_id(&self) -> u32 {
        self.principals
            .keys()
            .next_back()
            .map_or(1, |id| id.saturating_add(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Principal {
        Principal {
            id: 2,
            kind: "individual".into(),
            name: "alice@example.org".into(),
            description: None,
            secrets: vec!["pw".into()],
            emails: vec![],
            roles: vec![],
            disabled_permissions: vec![],
            external_directory: false,
            crypto: None,
        }
    }

    #[test]
    fn secrets_follow_the_014_rules() {
        let mut p = alice();
        p.add_secret("$app$k9$h1");
        p.add_secret("$app$k9-mail$h2");
        p.add_secret("$app$k9$h1");
        p.add_secret("otpauth://totp/a");
        p.add_secret("otpauth://totp/b");
        assert_eq!(p.app_password_names(), ["k9", "k9-mail"]);
        assert_eq!(p.otp_url(), Some("otpauth://totp/b"));
        p.add_secret("new");
        assert_eq!(p.passwords().collect::<Vec<_>>(), ["new"]);
        p.remove_secrets("$app$k9");
        assert!(p.app_password_names().is_empty());
        p.remove_secrets("");
        assert_eq!(p.secrets, ["new"]);
    }
}
