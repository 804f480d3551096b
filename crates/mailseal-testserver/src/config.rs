//! Server configuration: which server version to imitate, the accounts, limits and
//! optional behaviours.
//!
//! A [`Config`] can be written as JSON (every field is optional):
//!
//! ```json
//! {"version": "0.16", "port": 0,
//!  "users": [{"email": "alice@example.org", "password": "…", "description": "Alice"}],
//!  "authBan": {"maxFailures": 5, "windowSecs": 3600}}
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The default password of `admin@example.org`.
pub const ADMIN_PASSWORD: &str = "admin-Test-Server-passphrase-7";
/// The default password of `alice@example.org`.
pub const ALICE_PASSWORD: &str = "alice-Golden-Fixture-passphrase-26";
/// The default password of `bob@example.org` (no self-service permissions).
pub const BOB_PASSWORD: &str = "bob-Restricted-User-passphrase-11";
/// The default password of `carol@example.org` (external directory).
pub const CAROL_PASSWORD: &str = "carol-External-Directory-passphrase-3";

/// The Stalwart version the server imitates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerVersion {
    /// Stalwart 0.16.19: the `x:` self-service API and `urn:stalwart:jmap`.
    #[default]
    #[serde(rename = "0.16")]
    V0_16,
    /// Stalwart 0.15.5: no `urn:stalwart:jmap`; account security over the REST API
    /// (`/api/account/auth`, `/api/account/crypto`, `/api/principal`, `/api/oauth`).
    #[serde(rename = "0.15")]
    V0_15,
}

impl std::str::FromStr for ServerVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "0.16" | "0.16.19" => Ok(ServerVersion::V0_16),
            "0.15" | "0.15.5" => Ok(ServerVersion::V0_15),
            other => Err(format!(
                "unknown server version {other:?} (use 0.16 or 0.15)"
            )),
        }
    }
}

/// The kind of an account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserKind {
    /// Default User role.
    #[default]
    User,
    /// Administrator (`x:Account`, `x:Role`, `x:QueuedMessage`, `impersonate`).
    Admin,
}

/// One account of the directory. `Debug` masks the password and the TOTP URL.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct UserConfig {
    /// Login address, e.g. `alice@example.org`; its domain must be [`Config::domain`].
    pub email: String,
    /// Numeric account id; the next free one when absent (alice's `2` is `"c"`).
    pub id: Option<u32>,
    /// The password; `None` gives an account without a password credential.
    pub password: Option<String>,
    /// Display name (AccountSettings `description`).
    pub description: Option<String>,
    /// User or administrator.
    pub kind: UserKind,
    /// Whether the account has the 19 self-service permissions (like alice) or not (like
    /// bob in fixture 11).
    pub self_service: bool,
    /// Whether the account belongs to an external directory: `/api/account` hides
    /// `sysAccountPassword*` and password/TOTP changes answer "Operation not allowed.".
    pub external_directory: bool,
    /// A stored TOTP URL (verbatim, not validated, as on the real server).
    pub otp_url: Option<String>,
    /// Locale.
    pub locale: String,
}

impl std::fmt::Debug for UserConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserConfig")
            .field("email", &self.email)
            .field("id", &self.id)
            .field("password", &self.password.as_ref().map(|_| "****"))
            .field("description", &self.description)
            .field("kind", &self.kind)
            .field("self_service", &self.self_service)
            .field("external_directory", &self.external_directory)
            .field("otp_url", &self.otp_url.as_ref().map(|_| "****"))
            .field("locale", &self.locale)
            .finish()
    }
}

impl Default for UserConfig {
    fn default() -> Self {
        Self {
            email: String::new(),
            id: None,
            password: None,
            description: None,
            kind: UserKind::User,
            self_service: true,
            external_directory: false,
            otp_url: None,
            locale: "en_US".to_owned(),
        }
    }
}

impl UserConfig {
    /// A regular user with every self-service permission.
    pub fn user(email: &str, password: &str) -> Self {
        Self {
            email: email.to_owned(),
            password: Some(password.to_owned()),
            ..Self::default()
        }
    }
}

/// Opt-in brute-force protection: after `max_failures` failed logins from one address
/// within `window_secs`, the failing request answers 429 and the address is banned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthBanConfig {
    /// Failures tolerated before the ban.
    pub max_failures: u32,
    /// Counting window in seconds.
    pub window_secs: u64,
}

/// Quotas and password policy (the server defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Limits {
    /// `Authentication.maxAppPasswords`.
    pub max_app_passwords: usize,
    /// `Authentication.maxApiKeys`.
    pub max_api_keys: usize,
    /// `Email.maxPublicKeys`.
    pub max_public_keys: usize,
    /// Minimum password length in bytes.
    pub password_min_length: usize,
    /// Maximum password length in bytes.
    pub password_max_length: usize,
    /// Minimum zxcvbn score (0 disables the strength check).
    pub password_min_strength: u8,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_app_passwords: 5,
            max_api_keys: 5,
            max_public_keys: 5,
            password_min_length: 8,
            password_max_length: 128,
            password_min_strength: 3,
        }
    }
}

/// Lifetimes of the OAuth codes and tokens (`/api/auth`, `/auth/token`, `/auth/device`),
/// in seconds; the defaults are the real server's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuthConfig {
    /// Whether the OAuth service answers at all, true. False imitates a server whose OAuth
    /// endpoints are not reachable (e.g. not passed on by a proxy): they answer 404.
    pub enabled: bool,
    /// Access token lifetime (`expires_in`), 3600.
    pub access_token_ttl_secs: u64,
    /// Refresh token lifetime, 30 days.
    pub refresh_token_ttl_secs: u64,
    /// A `refresh_token` grant issues a new refresh token only when the old one has at
    /// most this long left, 4 days.
    pub refresh_token_renew_secs: u64,
    /// Authorization code (`client_code`) lifetime, also that of an approved device code,
    /// 600.
    pub client_code_ttl_secs: u64,
    /// Device and user code lifetime (`/auth/device` `expires_in`), 1800.
    pub device_code_ttl_secs: u64,
    /// The polling `interval` `/auth/device` announces, 5 (faster polling is not refused).
    pub device_interval_secs: u64,
    /// `id_token` lifetime, 900.
    pub id_token_ttl_secs: u64,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            access_token_ttl_secs: 3600,
            refresh_token_ttl_secs: 30 * 86_400,
            refresh_token_renew_secs: 4 * 86_400,
            client_code_ttl_secs: 600,
            device_code_ttl_secs: 1800,
            device_interval_secs: 5,
            id_token_ttl_secs: 900,
        }
    }
}

/// Upload limits (the admin's `x:Jmap` settings and the session's `maxSizeUpload`); the
/// defaults are the real server's. Tests can shrink them, e.g. 20 uploads per 2-second
/// window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct UploadLimits {
    /// `maxUploadSize` (and the session's `maxSizeUpload`): larger uploads answer 400
    /// `maxSizeUpload`, 50,000,000.
    pub max_upload_size: usize,
    /// `maxUploadCount`: uploads per account and window, 1000.
    pub max_upload_count: u64,
    /// `uploadQuota`: bytes per account and window, 50,000,000.
    pub upload_quota: u64,
    /// `uploadTtl` in milliseconds: the length of a quota window, and how long an upload
    /// stays importable, 3,600,000.
    pub upload_ttl_ms: u64,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self {
            max_upload_size: 50_000_000,
            max_upload_count: 1000,
            upload_quota: 50_000_000,
            upload_ttl_ms: 3_600_000,
        }
    }
}

/// The administrator of a 0.15 server's configuration file
/// (`authentication.fallback-admin`): not a principal, every permission, no self-service.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FallbackAdmin {
    /// Login name, e.g. `admin`.
    pub name: String,
    /// Secret: plain text or a `$6$` hash.
    pub secret: String,
}

impl std::fmt::Debug for FallbackAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FallbackAdmin")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// Which server to imitate.
    pub version: ServerVersion,
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The mail domain.
    pub domain: String,
    /// The accounts.
    pub users: Vec<UserConfig>,
    /// Brute-force protection (off by default: the recorded server allow-listed loopback).
    pub auth_ban: Option<AuthBanConfig>,
    /// Quotas and password policy.
    pub limits: Limits,
    /// Initial clock offset in seconds (see [`crate::TestServer::set_clock_offset`]).
    pub clock_offset_secs: i64,
    /// OAuth code and token lifetimes.
    pub oauth: OAuthConfig,
    /// Fields of the session object replaced with these values (`apiUrl`, `uploadUrl`,
    /// `downloadUrl`, `eventSourceUrl`, …), to imitate a server that sends clients elsewhere.
    pub session_overrides: BTreeMap<String, String>,
    /// Fields of the OAuth metadata documents replaced with these values (`token_endpoint`,
    /// `device_authorization_endpoint`, …), for the same purpose.
    pub oauth_metadata_overrides: BTreeMap<String, String>,
    /// The fallback administrator of 0.15 mode (`admin` in the recordings), if any.
    pub fallback_admin: Option<FallbackAdmin>,
    /// Upload size, quota and lifetime.
    pub uploads: UploadLimits,
}

impl Default for Config {
    /// admin (`b`), alice (`c`, every self-service permission), bob (`d`, none) and
    /// carol (`e`, external directory), with the `*_PASSWORD` constants of this module.
    fn default() -> Self {
        Self {
            version: ServerVersion::V0_16,
            port: 0,
            domain: "example.org".to_owned(),
            users: vec![
                admin_user(),
                alice_user(),
                UserConfig {
                    id: Some(3),
                    description: Some("Bob Example (no self-service)".to_owned()),
                    self_service: false,
                    ..UserConfig::user("bob@example.org", BOB_PASSWORD)
                },
                UserConfig {
                    id: Some(4),
                    description: Some("Carol Example (external directory)".to_owned()),
                    external_directory: true,
                    ..UserConfig::user("carol@example.org", CAROL_PASSWORD)
                },
            ],
            auth_ban: None,
            limits: Limits::default(),
            clock_offset_secs: 0,
            oauth: OAuthConfig::default(),
            session_overrides: BTreeMap::new(),
            oauth_metadata_overrides: BTreeMap::new(),
            fallback_admin: None,
            uploads: UploadLimits::default(),
        }
    }
}

impl Config {
    /// The directory of the recorded 0.16.19 server: only `admin@example.org` (`b`) and
    /// `alice@example.org` (`c`), with the given passwords.
    pub fn recorded(alice_password: &str, admin_password: &str) -> Self {
        Self {
            users: vec![
                UserConfig {
                    password: Some(admin_password.to_owned()),
                    ..admin_user()
                },
                UserConfig {
                    password: Some(alice_password.to_owned()),
                    ..alice_user()
                },
            ],
            ..Self::default()
        }
    }

    /// The default directory imitating the 0.15.5 server (REST self-service API), with
    /// the fallback administrator `admin` (password [`ADMIN_PASSWORD`]).
    pub fn v0_15() -> Self {
        Self {
            version: ServerVersion::V0_15,
            fallback_admin: Some(FallbackAdmin {
                name: "admin".to_owned(),
                secret: ADMIN_PASSWORD.to_owned(),
            }),
            ..Self::default()
        }
    }

    /// The recorded 0.15.5 server before fixture 00: no principals, only the fallback
    /// administrator `admin` with `admin_password`.
    pub fn recorded_v0_15(admin_password: &str) -> Self {
        Self {
            version: ServerVersion::V0_15,
            users: Vec::new(),
            fallback_admin: Some(FallbackAdmin {
                name: "admin".to_owned(),
                secret: admin_password.to_owned(),
            }),
            ..Self::default()
        }
    }
}

fn admin_user() -> UserConfig {
    UserConfig {
        id: Some(1),
        kind: UserKind::Admin,
        description: Some("System administrator".to_owned()),
        ..UserConfig::user("admin@example.org", ADMIN_PASSWORD)
    }
}

fn alice_user() -> UserConfig {
    UserConfig {
        id: Some(2),
        description: Some("Alice Example (regular user)".to_owned()),
        ..UserConfig::user("alice@example.org", ALICE_PASSWORD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_config_with_defaults() {
        let config: Config =
            serde_json::from_str(r#"{"version":"0.15","port":0}"#).expect("valid config");
        assert_eq!(config.version, ServerVersion::V0_15);
        assert_eq!(config.users.len(), 4);
        assert_eq!(config.limits.max_app_passwords, 5);
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<Config>(r#"{"prot":1}"#).is_err());
    }
}
