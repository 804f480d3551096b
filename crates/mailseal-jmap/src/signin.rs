//! The sign-in state machine: how the next request is signed, and what a refusal leads to.
//!
//! ```text
//!                             connect(credential)
//!            ┌─────────────────────────┼──────────────────────────────┐
//!            ▼                         ▼                              ▼
//!   Basic(password)        Basic(app password) / API key /      OAuth(tokens) ◄──────┐
//!            │             bearer token: no way out, a 401      │   │ about to expire │
//!            │             or 402 is the caller's error         │   │ or 401: refresh ┤
//!            │ 402 (two-factor on), with a code provider        │   ▼                 │
//!            ├── 0.16: OAuth sign-in with PKCE + code ─────────►│ refused (revoked):  │
//!            └── 0.15: Basic(password$code) ◄─┐                 │ password known? ────┘
//!                         │ 401: ask a new ───┘                 │   yes: OAuth sign-in
//!                         │ code                                │   no:  SignInRequired
//! ```
//!
//! A request is retried at most once, after one transition. `enable_totp` moves a password
//! session to OAuth itself before saving the secret ([`SignIn::sign_in_oauth`]), and a
//! password change swaps the password in the credential ([`SignIn::password_changed`]).

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use crate::credential::{Credential, SignInMethod, ask_code, basic_header, bearer_header};
use crate::error::Error;
use crate::http::Server;
use crate::oauth::discovery::{Endpoints, discover};
use crate::oauth::login;
use crate::oauth::tokens::{self, OAuthTokens};
use crate::options::OAuthOptions;
use crate::secret::Secret;

/// How long before its expiry an access token is refreshed.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// How requests are signed right now.
#[derive(Clone)]
enum Active {
    /// A fixed `Authorization` header (Basic, API key, bare bearer token).
    Fixed {
        header: Secret,
        method: SignInMethod,
    },
    /// OAuth tokens, refreshed before they expire.
    OAuth(OAuthTokens),
}

impl Active {
    fn of(credential: &Credential) -> Active {
        let fixed = |header: Secret, method: SignInMethod| Active::Fixed { header, method };
        match credential {
            Credential::Password { user, password }
            | Credential::PasswordAndCode { user, password, .. } => fixed(
                basic_header(user, password.expose()),
                SignInMethod::Password,
            ),
            Credential::AppPassword { user, secret } => fixed(
                basic_header(user, secret.expose()),
                SignInMethod::AppPassword,
            ),
            Credential::ApiKey(token) => fixed(bearer_header(token), SignInMethod::ApiKey),
            Credential::Bearer(token) => fixed(bearer_header(token), SignInMethod::OAuth),
            Credential::OAuth(tokens) => Active::OAuth(tokens.clone()),
        }
    }

    fn method(&self) -> SignInMethod {
        match self {
            Active::Fixed { method, .. } => *method,
            Active::OAuth(_) => SignInMethod::OAuth,
        }
    }
}

/// The credential the caller gave and how it is being used.
struct State {
    credential: Credential,
    active: Active,
}

/// The sign-in of one client.
pub(crate) struct SignIn {
    server: Server,
    oauth: OAuthOptions,
    state: Mutex<State>,
    endpoints: Mutex<Option<Endpoints>>,
}

/// Locks `m`; a panic elsewhere while it was held leaves data that is still whole (every
/// update is a single assignment), so poisoning is ignored.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SignIn {
    /// Starts in the state `credential` gives.
    pub(crate) fn new(server: Server, credential: Credential, oauth: OAuthOptions) -> Self {
        SignIn {
            server,
            oauth,
            state: Mutex::new(State {
                active: Active::of(&credential),
                credential,
            }),
            endpoints: Mutex::new(None),
        }
    }

    /// The credential the client was given (or last set).
    pub(crate) fn credential(&self) -> Credential {
        lock(&self.state).credential.clone()
    }

    /// How requests are signed right now.
    pub(crate) fn method(&self) -> SignInMethod {
        lock(&self.state).active.method()
    }

    /// The current OAuth tokens, when requests are signed with them.
    pub(crate) fn oauth_tokens(&self) -> Option<OAuthTokens> {
        match &lock(&self.state).active {
            Active::OAuth(tokens) => Some(tokens.clone()),
            Active::Fixed { .. } => None,
        }
    }

    /// Replaces the credential (a new sign-in).
    pub(crate) fn set_credential(&self, credential: Credential) {
        let mut state = lock(&self.state);
        state.active = Active::of(&credential);
        state.credential = credential;
    }

    /// Takes the new password after a successful change: Basic sessions use it at once;
    /// OAuth sessions, whose tokens the server has just revoked, sign in again with it when
    /// the next request is refused.
    pub(crate) fn password_changed(&self, new: &Secret) {
        let mut state = lock(&self.state);
        let Some(updated) = state.credential.with_password(new) else {
            return;
        };
        // `password$code` too: on 0.15 a password change also turns two-factor off.
        if let Active::Fixed {
            method: SignInMethod::Password | SignInMethod::PasswordWithCode,
            ..
        } = state.active
        {
            state.active = Active::of(&updated);
        }
        state.credential = updated;
    }

    /// After two-factor authentication was turned off on 0.15: a `password$code` session
    /// goes back to the plain password (a code appended would now be part of it).
    pub(crate) fn totp_turned_off(&self) {
        let mut state = lock(&self.state);
        if let Active::Fixed {
            method: SignInMethod::PasswordWithCode,
            ..
        } = state.active
        {
            state.active = Active::of(&state.credential);
        }
    }

    /// The server's OAuth endpoints (read once).
    async fn endpoints(&self) -> Result<Endpoints, Error> {
        if let Some(e) = lock(&self.endpoints).clone() {
            return Ok(e);
        }
        let found = discover(&self.server).await?;
        *lock(&self.endpoints) = Some(found.clone());
        Ok(found)
    }

    /// The `Authorization` header for the next request; refreshes OAuth tokens that are
    /// about to expire.
    pub(crate) async fn authorization(&self) -> Result<Secret, Error> {
        let active = lock(&self.state).active.clone();
        match active {
            Active::Fixed { header, .. } => Ok(header),
            Active::OAuth(tokens) => {
                if tokens.expires_within(REFRESH_MARGIN, SystemTime::now())
                    && tokens.refresh_token().is_some()
                {
                    let fresh = self.refresh_or_sign_in(&tokens).await?;
                    return Ok(bearer_header(fresh.access_token()));
                }
                Ok(bearer_header(tokens.access_token()))
            }
        }
    }

    /// After the server refused a request with `error`: moves to the state that can answer
    /// it (`Ok`, send the request again once), or gives the error back.
    pub(crate) async fn recover(&self, error: Error) -> Result<(), Error> {
        match (error, self.method()) {
            (e @ Error::Unauthorized { .. }, SignInMethod::OAuth) => match self.oauth_tokens() {
                Some(tokens) => self.refresh_or_sign_in(&tokens).await.map(drop),
                // A bare access token: sign in again only with a password at hand.
                None if self.credential().password_of().is_some() => {
                    self.sign_in_oauth().await.map(drop)
                }
                None => Err(e),
            },
            // A `password$code` credential is good only while the code is current.
            (Error::Unauthorized { .. }, SignInMethod::PasswordWithCode) => {
                self.answer_mfa("$totp_token").await
            }
            (Error::TotpRequired { detail }, _) => self.answer_mfa(&detail).await,
            (e, _) => Err(e),
        }
    }

    /// Refreshes `tokens`; when the server no longer accepts them (revoked by a password
    /// change, or expired), signs in again with the password if the credential has one.
    async fn refresh_or_sign_in(&self, tokens: &OAuthTokens) -> Result<OAuthTokens, Error> {
        let refreshed = match tokens.refresh_token() {
            Some(_) => {
                let endpoints = self.endpoints().await?;
                tokens::refresh(&self.server, &endpoints.token, tokens).await
            }
            None => Err(Error::SignInRequired {
                reason: "the OAuth access token is no longer accepted".into(),
            }),
        };
        let fresh = match refreshed {
            Ok(fresh) => fresh,
            Err(e @ (Error::Transport { .. } | Error::ForeignOrigin { .. })) => return Err(e),
            Err(refusal) => {
                if self.credential().password_of().is_none() {
                    return Err(Error::SignInRequired {
                        reason: format!(
                            "the server no longer accepts the saved sign-in ({}); a password \
                             change signs out every OAuth session, and a refresh token lasts \
                             30 days",
                            refusal.code()
                        ),
                    });
                }
                return self.sign_in_oauth().await;
            }
        };
        lock(&self.state).active = Active::OAuth(fresh.clone());
        Ok(fresh)
    }

    /// Moves this session to the server's OAuth sign-in now, with the credential's password
    /// (and a code from its provider when the server asks for one). Returns the new tokens.
    pub(crate) async fn sign_in_oauth(&self) -> Result<OAuthTokens, Error> {
        let credential = self.credential();
        let Some((user, password)) = credential.password_of() else {
            return Err(Error::NotAvailable {
                reason: "signing in through OAuth needs the account password".into(),
            });
        };
        let endpoints = self.endpoints().await?;
        let tokens = login::sign_in(
            &self.server,
            &endpoints,
            &self.oauth,
            user,
            password,
            credential.codes(),
        )
        .await?;
        lock(&self.state).active = Active::OAuth(tokens.clone());
        Ok(tokens)
    }

    /// After a 402 (two-factor authentication on, HTTP Basic with the password): signs in
    /// with a code, through OAuth on 0.16, or as `password$code` Basic on 0.15 (whose 402
    /// says so).
    async fn answer_mfa(&self, detail: &str) -> Result<(), Error> {
        let credential = self.credential();
        let (Some((user, password)), Some(codes)) = (credential.password_of(), credential.codes())
        else {
            return Err(Error::TotpRequired {
                detail: detail.to_owned(),
            });
        };
        if detail.contains("$totp_token") {
            let code = ask_code(codes, user).await?;
            let secret =
                zeroize::Zeroizing::new(format!("{}${}", password.expose(), code.expose()));
            lock(&self.state).active = Active::Fixed {
                header: basic_header(user, &secret),
                method: SignInMethod::PasswordWithCode,
            };
            return Ok(());
        }
        self.sign_in_oauth().await.map(drop)
    }
}
