//! Authentication of HTTP requests, as Stalwart 0.16 does it.
//!
//! * `Basic` with the account password: 402 "MFA code required" when TOTP is on (Basic
//!   has no place for a code); 401 with both challenges when wrong.
//! * `Basic` with an app password (`app_…`, recognised by its prefix): no TOTP; the
//!   credential's `allowedIps` are enforced (403) and an expired one answers 401 without
//!   challenges.
//! * `Bearer` with an API key (`API_…`); other bearer tokens go to the OAuth store
//!   ([`oauth`]): a valid access token authenticates as [`AuthMethod::OAuth`]; a refresh
//!   token, an expired or a revoked token is the generic 401.
//! * Anything else (no header, malformed Basic, another scheme) is 401 with challenges.
//!
//! Stalwart 0.15's authentication (`password$code`, `$6$` hashes, app passwords in the
//! secrets list) is in [`crate::rest::auth`].

pub mod ban;
pub mod login;
pub mod oauth;
pub mod tokens;
pub mod totp;

use std::net::IpAddr;

use crate::directory::{
    Account, Credential, CredentialPermissions, Directory, SecondaryCredential,
};
use crate::key_check::lenient_base64;
use crate::patch::ip_allowed;
use crate::permissions::PermissionSet;
use crate::problem::Problem;

use self::oauth::OAuthStore;
use self::tokens::{ApiKeyToken, AppPasswordToken, secret_bytes};
use self::totp::MfaCheck;

/// How a request authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// Account password.
    Password,
    /// App password.
    AppPassword,
    /// API key.
    ApiKey,
    /// OAuth access token.
    OAuth,
}

/// Who a request acts as, with its effective permissions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessToken {
    /// The account.
    pub account_id: u32,
    /// The app password or API key used, if any.
    pub credential_id: Option<u32>,
    /// How the request authenticated.
    pub method: AuthMethod,
    /// Effective permissions (narrowed by a scoped credential).
    pub permissions: PermissionSet,
    /// The account's own permissions.
    pub account_permissions: PermissionSet,
}

impl AccessToken {
    /// Whether the token has the permission.
    pub fn has(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }

    /// Whether the token may act on `account_id` (its own, or any with `impersonate`).
    pub fn may_act_on(&self, account_id: u32) -> bool {
        self.account_id == account_id || self.has("impersonate")
    }
}

/// Credentials read from an `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `Basic user:secret` (or a JSON login with an optional code).
    Basic {
        /// Lower-cased, trimmed login.
        username: String,
        /// The secret.
        secret: String,
        /// A TOTP code (only from `POST /api/auth`).
        mfa_token: Option<String>,
    },
    /// `Bearer token`.
    Bearer(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        match self {
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, ****)"),
            Credentials::Bearer(_) => write!(f, "Bearer(****)"),
        }
    }
}

/// Why authentication failed; each maps to one HTTP answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// Missing header, unsupported scheme or undecodable credentials (401 + challenges).
    Malformed,
    /// Wrong or unknown credentials (401 + challenges; counts toward a ban).
    Failed,
    /// The stored TOTP URL cannot be parsed (401 + challenges).
    BadTotpUrl,
    /// Password right, TOTP on, no code (402).
    MfaRequired,
    /// App password or API key past its `expiresAt` (401 without challenges).
    CredentialExpired,
    /// The client address is not in the credential's `allowedIps` (403; counts).
    IpUnauthorized,
    /// The account lacks the `authenticate` permission (403).
    NotPermitted,
    /// This failure tripped the brute-force ban (429).
    Banned,
}

impl AuthFailure {
    /// The HTTP problem for the failure.
    pub fn problem(self) -> Problem {
        match self {
            AuthFailure::Malformed | AuthFailure::Failed | AuthFailure::BadTotpUrl => {
                Problem::unauthorized()
            }
            AuthFailure::MfaRequired => Problem::mfa_required(),
            AuthFailure::CredentialExpired => Problem::unauthorized_without_challenges(),
            AuthFailure::IpUnauthorized | AuthFailure::NotPermitted => Problem::forbidden(),
            AuthFailure::Banned => Problem::too_many_auth_attempts(),
        }
    }

    /// Whether the failure counts toward the brute-force ban.
    pub fn counts_toward_ban(self) -> bool {
        matches!(self, AuthFailure::Failed | AuthFailure::IpUnauthorized)
    }
}

/// Reads an `Authorization` header value.
pub fn parse_authorization(header: Option<&str>) -> Result<Credentials, AuthFailure> {
    let header = header.ok_or(AuthFailure::Malformed)?;
    let (scheme, token) = header.split_once(' ').ok_or(AuthFailure::Malformed)?;
    let token = token.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = lenient_base64(token.as_bytes()).ok_or(AuthFailure::Malformed)?;
        let text = String::from_utf8(decoded).map_err(|_| AuthFailure::Malformed)?;
        let (login, secret) = text.split_once(':').ok_or(AuthFailure::Malformed)?;
        Ok(Credentials::Basic {
            username: login.trim().to_lowercase(),
            secret: secret.to_owned(),
            mfa_token: None,
        })
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Ok(Credentials::Bearer(token.to_owned()))
    } else {
        Err(AuthFailure::Malformed)
    }
}

/// Checks credentials against the directory at time `now` from client address `ip`.
pub fn authenticate(
    dir: &Directory,
    oauth: &OAuthStore,
    credentials: &Credentials,
    ip: IpAddr,
    now: i64,
) -> Result<AccessToken, AuthFailure> {
    let token = match credentials {
        Credentials::Basic {
            username,
            secret,
            mfa_token,
        } => {
            let account_id = dir.account_id_by_login(username);
            if let Some(app) = AppPasswordToken::parse(secret) {
                let account_id = account_id.ok_or(AuthFailure::Failed)?;
                validate_credential(dir, account_id, app.credential_id, &app.secret, ip, now)?
            } else {
                let account = account_id
                    .and_then(|id| dir.accounts.get(&id))
                    .ok_or(AuthFailure::Failed)?;
                let password = account.password().ok_or(AuthFailure::Failed)?;
                match totp::verify(
                    password.otp_url.as_deref(),
                    mfa_token.as_deref(),
                    &password.secret,
                    secret,
                    now,
                ) {
                    Ok(MfaCheck::Valid) => {}
                    Ok(MfaCheck::Invalid) => return Err(AuthFailure::Failed),
                    Ok(MfaCheck::MissingMfaToken) => return Err(AuthFailure::MfaRequired),
                    Err(_) => return Err(AuthFailure::BadTotpUrl),
                }
                if !ip_allowed(&password.allowed_ips, ip) {
                    return Err(AuthFailure::IpUnauthorized);
                }
                token_for(dir, account, None, AuthMethod::Password)
            }
        }
        Credentials::Bearer(text) => {
            if let Some(key) = ApiKeyToken::parse(text) {
                validate_credential(dir, key.account_id, key.credential_id, &key.secret, ip, now)?
            } else {
                let account_id = oauth
                    .validate_access_token(text, now)
                    .ok_or(AuthFailure::Failed)?;
                let account = dir.accounts.get(&account_id).ok_or(AuthFailure::Failed)?;
                token_for(dir, account, None, AuthMethod::OAuth)
            }
        }
    };
    if token.has("authenticate") {
        Ok(token)
    } else {
        Err(AuthFailure::NotPermitted)
    }
}

/// Checks an app password or API key by account and credential id.
fn validate_credential(
    dir: &Directory,
    account_id: u32,
    credential_id: u32,
    secret: &[u8],
    ip: IpAddr,
    now: i64,
) -> Result<AccessToken, AuthFailure> {
    let account = dir.accounts.get(&account_id).ok_or(AuthFailure::Failed)?;
    let (credential, method) = account
        .credentials
        .iter()
        .find_map(|c| match c {
            Credential::AppPassword(s) if s.id == credential_id => {
                Some((s, AuthMethod::AppPassword))
            }
            Credential::ApiKey(s) if s.id == credential_id => Some((s, AuthMethod::ApiKey)),
            _ => None,
        })
        .ok_or(AuthFailure::Failed)?;
    if secret_bytes(&credential.secret).as_deref() != Some(secret) {
        return Err(AuthFailure::Failed);
    }
    if credential.expires_at.is_some_and(|exp| exp < now) {
        return Err(AuthFailure::CredentialExpired);
    }
    if !ip_allowed(&credential.allowed_ips, ip) {
        return Err(AuthFailure::IpUnauthorized);
    }
    Ok(token_for(dir, account, Some(credential), method))
}

/// The access token of an account, narrowed by a scoped credential.
pub fn token_for(
    dir: &Directory,
    account: &Account,
    credential: Option<&SecondaryCredential>,
    method: AuthMethod,
) -> AccessToken {
    let account_permissions = dir.account_permissions(account);
    AccessToken {
        account_id: account.id,
        credential_id: credential.map(|c| c.id),
        method,
        permissions: credential.map_or_else(
            || account_permissions.clone(),
            |c| scoped_permissions(&account_permissions, &c.permissions),
        ),
        account_permissions,
    }
}

/// What a credential with `scope` may do for an account with `account` permissions.
pub fn scoped_permissions(account: &PermissionSet, scope: &CredentialPermissions) -> PermissionSet {
    match scope {
        CredentialPermissions::Inherit => account.clone(),
        CredentialPermissions::Disable { permissions } => {
            let mut effective = account.clone();
            effective.subtract(permissions);
            effective
        }
        CredentialPermissions::Replace { permissions } => {
            let mut effective = permissions.clone();
            effective.intersect(account);
            effective
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ALICE_PASSWORD, Config};

    fn basic(user: &str, secret: &str) -> String {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
        )
    }

    fn ip() -> IpAddr {
        "127.0.0.1".parse().expect("ip")
    }

    #[test]
    fn password_login_and_failures() {
        let dir = Directory::from_config(&Config::default());
        let oauth = OAuthStore::default();
        let ok =
            parse_authorization(Some(&basic("Alice@Example.org", ALICE_PASSWORD))).expect("parsed");
        let token = authenticate(&dir, &oauth, &ok, ip(), 0).expect("valid login");
        assert_eq!(token.account_id, 2);
        assert_eq!(token.method, AuthMethod::Password);
        let bare = parse_authorization(Some(&basic("alice", ALICE_PASSWORD))).expect("parsed");
        assert!(authenticate(&dir, &oauth, &bare, ip(), 0).is_ok());
        let wrong = parse_authorization(Some(&basic("alice@example.org", "nope"))).expect("parsed");
        assert_eq!(
            authenticate(&dir, &oauth, &wrong, ip(), 0),
            Err(AuthFailure::Failed)
        );
    }

    #[test]
    fn totp_on_gives_mfa_required() {
        let mut dir = Directory::from_config(&Config::default());
        if let Some(pw) = dir.accounts.get_mut(&2).and_then(Account::password_mut) {
            pw.otp_url = Some("otpauth://totp/X:a?secret=IKW7HTK4VEAVBS6O&issuer=X".to_owned());
        }
        let creds =
            parse_authorization(Some(&basic("alice@example.org", ALICE_PASSWORD))).expect("parsed");
        assert_eq!(
            authenticate(&dir, &OAuthStore::default(), &creds, ip(), 0),
            Err(AuthFailure::MfaRequired)
        );
    }

    #[test]
    fn malformed_headers() {
        assert_eq!(parse_authorization(None), Err(AuthFailure::Malformed));
        assert_eq!(
            parse_authorization(Some("Digest x")),
            Err(AuthFailure::Malformed)
        );
        assert_eq!(
            parse_authorization(Some("Basic !!!")),
            Err(AuthFailure::Malformed)
        );
        assert_eq!(
            parse_authorization(Some("Basic bm9jb2xvbg==")),
            Err(AuthFailure::Malformed)
        );
    }

    #[test]
    fn scoped_permissions_narrow() {
        let account = PermissionSet::from_names(["a", "b", "c"]);
        let disable = CredentialPermissions::Disable {
            permissions: PermissionSet::from_names(["a"]),
        };
        assert_eq!(
            scoped_permissions(&account, &disable),
            PermissionSet::from_names(["b", "c"])
        );
        let replace = CredentialPermissions::Replace {
            permissions: PermissionSet::from_names(["c", "z"]),
        };
        assert_eq!(
            scoped_permissions(&account, &replace),
            PermissionSet::from_names(["c"])
        );
    }
}
