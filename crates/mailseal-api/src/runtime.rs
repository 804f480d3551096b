//! The one tokio runtime every network call of the facade runs on, whoever awaits it.
//!
//! Account calls are `async`: a Kotlin coroutine, a Swift task, Python's asyncio or a tokio
//! task awaits them. The work itself is spawned here, so the HTTP connections always live on
//! the same runtime and no caller's executor needs to be tokio. [`block_on`] is the blocking
//! form: it waits on a channel, never starts a runtime, so it may be called from anywhere,
//! even from a thread of another tokio runtime.

use std::future::Future;
use std::sync::{OnceLock, mpsc};

use crate::error::{ApiError, ErrorKind};

/// The crate-global multi-thread runtime (two workers), started on first use.
pub(crate) fn runtime() -> Result<&'static tokio::runtime::Runtime, ApiError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    let rt = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mailseal")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    });
    rt.as_ref().map_err(|e| {
        ApiError::new(
            ErrorKind::Transport,
            "io.runtime",
            format!("cannot start the network runtime: {e}"),
        )
    })
}

/// Runs `f` on the facade's runtime and waits for it from any executor. A caller that stops
/// waiting (a cancelled coroutine) does not stop the call: an account change runs to its
/// end or not at all, never half.
pub(crate) async fn run<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, ApiError>> + Send + 'static,
{
    let task = runtime()?.spawn(f);
    task.await.map_err(|e| {
        ApiError::new(
            ErrorKind::Transport,
            "io.runtime",
            format!("the network task stopped: {e}"),
        )
    })?
}

/// Runs `f` on the facade's runtime and blocks the calling thread until it is done: the
/// blocking form of every account call, for scripts and for Python's blocking session.
///
/// ```
/// use mailseal_api::{AccountSession, ErrorKind, block_on};
/// // Nothing listens on port 9 of this machine: a transport error, not a hang or a panic.
/// let err = block_on(AccountSession::connect_password(
///     "http://127.0.0.1:9".into(), "alice@example.org".into(), "secret".into(), None,
/// )).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Transport);
/// ```
pub fn block_on<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, ApiError>> + Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel(1);
    runtime()?.spawn(async move {
        // The receiver only goes away with this function's frame, after the answer.
        let _ = tx.send(f.await);
    });
    rx.recv().unwrap_or_else(|_| {
        Err(ApiError::new(
            ErrorKind::Transport,
            "io.runtime",
            "the network task stopped before it answered",
        ))
    })
}
