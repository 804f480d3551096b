//! Two-factor authentication with TOTP (RFC 6238) on `x:AccountPassword` (spec §5).
//!
//! Stalwart stores an `otpauth://` URL that the *client* makes, and parses it only at login
//! with totp-rs' checked parser: a URL it cannot parse (a secret under 128 bits, say) locks
//! the user out of password sign-in. So the URL is built here from a 160-bit random secret,
//! validated with the same parser, confirmed with a code from the user's new authenticator,
//! and only then saved. Stalwart has no recovery codes; [`TotpEnrollment::recovery_kit`] is
//! the honest substitute: the secret itself, to print or store safely.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::RngCore as _;
use totp_rs::{Algorithm, TOTP};

use crate::client::Client;
use crate::credential::SignInMethod;
use crate::error::Error;
use crate::objects::{AccountPasswordPatch, OtpAuthPatch};
use crate::secret::{Exposed, Secret};

/// The secret length used: 160 bits, as RFC 4226 recommends and Stalwart's web UI uses.
pub const SECRET_BYTES: usize = 20;
/// The shortest secret Stalwart's login parser accepts: 128 bits.
pub const MIN_SECRET_BYTES: usize = 16;

/// A new TOTP configuration, not yet saved. Holds the secret: zeroized, redacted in `Debug`.
#[derive(Debug, Clone)]
pub struct TotpEnrollment {
    url: Secret,
    secret_base32: Secret,
    issuer: String,
    account: String,
}

/// Validates an `otpauth://` URL by the rules Stalwart's login parser applies (totp-rs'
/// checked `from_url`: secret of 128 bits or more, 6–8 digits, SHA1/SHA256/SHA512, no `:`
/// in issuer or account name) and the lower-case scheme Stalwart 0.15 needs.
///
/// ```
/// use mailseal_jmap::account::totp::validate_url;
/// // An 80-bit secret: accepted on write by the server, then it locks the user out.
/// let short = "otpauth://totp/Example:alice%40example.org?secret=JBSWY3DPEHPK3PXP&issuer=Example";
/// assert_eq!(validate_url(short).unwrap_err().code(), "jmap.invalid_input");
/// ```
pub fn validate_url(url: &str) -> Result<(), Error> {
    if !url.starts_with("otpauth://totp/") {
        return Err(Error::invalid(
            "the TOTP URL must start with \"otpauth://totp/\" in lower case (Stalwart 0.15 \
             would store any other spelling as the password)",
        ));
    }
    let totp = TOTP::from_url(url).map_err(|e| {
        Error::invalid(format!(
            "the server could not use this TOTP URL at sign-in and the account would be locked \
             out of password sign-in: {e}"
        ))
    })?;
    if totp.secret.len() < MIN_SECRET_BYTES {
        return Err(Error::invalid("the TOTP secret must be at least 128 bits"));
    }
    Ok(())
}

fn parse(url: &str) -> Result<TOTP, Error> {
    validate_url(url)?;
    TOTP::from_url(url).map_err(|e| Error::invalid(format!("bad TOTP URL: {e}")))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl TotpEnrollment {
    /// Makes a new 160-bit secret and its URL for `account` (the e-mail address), shown in
    /// authenticator apps under `issuer` (e.g. the server's name).
    pub fn new(issuer: &str, account: &str) -> Result<Self, Error> {
        if issuer.contains(':') || account.contains(':') {
            return Err(Error::invalid(
                "the issuer and account name of a TOTP URL cannot contain ':'",
            ));
        }
        let mut secret = zeroize::Zeroizing::new(vec![0u8; SECRET_BYTES]);
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let totp = TOTP::new(
            Algorithm::SHA1,
            6,
            1,
            30,
            secret.to_vec(),
            Some(issuer.to_owned()),
            account.to_owned(),
        )
        .map_err(|e| Error::invalid(format!("cannot make a TOTP secret: {e}")))?;
        let enrollment = TotpEnrollment {
            url: Secret::new(totp.get_url()),
            secret_base32: Secret::new(totp.get_secret_base32()),
            issuer: issuer.to_owned(),
            account: account.to_owned(),
        };
        validate_url(enrollment.url.expose())?;
        Ok(enrollment)
    }

    /// The `otpauth://` URL (contains the secret).
    pub fn url(&self) -> &Secret {
        &self.url
    }

    /// The secret in base32, for typing into an app by hand.
    pub fn secret_base32(&self) -> &Secret {
        &self.secret_base32
    }

    /// Checks a code from the new authenticator (the current 30-second step, or one step
    /// either side, as the server accepts).
    pub fn verify(&self, code: &str) -> Result<(), Error> {
        self.verify_at(code, unix_now())
    }

    /// [`verify`](Self::verify) at a given Unix time.
    pub fn verify_at(&self, code: &str, unix_time: u64) -> Result<(), Error> {
        let totp = parse(self.url.expose())?;
        if totp.check(code.trim(), unix_time) {
            Ok(())
        } else {
            Err(Error::invalid(
                "the code does not match: check the authenticator app's clock and enter the \
                 current code",
            ))
        }
    }

    /// The code for a given Unix time (for tests and for showing a sample).
    pub fn code_at(&self, unix_time: u64) -> Result<String, Error> {
        Ok(parse(self.url.expose())?.generate(unix_time))
    }

    /// The URL as a QR code in SVG.
    pub fn qr_svg(&self) -> Result<String, Error> {
        let code = qr(self.url.expose())?;
        Ok(code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(256, 256)
            .build())
    }

    /// The URL as a QR code in text for a terminal (two modules per character cell).
    pub fn qr_terminal(&self) -> Result<String, Error> {
        let code = qr(self.url.expose())?;
        Ok(code
            .render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .build())
    }

    /// The URL as a QR code in PNG (8 pixels a module, with the quiet zone).
    pub fn qr_png(&self) -> Result<Vec<u8>, Error> {
        let code = qr(self.url.expose())?;
        let modules = code.width();
        let colors = code.to_colors();
        const SCALE: usize = 8;
        const QUIET: usize = 4;
        let side = (modules + 2 * QUIET) * SCALE;
        let mut pixels = vec![255u8; side * side];
        for (i, c) in colors.iter().enumerate() {
            if *c == qrcode::Color::Dark {
                let (mx, my) = (i % modules + QUIET, i / modules + QUIET);
                for dy in 0..SCALE {
                    let row = (my * SCALE + dy) * side;
                    for dx in 0..SCALE {
                        if let Some(p) = pixels.get_mut(row + mx * SCALE + dx) {
                            *p = 0;
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        {
            let side = u32::try_from(side).map_err(|_| Error::invalid("QR code too large"))?;
            let mut enc = png::Encoder::new(&mut out, side, side);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc
                .write_header()
                .map_err(|e| Error::invalid(format!("PNG: {e}")))?;
            w.write_image_data(&pixels)
                .map_err(|e| Error::invalid(format!("PNG: {e}")))?;
        }
        Ok(out)
    }

    /// A recovery kit to print or store safely. Stalwart has no recovery codes: whoever holds
    /// this can make codes, so it replaces them. mailseal never keeps it.
    pub fn recovery_kit(&self) -> Secret {
        Secret::new(format!(
            "TOTP recovery kit for {account} ({issuer})\n\
             \n\
             This mail server has no recovery codes. This kit is the substitute: with it you\n\
             can set up a new authenticator if you lose your phone. Print it or keep it in a\n\
             password manager; anyone who has it can sign in with your password.\n\
             \n\
             Secret (base32): {secret}\n\
             Setup URL: {url}\n\
             Type: TOTP, SHA1, 6 digits, 30 seconds\n",
            account = self.account,
            issuer = self.issuer,
            secret = self.secret_base32.expose(),
            url = self.url.expose(),
        ))
    }
}

fn qr(data: &str) -> Result<qrcode::QrCode, Error> {
    qrcode::QrCode::new(data.as_bytes()).map_err(|e| Error::invalid(format!("QR code: {e}")))
}

impl Client {
    /// Whether two-factor authentication is on.
    pub async fn totp_enabled(&self) -> Result<bool, Error> {
        Ok(self.password_state().await?.totp_enabled)
    }

    /// Turns TOTP on with `enrollment`, after checking `new_code` from the new authenticator.
    /// When TOTP is already on this rotates the secret, and `current_code` (from the old
    /// authenticator) is required.
    ///
    /// Once TOTP is on, the server refuses the password over HTTP Basic (402). So that this
    /// client stays signed in, a session that uses the password moves to the server's OAuth
    /// sign-in *before* the secret is saved; if it cannot, nothing is saved and the error
    /// says to sign in with an app password first. Sessions on an app password, API key or
    /// OAuth tokens are not affected.
    pub async fn enable_totp(
        &self,
        current_password: &Secret,
        enrollment: &TotpEnrollment,
        new_code: &str,
        current_code: Option<&str>,
    ) -> Result<(), Error> {
        if self.is_rest() {
            return self
                .rest_enable_totp(current_password, enrollment, new_code, current_code)
                .await;
        }
        validate_url(enrollment.url.expose())?;
        enrollment.verify(new_code)?;
        let otp_code = code_to_replace(self.totp_enabled().await?, current_code)?;
        if self.sign_in_method() == SignInMethod::Password {
            self.sign_in_oauth()
                .await
                .map_err(|e| Error::NotAvailable {
                    reason: format!(
                        "two-factor authentication was not turned on: once it is on, the server \
                     refuses the password without a code, and this session could not move to \
                     the server's OAuth sign-in first ({e}); sign in with an app password and \
                     try again"
                    ),
                })?;
        }
        self.update_password_object(AccountPasswordPatch {
            current_secret: Exposed(current_password),
            secret: None,
            otp_code: None,
            otp_auth: Some(OtpAuthPatch {
                otp_url: Some(Exposed(&enrollment.url)),
                otp_code,
            }),
        })
        .await
    }

    /// Turns TOTP off; the server requires the password and a current code.
    pub async fn disable_totp(&self, current_password: &Secret, code: &str) -> Result<(), Error> {
        if self.is_rest() {
            return self.rest_disable_totp(current_password, code).await;
        }
        self.update_password_object(AccountPasswordPatch {
            current_secret: Exposed(current_password),
            secret: None,
            otp_code: None,
            otp_auth: Some(OtpAuthPatch {
                otp_url: None,
                otp_code: Some(code),
            }),
        })
        .await
    }
}

/// The code enabling TOTP sends: none when it is off, the old authenticator's current code
/// when it is on and is being replaced (an error without one).
pub(crate) fn code_to_replace(
    enabled: bool,
    current_code: Option<&str>,
) -> Result<Option<&str>, Error> {
    match (enabled, current_code) {
        (false, _) => Ok(None),
        (true, Some(code)) => Ok(Some(code)),
        (true, None) => Err(Error::invalid(
            "two-factor authentication is already on: the current code from the old \
             authenticator is needed to replace it",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_enrollment_is_valid_and_verifies_its_own_codes() {
        let e = TotpEnrollment::new("Example Mail", "alice@example.org").unwrap();
        assert!(e.url().expose().starts_with("otpauth://totp/"));
        assert_eq!(e.secret_base32().expose().len(), 32);
        let t = 1_800_000_000;
        let code = e.code_at(t).unwrap();
        assert!(e.verify_at(&code, t).is_ok());
        assert!(e.verify_at(&code, t + 30).is_ok(), "one step of skew");
        assert!(e.verify_at(&code, t + 90).is_err(), "three steps later");
        assert!(format!("{e:?}").contains("redacted"));
        assert!(!format!("{e:?}").contains(e.secret_base32().expose()));
    }

    #[test]
    fn upper_case_scheme_and_short_secrets_are_refused() {
        let e = TotpEnrollment::new("X", "a@b").unwrap();
        let upper = e.url().expose().replacen("otpauth", "OTPAUTH", 1);
        assert!(validate_url(&upper).is_err());
        assert!(validate_url("otpauth://totp/X:a?secret=JBSWY3DPEHPK3PXP&issuer=X").is_err());
    }

    #[test]
    fn qr_codes_render() {
        let e = TotpEnrollment::new("X", "a@b").unwrap();
        assert!(e.qr_svg().unwrap().starts_with("<?xml"));
        assert!(e.qr_png().unwrap().starts_with(b"\x89PNG"));
        assert!(e.qr_terminal().unwrap().lines().count() > 10);
        assert!(e.recovery_kit().expose().contains("no recovery codes"));
    }
}
