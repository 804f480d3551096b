//! Python (pyo3) extras on the facade types: the `ApiError` → `mailseal.errors` mapping,
//! `#[pymethods]` of the handles (every blocking call runs with the interpreter detached),
//! `__repr__`/`__str__`, and the adapter that makes a Python callable a [`CodeProvider`].
//!
//! pymethods must sit in the crate that defines the class, so they live here; the binding
//! crate (`bindings/python`) only adds the module and the free functions.

use std::borrow::Cow;
use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::account::{
    AccountSession, Availability, CallbackErrors, CodeProvider, CreatedCredential, CredentialInfo,
    EncryptionEnabled, EncryptionOptions, EncryptionSettings, FeatureStatus, OAuthTokens,
    StoredKey, TotpEnrollment, take_callback_error,
};
use crate::error::{ApiError, ErrorKind};
use crate::keys::{
    CertificateRole, CertificateSummary, EncryptResult, KeyFormat, KeyInspection, KeyProblem,
    Severity,
};

mod exceptions {
    pyo3::import_exception!(mailseal.errors, InvalidKeyError);
    pyo3::import_exception!(mailseal.errors, EncryptionError);
    pyo3::import_exception!(mailseal.errors, DecryptionError);
    pyo3::import_exception!(mailseal.errors, InvalidInputError);
    pyo3::import_exception!(mailseal.errors, AuthenticationError);
    pyo3::import_exception!(mailseal.errors, NotAvailableError);
    pyo3::import_exception!(mailseal.errors, ServerError);
    pyo3::import_exception!(mailseal.errors, TransportError);
}

impl From<ApiError> for PyErr {
    fn from(e: ApiError) -> PyErr {
        use exceptions as x;
        let args = (
            e.reason().to_owned(),
            e.code().to_owned(),
            e.detail().map(str::to_owned),
        );
        match e.kind() {
            ErrorKind::InvalidKey => x::InvalidKeyError::new_err(args),
            ErrorKind::Encryption => x::EncryptionError::new_err(args),
            ErrorKind::Decryption => x::DecryptionError::new_err(args),
            ErrorKind::InvalidInput => x::InvalidInputError::new_err(args),
            ErrorKind::Authentication => x::AuthenticationError::new_err(args),
            ErrorKind::NotAvailable => x::NotAvailableError::new_err(args),
            ErrorKind::Server => x::ServerError::new_err(args),
            ErrorKind::Transport => x::TransportError::new_err(args),
        }
    }
}

/// A Python callable `(user: str) -> str | None` as a [`CodeProvider`]. An exception in the
/// callable stops the sign-in and is raised to the caller of the method that asked, unchanged.
pub struct PyCodeProvider {
    callable: Py<PyAny>,
    raised: CallbackErrors,
}

impl PyCodeProvider {
    /// Wraps `callable`; a `TypeError` if it is not callable. The second value is where an
    /// exception it raises is kept.
    pub fn wrap(callable: Bound<'_, PyAny>) -> PyResult<(Arc<dyn CodeProvider>, CallbackErrors)> {
        if !callable.is_callable() {
            return Err(PyTypeError::new_err(
                "code_provider must be a callable (user: str) -> str | None",
            ));
        }
        let raised = CallbackErrors::default();
        let provider = PyCodeProvider {
            callable: callable.unbind(),
            raised: Arc::clone(&raised),
        };
        Ok((Arc::new(provider), raised))
    }
}

impl CodeProvider for PyCodeProvider {
    fn totp_code(&self, user: String) -> Option<String> {
        Python::attach(|py| {
            let f = self.callable.bind(py);
            let answer = f.call1((user,)).and_then(|r| r.extract::<Option<String>>());
            match answer {
                Ok(code) => code,
                Err(e) => {
                    *self
                        .raised
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Box::new(e));
                    None
                }
            }
        })
    }
}

/// The Python exception a code provider raised, if one did, else `error` as a mailseal
/// exception.
fn raised_or(raised: Option<Box<dyn std::any::Any + Send>>, error: ApiError) -> PyErr {
    match raised.map(|b| b.downcast::<PyErr>()) {
        Some(Ok(e)) => *e,
        _ => error.into(),
    }
}

fn provider(
    codes: Option<Bound<'_, PyAny>>,
) -> PyResult<(Option<Arc<dyn CodeProvider>>, CallbackErrors)> {
    match codes.filter(|c| !c.is_none()) {
        Some(c) => {
            let (p, raised) = PyCodeProvider::wrap(c)?;
            Ok((Some(p), raised))
        }
        None => Ok((None, CallbackErrors::default())),
    }
}

impl AccountSession {
    /// `result` for Python: an exception the code provider raised wins over the error it
    /// caused.
    fn checked<T>(&self, result: Result<T, ApiError>) -> PyResult<T> {
        result.map_err(|e| raised_or(self.take_callback_error(), e))
    }
}

// One #[pymethods] block per class (no `multiple-pymethods`): the handles define their
// `__repr__` (redacted `Debug`) in their own block below.
macro_rules! debug_repr {
    ($($t:ty),* $(,)?) => {$(
        #[pymethods]
        impl $t {
            fn __repr__(&self) -> String {
                format!("{self:?}")
            }
        }
    )*};
}

debug_repr!(
    KeyProblem,
    CertificateSummary,
    KeyInspection,
    EncryptResult,
    CredentialInfo,
    FeatureStatus,
    Availability,
    StoredKey,
    EncryptionSettings,
    EncryptionEnabled,
);

macro_rules! enum_str {
    ($($t:ty),* $(,)?) => {$(
        #[pymethods]
        impl $t {
            fn __str__(&self) -> &'static str {
                self.as_str()
            }
        }
    )*};
}

enum_str!(ErrorKind, KeyFormat, Severity, CertificateRole);

#[pymethods]
impl OAuthTokens {
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }

    /// Reads tokens saved with `to_json`.
    #[staticmethod]
    #[pyo3(name = "from_json")]
    fn py_from_json(json: String) -> PyResult<OAuthTokens> {
        Ok(OAuthTokens::from_json(json)?)
    }

    /// The tokens as JSON for the keychain (a secret).
    #[pyo3(name = "to_json")]
    fn py_to_json(&self) -> String {
        self.to_json()
    }

    /// When the access token expires (Unix seconds).
    #[getter(expires_at)]
    fn py_expires_at(&self) -> i64 {
        self.expires_at()
    }

    /// The account that signed in.
    #[getter(user)]
    fn py_user(&self) -> String {
        self.user()
    }
}

#[pymethods]
impl TotpEnrollment {
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }

    #[new]
    fn py_new(issuer: String, account: String) -> PyResult<TotpEnrollment> {
        Ok(TotpEnrollment::new(issuer, account)?)
    }

    #[pyo3(name = "otpauth_url")]
    fn py_otpauth_url(&self) -> String {
        self.otpauth_url()
    }

    #[pyo3(name = "secret_base32")]
    fn py_secret_base32(&self) -> String {
        self.secret_base32()
    }

    #[pyo3(name = "qr_svg")]
    fn py_qr_svg(&self) -> PyResult<String> {
        Ok(self.qr_svg()?)
    }

    #[pyo3(name = "qr_png")]
    fn py_qr_png(&self) -> PyResult<Cow<'static, [u8]>> {
        Ok(Cow::Owned(self.qr_png()?))
    }

    #[pyo3(name = "recovery_kit")]
    fn py_recovery_kit(&self) -> String {
        self.recovery_kit()
    }

    #[pyo3(name = "verify")]
    fn py_verify(&self, code: String) -> PyResult<()> {
        Ok(self.verify(code)?)
    }

    #[pyo3(name = "code_at")]
    fn py_code_at(&self, unix_time: u64) -> PyResult<String> {
        Ok(self.code_at(unix_time)?)
    }
}

#[pymethods]
impl CreatedCredential {
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }

    #[getter(id)]
    fn py_id(&self) -> String {
        self.id()
    }

    #[pyo3(name = "secret")]
    fn py_secret(&self) -> String {
        self.secret()
    }
}

#[pymethods]
impl AccountSession {
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }

    #[staticmethod]
    #[pyo3(name = "connect_password")]
    fn py_connect_password(
        py: Python<'_>,
        server_url: String,
        user: String,
        password: String,
    ) -> PyResult<AccountSession> {
        Ok(py.detach(|| AccountSession::connect_password(server_url, user, password))?)
    }

    #[staticmethod]
    #[pyo3(name = "connect_with_code")]
    fn py_connect_with_code(
        py: Python<'_>,
        server_url: String,
        user: String,
        password: String,
        code_provider: Bound<'_, PyAny>,
    ) -> PyResult<AccountSession> {
        let (codes, raised) = PyCodeProvider::wrap(code_provider)?;
        py.detach(|| AccountSession::connect_with_code(server_url, user, password, codes))
            .map(|s| s.with_callback_errors(Arc::clone(&raised)))
            .map_err(|e| raised_or(take_callback_error(&raised), e))
    }

    #[staticmethod]
    #[pyo3(name = "connect_app_password")]
    fn py_connect_app_password(
        py: Python<'_>,
        server_url: String,
        user: String,
        app_password: String,
    ) -> PyResult<AccountSession> {
        Ok(py.detach(|| AccountSession::connect_app_password(server_url, user, app_password))?)
    }

    #[staticmethod]
    #[pyo3(name = "connect_api_key")]
    fn py_connect_api_key(
        py: Python<'_>,
        server_url: String,
        api_key: String,
    ) -> PyResult<AccountSession> {
        Ok(py.detach(|| AccountSession::connect_api_key(server_url, api_key))?)
    }

    #[staticmethod]
    #[pyo3(name = "connect_tokens")]
    fn py_connect_tokens(
        py: Python<'_>,
        server_url: String,
        tokens: OAuthTokens,
    ) -> PyResult<AccountSession> {
        Ok(py.detach(|| AccountSession::connect_tokens(server_url, &tokens))?)
    }

    #[staticmethod]
    #[pyo3(name = "sign_in", signature = (server_url, user, password, code_provider = None))]
    fn py_sign_in(
        py: Python<'_>,
        server_url: String,
        user: String,
        password: String,
        code_provider: Option<Bound<'_, PyAny>>,
    ) -> PyResult<OAuthTokens> {
        let (codes, raised) = provider(code_provider)?;
        py.detach(|| AccountSession::sign_in(server_url, user, password, codes))
            .map_err(|e| raised_or(take_callback_error(&raised), e))
    }

    #[getter(user)]
    fn py_user(&self) -> String {
        self.user()
    }

    #[pyo3(name = "sign_in_method")]
    fn py_sign_in_method(&self) -> String {
        self.sign_in_method()
    }

    #[pyo3(name = "tokens")]
    fn py_tokens(&self) -> Option<OAuthTokens> {
        self.tokens()
    }

    #[pyo3(name = "availability")]
    fn py_availability(&self, py: Python<'_>) -> PyResult<Availability> {
        self.checked(py.detach(|| self.availability()))
    }

    #[pyo3(name = "totp_enabled")]
    fn py_totp_enabled(&self, py: Python<'_>) -> PyResult<bool> {
        self.checked(py.detach(|| self.totp_enabled()))
    }

    #[pyo3(name = "new_totp_enrollment")]
    fn py_new_totp_enrollment(&self, issuer: String) -> PyResult<TotpEnrollment> {
        Ok(self.new_totp_enrollment(issuer)?)
    }

    #[pyo3(
        name = "enable_totp",
        signature = (current_password, enrollment, code, current_code = None)
    )]
    fn py_enable_totp(
        &self,
        py: Python<'_>,
        current_password: String,
        enrollment: PyRef<'_, TotpEnrollment>,
        code: String,
        current_code: Option<String>,
    ) -> PyResult<()> {
        let enrollment: TotpEnrollment = (*enrollment).clone();
        self.checked(
            py.detach(|| self.enable_totp(current_password, &enrollment, code, current_code)),
        )
    }

    #[pyo3(name = "disable_totp")]
    fn py_disable_totp(
        &self,
        py: Python<'_>,
        current_password: String,
        code: String,
    ) -> PyResult<()> {
        self.checked(py.detach(|| self.disable_totp(current_password, code)))
    }

    #[pyo3(
        name = "change_password",
        signature = (current_password, new_password, totp_code = None)
    )]
    fn py_change_password(
        &self,
        py: Python<'_>,
        current_password: String,
        new_password: String,
        totp_code: Option<String>,
    ) -> PyResult<()> {
        self.checked(py.detach(|| self.change_password(current_password, new_password, totp_code)))
    }

    #[pyo3(
        name = "create_app_password",
        signature = (description, expires_at = None, allowed_ips = Vec::new())
    )]
    fn py_create_app_password(
        &self,
        py: Python<'_>,
        description: String,
        expires_at: Option<i64>,
        allowed_ips: Vec<String>,
    ) -> PyResult<CreatedCredential> {
        self.checked(py.detach(|| self.create_app_password(description, expires_at, allowed_ips)))
    }

    #[pyo3(name = "list_app_passwords")]
    fn py_list_app_passwords(&self, py: Python<'_>) -> PyResult<Vec<CredentialInfo>> {
        self.checked(py.detach(|| self.list_app_passwords()))
    }

    #[pyo3(name = "revoke_app_password")]
    fn py_revoke_app_password(&self, py: Python<'_>, id: String) -> PyResult<()> {
        self.checked(py.detach(|| self.revoke_app_password(id)))
    }

    #[pyo3(
        name = "create_api_key",
        signature = (description, expires_at = None, allowed_ips = Vec::new())
    )]
    fn py_create_api_key(
        &self,
        py: Python<'_>,
        description: String,
        expires_at: Option<i64>,
        allowed_ips: Vec<String>,
    ) -> PyResult<CreatedCredential> {
        self.checked(py.detach(|| self.create_api_key(description, expires_at, allowed_ips)))
    }

    #[pyo3(name = "list_api_keys")]
    fn py_list_api_keys(&self, py: Python<'_>) -> PyResult<Vec<CredentialInfo>> {
        self.checked(py.detach(|| self.list_api_keys()))
    }

    #[pyo3(name = "revoke_api_key")]
    fn py_revoke_api_key(&self, py: Python<'_>, id: String) -> PyResult<()> {
        self.checked(py.detach(|| self.revoke_api_key(id)))
    }

    #[pyo3(name = "encryption_settings")]
    fn py_encryption_settings(&self, py: Python<'_>) -> PyResult<EncryptionSettings> {
        self.checked(py.detach(|| self.encryption_settings()))
    }

    #[allow(clippy::too_many_arguments)]
    #[pyo3(
        name = "enable_encryption",
        signature = (
            key, *, algorithm = None, email = None, encrypt_on_append = false,
            allow_spam_training = false, description = None, allow_ec_certificate = false,
            allow_other_address = false
        )
    )]
    fn py_enable_encryption(
        &self,
        py: Python<'_>,
        key: Cow<'_, [u8]>,
        algorithm: Option<String>,
        email: Option<String>,
        encrypt_on_append: bool,
        allow_spam_training: bool,
        description: Option<String>,
        allow_ec_certificate: bool,
        allow_other_address: bool,
    ) -> PyResult<EncryptionEnabled> {
        let key = key.into_owned();
        let options = EncryptionOptions {
            algorithm,
            email,
            encrypt_on_append,
            allow_spam_training,
            description,
            allow_ec_certificate,
            allow_other_address,
        };
        self.checked(py.detach(|| self.enable_encryption(key, options)))
    }

    #[pyo3(name = "disable_encryption", signature = (*, keep_key = false))]
    fn py_disable_encryption(&self, py: Python<'_>, keep_key: bool) -> PyResult<Option<String>> {
        self.checked(py.detach(|| self.disable_encryption(keep_key)))
    }

    #[pyo3(name = "public_keys")]
    fn py_public_keys(&self, py: Python<'_>) -> PyResult<Vec<StoredKey>> {
        self.checked(py.detach(|| self.public_keys()))
    }

    #[pyo3(name = "delete_public_key")]
    fn py_delete_public_key(&self, py: Python<'_>, id: String) -> PyResult<()> {
        self.checked(py.detach(|| self.delete_public_key(id)))
    }
}
