//! Async JMAP (RFC 8620) client for the account-security self-service of Stalwart 0.16+:
//! availability, password, two-factor authentication (TOTP), app passwords, API keys and
//! encryption at rest (`x:` methods, `urn:stalwart:jmap`) — and the same features, behind
//! the same methods, on 0.11–0.15 servers through their REST API ([`rest`], found on
//! connect: [`Client::server_api`]).
//!
//! Signing in survives two-factor authentication: the client moves a password session to
//! the server's own OAuth sign-in when it must ([`oauth`], [`Credential::PasswordAndCode`]).
//! Credentials only ever go to the origin of the server URL given: a session or OAuth
//! metadata that points elsewhere is refused ([`Error::ForeignOrigin`]).
//!
//! Every error has a stable code ([`Error::code`]); secrets are [`Secret`]s, zeroized and
//! redacted in `Debug`, and request bodies that carry them are wiped once sent.
//!
//! # Map
//!
//! ```text
//! account/        what a person does, one module per feature, each adding methods to Client:
//!   availability    which features this account may use (GET /api/account)
//!   password        x:AccountPassword: change, local policy check
//!   totp            x:AccountPassword.otpAuth: enrollment, QR, URL validation
//!   app_credentials x:AppPassword and x:ApiKey
//!   encryption      x:AccountSettings.encryptionAtRest and x:PublicKey
//!        │
//!        ▼
//! client          Client: connect, call (one method), query_and_get, get_singleton
//!   ├─ session      the session object, every URL checked against the server's origin
//!   ├─ envelope     the JMAP request envelope, /get /query /set answers, SetErrors
//!   ├─ objects      the x: objects as typed serde structs
//!   └─ signin       the sign-in state machine (Basic, password$code, OAuth, refresh)
//!        ├─ credential   Credential, CodeProvider, SignInMethod (what the caller gives)
//!        └─ oauth/       discovery, login (PKCE), tokens (exchange, refresh), device grant
//! http            HTTP policy: origins, the reqwest client, wiped bodies, status → Error
//! options         ConnectOptions and OAuthOptions (what every entry point takes)
//! error, secret   Error (redacted Debug) and Secret (zeroized)
//! rest/           the same features on Stalwart 0.11–0.15's REST API, chosen on connect
//!                 (detect: ServerApi); the account/ methods hand over to it
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod account;
mod client;
mod credential;
pub mod encrypt_existing;
mod envelope;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod http;
pub mod mail;
pub mod oauth;
mod objects;
mod options;
pub mod rest;
mod secret;
mod session;
mod signin;

pub use account::app_credentials::{
    CreatedCredential, CredentialInfo, CredentialKind, CredentialUpdate, NewCredential, Permissions,
};
pub use account::availability::{Availability, Feature, FeatureStatus, Unavailable};
pub use account::encryption::{
    EncryptionEnabled, EncryptionRequest, EncryptionSettings, StoredKey,
};
pub use account::password::{PasswordChange, PasswordState};
pub use account::totp::TotpEnrollment;
pub use client::{Client, check_ip_range};
pub use credential::{AsyncCodeProvider, CodeProvider, Codes, Credential, SignInMethod};
pub use error::{Error, SetError};
pub use oauth::{DeviceSignIn, OAuthTokens, approve_device};
pub use options::{ConnectOptions, OAuthOptions};
pub use rest::ServerApi;
pub use secret::Secret;
pub use session::{Limits, STALWART_CAPABILITY, Session};
