//! The password sign-in of Stalwart's OAuth service: `POST /api/auth` (the JSON login behind
//! its `/login` and `/device` pages), answered `mfaRequired` until the two-factor code is
//! sent, then the authorization-code exchange with PKCE (RFC 7636, S256).

use base64::Engine as _;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use url::Url;

use super::discovery::Endpoints;
use super::tokens::{OAuthTokens, token_request};
use crate::credential::{Codes, ask_code};
use crate::error::Error;
use crate::http::{Server, json_body, read_json};
use crate::options::OAuthOptions;
use crate::secret::{Exposed, Secret};

/// A PKCE pair (RFC 7636): a 64-character verifier and its S256 challenge.
pub(super) struct Pkce {
    pub(super) verifier: Secret,
    pub(super) challenge: String,
}

impl Pkce {
    pub(super) fn new() -> Self {
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

/// What `POST /api/auth` is asked to do.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub(super) enum LoginRequest<'a> {
    /// Sign in for an authorization code.
    #[serde(rename_all = "camelCase")]
    AuthCode {
        account_name: &'a str,
        account_secret: Exposed<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        mfa_token: Option<Exposed<'a>>,
        client_id: &'a str,
        redirect_uri: &'a str,
        code_challenge: &'a str,
        code_challenge_method: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        scope: Option<&'a str>,
    },
    /// Approve a device sign-in.
    #[serde(rename_all = "camelCase")]
    AuthDevice {
        account_name: &'a str,
        account_secret: Exposed<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        mfa_token: Option<Exposed<'a>>,
        code: &'a str,
    },
}

impl<'a> LoginRequest<'a> {
    /// The same request with the two-factor code.
    fn with_code(self, code: &'a Secret) -> Self {
        match self {
            LoginRequest::AuthCode {
                account_name,
                account_secret,
                client_id,
                redirect_uri,
                code_challenge,
                code_challenge_method,
                scope,
                ..
            } => LoginRequest::AuthCode {
                account_name,
                account_secret,
                mfa_token: Some(Exposed(code)),
                client_id,
                redirect_uri,
                code_challenge,
                code_challenge_method,
                scope,
            },
            LoginRequest::AuthDevice {
                account_name,
                account_secret,
                code: device_code,
                ..
            } => LoginRequest::AuthDevice {
                account_name,
                account_secret,
                mfa_token: Some(Exposed(code)),
                code: device_code,
            },
        }
    }
}

/// The answer of `POST /api/auth`.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub(super) enum LoginAnswer {
    /// Signed in: the code to exchange for tokens.
    Authenticated {
        #[serde(default)]
        client_code: Option<String>,
    },
    /// The two-factor code is needed.
    MfaRequired,
    /// A device sign-in was approved.
    Verified,
    /// Wrong user name, password or code.
    Failure,
}

impl Drop for LoginAnswer {
    fn drop(&mut self) {
        if let LoginAnswer::Authenticated {
            client_code: Some(code),
        } = self
        {
            zeroize::Zeroize::zeroize(code);
        }
    }
}

/// Posts `request` to `/api/auth`, sending it again with a code from `codes` when the server
/// asks for one.
pub(super) async fn login_with_code(
    server: &Server,
    login: &Url,
    request: LoginRequest<'_>,
    user: &str,
    codes: Option<&Codes>,
) -> Result<LoginAnswer, Error> {
    let answer = post_login(server, login, &request).await?;
    if !matches!(answer, LoginAnswer::MfaRequired) {
        return Ok(answer);
    }
    let Some(codes) = codes else {
        return Err(Error::SignInRequired {
            reason: "two-factor authentication is on: the current code from the \
                     authenticator app is needed to sign in"
                .into(),
        });
    };
    let code = ask_code(codes, user).await?;
    match post_login(server, login, &request.with_code(&code)).await? {
        LoginAnswer::MfaRequired => Err(Error::Unauthorized {
            detail: "the server asked for the two-factor code again".into(),
        }),
        answer => Ok(answer),
    }
}

async fn post_login(
    server: &Server,
    login: &Url,
    request: &LoginRequest<'_>,
) -> Result<LoginAnswer, Error> {
    server.check_origin(login, "sign-in endpoint")?;
    let resp = server
        .http
        .post(login.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(json_body(request)?)
        .send()
        .await?;
    let value = read_json(resp).await?;
    match LoginAnswer::deserialize(&value) {
        Ok(LoginAnswer::Failure) => Err(Error::Unauthorized {
            detail: "wrong user name, password or two-factor code".into(),
        }),
        Ok(answer) => Ok(answer),
        Err(_) => Err(Error::protocol(format!(
            "unexpected sign-in answer {}",
            value
                .get("type")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("without a type")
        ))),
    }
}

/// Signs in with the password (and a code from `codes` when two-factor authentication is
/// on): authorization code with PKCE, then the token exchange.
pub(crate) async fn sign_in(
    server: &Server,
    endpoints: &Endpoints,
    options: &OAuthOptions,
    user: &str,
    password: &Secret,
    codes: Option<&Codes>,
) -> Result<OAuthTokens, Error> {
    let pkce = Pkce::new();
    let request = LoginRequest::AuthCode {
        account_name: user,
        account_secret: Exposed(password),
        mfa_token: None,
        client_id: &options.client_id,
        redirect_uri: &options.redirect_uri,
        code_challenge: &pkce.challenge,
        code_challenge_method: "S256",
        scope: options.scope.as_deref(),
    };
    let answer = login_with_code(server, &endpoints.login, request, user, codes).await?;
    let code = match &answer {
        LoginAnswer::Authenticated {
            client_code: Some(code),
        } => Secret::new(code.as_str()),
        _ => return Err(Error::protocol("sign-in answer without client_code")),
    };
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.expose()),
        ("client_id", options.client_id.as_str()),
        ("redirect_uri", options.redirect_uri.as_str()),
        ("code_verifier", pkce.verifier.expose()),
    ];
    token_request(
        server,
        &endpoints.token,
        &form,
        user,
        &options.client_id,
        None,
    )
    .await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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
    fn login_requests_have_the_recorded_shape() {
        let password = Secret::new("pw");
        let code = Secret::new("123456");
        let request = LoginRequest::AuthCode {
            account_name: "alice@example.org",
            account_secret: Exposed(&password),
            mfa_token: None,
            client_id: "mailseal",
            redirect_uri: "https://mailseal.invalid/oauth/callback",
            code_challenge: "abc",
            code_challenge_method: "S256",
            scope: None,
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({"type": "authCode", "accountName": "alice@example.org", "accountSecret": "pw",
                   "clientId": "mailseal", "redirectUri": "https://mailseal.invalid/oauth/callback",
                   "codeChallenge": "abc", "codeChallengeMethod": "S256"})
        );
        let with_code = serde_json::to_value(request.with_code(&code)).unwrap();
        assert_eq!(with_code["mfaToken"], "123456");
        let device = LoginRequest::AuthDevice {
            account_name: "a",
            account_secret: Exposed(&password),
            mfa_token: None,
            code: "ABCD-EFGH",
        };
        assert_eq!(
            serde_json::to_value(&device).unwrap(),
            json!({"type": "authDevice", "accountName": "a", "accountSecret": "pw", "code": "ABCD-EFGH"})
        );
    }
}
