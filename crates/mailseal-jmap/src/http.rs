//! HTTP policy, in one place: which URLs may receive credentials, the HTTP client every
//! request goes through, request bodies that are wiped after sending, and the reading of
//! answers (status codes and problem+json) into [`Error`]s.
//!
//! The rule for credentials: the password, tokens and API keys only ever go to the origin
//! (scheme, host and port) of the server URL the user gave. A session object, a redirect or
//! OAuth metadata that names another origin — another host, another port, or `http://` where
//! the user gave `https://` — is refused with [`Error::ForeignOrigin`] before anything is
//! sent there.

use reqwest::header::HeaderValue;
use serde::Serialize;
use serde_json::Value;
use url::Url;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::options::ConnectOptions;
use crate::secret::Secret;

/// The server the user named: its URL and the HTTP client for it.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    /// The HTTP client: certificates verified, no redirects followed, a timeout per request.
    pub(crate) http: reqwest::Client,
    /// The server URL as given (its origin is the only one credentials go to).
    pub(crate) base: Url,
}

impl Server {
    /// Checks `base_url` (https, or http only for loopback unless allowed) and builds the
    /// HTTP client.
    pub(crate) fn new(base_url: &str, options: &ConnectOptions) -> Result<Server, Error> {
        let base = parse_server_url(base_url)?;
        match base.scheme() {
            "https" => {}
            "http" if is_loopback(&base) || options.allow_insecure_http => {}
            "http" => {
                return Err(Error::InsecureUrl {
                    url: base_url.to_owned(),
                });
            }
            other => {
                return Err(Error::invalid(format!(
                    "unsupported URL scheme {other}: use https://"
                )));
            }
        }
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!options.allow_insecure_http && !is_loopback(&base))
            .build()?;
        Ok(Server { http, base })
    }

    /// A path on the server itself.
    pub(crate) fn url(&self, path: &str) -> Result<Url, Error> {
        self.base
            .join(path)
            .map_err(|e| Error::protocol(format!("bad URL {path}: {e}")))
    }

    /// Resolves `text` (absolute, or relative to `against`) as the URL named `what`, and
    /// refuses it unless it is on the server's own origin.
    pub(crate) fn resolve(&self, against: &Url, text: &str, what: &str) -> Result<Url, Error> {
        let url = against
            .join(text)
            .map_err(|e| Error::protocol(format!("bad {what} {text}: {e}")))?;
        self.check_origin(&url, what)?;
        Ok(url)
    }

    /// Refuses `url` unless it has the server's origin (same scheme, host and port).
    pub(crate) fn check_origin(&self, url: &Url, what: &str) -> Result<(), Error> {
        if url.origin() == self.base.origin() {
            Ok(())
        } else {
            Err(Error::ForeignOrigin {
                what: what.to_owned(),
                expected: self.base.origin().ascii_serialization(),
                found: url.origin().ascii_serialization(),
            })
        }
    }
}

/// Parses the server URL a person typed, with advice for the common slips.
fn parse_server_url(text: &str) -> Result<Url, Error> {
    match Url::parse(text) {
        Ok(url) if url.cannot_be_a_base() || url.host().is_none() => Err(Error::invalid(format!(
            "{text} is not a server URL; write it as https://{text}"
        ))),
        Ok(url) => Ok(url),
        Err(url::ParseError::RelativeUrlWithoutBase) => Err(Error::invalid(format!(
            "{text} is not a server URL: write https://{text} (or http://{text} for a test \
             server on this machine)"
        ))),
        Err(e) => Err(Error::invalid(format!("{text} is not a server URL: {e}"))),
    }
}

/// Whether `url` points at this machine.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// An `Authorization` header value, marked sensitive so that the HTTP stack never shows it
/// in its own `Debug` output or logs.
pub(crate) fn authorization(header: &Secret) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(header.expose())
        .map_err(|_| Error::invalid("the credential contains characters HTTP cannot carry"))?;
    value.set_sensitive(true);
    Ok(value)
}

/// A request body that is wiped when the HTTP stack drops it.
fn wiped(bytes: Zeroizing<Vec<u8>>) -> reqwest::Body {
    reqwest::Body::from(bytes::Bytes::from_owner(bytes))
}

/// Serializes `value` as a JSON request body that is wiped when it has been sent: bodies
/// carry passwords, TOTP secrets and codes. The size is measured first, so that the buffer
/// never grows (a growing buffer would leave copies behind).
pub(crate) fn json_body<T: Serialize>(value: &T) -> Result<reqwest::Body, Error> {
    let mut counter = ByteCounter(0);
    serde_json::to_writer(&mut counter, value)
        .map_err(|e| Error::protocol(format!("cannot encode the request: {e}")))?;
    let mut buf = Zeroizing::new(Vec::with_capacity(counter.0));
    serde_json::to_writer(&mut *buf, value)
        .map_err(|e| Error::protocol(format!("cannot encode the request: {e}")))?;
    Ok(wiped(buf))
}

/// A form-encoded request body (OAuth token requests) that is wiped when it has been sent.
pub(crate) fn form_body(pairs: &[(&str, &str)]) -> reqwest::Body {
    let mut encoded = Zeroizing::new(
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish(),
    );
    // The string's own buffer becomes the body: no second copy to wipe.
    wiped(Zeroizing::new(std::mem::take(&mut *encoded).into_bytes()))
}

/// Counts bytes without keeping them.
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads a JSON answer, mapping error statuses and problem+json bodies.
pub(crate) async fn read_json(resp: reqwest::Response) -> Result<Value, Error> {
    let status = resp.status();
    let retry_after = retry_after(resp.headers());
    let bytes = resp.bytes().await?;
    answer_json(status.as_u16(), &bytes).map_err(|e| e.with_retry_after(retry_after))
}

/// Reads an answer's body, mapping error statuses and problem+json bodies like
/// [`read_json`].
pub(crate) async fn read_bytes(resp: reqwest::Response) -> Result<bytes::Bytes, Error> {
    let status = resp.status();
    let retry_after = retry_after(resp.headers());
    let bytes = resp.bytes().await?;
    if status.is_success() {
        return Ok(bytes);
    }
    match answer_json(status.as_u16(), &bytes) {
        Err(e) => Err(e.with_retry_after(retry_after)),
        Ok(_) => Err(Error::protocol(format!("HTTP {status}"))),
    }
}

/// The delay a `Retry-After` header asks for, in seconds (RFC 9110 §10.2.3: a number of
/// seconds or an HTTP date).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let text = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(secs);
    }
    let at = humantime::parse_rfc3339_weak(text)
        .ok()
        .or_else(|| httpdate(text))?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .map_or(0, |d| d.as_secs()),
    )
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn httpdate(text: &str) -> Option<std::time::SystemTime> {
    let rest = text.split_once(", ")?.1.strip_suffix(" GMT")?;
    let mut parts = rest.split(' ');
    let day = parts.next()?;
    let month = parts.next()?;
    let year = parts.next()?;
    let time = parts.next()?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? + 1;
    humantime::parse_rfc3339(&format!("{year}-{month:02}-{day:0>2}T{time}Z")).ok()
}

/// The JSON of an answer with `status` and `body`, or the error it stands for.
pub(crate) fn answer_json(status: u16, body: &[u8]) -> Result<Value, Error> {
    if (200..300).contains(&status) {
        return serde_json::from_slice(body)
            .map_err(|e| Error::protocol(format!("invalid JSON: {e}")));
    }
    let problem: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |name: &str| problem.get(name).and_then(Value::as_str).map(str::to_owned);
    let detail = text("detail")
        .or_else(|| text("title"))
        .unwrap_or_else(|| format!("HTTP {status}"));
    Err(match status {
        401 => Error::Unauthorized { detail },
        402 => Error::TotpRequired { detail },
        403 => Error::HttpForbidden { detail },
        429 => Error::RateLimited {
            detail,
            retry_after: None,
        },
        502..=504 => Error::Unavailable {
            status,
            retry_after: None,
        },
        code => Error::Request {
            status: code,
            kind: text("type").unwrap_or_else(|| "about:blank".into()),
            detail,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(url: &str) -> Server {
        Server::new(url, &ConnectOptions::default()).unwrap()
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

    #[test]
    fn only_the_named_origin_is_accepted() {
        let s = server("https://mail.example.org/");
        let base = s.base.clone();
        assert!(s.resolve(&base, "/jmap/", "apiUrl").is_ok());
        assert!(
            s.resolve(&base, "https://mail.example.org:443/x", "apiUrl")
                .is_ok()
        );
        for foreign in [
            "http://mail.example.org/jmap/",
            "https://mail.example.org:8443/jmap/",
            "https://evil.example.net/jmap/",
            "https://mail.example.org.evil.example.net/",
        ] {
            let e = s.resolve(&base, foreign, "apiUrl").unwrap_err();
            assert_eq!(e.code(), "jmap.foreign_origin", "{foreign}");
            let text = e.to_string();
            assert!(text.contains("https://mail.example.org"), "{text}");
        }
        let local = server("http://127.0.0.1:18080");
        let e = local
            .resolve(&local.base, "http://127.0.0.1:18081/jmap/", "apiUrl")
            .unwrap_err();
        assert!(e.to_string().contains("http://127.0.0.1:18081"), "{e}");
    }

    #[test]
    fn server_urls_without_a_scheme_get_advice() {
        for text in ["127.0.0.1:18080", "mail.example.org"] {
            let e = Server::new(text, &ConnectOptions::default()).unwrap_err();
            assert_eq!(e.code(), "jmap.invalid_input");
            assert!(e.to_string().contains("https://"), "{e}");
        }
        assert_eq!(
            Server::new("http://mail.example.org", &ConnectOptions::default())
                .unwrap_err()
                .code(),
            "jmap.insecure_url"
        );
    }

    #[test]
    fn authorization_headers_are_sensitive() {
        let h = authorization(&Secret::new("Basic YWxpY2U6cGFzc3dvcmQ=")).unwrap();
        assert!(h.is_sensitive());
        assert!(!format!("{h:?}").contains("YWxp"));
    }

    #[test]
    fn retry_after_is_read_in_both_forms() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("120"),
        );
        assert_eq!(retry_after(&h), Some(120));
        h.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(retry_after(&h), Some(0));
        h.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("soon"),
        );
        assert_eq!(retry_after(&h), None);
        assert_eq!(
            httpdate("Sun, 06 Nov 1994 08:49:37 GMT")
                .map(|t| { t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() }),
            Some(784_111_777)
        );
    }

    #[test]
    fn problem_answers_become_errors() {
        let e = answer_json(
            400,
            br#"{"type":"urn:ietf:params:jmap:error:notJSON","status":400,"detail":"{\"currentSecret\":\"hunter2\"}"}"#,
        )
        .unwrap_err();
        assert_eq!(e.code(), "jmap.request_rejected");
        assert!(!e.to_string().contains("hunter2"));
        assert!(!format!("{e:?}").contains("hunter2"));
        assert_eq!(
            answer_json(402, b"").unwrap_err().code(),
            "jmap.totp_required"
        );
        assert_eq!(answer_json(200, b"{}").unwrap(), serde_json::json!({}));
        let busy = answer_json(
            400,
            br#"{"type":"urn:ietf:params:jmap:error:limit","status":400,"detail":"The request exceeds the maximum number of concurrent requests.","limit":"maxConcurrentRequests"}"#,
        )
        .unwrap_err();
        assert!(busy.is_transient());
        let too_big = answer_json(
            400,
            br#"{"type":"urn:ietf:params:jmap:error:limit","status":400,"detail":"The request is larger than allowed.","limit":"maxSizeRequest"}"#,
        )
        .unwrap_err();
        assert!(!too_big.is_transient());
        assert!(answer_json(503, b"").unwrap_err().is_transient());
    }
}
