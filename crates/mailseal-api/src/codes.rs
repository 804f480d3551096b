//! The two-factor code callback: implemented by the application (a dialog on a phone, a
//! prompt in a script), called when the server asks for the current TOTP code.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use mailseal_jmap as jmap;
use mailseal_jmap::Secret;

/// Asks the user for the current two-factor (TOTP) code when the server wants one.
///
/// Implemented by the application: in Kotlin a class with a `suspend fun totpCode(user)`, in
/// Swift an `async func totpCode(user:)`, in Python a callable or an `async` function
/// `(user: str) -> str | None`. The sign-in waits for the answer without blocking a thread;
/// `None` means the user gave up.
#[cfg_attr(feature = "uniffi", uniffi::export(with_foreign))]
#[async_trait::async_trait]
pub trait CodeProvider: Send + Sync {
    /// The current code from the authenticator app for `user`.
    async fn totp_code(&self, user: String) -> Option<String>;
}

struct Codes(Arc<dyn CodeProvider>);

impl jmap::AsyncCodeProvider for Codes {
    fn totp_code<'a>(
        &'a self,
        user: &'a str,
    ) -> Pin<Box<dyn Future<Output = Option<Secret>> + Send + 'a>> {
        Box::pin(async move { self.0.totp_code(user.to_owned()).await.map(Secret::new) })
    }
}

/// `provider` as mailseal-jmap's code source.
pub(crate) fn codes(provider: Arc<dyn CodeProvider>) -> jmap::Codes {
    let codes: Arc<dyn jmap::AsyncCodeProvider> = Arc::new(Codes(provider));
    codes.into()
}

/// Where a language binding keeps what its code-provider callback raised, so that it reaches
/// the caller unchanged instead of as "no code was given" (the facade does not know the
/// language's error type, hence `Any`).
pub type CallbackErrors = Arc<std::sync::Mutex<Option<Box<dyn std::any::Any + Send>>>>;

/// Takes what a callback raised out of `errors`, if anything.
pub fn take_callback_error(errors: &CallbackErrors) -> Option<Box<dyn std::any::Any + Send>> {
    errors
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}
