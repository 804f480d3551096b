//! Where OAuth state will live. This server implements only the login step of Stalwart's
//! OAuth flow (`POST /api/auth`, see [`crate::auth::login`]): it issues authorization
//! codes but has no token endpoint yet, so no bearer token other than an API key is
//! accepted. The store is shaped so that a later change can add `/auth/token`, access and
//! refresh tokens, and their revocation on password change ([`OAuthStore::revoke_account`]).

use std::collections::HashMap;
use std::sync::Mutex;

use rand::Rng;
use rand::distributions::Alphanumeric;

/// An authorization code issued by `/api/auth`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationCode {
    /// The account that signed in.
    pub account_id: u32,
    /// The client id given at sign-in.
    pub client_id: String,
    /// The redirect URI given at sign-in.
    pub redirect_uri: String,
    /// The PKCE challenge, if any.
    pub code_challenge: Option<String>,
    /// The requested scope.
    pub scope: Option<String>,
    /// Issue time (Unix seconds).
    pub issued_at: i64,
}

/// Issued OAuth codes (and, later, tokens).
#[derive(Debug, Default)]
pub struct OAuthStore {
    codes: Mutex<HashMap<String, AuthorizationCode>>,
}

impl OAuthStore {
    /// Stores a new authorization code and returns its 40-character text.
    pub fn issue_code(&self, code: AuthorizationCode) -> String {
        let text: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(40)
            .map(char::from)
            .collect();
        if let Ok(mut codes) = self.codes.lock() {
            codes.insert(text.clone(), code);
        }
        text
    }

    /// The account of a valid bearer access token. There are no access tokens yet.
    pub fn validate_access_token(&self, _token: &str) -> Option<u32> {
        None
    }

    /// Revokes every access and refresh token of an account; called on password change,
    /// as the real server does. Authorization codes are left alone, and there are no
    /// tokens yet, so today this revokes nothing.
    pub fn revoke_account(&self, account_id: u32) {
        let _ = account_id;
    }

    /// How many authorization codes are outstanding (for tests).
    pub fn code_count(&self) -> usize {
        self.codes.lock().map(|codes| codes.len()).unwrap_or(0)
    }
}
