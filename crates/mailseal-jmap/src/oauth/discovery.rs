//! Where the server's OAuth service is: `/.well-known/oauth-authorization-server`, with every
//! endpoint on the server's own origin (the password never leaves the server it was meant
//! for).

use serde::Deserialize;
use url::Url;

use crate::error::Error;
use crate::http::Server;

/// Stalwart's JSON login, behind its `/login` and `/device` pages (not in the metadata).
pub(crate) const LOGIN_PATH: &str = "/api/auth";

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

/// The parts of the authorization server metadata (RFC 8414) the client reads.
#[derive(Deserialize)]
struct Metadata {
    token_endpoint: Option<String>,
    #[serde(default)]
    device_authorization_endpoint: Option<String>,
}

/// Reads `/.well-known/oauth-authorization-server`. Endpoints on another origin are refused
/// ([`Error::ForeignOrigin`]).
pub(crate) async fn discover(server: &Server) -> Result<Endpoints, Error> {
    let url = server.url("/.well-known/oauth-authorization-server")?;
    let resp = server.http.get(url.clone()).send().await?;
    if !resp.status().is_success() {
        return Err(Error::NotAvailable {
            reason: format!(
                "the server offers no OAuth sign-in (HTTP {} for its OAuth metadata); sign in \
                 with an app password instead",
                resp.status().as_u16()
            ),
        });
    }
    let meta: Metadata = resp
        .json()
        .await
        .map_err(|e| Error::protocol(format!("OAuth metadata: {e}")))?;
    let token = meta
        .token_endpoint
        .as_deref()
        .ok_or_else(|| Error::protocol("OAuth metadata without token_endpoint"))?;
    Ok(Endpoints {
        login: server.url(LOGIN_PATH)?,
        token: server.resolve(&url, token, "token_endpoint")?,
        device: match meta.device_authorization_endpoint.as_deref() {
            Some(d) => Some(server.resolve(&url, d, "device_authorization_endpoint")?),
            None => None,
        },
    })
}
