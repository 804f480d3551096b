//! The native module `mailseal._mailseal`: the classes of `mailseal-api` and thin
//! `#[pyfunction]` shims over its free functions. Keys and messages are `bytes`; blocking and
//! CPU-heavy work runs with the interpreter detached. Errors are raised as the exceptions of
//! `mailseal.errors` (mapped in `mailseal-api`'s `python` feature).

use std::borrow::Cow;

use mailseal_api as api;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Reads a certificate or public key and checks it as an encryption-at-rest recipient.
#[pyfunction]
#[pyo3(signature = (key, email = None, at = None))]
fn inspect_key(
    py: Python<'_>,
    key: Cow<'_, [u8]>,
    email: Option<String>,
    at: Option<i64>,
) -> PyResult<api::KeyInspection> {
    let key = key.into_owned();
    Ok(py.detach(|| api::inspect_key(key, email, at))?)
}

/// Encrypts a message at rest to a public key; an encrypted message comes back unchanged.
///
/// `algorithm=None` and `pgp_format=None` mean mailseal-core's defaults
/// (`DEFAULT_ALGORITHM`, `aes256`; `auto`).
#[pyfunction]
#[pyo3(signature = (message, key, *, algorithm = None, pgp_format = None, oaep = false, email = None))]
fn encrypt(
    py: Python<'_>,
    message: Cow<'_, [u8]>,
    key: Cow<'_, [u8]>,
    algorithm: Option<String>,
    pgp_format: Option<String>,
    oaep: bool,
    email: Option<String>,
) -> PyResult<api::EncryptResult> {
    let (message, key) = (message.into_owned(), key.into_owned());
    let options = api::EncryptOptions {
        algorithm,
        pgp_format,
        oaep,
        email,
    };
    Ok(py.detach(|| api::encrypt(message, key, options))?)
}

/// Decrypts a stored message with the owner's private key.
///
/// The Rust copies of the plaintext, the private key and the password are wiped; the
/// `bytes` object handed to Python is not (Python cannot wipe it).
#[pyfunction]
#[pyo3(signature = (message, private_key, password = None))]
fn decrypt<'py>(
    py: Python<'py>,
    message: Cow<'_, [u8]>,
    private_key: Cow<'_, [u8]>,
    password: Option<String>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (message, private_key) = (message.into_owned(), private_key.into_owned());
    let plain = py.detach(|| api::decrypt(message, private_key, password))?;
    Ok(PyBytes::new(py, &plain))
}

/// Whether a message is encrypted (PGP/MIME, S/MIME enveloped data, inline PGP).
#[pyfunction]
fn is_encrypted(py: Python<'_>, message: Cow<'_, [u8]>) -> bool {
    let message = message.into_owned();
    py.detach(|| api::is_encrypted(message))
}

/// Advice about an algorithm choice (AEAD algorithms few programs can open), or None.
#[pyfunction]
fn algorithm_advice(algorithm: String) -> PyResult<Option<String>> {
    Ok(api::algorithm_advice(algorithm)?)
}

/// Validates an otpauth:// URL by the rules the server applies at sign-in.
#[pyfunction]
fn validate_totp_url(url: String) -> PyResult<()> {
    Ok(api::validate_totp_url(url)?)
}

#[pymodule]
fn _mailseal(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("DEFAULT_ALGORITHM", api::DEFAULT_ALGORITHM)?;
    m.add("ALGORITHMS", api::ALGORITHMS.to_vec())?;
    m.add_function(wrap_pyfunction!(inspect_key, m)?)?;
    m.add_function(wrap_pyfunction!(encrypt, m)?)?;
    m.add_function(wrap_pyfunction!(decrypt, m)?)?;
    m.add_function(wrap_pyfunction!(is_encrypted, m)?)?;
    m.add_function(wrap_pyfunction!(algorithm_advice, m)?)?;
    m.add_function(wrap_pyfunction!(validate_totp_url, m)?)?;
    m.add_class::<api::ErrorKind>()?;
    m.add_class::<api::KeyFormat>()?;
    m.add_class::<api::Severity>()?;
    m.add_class::<api::CertificateRole>()?;
    m.add_class::<api::KeyProblem>()?;
    m.add_class::<api::CertificateSummary>()?;
    m.add_class::<api::KeyInspection>()?;
    m.add_class::<api::EncryptResult>()?;
    m.add_class::<api::OAuthTokens>()?;
    m.add_class::<api::TotpEnrollment>()?;
    m.add_class::<api::CreatedCredential>()?;
    m.add_class::<api::CredentialInfo>()?;
    m.add_class::<api::FeatureStatus>()?;
    m.add_class::<api::Availability>()?;
    m.add_class::<api::StoredKey>()?;
    m.add_class::<api::EncryptionSettings>()?;
    m.add_class::<api::EncryptionEnabled>()?;
    m.add_class::<api::AccountSession>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
