//! The connection: session discovery (RFC 8620 §2), authentication, the JMAP request envelope
//! (§3) and the mapping of every HTTP- and method-level error.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use url::Url;

use crate::credential::{Credential, SignInMethod, basic_header, bearer_header};
use crate::error::{Error, SetError};
use crate::oauth::{self, Endpoints, OAuthOptions, OAuthTokens};
use crate::secret::Secret;

/// Stalwart's capability for the `x:` management methods (0.16 and later).
pub const STALWART_CAPABILITY: &str = "urn:stalwart:jmap";
const USING: [&str; 2] = ["urn:ietf:params:jmap:core", STALWART_CAPABILITY];

/// How long before its expiry an access token is refreshed.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// How to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Allow plain `http://` for a server that is not on this machine. Loopback addresses
    /// are always allowed. TLS certificates are always verified.
    pub allow_insecure_http: bool,
    /// The limit for each request.
    pub timeout: Duration,
    /// How the client presents itself to the server's OAuth sign-in.
    pub oauth: OAuthOptions,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            allow_insecure_http: false,
            timeout: Duration::from_secs(30),
            oauth: OAuthOptions::default(),
        }
    }
}

/// What the session object says about the signed-in account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The signed-in user name.
    pub username: String,
    /// The personal account's id.
    pub account_id: String,
    /// Where JMAP requests go.
    pub api_url: String,
    /// Whether the server offers Stalwart's `x:` methods (0.16 and later).
    pub stalwart_jmap: bool,
}

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
struct AuthState {
    credential: Credential,
    active: Active,
}

/// A signed-in connection to a Stalwart server.
///
/// The client signs its requests by itself: it refreshes OAuth tokens before they expire,
/// moves a password session to the server's OAuth sign-in when two-factor authentication
/// needs it (asking the [`CodeProvider`](crate::CodeProvider) for the code), and signs in
/// again with the password after a password change revoked its tokens.
pub struct Client {
    http: reqwest::Client,
    base: Url,
    oauth: OAuthOptions,
    auth: Mutex<AuthState>,
    endpoints: Mutex<Option<Endpoints>>,
    session: Session,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("session", &self.session)
            .field("sign_in_method", &self.sign_in_method())
            .finish_non_exhaustive()
    }
}

/// Locks `m`; a panic elsewhere while it was held leaves data that is still whole (every
/// update is a single assignment), so poisoning is ignored.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether `url` points at this machine.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Checks `base_url` (https, or http only for loopback unless allowed) and builds the HTTP
/// client: certificates verified, no redirects followed, a timeout on every request.
pub(crate) fn http_client(
    base_url: &str,
    options: &ConnectOptions,
) -> Result<(reqwest::Client, Url), Error> {
    let base =
        Url::parse(base_url).map_err(|e| Error::invalid(format!("bad URL {base_url}: {e}")))?;
    match base.scheme() {
        "https" => {}
        "http" if is_loopback(&base) || options.allow_insecure_http => {}
        "http" => {
            return Err(Error::InsecureUrl {
                url: base_url.to_owned(),
            });
        }
        other => return Err(Error::invalid(format!("unsupported URL scheme {other}"))),
    }
    let http = reqwest::Client::builder()
        .timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .https_only(!options.allow_insecure_http && !is_loopback(&base))
        .build()?;
    Ok((http, base))
}

impl Client {
    /// Connects: finds the session through `/.well-known/jmap`, signs in with `credential`
    /// and picks the personal account.
    pub async fn connect(
        base_url: &str,
        credential: Credential,
        options: &ConnectOptions,
    ) -> Result<Client, Error> {
        let (http, base) = http_client(base_url, options)?;
        let mut client = Client {
            http,
            base,
            oauth: options.oauth.clone(),
            auth: Mutex::new(AuthState {
                active: Active::of(&credential),
                credential,
            }),
            endpoints: Mutex::new(None),
            session: Session {
                username: String::new(),
                account_id: String::new(),
                api_url: String::new(),
                stalwart_jmap: false,
            },
        };
        client.session = client.discover().await?;
        Ok(client)
    }

    /// Signs in through the server's OAuth service with the password (and a code from the
    /// provider when two-factor authentication is on), without connecting a client: for
    /// apps that keep the tokens and connect later with [`Credential::OAuth`].
    pub async fn sign_in(
        base_url: &str,
        user: &str,
        password: &Secret,
        codes: Option<Arc<dyn crate::CodeProvider>>,
        options: &ConnectOptions,
    ) -> Result<OAuthTokens, Error> {
        let (http, base) = http_client(base_url, options)?;
        let endpoints = oauth::discover(&http, &base).await?;
        oauth::sign_in(
            &http,
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

    fn state(&self) -> MutexGuard<'_, AuthState> {
        lock(&self.auth)
    }

    /// The credential the client was given (or last set).
    pub fn credential(&self) -> Credential {
        self.state().credential.clone()
    }

    /// How requests are signed right now: this changes when the client moves a password
    /// session to OAuth.
    pub fn sign_in_method(&self) -> SignInMethod {
        self.state().active.method()
    }

    /// The current OAuth tokens, when the client uses OAuth: save them (in the keychain) after
    /// each session, since the client refreshes them.
    pub fn oauth_tokens(&self) -> Option<OAuthTokens> {
        match &self.state().active {
            Active::OAuth(tokens) => Some(tokens.clone()),
            Active::Fixed { .. } => None,
        }
    }

    /// Replaces the credential (a new sign-in); requests use it from now on.
    pub fn set_credential(&self, credential: Credential) {
        let mut state = self.state();
        state.active = Active::of(&credential);
        state.credential = credential;
    }

    /// Takes the new password after a successful change: Basic sessions use it at once;
    /// OAuth sessions, whose tokens the server has just revoked, sign in again with it when
    /// the next request is refused.
    pub(crate) fn password_changed(&self, new: &Secret) {
        let mut state = self.state();
        let Some(updated) = state.credential.with_password(new) else {
            return;
        };
        if let Active::Fixed {
            method: SignInMethod::Password,
            ..
        } = state.active
        {
            state.active = Active::of(&updated);
        }
        state.credential = updated;
    }

    /// A URL on the server.
    pub(crate) fn url(&self, path: &str) -> Result<Url, Error> {
        self.base
            .join(path)
            .map_err(|e| Error::protocol(format!("bad URL {path}: {e}")))
    }

    async fn discover(&self) -> Result<Session, Error> {
        let well_known = self.url("/.well-known/jmap")?;
        let resp = self.http.get(well_known.clone()).send().await?;
        let session_url = if resp.status().is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| Error::protocol("redirect without Location"))?;
            well_known
                .join(location)
                .map_err(|e| Error::protocol(format!("bad Location {location}: {e}")))?
        } else {
            well_known
        };
        // Follow the redirect only within the same server: credentials never go elsewhere.
        if session_url.origin() != self.base.origin() {
            return Err(Error::protocol(format!(
                "the session URL {session_url} is on another server"
            )));
        }
        let value = self.get_json(session_url).await?;
        parse_session(&value)
    }

    /// The server's OAuth endpoints (read once).
    async fn endpoints(&self) -> Result<Endpoints, Error> {
        if let Some(e) = lock(&self.endpoints).clone() {
            return Ok(e);
        }
        let found = oauth::discover(&self.http, &self.base).await?;
        *lock(&self.endpoints) = Some(found.clone());
        Ok(found)
    }

    /// The `Authorization` header for the next request; refreshes OAuth tokens that are
    /// about to expire.
    async fn authorization(&self) -> Result<Secret, Error> {
        let active = self.state().active.clone();
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

    /// Refreshes `tokens`; when the server no longer accepts them (revoked by a password
    /// change, or expired), signs in again with the password if the credential has one.
    async fn refresh_or_sign_in(&self, tokens: &OAuthTokens) -> Result<OAuthTokens, Error> {
        let refreshed = match tokens.refresh_token() {
            Some(_) => {
                let endpoints = self.endpoints().await?;
                oauth::refresh(&self.http, &endpoints, tokens).await
            }
            None => Err(Error::SignInRequired {
                reason: "the OAuth access token is no longer accepted".into(),
            }),
        };
        let fresh = match refreshed {
            Ok(fresh) => fresh,
            Err(e @ Error::Transport { .. }) => return Err(e),
            Err(refusal) => {
                if self.state().credential.password_of().is_none() {
                    return Err(Error::SignInRequired {
                        reason: format!(
                            "the server no longer accepts this sign-in ({refusal}); a password                              change signs out every OAuth session, and a refresh token lasts                              30 days: sign in again with the password"
                        ),
                    });
                }
                return self.sign_in_oauth().await;
            }
        };
        self.state().active = Active::OAuth(fresh.clone());
        Ok(fresh)
    }

    /// Moves this session to the server's OAuth sign-in now, with the credential's password
    /// (and a code from its provider when the server asks for one). Returns the new tokens.
    pub async fn sign_in_oauth(&self) -> Result<OAuthTokens, Error> {
        let credential = self.state().credential.clone();
        let Some((user, password)) = credential.password_of() else {
            return Err(Error::NotAvailable {
                reason: "signing in through OAuth needs the account password".into(),
            });
        };
        let endpoints = self.endpoints().await?;
        let tokens = oauth::sign_in(
            &self.http,
            &endpoints,
            &self.oauth,
            user,
            password,
            credential.codes(),
        )
        .await?;
        self.state().active = Active::OAuth(tokens.clone());
        Ok(tokens)
    }

    /// After a 402 (two-factor authentication on, HTTP Basic with the password): signs in
    /// with a code, through OAuth on 0.16, or as `password$code` Basic on 0.15 (whose 402
    /// says so).
    async fn answer_mfa(&self, detail: &str) -> Result<(), Error> {
        let credential = self.state().credential.clone();
        let (Some((user, password)), Some(codes)) = (credential.password_of(), credential.codes())
        else {
            return Err(Error::TotpRequired {
                detail: detail.to_owned(),
            });
        };
        if detail.contains("$totp_token") {
            let code = oauth::ask_code(codes, user).await?;
            let secret =
                zeroize::Zeroizing::new(format!("{}${}", password.expose(), code.expose()));
            self.state().active = Active::Fixed {
                header: basic_header(user, &secret),
                method: SignInMethod::PasswordWithCode,
            };
            return Ok(());
        }
        self.sign_in_oauth().await.map(|_| ())
    }

    /// Sends a request built by `build` with the current authorization; on a 401 or 402 that
    /// the credential can answer (refresh, sign in again, ask for a code), retries once.
    async fn send<F>(&self, build: F) -> Result<Value, Error>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    {
        let mut retried = false;
        loop {
            let header = self.authorization().await?;
            let resp = build(&self.http)
                .header(reqwest::header::AUTHORIZATION, header.expose())
                .send()
                .await?;
            let method = self.sign_in_method();
            match read_json(resp).await {
                Err(e @ Error::Unauthorized { .. })
                    if !retried && method == SignInMethod::OAuth =>
                {
                    retried = true;
                    let tokens = self.oauth_tokens();
                    match tokens {
                        Some(tokens) => {
                            self.refresh_or_sign_in(&tokens).await?;
                        }
                        // A bare access token: sign in again only with a password at hand.
                        None if self.state().credential.password_of().is_some() => {
                            self.sign_in_oauth().await?;
                        }
                        None => return Err(e),
                    }
                }
                Err(Error::Unauthorized { .. })
                    if !retried && method == SignInMethod::PasswordWithCode =>
                {
                    // A `password$code` credential is good only while the code is current.
                    retried = true;
                    self.answer_mfa("$totp_token").await?;
                }
                Err(Error::TotpRequired { detail }) if !retried => {
                    retried = true;
                    self.answer_mfa(&detail).await?;
                }
                other => return other,
            }
        }
    }

    /// An authenticated GET returning JSON, with the HTTP errors mapped.
    pub(crate) async fn get_json(&self, url: Url) -> Result<Value, Error> {
        self.send(|http| http.get(url.clone())).await
    }

    /// Sends one JMAP request with `calls` (method name, arguments) and returns each
    /// method's arguments, in order. Method-level errors become [`Error::Method`].
    pub(crate) async fn call(&self, calls: Vec<(&str, Value)>) -> Result<Vec<Value>, Error> {
        let method_calls: Vec<Value> = calls
            .iter()
            .enumerate()
            .map(|(i, (name, args))| {
                let mut args = args.clone();
                if let Some(obj) = args.as_object_mut() {
                    obj.entry("accountId")
                        .or_insert_with(|| Value::String(self.session.account_id.clone()));
                }
                json!([name, args, format!("c{i}")])
            })
            .collect();
        let body = json!({ "using": USING, "methodCalls": method_calls });
        let url = Url::parse(&self.session.api_url)
            .map_err(|e| Error::protocol(format!("bad apiUrl: {e}")))?;
        let value = self.send(|http| http.post(url.clone()).json(&body)).await?;
        let responses = value
            .get("methodResponses")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::protocol("no methodResponses"))?;
        let mut out = Vec::with_capacity(calls.len());
        for (i, _) in calls.iter().enumerate() {
            let id = format!("c{i}");
            let resp = responses
                .iter()
                .find(|r| r.get(2).and_then(Value::as_str) == Some(id.as_str()))
                .ok_or_else(|| Error::protocol(format!("no response to call {id}")))?;
            let name = resp.get(0).and_then(Value::as_str).unwrap_or_default();
            let args = resp.get(1).cloned().unwrap_or(Value::Null);
            if name == "error" {
                return Err(Error::Method {
                    kind: str_field(&args, "type").unwrap_or_default(),
                    description: str_field(&args, "description"),
                });
            }
            out.push(args);
        }
        Ok(out)
    }

    /// Every object of a type: `/query` for the ids, then `/get` (Stalwart's `notFound`
    /// quirk on `/get` is ignored).
    pub(crate) async fn query_and_get(&self, object: &str) -> Result<Vec<Value>, Error> {
        let resp = self.call1(&format!("{object}/query"), json!({})).await?;
        let ids = resp.get("ids").cloned().unwrap_or(json!([]));
        if ids.as_array().is_none_or(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let resp = self
            .call1(&format!("{object}/get"), json!({ "ids": ids }))
            .await?;
        Ok(resp
            .get("list")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    /// One call, one answer.
    pub(crate) async fn call1(&self, name: &str, args: Value) -> Result<Value, Error> {
        self.call(vec![(name, args)])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::protocol("empty response"))
    }
}

fn str_field(v: &Value, name: &str) -> Option<String> {
    v.get(name).and_then(Value::as_str).map(str::to_owned)
}

pub(crate) fn parse_session(v: &Value) -> Result<Session, Error> {
    let accounts = v
        .get("accounts")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::protocol("session without accounts"))?;
    let personal = accounts
        .iter()
        .find(|(_, a)| a.get("isPersonal").and_then(Value::as_bool) == Some(true))
        .ok_or_else(|| Error::protocol("session without a personal account"))?;
    let account_id = personal.0.clone();
    let stalwart_jmap = personal
        .1
        .get("accountCapabilities")
        .and_then(|c| c.get(STALWART_CAPABILITY))
        .is_some()
        || v.get("primaryAccounts")
            .and_then(|p| p.get(STALWART_CAPABILITY))
            .is_some();
    Ok(Session {
        username: str_field(v, "username").unwrap_or_default(),
        account_id,
        api_url: str_field(v, "apiUrl").ok_or_else(|| Error::protocol("session without apiUrl"))?,
        stalwart_jmap,
    })
}

/// Reads a JSON answer, mapping error statuses and problem+json bodies.
pub(crate) async fn read_json(resp: reqwest::Response) -> Result<Value, Error> {
    let status = resp.status();
    let bytes = resp.bytes().await?;
    if status.is_success() {
        return serde_json::from_slice(&bytes)
            .map_err(|e| Error::protocol(format!("invalid JSON: {e}")));
    }
    let problem: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let detail = str_field(&problem, "detail")
        .or_else(|| str_field(&problem, "title"))
        .unwrap_or_else(|| status.to_string());
    Err(match status.as_u16() {
        401 => Error::Unauthorized { detail },
        402 => Error::TotpRequired { detail },
        403 => Error::HttpForbidden { detail },
        429 => Error::RateLimited { detail },
        code => Error::Request {
            status: code,
            kind: str_field(&problem, "type").unwrap_or_else(|| "about:blank".into()),
            detail,
        },
    })
}

/// The SetError for `id` in a `/set` response's `not…` map, if there is one.
pub(crate) fn set_error(resp: &Value, map: &str, id: &str) -> Option<SetError> {
    let e = resp.get(map)?.get(id)?;
    Some(SetError {
        kind: str_field(e, "type").unwrap_or_default(),
        description: str_field(e, "description"),
        properties: e
            .get("properties")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        validation_errors: e
            .get("validationErrors")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|v| {
                        (
                            str_field(v, "type").unwrap_or_default(),
                            str_field(v, "property").unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
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

    #[test]
    fn session_picks_the_personal_account() {
        let v = json!({
            "accounts": {
                "g": {"isPersonal": false, "accountCapabilities": {}},
                "c": {"isPersonal": true, "accountCapabilities": {"urn:stalwart:jmap": {}}}
            },
            "primaryAccounts": {"urn:stalwart:jmap": "c"},
            "username": "alice@example.org",
            "apiUrl": "http://127.0.0.1:1/jmap/"
        });
        let s = parse_session(&v).unwrap();
        assert_eq!(s.account_id, "c");
        assert!(s.stalwart_jmap);
    }

    #[test]
    fn loopback_detection() {
        assert!(is_loopback(&Url::parse("http://127.0.0.1:8080/").unwrap()));
        assert!(is_loopback(&Url::parse("http://[::1]/").unwrap()));
        assert!(is_loopback(&Url::parse("http://localhost/").unwrap()));
        assert!(!is_loopback(
            &Url::parse("http://mail.example.org/").unwrap()
        ));
    }
}
