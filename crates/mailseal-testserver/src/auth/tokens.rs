//! The text forms of app passwords and API keys.
//!
//! * App password: `app_` + base 32 (Stalwart alphabet) of the 4-byte big-endian
//!   credential id and 18 random bytes; any single character is accepted after `app`.
//! * API key: `API_` + base64url without padding of the 4-byte account id, the 4-byte
//!   credential id and 20 random bytes (fixture 07: `API_AAAAAgAAAAE…` is account 2,
//!   credential 1).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

use crate::ids::{base32_decode, base32_encode};

/// A parsed app password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppPasswordToken {
    /// The credential id.
    pub credential_id: u32,
    /// The random part.
    pub secret: [u8; 18],
}

impl AppPasswordToken {
    /// A new random app password for `credential_id`.
    pub fn generate(credential_id: u32) -> Self {
        let mut secret = [0u8; 18];
        rand::thread_rng().fill_bytes(&mut secret);
        Self {
            credential_id,
            secret,
        }
    }

    /// Reads `app?<base32>`; `None` when the text is not an app password.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix("app")?;
        let payload = rest.as_bytes().get(1..)?;
        let payload = std::str::from_utf8(payload).ok()?;
        // The real reader fills a missing last character with zero bits.
        let bytes = match payload.len() {
            36 => base32_decode(payload)?,
            35 => base32_decode(&format!("{payload}a"))?,
            _ => return None,
        };
        let id = bytes.get(..4)?;
        let credential_id = u32::from_be_bytes(id.try_into().ok()?);
        let secret: [u8; 18] = bytes.get(4..22)?.try_into().ok()?;
        Some(Self {
            credential_id,
            secret,
        })
    }

    /// The text handed to the client.
    pub fn build(&self) -> String {
        let mut bytes = Vec::with_capacity(22);
        bytes.extend_from_slice(&self.credential_id.to_be_bytes());
        bytes.extend_from_slice(&self.secret);
        format!("app_{}", base32_encode(&bytes))
    }
}

/// A parsed API key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyToken {
    /// The account id.
    pub account_id: u32,
    /// The credential id.
    pub credential_id: u32,
    /// The random part.
    pub secret: [u8; 20],
}

impl ApiKeyToken {
    /// A new random API key.
    pub fn generate(account_id: u32, credential_id: u32) -> Self {
        let mut secret = [0u8; 20];
        rand::thread_rng().fill_bytes(&mut secret);
        Self {
            account_id,
            credential_id,
            secret,
        }
    }

    /// Reads `API_<base64url>`; `None` when the text is not an API key.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text.strip_prefix("API_")?).ok()?;
        let account_id = u32::from_be_bytes(bytes.get(0..4)?.try_into().ok()?);
        let credential_id = u32::from_be_bytes(bytes.get(4..8)?.try_into().ok()?);
        let secret: [u8; 20] = bytes.get(8..)?.try_into().ok()?;
        Some(Self {
            account_id,
            credential_id,
            secret,
        })
    }

    /// The text handed to the client.
    pub fn build(&self) -> String {
        let mut bytes = Vec::with_capacity(28);
        bytes.extend_from_slice(&self.account_id.to_be_bytes());
        bytes.extend_from_slice(&self.credential_id.to_be_bytes());
        bytes.extend_from_slice(&self.secret);
        format!("API_{}", URL_SAFE_NO_PAD.encode(bytes))
    }
}

/// The random part of a stored secondary credential secret, whichever kind it is.
pub fn secret_bytes(stored: &str) -> Option<Vec<u8>> {
    if let Some(token) = AppPasswordToken::parse(stored) {
        Some(token.secret.to_vec())
    } else {
        ApiKeyToken::parse(stored).map(|token| token.secret.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_app_password_parses() {
        let token = AppPasswordToken::parse("app_aaaaaaleqp1lmocrdwdbv3bocpm2dkugardq")
            .expect("recorded app password");
        assert_eq!(token.credential_id, 1);
        assert_eq!(token.build(), "app_aaaaaaleqp1lmocrdwdbv3bocpm2dkugardq");
        // 0.16.0-0.16.2 wrote a space after "app"
        assert!(AppPasswordToken::parse("app aaaaaaleqp1lmocrdwdbv3bocpm2dkugardq").is_some());
        assert!(AppPasswordToken::parse("apple pie").is_none());
    }

    #[test]
    fn recorded_api_key_parses() {
        let key = ApiKeyToken::parse("API_AAAAAgAAAAEXuPXxaklZkqdU2YRce6RK10VwXQ")
            .expect("recorded API key");
        assert_eq!((key.account_id, key.credential_id), (2, 1));
        assert_eq!(key.build(), "API_AAAAAgAAAAEXuPXxaklZkqdU2YRce6RK10VwXQ");
        assert!(ApiKeyToken::parse("API_AAAA").is_none());
    }

    #[test]
    fn generated_tokens_round_trip() {
        let app = AppPasswordToken::generate(5);
        assert_eq!(AppPasswordToken::parse(&app.build()), Some(app.clone()));
        assert!(app.build().starts_with("app_aaaaab"));
        let key = ApiKeyToken::generate(2, 3);
        assert_eq!(ApiKeyToken::parse(&key.build()), Some(key));
    }
}
