//! The one facade of mailseal that Python, Kotlin and Swift are generated from.
//!
//! Everything here is owned data (`String`, `Vec<u8>`, integers, `Option`, `Vec`, enums) or
//! an opaque handle that keeps its secrets inside ([`AccountSession`], [`OAuthTokens`],
//! [`TotpEnrollment`], [`CreatedCredential`], [`DeviceSignIn`]). Every fallible call returns
//! [`ApiError`], whose [`code`](ApiError::code) is the stable code of mailseal-core or
//! mailseal-jmap. Times are Unix seconds.
//!
//! Each type and function is defined once, here. The `uniffi` feature adds uniffi's derives
//! and exports to them (Kotlin, Swift: `bindings/uniffi`), the `python` feature pyo3's
//! attributes and the Python-only extras in `py` (`bindings/python`). Account calls are
//! `async` and run on the facade's own tokio runtime whoever awaits them (a Kotlin coroutine,
//! a Swift task, asyncio, tokio); [`block_on`] is their blocking form and never starts a
//! runtime inside another.
//!
//! - Keys and messages: [`inspect_key`], [`encrypt`], [`decrypt`], [`is_encrypted`],
//!   [`encrypt_file`], [`decrypt_file`], [`algorithm_advice`], [`Algorithm`], [`PgpFormat`].
//! - Account security: [`AccountSession`], [`sign_in`], [`DeviceSignIn`],
//!   [`approve_device`], [`ConnectOptions`], [`CodeProvider`], [`validate_totp_url`].
//! - Encrypting the mail already stored: [`AccountSession::encrypt_existing`],
//!   [`EncryptExistingOptions`], [`ProgressListener`], [`Progress`], [`EncryptReport`].
//! - Features: `native-tls` (default), `mobile` (OpenSSL built from source, rustls),
//!   `uniffi`, `python`.
//!
//! # Map
//!
//! ```text
//! bindings/python ──► py (feature "python": both Python faces of AccountSession, the
//!                      │  code-provider adapter, __repr__s)
//! bindings/uniffi ──► (feature "uniffi": derives and exports on the same items)
//!                      │
//!   mailseal-cli ──►   ├─ keys, files   KeyInspection, EncryptOptions, encrypt/decrypt, …
//!   (JSON records)     ├─ session       AccountSession (async) over mailseal-jmap
//!                      ├─ account       the account records and secret-holding handles
//!                      ├─ connect       ConnectOptions, sign_in, device sign-in
//!                      ├─ codes         CodeProvider (a foreign, async callback)
//!                      ├─ existing_mail encrypt existing mail: its options, Progress and
//!                      │                ProgressListener (a foreign callback), EncryptReport
//!                      ├─ runtime       the facade's runtime, block_on
//!                      └─ error         ApiError: family + stable code + reason + detail
//!                           │
//!          mailseal-core ◄──┴──► mailseal-jmap
//! ```
//!
//! The records derive `serde::Serialize`, so the CLI's `--json` output is these same records.
#![forbid(unsafe_code)]

mod account;
mod codes;
mod connect;
mod error;
mod existing_mail;
mod files;
mod keys;
#[cfg(feature = "python")]
mod py;
mod runtime;
mod session;

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("mailseal");

pub use account::{
    Availability, CreatedCredential, CredentialInfo, EncryptionEnabled, EncryptionOptions,
    EncryptionSettings, FeatureStatus, OAuthTokens, StoredKey, TotpEnrollment, validate_totp_url,
};
pub use codes::{CallbackErrors, CodeProvider, take_callback_error};
pub use connect::{ConnectOptions, DeviceSignIn, approve_device, sign_in};
pub use error::{ApiError, ErrorKind};
pub use existing_mail::{
    EncryptExistingOptions, EncryptReport, FailedMessage, Phase, PlannedMessage, Progress,
    ProgressListener, SkippedMessage,
};
pub use files::{decrypt_file, encrypt_file};
pub use keys::{
    ALGORITHMS, Algorithm, CertificateRole, CertificateSummary, DEFAULT_ALGORITHM, EncryptOptions,
    EncryptResult, KeyFormat, KeyInspection, KeyProblem, PgpFormat, Plaintext, Recipients,
    Severity, algorithm_advice, decrypt, encrypt, inspect_key, is_encrypted,
};
#[cfg(feature = "python")]
pub use py::{
    Callback, Choice, Named, PathArg, PgpFormatArg, ProgressCallback, PyAccountSession,
    PyAsyncAccountSession, PyCodeProvider, PyProgressListener, encrypt_options, raised_or,
    utf8_path,
};
pub use runtime::block_on;
pub use session::AccountSession;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const ALICE_PUB: &[u8] = include_bytes!("../../../examples/keys/alice.pub.asc");
    const ALICE_SEC: &[u8] = include_bytes!("../../../examples/keys/alice.sec.asc");
    const HELLO: &[u8] = include_bytes!("../../../examples/messages/hello.eml");
    const ALICE_CRT: &[u8] = include_bytes!("../../../examples/keys/alice.crt.pem");
    const ALICE_KEY: &[u8] = include_bytes!("../../../examples/keys/alice.key.pem");

    #[test]
    fn smime_round_trip_through_openssl() {
        // RSA through OpenSSL: the system's, or the one the `mobile` feature builds.
        for algorithm in [Algorithm::Aes128, Algorithm::Aes256Gcm] {
            let options = EncryptOptions {
                algorithm: Some(algorithm),
                oaep: true,
                ..EncryptOptions::default()
            };
            let out = encrypt(HELLO.to_vec(), ALICE_CRT.to_vec(), options).unwrap();
            assert!(is_encrypted(out.message.clone()));
            let plain = decrypt(out.message, ALICE_KEY.to_vec(), None).unwrap();
            assert_eq!(plain.as_slice(), HELLO);
        }
    }

    #[test]
    fn round_trip_and_codes() {
        let out = encrypt(
            HELLO.to_vec(),
            ALICE_PUB.to_vec(),
            EncryptOptions::default(),
        )
        .unwrap();
        assert!(!out.already_encrypted);
        assert_eq!(out.algorithm, DEFAULT_ALGORITHM);
        assert!(is_encrypted(out.message.clone()));
        assert_eq!(
            decrypt(out.message, ALICE_SEC.to_vec(), None)
                .unwrap()
                .as_slice(),
            HELLO
        );
        let err = inspect_key(ALICE_SEC.to_vec(), None, None).unwrap_err();
        assert_eq!(
            (err.kind(), err.code()),
            (ErrorKind::InvalidKey, "key.private_key")
        );
        let err = Algorithm::from_name("rot13").unwrap_err();
        assert_eq!(
            (err.kind(), err.code()),
            (ErrorKind::InvalidInput, "input.unknown_algorithm")
        );
        let err = inspect_key(ALICE_PUB.to_vec(), None, Some(i64::MAX)).unwrap_err();
        assert_eq!(
            (err.kind(), err.code()),
            (ErrorKind::InvalidInput, "input.time_out_of_range")
        );
        let err = PgpFormat::from_name("v3").unwrap_err();
        assert_eq!(
            (err.kind(), err.code()),
            (ErrorKind::InvalidInput, "input.unknown_pgp_format")
        );
        assert!(
            algorithm_advice(Algorithm::from_name("aes256-gcm").unwrap())
                .unwrap()
                .contains("aes256")
        );
    }

    #[test]
    fn totp_urls_are_checked() {
        let err = validate_totp_url(
            "otpauth://totp/Example:alice%40example.org?secret=JBSWY3DPEHPK3PXP&issuer=Example"
                .into(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "jmap.invalid_input");
        let e = TotpEnrollment::new("Example".into(), "alice@example.org".into()).unwrap();
        assert!(validate_totp_url(e.otpauth_url()).is_ok());
        assert!(!format!("{e:?}").contains(&e.secret_base32()));
    }
}
