//! [`OAuthTokens`] and the token endpoint (RFC 6749 §4.1.3, §5, §6): the exchange of a code
//! or device code for tokens, refresh, and the OAuth errors.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use url::Url;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::http::{Server, form_body};
use crate::secret::Secret;

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

/// Refreshes `tokens`; the refresh token is kept unless the server sends a new one.
pub(crate) async fn refresh(
    server: &Server,
    token_endpoint: &Url,
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
        server,
        token_endpoint,
        &form,
        &tokens.user,
        &tokens.client_id,
        Some(refresh_token),
    )
    .await
}

/// Posts a form to the token endpoint and reads the token set (or the OAuth error).
pub(crate) async fn token_request(
    server: &Server,
    token_endpoint: &Url,
    form: &[(&str, &str)],
    user: &str,
    client_id: &str,
    previous_refresh: Option<&Secret>,
) -> Result<OAuthTokens, Error> {
    server.check_origin(token_endpoint, "token_endpoint")?;
    let resp = server
        .http
        .post(token_endpoint.clone())
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(form_body(form))
        .send()
        .await?;
    let status = resp.status();
    let bytes = Zeroizing::new(resp.bytes().await?.to_vec());
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
pub(crate) fn oauth_error(status: u16, error: Option<&str>, description: Option<&str>) -> Error {
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

#[cfg(test)]
mod tests {
    use super::*;

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
