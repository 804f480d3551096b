//! Waiting politely: transient refusals (429, 502–504, `serverUnavailable`, a dropped
//! connection) are tried again after the server's `Retry-After`, or after a doubling delay,
//! until the run's total wait would pass its limit.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use crate::error::Error;

/// The first delay after a refusal without `Retry-After`.
const FIRST_DELAY: Duration = Duration::from_millis(500);
/// The longest single delay without `Retry-After`.
const LONGEST_DELAY: Duration = Duration::from_secs(5 * 60);

/// The delay before try number `attempt` (0-based) after `error`.
pub(crate) fn delay(error: &Error, attempt: u32) -> Duration {
    if let Some(secs) = error.retry_after() {
        return Duration::from_secs(secs.max(1));
    }
    FIRST_DELAY
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(LONGEST_DELAY)
}

/// What the run may still wait in total.
#[derive(Debug)]
pub(crate) struct WaitBudget {
    left: Mutex<Duration>,
}

impl WaitBudget {
    pub(crate) fn new(total: Duration) -> WaitBudget {
        WaitBudget {
            left: Mutex::new(total),
        }
    }

    /// Takes `delay` from the budget, or says no when it is spent.
    pub(crate) fn take(&self, delay: Duration) -> bool {
        let mut left = self
            .left
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *left >= delay {
            *left -= delay;
            true
        } else {
            false
        }
    }
}

/// Why the job waits after `error`, in words a person can act on.
pub(crate) fn reason(error: &Error) -> String {
    match error {
        Error::RateLimited { detail, .. } if detail.contains("upload quota") => format!(
            "the server's upload quota ({detail}); Stalwart allows 1000 uploads or 50 MB per \
             account and hour by default, and an administrator can raise `maxUploadCount` and \
             `uploadQuota` (x:Jmap settings) or give the account the `unlimitedUploads` \
             permission"
        ),
        Error::RateLimited { detail, .. } => format!("the server asked to slow down ({detail})"),
        other => format!("the server could not answer ({other})"),
    }
}

/// Runs `op` until it succeeds, fails for good, or the budget is spent; `waiting` is told
/// of each wait before it starts.
pub(crate) async fn retrying<T, F, Fut>(
    budget: &WaitBudget,
    mut waiting: impl FnMut(Duration, &Error),
    mut op: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let mut attempt = 0;
    loop {
        match op().await {
            Err(e) if e.is_transient() => {
                let wait = delay(&e, attempt);
                if !budget.take(wait) {
                    return Err(e);
                }
                waiting(wait, &e);
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limited(retry_after: Option<u64>) -> Error {
        Error::RateLimited {
            detail: "You have exceeded the blob upload quota".into(),
            retry_after,
        }
    }

    #[test]
    fn retry_after_wins_over_the_backoff() {
        assert_eq!(delay(&limited(Some(7)), 5), Duration::from_secs(7));
        assert_eq!(delay(&limited(None), 0), FIRST_DELAY);
        assert_eq!(delay(&limited(None), 2), FIRST_DELAY * 4);
        assert_eq!(delay(&limited(None), 40), LONGEST_DELAY);
    }

    #[test]
    fn the_budget_runs_out() {
        let b = WaitBudget::new(Duration::from_secs(3));
        assert!(b.take(Duration::from_secs(2)));
        assert!(!b.take(Duration::from_secs(2)));
        assert!(b.take(Duration::from_secs(1)));
    }

    #[test]
    fn the_quota_reason_names_the_settings() {
        let text = reason(&limited(None));
        assert!(
            text.contains("uploadQuota") && text.contains("unlimitedUploads"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn transient_errors_are_tried_again_and_others_are_not() {
        let budget = WaitBudget::new(Duration::from_secs(10));
        let mut calls = 0;
        let mut waits = 0;
        let got = retrying(
            &budget,
            |_, _| waits += 1,
            || {
                calls += 1;
                let n = calls;
                async move {
                    if n < 3 {
                        Err(Error::Unavailable {
                            status: 503,
                            retry_after: Some(0),
                        })
                    } else {
                        Ok(n)
                    }
                }
            },
        )
        .await
        .unwrap();
        assert_eq!((got, waits), (3, 2));
        let e = retrying(
            &budget,
            |_, _| {},
            || async { Err::<(), _>(Error::WrongPassword) },
        )
        .await
        .unwrap_err();
        assert_eq!(e.code(), "jmap.wrong_password");
    }
}
