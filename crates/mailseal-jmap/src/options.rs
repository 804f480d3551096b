//! How to connect: the options every entry point takes ([`ConnectOptions`]), including how
//! the client presents itself to the server's OAuth service ([`OAuthOptions`]).

use std::time::Duration;

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
