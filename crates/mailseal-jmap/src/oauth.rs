//! Stalwart's own OAuth 2 sign-in, without a browser: the only way to sign in with the
//! password while two-factor authentication is on (HTTP Basic then answers 402).
//!
//! * Authorization code with PKCE (S256): `POST /api/auth` `authCode` (answers
//!   `mfaRequired` until a code is sent, then a `client_code`), then the form-encoded
//!   exchange at the `token_endpoint` of `/.well-known/oauth-authorization-server`.
//! * Refresh: `grant_type=refresh_token`; Stalwart returns only a new access token (and a new
//!   refresh token only when the old one has at most four days left).
//! * Device grant ([`DeviceSignIn`]): `/auth/device`, then polling; approved on another
//!   device, or with [`approve_device`].
//!
//! Tokens are [`OAuthTokens`]: zeroized, redacted in `Debug`, with their expiry, and
//! serializable so that apps can keep them in the system keychain ([`OAuthTokens::to_json`]).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use url::Url;

use crate::credential::CodeProvider;
use crate::error::Error;
use crate::secret::Secret;

/// How this client presents itself to the server's OAuth service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthOptions {
    /// The client id. Stalwart accepts any unregistered id with an `https://` redirect URI.
    pub client_id: String,
    /// The redirect URI sent with the login; no browser is sent there, but the token
    /// exchange must repeat it exactly.
    pub redirect_uri: String,
    /// The scope requested (the one recorded from a real server by default).
    pub scope: Option<String>,
}

impl Default for OAuthOptions {
    fn default() -> Self {
        OAuthOptions {
            client_id: "mailseal".into(),
            redirect_uri: "https://mailseal.invalid/oauth/callback".into(),
            scope: Some("openid offline_access urn:ietf:params:oauth:scope:mail".into()),
        }
    }
}

/// An OAuth access token with its refresh token and expiry.
///
/// Owned and cheap to clone; the tokens are zeroized on drop and never shown by `Debug`.
///
/// ```
/// use mailseal_jmap::OAuthTokens;
/// let text = r#"{"access_token":"sw1.a","refresh_token":"sw1.r","expires_at":1900000000,
///                "client_id":"mailseal","user":"alice@example.org"}"#;
/// let tokens = OAuthTokens::from_json(text).unwrap();
/// assert_eq!(tokens.user(), "alice@example.org");
/// assert!(!format!("{tokens:?}").contains("sw1.a"));
/// assert_eq!(OAuthTokens::from_json(tokens.to_json().expose()).unwrap(), tokens);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthTokens {
    access_token: Secret,
    refresh_token: Option<Secret>,
    expires_at: u64,
    client_id: String,
    user: String,
}

/// The stored form of [`OAuthTokens`]; wiped when dropped.
#[derive(Serialize, Deserialize, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
struct StoredTokens {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    expires_at: u64,
    client_id: String,
    user: String,
}

impl OAuthTokens {
    /// Tokens obtained elsewhere: `expires_at` is when the access token stops working.
    pub fn new(
        user: impl Into<String>,
        client_id: impl Into<String>,
        access_token: Secret,
        refresh_token: Option<Secret>,
        expires_at: SystemTime,
    ) -> Self {
        OAuthTokens {
            access_token,
            refresh_token,
            expires_at: unix(expires_at),
            client_id: client_id.into(),
            user: user.into(),
        }
    }

    /// The access token (sent as `Authorization: Bearer`).
    pub fn access_token(&self) -> &Secret {
        &self.access_token
    }

    /// The refresh token, if the server issued one.
    pub fn refresh_token(&self) -> Option<&Secret> {
        self.refresh_token.as_ref()
    }

    /// When the access token expires.
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.expires_at)
    }

    /// The client id the tokens were issued to (a refresh must repeat it).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The account that signed in.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Whether the access token expires within `margin` of `now`.
    pub fn expires_within(&self, margin: Duration, now: SystemTime) -> bool {
        unix(now).saturating_add(margin.as_secs()) >= self.expires_at
    }

    /// The tokens as a JSON object, for the caller's keychain or keystore. This text is a
    /// secret: store it as one.
    pub fn to_json(&self) -> Secret {
        let stored = StoredTokens {
            access_token: self.access_token.expose().to_owned(),
            refresh_token: self.refresh_token.as_ref().map(|t| t.expose().to_owned()),
            expires_at: self.expires_at,
            client_id: self.client_id.clone(),
            user: self.user.clone(),
        };
        Secret::new(serde_json::to_string(&stored).unwrap_or_default())
    }

    /// Reads tokens saved with [`OAuthTokens::to_json`].
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let stored: StoredTokens = serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("saved sign-in is not valid: {e}")))?;
        Ok(OAuthTokens {
            access_token: Secret::new(stored.access_token.as_str()),
            refresh_token: stored.refresh_token.as_deref().map(Secret::new),
            expires_at: stored.expires_at,
            client_id: stored.client_id.clone(),
            user: stored.user.clone(),
        })
    }
}

impl fmt::Debug for OAuthTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthTokens")
            .field("user", &self.user)
            .field("client_id", &self.client_id)
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Stalwart's JSON login, behind its `/login` and `/device` pages (not in the metadata).
const LOGIN_PATH: &str = "/api/auth";

/// The endpoints of the server's OAuth service.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    /// `POST /api/auth`, the JSON login behind the `/login` page.
    pub(crate) login: Url,
    /// The token endpoint.
    pub(crate) token: Url,
    /// The device authorization endpoint, if offered.
    pub(crate) device: Option<Url>,
}

/// Reads `/.well-known/oauth-authorization-server`. Endpoints on another origin are refused:
/// the password never leaves the server it was meant for.
pub(crate) async fn discover(http: &reqwest::Client, base: &Url) -> Result<Endpoints, Error> {
    let url = join(base, "/.well-known/oauth-authorization-server")?;
    let resp = http.get(url).send().await?;
    if !resp.status().is_success() {
        return Err(Error::NotAvailable {
            reason: format!(
                "the server offers no OAuth sign-in (HTTP {} for its OAuth metadata); sign in \
                 with an app password instead",
                resp.status().as_u16()
            ),
        });
    }
    let meta: Value = resp
        .json()
        .await
        .map_err(|e| Error::protocol(format!("OAuth metadata: {e}")))?;
    let endpoint = |name: &str| -> Result<Option<Url>, Error> {
        let Some(text) = meta.get(name).and_then(Value::as_str) else {
            return Ok(None);
        };
        let url = base
            .join(text)
            .map_err(|e| Error::protocol(format!("bad {name} {text}: {e}")))?;
        if url.origin() != base.origin() {
            return Err(Error::protocol(format!(
                "the {name} {url} is on another server"
            )));
        }
        Ok(Some(url))
    };
    Ok(Endpoints {
        login: join(base, LOGIN_PATH)?,
        token: endpoint("token_endpoint")?
            .ok_or_else(|| Error::protocol("OAuth metadata without token_endpoint"))?,
        device: endpoint("device_authorization_endpoint")?,
    })
}

fn join(base: &Url, path: &str) -> Result<Url, Error> {
    base.join(path)
        .map_err(|e| Error::protocol(format!("bad URL {path}: {e}")))
}

/// A PKCE pair (RFC 7636): a 64-character verifier and its S256 challenge.
struct Pkce {
    verifier: Secret,
    challenge: String,
}

impl Pkce {
    fn new() -> Self {
        let mut raw = zeroize::Zeroizing::new([0u8; 48]);
        rand::thread_rng().fill_bytes(raw.as_mut());
        let verifier = Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(*raw));
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.expose().as_bytes()));
        Pkce {
            verifier,
            challenge,
        }
    }
}

/// Asks `codes` for a code, off the async executor (a provider may block on a prompt).
pub(crate) async fn ask_code(
    codes: &std::sync::Arc<dyn CodeProvider>,
    user: &str,
) -> Result<Secret, Error> {
    let codes = std::sync::Arc::clone(codes);
    let user = user.to_owned();
    let code = tokio::task::spawn_blocking(move || codes.totp_code(&user))
        .await
        .map_err(|e| Error::invalid(format!("the code prompt failed: {e}")))?;
    code.ok_or_else(|| Error::SignInRequired {
        reason: "two-factor authentication is on and no code was entered".into(),
    })
}

/// The answer of `POST /api/auth`.
enum LoginAnswer {
    Authenticated(Value),
    MfaRequired,
    Verified,
}

/// Posts `body` to `/api/auth`, adding `mfaToken` from `codes` when the server asks.
async fn login_with_code(
    http: &reqwest::Client,
    login: &Url,
    mut body: Value,
    user: &str,
    codes: Option<&std::sync::Arc<dyn CodeProvider>>,
) -> Result<Value, Error> {
    for attempt in 0..2 {
        match post_login(http, login, &body).await? {
            LoginAnswer::Authenticated(v) => return Ok(v),
            LoginAnswer::Verified => return Ok(json!({"type": "verified"})),
            LoginAnswer::MfaRequired if attempt == 0 => {
                let Some(codes) = codes else {
                    return Err(Error::SignInRequired {
                        reason: "two-factor authentication is on: the current code from the \
                                 authenticator app is needed to sign in"
                            .into(),
                    });
                };
                let code = ask_code(codes, user).await?;
                if let Some(obj) = body.as_object_mut() {
                    obj.insert("mfaToken".into(), Value::String(code.expose().to_owned()));
                }
            }
            LoginAnswer::MfaRequired => {
                return Err(Error::Unauthorized {
                    detail: "the server asked for the two-factor code again".into(),
                });
            }
        }
    }
    Err(Error::protocol("the sign-in did not finish"))
}

async fn post_login(
    http: &reqwest::Client,
    login: &Url,
    body: &Value,
) -> Result<LoginAnswer, Error> {
    let resp = http.post(login.clone()).json(body).send().await?;
    let value = crate::client::read_json(resp).await?;
    match value.get("type").and_then(Value::as_str) {
        Some("authenticated") => Ok(LoginAnswer::Authenticated(value)),
        Some("mfaRequired") => Ok(LoginAnswer::MfaRequired),
        Some("verified") => Ok(LoginAnswer::Verified),
        Some("failure") => Err(Error::Unauthorized {
            detail: "wrong user name, password or two-factor code".into(),
        }),
        other => Err(Error::protocol(format!(
            "unexpected sign-in answer {}",
            other.unwrap_or("without a type")
        ))),
    }
}

/// Signs in with the password (and a code from `codes` when two-factor authentication is
/// on): authorization code with PKCE, then the token exchange.
pub(crate) async fn sign_in(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    options: &OAuthOptions,
    user: &str,
    password: &Secret,
    codes: Option<&std::sync::Arc<dyn CodeProvider>>,
) -> Result<OAuthTokens, Error> {
    let pkce = Pkce::new();
    let mut body = json!({
        "type": "authCode",
        "accountName": user,
        "accountSecret": password.expose(),
        "clientId": options.client_id,
        "redirectUri": options.redirect_uri,
        "codeChallenge": pkce.challenge,
        "codeChallengeMethod": "S256",
    });
    if let (Some(scope), Some(obj)) = (&options.scope, body.as_object_mut()) {
        obj.insert("scope".into(), Value::String(scope.clone()));
    }
    let answer = login_with_code(http, &endpoints.login, body, user, codes).await?;
    let code = Secret::new(
        answer
            .get("client_code")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::protocol("sign-in answer without client_code"))?,
    );
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.expose()),
        ("client_id", options.client_id.as_str()),
        ("redirect_uri", options.redirect_uri.as_str()),
        ("code_verifier", pkce.verifier.expose()),
    ];
    token_request(
        http,
        &endpoints.token,
        &form,
        user,
        &options.client_id,
        None,
    )
    .await
}

/// Refreshes `tokens`; the refresh token is kept unless the server sends a new one.
pub(crate) async fn refresh(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    tokens: &OAuthTokens,
) -> Result<OAuthTokens, Error> {
    let refresh_token = tokens
        .refresh_token
        .as_ref()
        .ok_or_else(|| Error::SignInRequired {
            reason: "the sign-in has expired and the server gave no refresh token".into(),
        })?;
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose()),
        ("client_id", tokens.client_id.as_str()),
    ];
    token_request(
        http,
        &endpoints.token,
        &form,
        &tokens.user,
        &tokens.client_id,
        Some(refresh_token),
    )
    .await
}

/// Posts a form to the token endpoint and reads the token set (or the OAuth error).
async fn token_request(
    http: &reqwest::Client,
    token_endpoint: &Url,
    form: &[(&str, &str)],
    user: &str,
    client_id: &str,
    previous_refresh: Option<&Secret>,
) -> Result<OAuthTokens, Error> {
    let body = zeroize::Zeroizing::new(
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish(),
    );
    let resp = http
        .post(token_endpoint.clone())
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body.as_bytes().to_vec())
        .send()
        .await?;
    let status = resp.status();
    let bytes = zeroize::Zeroizing::new(resp.bytes().await?.to_vec());
    if !status.is_success() {
        let answer: TokenAnswer = serde_json::from_slice(&bytes).unwrap_or_default();
        return Err(oauth_error(
            status.as_u16(),
            answer.error.as_deref(),
            answer.error_description.as_deref(),
        ));
    }
    parse_token_answer(&bytes, user, client_id, previous_refresh)
}

/// Reads a successful token answer into tokens for `user`; the refresh token is kept from
/// `previous_refresh` when the answer has none (Stalwart's refresh grant).
pub(crate) fn parse_token_answer(
    bytes: &[u8],
    user: &str,
    client_id: &str,
    previous_refresh: Option<&Secret>,
) -> Result<OAuthTokens, Error> {
    let answer: TokenAnswer =
        serde_json::from_slice(bytes).map_err(|e| Error::protocol(format!("token answer: {e}")))?;
    let access_token = answer
        .access_token
        .as_deref()
        .ok_or_else(|| Error::protocol("token answer without access_token"))?;
    let refresh_token = answer
        .refresh_token
        .as_deref()
        .map(Secret::new)
        .or_else(|| previous_refresh.cloned());
    Ok(OAuthTokens {
        access_token: Secret::new(access_token),
        refresh_token,
        expires_at: unix(SystemTime::now()).saturating_add(answer.expires_in.unwrap_or(3600)),
        client_id: client_id.to_owned(),
        user: user.to_owned(),
    })
}

/// A token endpoint answer (RFC 6749 §5.1 and §5.2); the tokens are wiped when it is dropped.
#[derive(Default, Deserialize, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
struct TokenAnswer {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// The error of a refused token request (`{"error": …}`, RFC 6749 §5.2).
fn oauth_error(status: u16, error: Option<&str>, description: Option<&str>) -> Error {
    match error {
        Some(error) => Error::OAuth {
            error: error.to_owned(),
            description: description.map(str::to_owned),
        },
        None => Error::Request {
            status,
            kind: "about:blank".into(),
            detail: String::new(),
        },
    }
}

/// A device sign-in in progress (RFC 8628): show [`DeviceSignIn::user_code`] and
/// [`DeviceSignIn::verification_uri`] to the user, then [`DeviceSignIn::wait`].
pub struct DeviceSignIn {
    http: reqwest::Client,
    token: Url,
    device_code: Secret,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: Option<String>,
    expires_at: SystemTime,
    interval: Duration,
    client_id: String,
    user: String,
}

impl fmt::Debug for DeviceSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceSignIn")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl DeviceSignIn {
    /// Starts a device sign-in for `user` on the server at `base_url`.
    pub async fn start(
        base_url: &str,
        user: &str,
        options: &crate::ConnectOptions,
    ) -> Result<DeviceSignIn, Error> {
        let (http, base) = crate::client::http_client(base_url, options)?;
        let endpoints = discover(&http, &base).await?;
        let device = endpoints.device.ok_or_else(|| Error::NotAvailable {
            reason: "the server offers no device sign-in".into(),
        })?;
        let mut form = vec![("client_id", options.oauth.client_id.as_str())];
        if let Some(scope) = &options.oauth.scope {
            form.push(("scope", scope.as_str()));
        }
        let resp = http.post(device).form(&form).send().await?;
        let status = resp.status();
        let value: Value = resp
            .json()
            .await
            .map_err(|e| Error::protocol(format!("device answer: {e}")))?;
        if !status.is_success() {
            return Err(oauth_error(
                status.as_u16(),
                value.get("error").and_then(Value::as_str),
                value.get("error_description").and_then(Value::as_str),
            ));
        }
        let text = |name: &str| {
            value
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| Error::protocol(format!("device answer without {name}")))
        };
        let verification_uri = base
            .join(&text("verification_uri")?)
            .map_err(|e| Error::protocol(format!("bad verification_uri: {e}")))?
            .to_string();
        let verification_uri_complete = match text("verification_uri_complete") {
            Ok(t) => base.join(&t).ok().map(|u| u.to_string()),
            Err(_) => None,
        };
        let expires_in = value
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(1800);
        let interval = value.get("interval").and_then(Value::as_u64).unwrap_or(5);
        Ok(DeviceSignIn {
            device_code: Secret::new(text("device_code")?),
            user_code: text("user_code")?,
            verification_uri,
            verification_uri_complete,
            expires_at: SystemTime::now() + Duration::from_secs(expires_in),
            interval: Duration::from_secs(interval),
            token: endpoints.token,
            http,
            client_id: options.oauth.client_id.clone(),
            user: user.to_owned(),
        })
    }

    /// The code the user enters on the verification page (`XXXX-XXXX`).
    pub fn user_code(&self) -> &str {
        &self.user_code
    }

    /// Where the user approves the sign-in.
    pub fn verification_uri(&self) -> &str {
        &self.verification_uri
    }

    /// The verification page with the code filled in, if the server gives one.
    pub fn verification_uri_complete(&self) -> Option<&str> {
        self.verification_uri_complete.as_deref()
    }

    /// How long to wait between polls, as the server asks.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Polls once: `Ok(None)` while the user has not approved yet.
    pub async fn poll(&self) -> Result<Option<OAuthTokens>, Error> {
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", self.device_code.expose()),
            ("client_id", self.client_id.as_str()),
        ];
        match token_request(
            &self.http,
            &self.token,
            &form,
            &self.user,
            &self.client_id,
            None,
        )
        .await
        {
            Ok(tokens) => Ok(Some(tokens)),
            Err(Error::OAuth { error, .. })
                if error == "authorization_pending" || error == "slow_down" =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Polls at the server's interval until the user approves, refuses, or the code expires.
    pub async fn wait(&self) -> Result<OAuthTokens, Error> {
        loop {
            if let Some(tokens) = self.poll().await? {
                return Ok(tokens);
            }
            if SystemTime::now() >= self.expires_at {
                return Err(Error::OAuth {
                    error: "expired_token".into(),
                    description: Some("the device code expired before it was approved".into()),
                });
            }
            tokio::time::sleep(self.interval).await;
        }
    }
}

/// Approves a device sign-in (`user_code`) with the password, and a code from `codes` when
/// two-factor authentication is on, as the server's `/device` page does.
pub async fn approve_device(
    base_url: &str,
    user: &str,
    password: &Secret,
    user_code: &str,
    codes: Option<std::sync::Arc<dyn CodeProvider>>,
    options: &crate::ConnectOptions,
) -> Result<(), Error> {
    let (http, base) = crate::client::http_client(base_url, options)?;
    let login = join(&base, LOGIN_PATH)?;
    let body = json!({
        "type": "authDevice",
        "accountName": user,
        "accountSecret": password.expose(),
        "code": user_code,
    });
    let answer = login_with_code(&http, &login, body, user, codes.as_ref()).await?;
    match answer.get("type").and_then(Value::as_str) {
        Some("verified") => Ok(()),
        _ => Err(Error::protocol("the device approval was not confirmed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_is_s256_of_the_verifier() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()));
        assert_eq!(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let p = Pkce::new();
        assert_eq!(p.verifier.expose().len(), 64);
        assert_ne!(p.challenge, Pkce::new().challenge);
    }

    #[test]
    fn tokens_expire_with_a_margin() {
        let t = OAuthTokens::new(
            "a",
            "c",
            Secret::new("x"),
            None,
            UNIX_EPOCH + Duration::from_secs(1000),
        );
        let at = |s| UNIX_EPOCH + Duration::from_secs(s);
        assert!(!t.expires_within(Duration::from_secs(60), at(900)));
        assert!(t.expires_within(Duration::from_secs(60), at(940)));
        assert!(t.expires_within(Duration::ZERO, at(1000)));
    }

    #[test]
    fn a_refresh_answer_keeps_the_refresh_token() {
        let old = Secret::new("sw1.refresh");
        let t = parse_token_answer(
            br#"{"access_token":"sw1.new","token_type":"bearer","expires_in":3600}"#,
            "alice@example.org",
            "mailseal",
            Some(&old),
        )
        .unwrap();
        assert_eq!(t.access_token().expose(), "sw1.new");
        assert_eq!(t.refresh_token(), Some(&old));
        assert!(t.expires_within(Duration::from_secs(3601), SystemTime::now()));
        assert!(!t.expires_within(Duration::from_secs(3500), SystemTime::now()));
        for bad in [&b"{}"[..], b"[]", b"{\"access_token\":7}", b"\xff"] {
            assert_eq!(
                parse_token_answer(bad, "a", "c", None).unwrap_err().code(),
                "jmap.protocol"
            );
        }
    }

    #[test]
    fn oauth_errors_keep_the_error_code() {
        let e = oauth_error(400, Some("invalid_grant"), None);
        assert_eq!(e.code(), "jmap.oauth.invalid_grant");
        assert!(e.to_string().contains("sign in again"));
        let e = oauth_error(500, None, None);
        assert_eq!(e.code(), "jmap.request_rejected");
    }
}
