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
    algorithm: Option<api::Choice<api::Algorithm>>,
    pgp_format: Option<api::PgpFormatArg>,
    oaep: bool,
    email: Option<String>,
) -> PyResult<api::EncryptResult> {
    let options = api::encrypt_options(algorithm, pgp_format, oaep, email)?;
    // The message is read where Python keeps it (no copy of a `bytes` object).
    Ok(py.detach(|| {
        api::Recipients::new(key.into_owned(), options.email.clone())?
            .encrypt_slice(&message, &options)
    })?)
}

/// Encrypts the message in the file `input` to `key` into the file `output` (replaced only
/// when complete), streaming: memory stays flat for any message size.
#[pyfunction]
#[pyo3(signature = (input, output, key, *, algorithm = None, pgp_format = None, oaep = false, email = None))]
#[allow(clippy::too_many_arguments)]
fn encrypt_file(
    py: Python<'_>,
    input: std::path::PathBuf,
    output: std::path::PathBuf,
    key: Vec<u8>,
    algorithm: Option<api::Choice<api::Algorithm>>,
    pgp_format: Option<api::PgpFormatArg>,
    oaep: bool,
    email: Option<String>,
) -> PyResult<api::EncryptResult> {
    let options = api::encrypt_options(algorithm, pgp_format, oaep, email)?;
    let (input, output) = (api::utf8_path(input)?, api::utf8_path(output)?);
    Ok(py.detach(|| api::encrypt_file(input, output, key, options))?)
}

/// Decrypts the stored message in the file `input` into the file `output` (created readable
/// by its owner only; replaced only when complete).
#[pyfunction]
#[pyo3(signature = (input, output, private_key, password = None))]
fn decrypt_file(
    py: Python<'_>,
    input: std::path::PathBuf,
    output: std::path::PathBuf,
    private_key: Vec<u8>,
    password: Option<String>,
) -> PyResult<()> {
    let (input, output) = (api::utf8_path(input)?, api::utf8_path(output)?);
    Ok(py.detach(|| api::decrypt_file(input, output, private_key, password))?)
}

/// Approves a device sign-in (`user_code`) with the password (and a two-factor code from
/// `code_provider` when needed), blocking.
#[pyfunction]
#[pyo3(signature = (server_url, user, password, user_code, code_provider = None, *, options = None))]
fn approve_device(
    py: Python<'_>,
    server_url: String,
    user: String,
    password: String,
    user_code: String,
    code_provider: Option<api::Callback>,
    options: Option<api::ConnectOptions>,
) -> PyResult<()> {
    let raised = api::CallbackErrors::default();
    let codes = code_provider.map(|c| api::PyCodeProvider::wrap(c, None, &raised));
    py.detach(|| {
        api::block_on(api::approve_device(
            server_url, user, password, user_code, codes, options,
        ))
    })
    .map_err(|e| api::raised_or(api::take_callback_error(&raised), e))
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
fn algorithm_advice(algorithm: api::Choice<api::Algorithm>) -> Option<String> {
    api::algorithm_advice(algorithm.0)
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
    m.add_function(wrap_pyfunction!(encrypt_file, m)?)?;
    m.add_function(wrap_pyfunction!(decrypt_file, m)?)?;
    m.add_function(wrap_pyfunction!(approve_device, m)?)?;
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
    m.add_class::<api::PyAccountSession>()?;
    m.add_class::<api::PyAsyncAccountSession>()?;
    m.add_class::<api::ConnectOptions>()?;
    m.add_class::<api::DeviceSignIn>()?;
    m.add_class::<api::Algorithm>()?;
    m.add_class::<api::PgpFormat>()?;
    m.add_class::<api::Recipients>()?;
    m.add_class::<api::EncryptExistingOptions>()?;
    m.add_class::<api::Phase>()?;
    m.add_class::<api::Progress>()?;
    m.add_class::<api::SkippedMessage>()?;
    m.add_class::<api::FailedMessage>()?;
    m.add_class::<api::PlannedMessage>()?;
    m.add_class::<api::EncryptReport>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
