//! The connection: the [`Client`] that finds the session, signs every request through the
//! sign-in state machine, and sends JMAP method calls.

use std::net::IpAddr;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::credential::{Credential, SignInMethod};
use crate::envelope::{self, GetArgs, GetResponse, QueryArgs, QueryResponse, Request};
use crate::error::Error;
use crate::http::{self, Server, json_body};
use crate::oauth::OAuthTokens;
use crate::oauth::discovery::discover;
use crate::oauth::login;
use crate::options::ConnectOptions;
use crate::rest::ServerApi;
use crate::rest::detect::detect;
use crate::secret::Secret;
use crate::session::{self, Session, parse_session};
use crate::signin::SignIn;

/// A signed-in connection to a Stalwart server.
///
/// The client signs its requests by itself: it refreshes OAuth tokens before they expire,
/// moves a password session to the server's OAuth sign-in when two-factor authentication
/// needs it (asking the [`CodeProvider`](crate::CodeProvider) for the code), and signs in
/// again with the password after a password change revoked its tokens. Credentials only go
/// to the origin of the server URL given ([`Error::ForeignOrigin`] otherwise).
pub struct Client {
    server: Server,
    sign_in: SignIn,
    session: Session,
    api_url: Url,
    api: ServerApi,
    version: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.server.base.as_str())
            .field("session", &self.session)
            .field("api", &self.api)
            .field("version", &self.version)
            .field("sign_in_method", &self.sign_in_method())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects: finds the session through `/.well-known/jmap`, signs in with `credential`,
    /// picks the personal account, and finds which account-security API the server offers
    /// ([`Client::server_api`]: JMAP on 0.16+, the REST API on 0.11–0.15).
    pub async fn connect(
        base_url: &str,
        credential: Credential,
        options: &ConnectOptions,
    ) -> Result<Client, Error> {
        credential.check_not_empty()?;
        let server = Server::new(base_url, options)?;
        let session_url = session::session_url(&server).await?;
        let mut client = Client {
            sign_in: SignIn::new(server.clone(), credential, options.oauth.clone()),
            session: Session {
                username: String::new(),
                account_id: String::new(),
                api_url: String::new(),
                stalwart_jmap: false,
                upload_url: None,
                download_url: None,
                limits: session::Limits::default(),
            },
            api_url: session_url.clone(),
            server,
            api: ServerApi::Unsupported,
            version: None,
        };
        let value = client.get_json(session_url.clone()).await?;
        client.session = parse_session(&client.server, &session_url, &value)?;
        client.api_url = Url::parse(&client.session.api_url)
            .map_err(|e| Error::protocol(format!("bad apiUrl: {e}")))?;
        let (api, version) = detect(&client).await?;
        client.api = api;
        client.version = version;
        Ok(client)
    }

    /// Signs in through the server's OAuth service with the password (and a code from the
    /// provider when two-factor authentication is on), without connecting a client: for
    /// apps that keep the tokens and connect later with [`Credential::OAuth`].
    pub async fn sign_in(
        base_url: &str,
        user: &str,
        password: &Secret,
        codes: Option<crate::Codes>,
        options: &ConnectOptions,
    ) -> Result<OAuthTokens, Error> {
        Credential::password(user, password.clone()).check_not_empty()?;
        let server = Server::new(base_url, options)?;
        let endpoints = discover(&server).await?;
        login::sign_in(
            &server,
            &endpoints,
            &options.oauth,
            user,
            password,
            codes.as_ref(),
        )
        .await
    }

    /// The session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The account-security API found on connect: JMAP `x:` methods (Stalwart 0.16+), the
    /// REST API (0.11–0.15), or none. The methods of this client use it by themselves.
    pub fn server_api(&self) -> ServerApi {
        self.api
    }

    /// The server's Stalwart version where it can be known (`POST /api/oauth` on REST
    /// servers, e.g. `0.15.5`); `None` otherwise.
    pub fn server_version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The server and its HTTP client.
    pub(crate) fn server(&self) -> &Server {
        &self.server
    }

    /// The credential the client was given (or last set).
    pub fn credential(&self) -> Credential {
        self.sign_in.credential()
    }

    /// How requests are signed right now: this changes when the client moves a password
    /// session to OAuth.
    pub fn sign_in_method(&self) -> SignInMethod {
        self.sign_in.method()
    }

    /// The current OAuth tokens, when the client uses OAuth: save them (in the keychain) after
    /// each session, since the client refreshes them.
    pub fn oauth_tokens(&self) -> Option<OAuthTokens> {
        self.sign_in.oauth_tokens()
    }

    /// Replaces the credential (a new sign-in); requests use it from now on.
    pub fn set_credential(&self, credential: Credential) {
        self.sign_in.set_credential(credential);
    }

    /// Moves this session to the server's OAuth sign-in now, with the credential's password
    /// (and a code from its provider when the server asks for one). Returns the new tokens.
    pub async fn sign_in_oauth(&self) -> Result<OAuthTokens, Error> {
        self.sign_in.sign_in_oauth().await
    }

    /// Takes the new password after a successful change (see [`SignIn::password_changed`]).
    pub(crate) fn password_changed(&self, new: &Secret) {
        self.sign_in.password_changed(new);
    }

    /// See [`SignIn::totp_turned_off`].
    pub(crate) fn totp_turned_off(&self) {
        self.sign_in.totp_turned_off();
    }

    /// Where JMAP requests go.
    pub(crate) fn api_url(&self) -> &Url {
        &self.api_url
    }

    /// A URL on the server.
    pub(crate) fn url(&self, path: &str) -> Result<Url, Error> {
        self.server.url(path)
    }

    /// Sends the request `build` makes to `url` with the current authorization; on a
    /// refusal the sign-in can answer (refresh, sign in again, ask for a code), retries once.
    pub(crate) async fn send<F>(&self, url: &Url, build: F) -> Result<Value, Error>
    where
        F: Fn(&reqwest::Client, Url) -> Result<reqwest::RequestBuilder, Error>,
    {
        let body = self.send_bytes(url, build).await?;
        serde_json::from_slice(&body).map_err(|e| Error::protocol(format!("invalid JSON: {e}")))
    }

    /// Like [`Client::send`], for any answer: the body of a 2xx answer as it came.
    pub(crate) async fn send_bytes<F>(&self, url: &Url, build: F) -> Result<bytes::Bytes, Error>
    where
        F: Fn(&reqwest::Client, Url) -> Result<reqwest::RequestBuilder, Error>,
    {
        self.server.check_origin(url, "request URL")?;
        let mut retried = false;
        loop {
            let header = self.sign_in.authorization().await?;
            let resp = build(&self.server.http, url.clone())?
                .header(
                    reqwest::header::AUTHORIZATION,
                    http::authorization(&header)?,
                )
                .send()
                .await?;
            match http::read_bytes(resp).await {
                Err(e) if !retried => {
                    retried = true;
                    self.sign_in.recover(e).await?;
                }
                other => return other,
            }
        }
    }

    /// Whether the server takes `password` for this account, asked without changing
    /// anything: the session with HTTP Basic answers 200, or 402 when only the two-factor code
    /// is missing; a wrong password gets 401. Counts as one sign-in attempt on the server.
    pub(crate) async fn password_is_right(&self, password: &Secret) -> Result<bool, Error> {
        let header = crate::credential::basic_header(&self.session.username, password.expose());
        let url = self.server.url("/jmap/session")?;
        let resp = self
            .server
            .http
            .get(url)
            .header(
                reqwest::header::AUTHORIZATION,
                http::authorization(&header)?,
            )
            .send()
            .await?;
        match resp.status().as_u16() {
            200 | 402 => Ok(true),
            401 => Ok(false),
            other => Err(Error::protocol(format!(
                "HTTP {other} when checking the password"
            ))),
        }
    }

    /// An authenticated GET returning JSON, with the HTTP errors mapped.
    pub(crate) async fn get_json(&self, url: Url) -> Result<Value, Error> {
        self.send(&url, |http, url| Ok(http.get(url))).await
    }

    /// One JMAP method call with `args` (a struct that serializes as an object; `accountId`
    /// is added), and its answer read as `R`. The request body is wiped once sent.
    pub(crate) async fn call<A, R>(&self, method: &str, args: &A) -> Result<R, Error>
    where
        A: Serialize,
        R: DeserializeOwned,
    {
        let request = Request::new(&self.session.account_id, method, args);
        let value = self
            .send(&self.api_url, |http, url| {
                Ok(http
                    .post(url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(json_body(&request)?))
            })
            .await?;
        envelope::read_response(value)
    }

    /// Every object of a type: `/query` for the ids, then `/get` (Stalwart's `notFound`
    /// quirk on `/get` is ignored).
    pub(crate) async fn query_and_get<T: DeserializeOwned>(
        &self,
        object: &str,
    ) -> Result<Vec<T>, Error> {
        let query: QueryResponse = self.call(&format!("{object}/query"), &QueryArgs {}).await?;
        if query.ids.is_empty() {
            return Ok(Vec::new());
        }
        let got: GetResponse<T> = self
            .call(&format!("{object}/get"), &GetArgs { ids: &query.ids })
            .await?;
        Ok(got.list)
    }

    /// The one object of a singleton type (`x:AccountPassword`, `x:AccountSettings`), if the
    /// server gives it.
    pub(crate) async fn get_singleton<T: DeserializeOwned>(
        &self,
        object: &str,
    ) -> Result<Option<T>, Error> {
        let ids = ["singleton".to_owned()];
        let got: GetResponse<T> = self
            .call(&format!("{object}/get"), &GetArgs { ids: &ids })
            .await?;
        Ok(got.list.into_iter().next())
    }
}

/// Checks an IP address or CIDR range the way Stalwart does (IPv4 /8–/32, IPv6 /8–/128).
pub fn check_ip_range(value: &str) -> Result<(), Error> {
    let (addr, prefix) = match value.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (value, None),
    };
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| Error::invalid(format!("{value} is not an IP address or range")))?;
    if let Some(p) = prefix {
        let bits: u8 = p
            .parse()
            .map_err(|_| Error::invalid(format!("{value}: the prefix length is not a number")))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        if !(8..=max).contains(&bits) {
            return Err(Error::invalid(format!(
                "{value}: the prefix length must be between 8 and {max}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_ranges_are_checked() {
        for ok in [
            "10.0.0.1",
            "192.168.0.0/24",
            "::1",
            "2001:db8::/32",
            "10.0.0.0/8",
        ] {
            assert!(check_ip_range(ok).is_ok(), "{ok}");
        }
        for bad in [
            "10.0.0.0/7",
            "10.0.0.0/33",
            "example.org",
            "1.2.3.4/x",
            "::/129",
            "",
        ] {
            assert_eq!(
                check_ip_range(bad).unwrap_err().code(),
                "jmap.invalid_input",
                "{bad}"
            );
        }
    }
}
