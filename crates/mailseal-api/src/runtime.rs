//! The one tokio runtime every network call of the facade runs on, whoever awaits it.
//!
//! Account calls are `async`: a Kotlin coroutine, a Swift task, Python's asyncio or a tokio
//! task awaits them. The work itself is spawned here, so the HTTP connections always live on
//! the same runtime and no caller's executor needs to be tokio. [`block_on`] is the blocking
//! form: it waits on a channel, never starts a runtime, so it may be called from anywhere,
//! even from a thread of another tokio runtime or of the facade's own.

use std::cell::Cell;
use std::future::Future;
use std::sync::{Mutex, PoisonError, mpsc};

use crate::error::{ApiError, ErrorKind};

thread_local! {
    /// Whether this thread belongs to the facade's runtime.
    static FACADE_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// The process's multi-thread runtime (two workers), started on first use.
///
/// A child process made by `fork` (Python's multiprocessing, preforking servers) inherits the
/// runtime but none of its threads: it gets a runtime of its own on first use. The parent's
/// is leaked in the child, since shutting it down would wait for threads that are not there.
pub(crate) fn runtime() -> Result<&'static tokio::runtime::Runtime, ApiError> {
    static RUNTIME: Mutex<Option<(u32, &'static tokio::runtime::Runtime)>> = Mutex::new(None);
    let mut slot = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    let pid = std::process::id();
    if let Some((owner, rt)) = *slot
        && owner == pid
    {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("mailseal")
        .on_thread_start(|| FACADE_THREAD.set(true))
        .enable_all()
        .build()
        .map_err(|e| {
            ApiError::new(
                ErrorKind::Transport,
                "io.runtime",
                format!("cannot start the network runtime: {e}"),
            )
        })?;
    let rt: &'static tokio::runtime::Runtime = Box::leak(Box::new(rt));
    *slot = Some((pid, rt));
    Ok(rt)
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
    let answer = if FACADE_THREAD.get() {
        // On one of the runtime's own threads (a callback of a call in flight): let the
        // runtime move its other tasks elsewhere while this thread waits.
        tokio::task::block_in_place(|| rx.recv())
    } else {
        rx.recv()
    };
    answer.unwrap_or_else(|_| {
        Err(ApiError::new(
            ErrorKind::Transport,
            "io.runtime",
            "the network task stopped before it answered",
        ))
    })
}
