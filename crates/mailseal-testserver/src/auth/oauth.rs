//! OAuth 2 / OpenID Connect state, as Stalwart 0.16.19 keeps it (fixture 14).
//!
//! * Authorization codes (`client_code`, 40 alphanumerics) issued by `POST /api/auth`
//!   ([`crate::auth::login`]) and exchanged once at `/auth/token`.
//! * Device grants (`/auth/device`): a 40-character device code and a `XXXX-XXXX` user code,
//!   approved through `/api/auth` `authDevice`.
//! * Access and refresh tokens: opaque `sw1.<random>.<account name in base64url>` strings of
//!   about 95 characters. The real server seals the account, grant type, times and a
//!   credential version into the token; this one keeps them in a table, which gives the same
//!   answers: expiry by the server clock (`expires_at <= now` or `issued_at > now` is
//!   invalid), a refresh token is no access token and vice versa, and a password change
//!   revokes every token of the account ([`OAuthStore::revoke_account`]).
//! * Registered public clients (`/auth/register`): `swc1.…` ids of 109 characters. The real
//!   ids are sealed and stateless; these are random and remembered.
//! * The ES256 key that signs `id_token`s ([`jwt`]).
//!
//! The HTTP side is in [`endpoints`].

pub mod endpoints;
pub mod form;
pub mod jwt;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::distributions::Alphanumeric;
use rand::{Rng, RngCore};

/// The scopes the server knows, in the order of their registration bits.
pub const SUPPORTED_SCOPES: [&str; 5] = [
    "openid",
    "offline_access",
    "urn:ietf:params:oauth:scope:mail",
    "urn:ietf:params:oauth:scope:contacts",
    "urn:ietf:params:oauth:scope:calendars",
];

/// Characters of a device user code (no 0, O, I, 1).
const USER_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A PKCE challenge stored with an authorization code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pkce {
    /// No challenge was sent; the token request must not send a verifier.
    None,
    /// `plain`: the verifier equals the challenge.
    Plain(String),
    /// `S256`: the challenge is the base64url SHA-256 of the verifier.
    S256(String),
}

/// An authorization code issued by `/api/auth`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationCode {
    /// The account that signed in.
    pub account_id: u32,
    /// The client id given at sign-in.
    pub client_id: String,
    /// The redirect URI given at sign-in.
    pub redirect_uri: String,
    /// The PKCE challenge.
    pub code_challenge: Pkce,
    /// The granted scope (for a registered client, only its registered part).
    pub scope: Option<String>,
    /// The OpenID `nonce`, copied into the `id_token`.
    pub nonce: Option<String>,
    /// Issue time (Unix seconds).
    pub issued_at: i64,
    /// Expiry (Unix seconds).
    pub expires_at: i64,
}

/// What a device grant is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Not yet approved (`authorization_pending`).
    Pending,
    /// Approved by this account; the next poll gets the tokens.
    Authorized(u32),
}

/// A device authorization (`/auth/device`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceGrant {
    /// The client id that asked.
    pub client_id: String,
    /// The requested scope, reduced to the known scopes.
    pub scope: Option<String>,
    /// The OpenID `nonce`.
    pub nonce: Option<String>,
    /// The user code (`XXXX-XXXX`) while it is unused.
    pub user_code: Option<String>,
    /// Pending or approved.
    pub status: DeviceStatus,
    /// Expiry (Unix seconds).
    pub expires_at: i64,
}

/// The kind of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// Sent as `Authorization: Bearer`.
    Access,
    /// Exchanged at `/auth/token` for new access tokens.
    Refresh,
}

/// What the server knows about an issued token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    /// Access or refresh token.
    pub kind: TokenKind,
    /// The account.
    pub account_id: u32,
    /// Issue time (Unix seconds).
    pub issued_at: i64,
    /// Expiry (Unix seconds).
    pub expires_at: i64,
}

impl TokenInfo {
    /// Whether the token is valid at `now` (the real server's check).
    pub fn valid_at(&self, now: i64) -> bool {
        self.expires_at > now && self.issued_at <= now
    }
}

/// A client registered through `/auth/register` (public clients only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredClient {
    /// The registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// The registered scope, as a mask over [`SUPPORTED_SCOPES`].
    pub scope_mask: u64,
    /// `client_name`.
    pub client_name: Option<String>,
}

#[derive(Default)]
struct Inner {
    codes: HashMap<String, AuthorizationCode>,
    devices: HashMap<String, DeviceGrant>,
    tokens: HashMap<String, TokenInfo>,
    clients: HashMap<String, RegisteredClient>,
}

/// Issued OAuth codes, device grants, tokens and registered clients.
#[derive(Default)]
pub struct OAuthStore {
    inner: Mutex<Inner>,
    signer: OnceLock<Option<jwt::Signer>>,
}

impl std::fmt::Debug for OAuthStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Codes and tokens are secrets: only counts.
        let inner = self.lock();
        f.debug_struct("OAuthStore")
            .field("codes", &inner.codes.len())
            .field("devices", &inner.devices.len())
            .field("tokens", &inner.tokens.len())
            .field("clients", &inner.clients.len())
            .finish_non_exhaustive()
    }
}

/// `n` random alphanumerics.
fn random_alphanumeric(n: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// `n` random bytes in base64url without padding.
fn random_base64url(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The mask of the known scopes in `scope`.
pub fn scopes_to_mask(scope: &str) -> u64 {
    scope
        .split_ascii_whitespace()
        .filter_map(|s| SUPPORTED_SCOPES.iter().position(|known| *known == s))
        .fold(0, |mask, bit| mask | (1 << bit))
}

/// The part of `requested` that `mask` allows, in request order; `None` when empty.
pub fn grant_scope(requested: Option<&str>, mask: u64) -> Option<String> {
    let granted: Vec<&str> = requested
        .unwrap_or_default()
        .split_ascii_whitespace()
        .filter(|scope| {
            let bit = scopes_to_mask(scope);
            bit != 0 && mask & bit == bit
        })
        .collect();
    (!granted.is_empty()).then(|| granted.join(" "))
}

impl OAuthStore {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    // ---- authorization codes -----------------------------------------------------------

    /// Stores a new authorization code and returns its 40-character text.
    pub fn issue_code(&self, code: AuthorizationCode) -> String {
        let text = random_alphanumeric(40);
        self.lock().codes.insert(text.clone(), code);
        text
    }

    /// The unexpired authorization code `text` (an expired one is dropped).
    pub fn code(&self, text: &str, now: i64) -> Option<AuthorizationCode> {
        let mut inner = self.lock();
        match inner.codes.get(text) {
            Some(code) if code.expires_at > now => Some(code.clone()),
            Some(_) => {
                inner.codes.remove(text);
                None
            }
            None => None,
        }
    }

    /// Uses up an authorization code.
    pub fn remove_code(&self, text: &str) {
        self.lock().codes.remove(text);
    }

    /// How many authorization codes are outstanding (for tests).
    pub fn code_count(&self) -> usize {
        self.lock().codes.len()
    }

    // ---- device grants -----------------------------------------------------------------

    /// Stores a new pending device grant; returns its device code and user code.
    pub fn issue_device(
        &self,
        client_id: String,
        scope: Option<String>,
        nonce: Option<String>,
        expires_at: i64,
    ) -> (String, String) {
        let device_code = random_alphanumeric(40);
        let mut rng = rand::thread_rng();
        let mut user_code = String::with_capacity(9);
        for pos in 0..8 {
            if pos == 4 {
                user_code.push('-');
            }
            let index = rng.gen_range(0..USER_CODE_ALPHABET.len());
            user_code.push(char::from(
                USER_CODE_ALPHABET.get(index).copied().unwrap_or(b'A'),
            ));
        }
        self.lock().devices.insert(
            device_code.clone(),
            DeviceGrant {
                client_id,
                scope,
                nonce,
                user_code: Some(user_code.clone()),
                status: DeviceStatus::Pending,
                expires_at,
            },
        );
        (device_code, user_code)
    }

    /// The unexpired device grant of `device_code`.
    pub fn device(&self, device_code: &str, now: i64) -> Option<DeviceGrant> {
        let mut inner = self.lock();
        match inner.devices.get(device_code) {
            Some(grant) if grant.expires_at > now => Some(grant.clone()),
            Some(_) => {
                inner.devices.remove(device_code);
                None
            }
            None => None,
        }
    }

    /// The device code of a pending, unexpired grant with this user code.
    pub fn pending_device_by_user_code(&self, user_code: &str, now: i64) -> Option<String> {
        self.lock()
            .devices
            .iter()
            .find(|(_, grant)| {
                grant.user_code.as_deref() == Some(user_code)
                    && grant.status == DeviceStatus::Pending
                    && grant.expires_at > now
            })
            .map(|(code, _)| code.clone())
    }

    /// Approves a device grant for `account_id`: the user code is used up and the device
    /// code now expires at `expires_at`.
    pub fn approve_device(&self, device_code: &str, account_id: u32, expires_at: i64) {
        if let Some(grant) = self.lock().devices.get_mut(device_code) {
            grant.user_code = None;
            grant.status = DeviceStatus::Authorized(account_id);
            grant.expires_at = expires_at;
        }
    }

    /// Forgets a device grant (its tokens were issued).
    pub fn remove_device(&self, device_code: &str) {
        self.lock().devices.remove(device_code);
    }

    // ---- tokens ------------------------------------------------------------------------

    /// Issues a token for `account_id` (named `account_name`), valid from `now` for `ttl`
    /// seconds: `sw1.` + 50 random bytes + `.` + the account name, both in base64url.
    pub fn issue_token(
        &self,
        kind: TokenKind,
        account_id: u32,
        account_name: &str,
        now: i64,
        ttl: u64,
    ) -> String {
        let text = format!(
            "sw1.{}.{}",
            random_base64url(50),
            URL_SAFE_NO_PAD.encode(account_name.as_bytes())
        );
        self.lock().tokens.insert(
            text.clone(),
            TokenInfo {
                kind,
                account_id,
                issued_at: now,
                expires_at: now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX)),
            },
        );
        text
    }

    /// The token `text` of kind `kind` if it exists, is not revoked and is valid at `now`.
    pub fn validate_token(&self, text: &str, kind: TokenKind, now: i64) -> Option<TokenInfo> {
        self.token(text, now).filter(|info| info.kind == kind)
    }

    /// The token `text` of either kind if it is valid at `now`.
    pub fn token(&self, text: &str, now: i64) -> Option<TokenInfo> {
        self.lock()
            .tokens
            .get(text)
            .copied()
            .filter(|info| info.valid_at(now))
    }

    /// The account of a valid bearer access token.
    pub fn validate_access_token(&self, token: &str, now: i64) -> Option<u32> {
        self.validate_token(token, TokenKind::Access, now)
            .map(|info| info.account_id)
    }

    /// Revokes every access and refresh token of an account; called on every password
    /// change, as the real server does. Authorization codes and device grants are left
    /// alone (tokens issued from them later are valid).
    pub fn revoke_account(&self, account_id: u32) {
        self.lock()
            .tokens
            .retain(|_, info| info.account_id != account_id);
    }

    /// How many access and refresh tokens of the account are valid at `now`.
    pub fn active_tokens(&self, account_id: u32, now: i64) -> usize {
        self.lock()
            .tokens
            .values()
            .filter(|info| info.account_id == account_id && info.valid_at(now))
            .count()
    }

    // ---- registered clients ------------------------------------------------------------

    /// Registers a public client; returns its 109-character `swc1.…` id.
    pub fn register_client(&self, client: RegisteredClient) -> String {
        let id = format!("swc1.{}", random_base64url(78));
        self.lock().clients.insert(id.clone(), client);
        id
    }

    /// A registered client.
    pub fn client(&self, client_id: &str) -> Option<RegisteredClient> {
        self.lock().clients.get(client_id).cloned()
    }

    // ---- id_token signing --------------------------------------------------------------

    /// The server's ES256 signing key, made on first use (`None` if the crypto backend
    /// failed, in which case `id_token`s are left out).
    pub fn signer(&self) -> Option<&jwt::Signer> {
        self.signer.get_or_init(jwt::Signer::generate).as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_the_recorded_shape() {
        let store = OAuthStore::default();
        let token = store.issue_token(TokenKind::Access, 2, "alice@example.org", 1000, 3600);
        assert_eq!(token.len(), 95);
        assert!(token.starts_with("sw1."));
        assert!(token.ends_with(".YWxpY2VAZXhhbXBsZS5vcmc"));
        assert_eq!(store.validate_access_token(&token, 1000), Some(2));
        assert_eq!(store.validate_access_token(&token, 4599), Some(2));
        assert_eq!(store.validate_access_token(&token, 4600), None);
        assert_eq!(store.validate_access_token(&token, 999), None);
        assert_eq!(store.validate_token(&token, TokenKind::Refresh, 1000), None);
        let client = store.register_client(RegisteredClient {
            redirect_uris: vec![],
            scope_mask: 0,
            client_name: None,
        });
        assert_eq!(client.len(), 109);
    }

    #[test]
    fn revocation_is_per_account() {
        let store = OAuthStore::default();
        let a = store.issue_token(TokenKind::Access, 2, "a", 0, 10);
        let b = store.issue_token(TokenKind::Refresh, 3, "b", 0, 10);
        assert_eq!(store.active_tokens(2, 1), 1);
        store.revoke_account(2);
        assert_eq!(store.validate_access_token(&a, 1), None);
        assert!(store.validate_token(&b, TokenKind::Refresh, 1).is_some());
    }

    #[test]
    fn scopes_are_filtered_by_the_registration() {
        let mask = scopes_to_mask("openid offline_access urn:ietf:params:oauth:scope:mail");
        assert_eq!(
            grant_scope(
                Some("openid offline_access urn:ietf:params:oauth:scope:mail urn:ietf:params:oauth:scope:calendars"),
                mask
            )
            .as_deref(),
            Some("openid offline_access urn:ietf:params:oauth:scope:mail")
        );
        assert_eq!(grant_scope(Some("custom"), u64::MAX), None);
    }

    #[test]
    fn user_codes_have_the_recorded_shape() {
        let store = OAuthStore::default();
        let (device, user) = store.issue_device("c".to_owned(), None, None, 100);
        assert_eq!(device.len(), 40);
        assert_eq!(user.len(), 9);
        assert_eq!(user.as_bytes().get(4), Some(&b'-'));
        assert_eq!(
            store.pending_device_by_user_code(&user, 0).as_deref(),
            Some(device.as_str())
        );
        store.approve_device(&device, 2, 50);
        assert_eq!(store.pending_device_by_user_code(&user, 0), None);
        assert_eq!(
            store.device(&device, 0).map(|g| g.status),
            Some(DeviceStatus::Authorized(2))
        );
        assert_eq!(store.device(&device, 50), None);
    }
}
