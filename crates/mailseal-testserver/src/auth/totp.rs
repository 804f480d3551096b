//! TOTP checks as Stalwart does them (`verify_mfa_secret_hash`).
//!
//! The stored `otpauth://` URL is parsed only when a code is presented, with totp-rs'
//! *checked* `TOTP::from_url`: a secret shorter than 128 bits, an unknown algorithm or
//! a malformed URL fails the parse, which fails every password+code login and every
//! self-service TOTP or password change (fixture 05b). Codes of the current step and
//! one step either side are accepted (the URL's default skew of 1); a code may be
//! reused within its window.

use std::panic::{AssertUnwindSafe, catch_unwind};

use totp_rs::TOTP;

/// The outcome of checking a password and an optional code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MfaCheck {
    /// Password (and code, when TOTP is on) are right.
    Valid,
    /// The password or the code is wrong.
    Invalid,
    /// The password is right, TOTP is on and no code was given.
    MissingMfaToken,
}

/// The stored TOTP URL could not be parsed. The URL itself is never kept in the error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TotpUrlError(pub String);

impl std::fmt::Display for TotpUrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid TOTP URL: {}", self.0)
    }
}

/// Parses a TOTP URL the way the server does at login (checked).
pub fn parse_checked(url: &str) -> Result<TOTP, TotpUrlError> {
    // totp-rs unwraps the host of the URL, so a URL without one would panic.
    match catch_unwind(AssertUnwindSafe(|| TOTP::from_url(url))) {
        Ok(Ok(totp)) => Ok(totp),
        Ok(Err(err)) => Err(TotpUrlError(err.to_string())),
        Err(_) => Err(TotpUrlError("malformed URL".to_owned())),
    }
}

/// The code for `unix` time under the URL, parsed without the length checks (so that
/// tests can compute codes for a URL the server itself refuses).
pub fn code_at(url: &str, unix: u64) -> Result<String, TotpUrlError> {
    match catch_unwind(AssertUnwindSafe(|| TOTP::from_url_unchecked(url))) {
        Ok(Ok(totp)) => Ok(totp.generate(unix)),
        Ok(Err(err)) => Err(TotpUrlError(err.to_string())),
        Err(_) => Err(TotpUrlError("malformed URL".to_owned())),
    }
}

/// Checks a password and an optional TOTP code against the stored credential.
///
/// The password is compared first; the URL is parsed only when the password is right
/// and a code was given, so a bad stored URL surfaces as `Err` exactly then.
pub fn verify(
    otp_url: Option<&str>,
    code: Option<&str>,
    stored_password: &str,
    given_password: &str,
    now_unix: i64,
) -> Result<MfaCheck, TotpUrlError> {
    let password_ok = !stored_password.is_empty()
        && !given_password.is_empty()
        && stored_password == given_password;
    match (otp_url, code) {
        (Some(url), Some(code)) => {
            if !password_ok {
                return Ok(MfaCheck::Invalid);
            }
            let totp = parse_checked(url)?;
            let now = u64::try_from(now_unix).unwrap_or(0);
            Ok(if totp.check(code, now) {
                MfaCheck::Valid
            } else {
                MfaCheck::Invalid
            })
        }
        (Some(_), None) if password_ok => Ok(MfaCheck::MissingMfaToken),
        (Some(_), None) => Ok(MfaCheck::Invalid),
        (None, _) if password_ok => Ok(MfaCheck::Valid),
        (None, _) => Ok(MfaCheck::Invalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL_160: &str = "otpauth://totp/Example:alice%40example.org?secret=VIAKPKZJUNR2QLJSTVDLEG7V5D3TP7FI&issuer=Example&algorithm=SHA1&digits=6&period=30";
    const URL_80: &str = "otpauth://totp/Example:alice%40example.org?secret=IKW7HTK4VEAVBS6O&issuer=Example&algorithm=SHA1&digits=6&period=30";
    const T: i64 = 1_795_000_015; // 15 s into a 30-s step

    fn code(offset_steps: i64) -> String {
        let t = u64::try_from(T + offset_steps * 30).expect("positive");
        code_at(URL_160, t).expect("valid URL")
    }

    #[test]
    fn current_and_neighbouring_steps_are_accepted() {
        for offset in [-1, 0, 1] {
            assert_eq!(
                verify(Some(URL_160), Some(&code(offset)), "pw", "pw", T),
                Ok(MfaCheck::Valid),
                "offset {offset}"
            );
        }
    }

    #[test]
    fn two_steps_away_is_refused() {
        for offset in [-2, 2] {
            let c = code(offset);
            if [code(-1), code(0), code(1)].contains(&c) {
                continue; // a collision of 6-digit codes
            }
            assert_eq!(
                verify(Some(URL_160), Some(&c), "pw", "pw", T),
                Ok(MfaCheck::Invalid)
            );
        }
    }

    #[test]
    fn a_code_may_be_replayed() {
        let c = code(0);
        assert_eq!(
            verify(Some(URL_160), Some(&c), "pw", "pw", T),
            Ok(MfaCheck::Valid)
        );
        assert_eq!(
            verify(Some(URL_160), Some(&c), "pw", "pw", T),
            Ok(MfaCheck::Valid)
        );
    }

    #[test]
    fn missing_code_is_reported_only_after_the_right_password() {
        assert_eq!(
            verify(Some(URL_160), None, "pw", "pw", T),
            Ok(MfaCheck::MissingMfaToken)
        );
        assert_eq!(
            verify(Some(URL_160), None, "pw", "wrong", T),
            Ok(MfaCheck::Invalid)
        );
    }

    #[test]
    fn short_secret_fails_only_when_a_code_is_checked() {
        let c = code_at(URL_80, u64::try_from(T).expect("positive")).expect("unchecked parse");
        assert!(verify(Some(URL_80), Some(&c), "pw", "pw", T).is_err());
        assert_eq!(
            verify(Some(URL_80), Some(&c), "pw", "wrong", T),
            Ok(MfaCheck::Invalid)
        );
        assert_eq!(
            verify(Some(URL_80), None, "pw", "pw", T),
            Ok(MfaCheck::MissingMfaToken)
        );
    }

    #[test]
    fn malformed_urls_do_not_panic() {
        for url in [
            "",
            "otpauth:nohost",
            "https://example.org",
            "otpauth://totp/?secret==",
        ] {
            assert!(parse_checked(url).is_err(), "{url}");
        }
    }

    #[test]
    fn without_totp_only_the_password_counts() {
        assert_eq!(
            verify(None, Some("123456"), "pw", "pw", T),
            Ok(MfaCheck::Valid)
        );
        assert_eq!(verify(None, None, "", "", T), Ok(MfaCheck::Invalid));
    }
}
