#![doc = include_str!("../README.md")]
//!
//! # Modules
//!
//! - [`RecipientKey`] reads key material; [`RecipientKey::inspect`] gives a [`KeyReport`];
//!   [`RecipientKey::validate`] gives [`Recipients`], the only input encryption accepts.
//! - [`Policy`] holds the rules and the evaluation time.
//! - [`Problem`] / [`ProblemCode`] / [`Severity`] describe what validation found.
//! - [`Fingerprint`] prints fingerprints as gpg and openssl do.
//! - [`Error`] is the crate's one error type; [`Error::code`] gives its stable code.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod base64;
mod ber;
mod decrypt;
mod detect;
mod encrypt;
mod error;
mod fingerprint;
mod intake;
mod mime;
mod openpgp;
mod pem;
mod pgp_mime;
mod pkcs7;
mod policy;
mod private_key;
mod problem;
mod recipient;
mod report;
mod secret;
mod smime;
mod x509;

pub use decrypt::decrypt;
pub use detect::is_encrypted;
pub use encrypt::{
    Algorithm, EncryptOptions, EncryptedMessage, Outcome, PgpFormat, encrypt, encrypt_stream,
};
pub use error::{DecryptError, EncryptError, Error, KeyError, MimeError, PrivateKeyKind};
pub use fingerprint::{Fingerprint, FingerprintKind};
pub use intake::MAX_INPUT_LEN;
pub use policy::{DEFAULT_EXPIRY_WARNING, Policy};
pub use problem::{Problem, ProblemCode, Severity};
pub use recipient::{RecipientKey, Recipients};
pub use report::{
    CertificateDetails, CertificateReport, CertificateRole, KeyDetails, KeyFormat, KeyReport,
    OpenPgpDetails, X509Details,
};
pub use secret::PrivateKey;

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<Error>();
        assert_send_sync::<RecipientKey>();
        assert_send_sync::<Recipients>();
        assert_send_sync::<KeyReport>();
        assert_send_sync::<Policy>();
    }
}
