//! HTTP authentication as Stalwart 0.15 does it on every path (`/api`, `/jmap`):
//!
//! * `Basic user:secret` (user trimmed and lower-cased): the fallback administrator, an app
//!   password (never needs a code), or the password. With a TOTP URL stored, a secret whose
//!   part after the last `$` is 6–8 digits is `password$code`; the right password without a
//!   code is 402 "TOTP code required"; a wrong code or password 401 without challenges; a
//!   stored URL that does not parse 401 *with* challenges (fixture 27).
//! * `Bearer` with an OAuth access token of this server.
//! * No header, wrong credentials: 401 without challenges; another scheme, malformed Basic,
//!   an unknown bearer token: 401 with both challenges (fixture 50).

use axum::http::{HeaderMap, header};

use crate::auth::totp::parse_checked;
use crate::auth::{Credentials, parse_authorization};
use crate::problem::Problem;
use crate::state::Shared;

use super::store::{Principal, secret_matches};

/// Who is calling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// The configured fallback administrator (every permission, no principal).
    FallbackAdmin,
    /// A principal, by id.
    Principal {
        /// The principal id (= the account id).
        id: u32,
        /// Whether the request carried `Authorization: Basic` (the password actions need it).
        basic: bool,
    },
}

/// Splits `password$code` when the part after the last `$` is 6–8 ASCII digits and the
/// part before it is not empty.
pub fn split_code(secret: &str) -> Option<(&str, &str)> {
    let (password, code) = secret.rsplit_once('$')?;
    (!password.is_empty()
        && (6..=8).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_digit()))
    .then_some((password, code))
}

/// Checks a Basic secret against a principal at `now`.
fn check_principal(principal: &Principal, secret: &str, now: i64) -> Result<(), Problem> {
    if principal.app_password_matches(secret) {
        return Ok(());
    }
    let Some(url) = principal.otp_url() else {
        return if principal.password_matches(secret) {
            Ok(())
        } else {
            Err(Problem::unauthorized_without_challenges())
        };
    };
    if let Some((password, code)) = split_code(secret)
        && principal.password_matches(password)
    {
        let totp = parse_checked(url).map_err(|_| Problem::unauthorized_v0_15())?;
        let now = u64::try_from(now).unwrap_or(0);
        return if totp.check(code, now) {
            Ok(())
        } else {
            Err(Problem::unauthorized_without_challenges())
        };
    }
    if principal.password_matches(secret) {
        Err(Problem::totp_required_v0_15())
    } else {
        Err(Problem::unauthorized_without_challenges())
    }
}

/// Authenticates a request against the 0.15 store.
pub fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Caller, Problem> {
    let Some(header) = headers.get(header::AUTHORIZATION) else {
        return Err(Problem::unauthorized_without_challenges());
    };
    let header = header.to_str().ok();
    let credentials = parse_authorization(header).map_err(|_| Problem::unauthorized_v0_15())?;
    let now = shared.clock.unix();
    match credentials {
        Credentials::Basic {
            username, secret, ..
        } => {
            if let Some(admin) = &shared.config.fallback_admin
                && admin.name == username
            {
                let stored = shared
                    .rest()
                    .fallback_secret
                    .clone()
                    .unwrap_or_else(|| admin.secret.clone());
                return if secret_matches(&stored, &secret) {
                    Ok(Caller::FallbackAdmin)
                } else {
                    Err(Problem::unauthorized_without_challenges())
                };
            }
            let store = shared.rest();
            let principal = store
                .by_name(&username)
                .ok_or_else(Problem::unauthorized_without_challenges)?;
            check_principal(principal, &secret, now)?;
            Ok(Caller::Principal {
                id: principal.id,
                basic: true,
            })
        }
        Credentials::Bearer(token) => {
            let id = shared
                .oauth
                .validate_access_token(&token, now)
                .ok_or_else(Problem::unauthorized_v0_15)?;
            Ok(Caller::Principal { id, basic: false })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_split_from_the_right() {
        assert_eq!(split_code("pw$123456"), Some(("pw", "123456")));
        assert_eq!(
            split_code("pw$123456$654321"),
            Some(("pw$123456", "654321"))
        );
        assert_eq!(split_code("$123456"), None);
        assert_eq!(split_code("pw$12345"), None);
        assert_eq!(split_code("pw$123456789"), None);
        assert_eq!(split_code("pw$12a456"), None);
    }
}
