//! The connection: session discovery (RFC 8620 §2), authentication, the JMAP request envelope
//! (§3) and the mapping of every HTTP- and method-level error.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::{Value, json};
use url::Url;

use crate::credential::Credential;
use crate::error::{Error, SetError};

/// Stalwart's capability for the `x:` management methods (0.16 and later).
pub const STALWART_CAPABILITY: &str = "urn:stalwart:jmap";
const USING: [&str; 2] = ["urn:ietf:params:jmap:core", STALWART_CAPABILITY];

/// How to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Allow plain `http://` for a server that is not on this machine. Loopback addresses
    /// are always allowed. TLS certificates are always verified.
    pub allow_insecure_http: bool,
    /// The limit for each request.
    pub timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            allow_insecure_http: false,
            timeout: Duration::from_secs(30),
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

/// A signed-in connection to a Stalwart server.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    credential: Credential,
    session: Session,
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

impl Client {
    /// Connects: finds the session through `/.well-known/jmap`, signs in with `credential`
    /// and picks the personal account.
    pub async fn connect(
        base_url: &str,
        credential: Credential,
        options: &ConnectOptions,
    ) -> Result<Client, Error> {
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
        let mut client = Client {
            http,
            base,
            credential,
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

    /// The session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The credential in use.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// Replaces the credential (after a password change or a new sign-in).
    pub fn set_credential(&mut self, credential: Credential) {
        self.credential = credential;
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

    /// An authenticated GET returning JSON, with the HTTP errors mapped.
    pub(crate) async fn get_json(&self, url: Url) -> Result<Value, Error> {
        let resp = self
            .http
            .get(url)
            .header(
                reqwest::header::AUTHORIZATION,
                self.credential.header().expose(),
            )
            .send()
            .await?;
        read_json(resp).await
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
        let resp = self
            .http
            .post(url)
            .header(
                reqwest::header::AUTHORIZATION,
                self.credential.header().expose(),
            )
            .json(&body)
            .send()
            .await?;
        let value = read_json(resp).await?;
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

fn parse_session(v: &Value) -> Result<Session, Error> {
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
