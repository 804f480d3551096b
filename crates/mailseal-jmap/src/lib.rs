//! Async JMAP (RFC 8620) client for the account-security self-service of Stalwart 0.16+:
//! availability, password, two-factor authentication (TOTP), app passwords, API keys and
//! encryption at rest (`x:` methods, `urn:stalwart:jmap`).
//!
//! Signing in survives two-factor authentication: the client moves a password session to
//! the server's own OAuth sign-in when it must ([`oauth`], [`Credential::PasswordAndCode`]).
//!
//! Every error has a stable code ([`Error::code`]); secrets are [`Secret`]s, zeroized and
//! redacted in `Debug`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod account;
mod client;
mod credential;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod oauth;
mod secret;

pub use account::availability::{Availability, Feature, FeatureStatus, Unavailable};
pub use account::credentials::{
    CreatedCredential, CredentialInfo, CredentialKind, CredentialUpdate, NewCredential, Permissions,
};
pub use account::encryption::{EncryptionRequest, EncryptionSettings, StoredKey, algorithm_advice};
pub use account::password::PasswordState;
pub use account::totp::TotpEnrollment;
pub use client::{Client, ConnectOptions, STALWART_CAPABILITY, Session, check_ip_range};
pub use credential::{CodeProvider, Credential, SignInMethod};
pub use error::{Error, SetError};
pub use oauth::{DeviceSignIn, OAuthOptions, OAuthTokens, approve_device};
pub use secret::Secret;
