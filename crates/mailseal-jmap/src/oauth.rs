//! Stalwart's own OAuth 2 sign-in, without a browser: the only way to sign in with the
//! password while two-factor authentication is on (HTTP Basic then answers 402).
//!
//! * [`discovery`]: the endpoints, from `/.well-known/oauth-authorization-server`, each on
//!   the server's own origin.
//! * [`login`]: authorization code with PKCE (S256): `POST /api/auth` `authCode` (answers
//!   `mfaRequired` until a code is sent, then a `client_code`), then the form-encoded
//!   exchange at the token endpoint.
//! * [`tokens`]: [`OAuthTokens`] (zeroized, redacted in `Debug`, with their expiry, and
//!   serializable so that apps can keep them in the system keychain) and the token endpoint:
//!   exchange, and refresh (`grant_type=refresh_token`; Stalwart returns only a new access
//!   token, and a new refresh token only when the old one has at most four days left).
//! * [`device`]: the device grant ([`DeviceSignIn`]): `/auth/device`, then polling; approved
//!   on another device, or with [`approve_device`].

pub(crate) mod device;
pub(crate) mod discovery;
pub(crate) mod login;
pub(crate) mod tokens;

pub use device::{DeviceSignIn, approve_device};
pub use tokens::OAuthTokens;

pub use crate::options::OAuthOptions;
