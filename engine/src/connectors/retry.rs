//! Retrying writes to external systems (Redis, MySQL) with exponential backoff: a server that
//! is down for a while slows the job (back-pressure reaches the sources) instead of failing it
//! or dropping rows. Only idempotent writes are retried, so a retry never doubles a result,
//! and only failures a retry can fix: each attempt says which ([`Failure`]), so a bad column
//! fails the job at once instead of after `retry.max_elapsed`.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use datafusion::error::DataFusionError;

use crate::error::{Retry, SluiceError};
use crate::job::metrics::SinkMetrics;

/// A failed attempt, and whether another one can succeed.
#[derive(Debug)]
pub struct Failure<E> {
    pub error: E,
    pub retry: Retry,
}

impl<E> Failure<E> {
    /// A failure waiting can fix (a server down, a connection lost, a lock timeout).
    pub fn transient(error: E) -> Self {
        Failure {
            error,
            retry: Retry::Helps,
        }
    }

    /// A failure no retry can fix (a bad column, a wrong type, a bad password).
    pub fn permanent(error: E) -> Self {
        Failure {
            error,
            retry: Retry::CannotHelp,
        }
    }
}

/// Values that cannot be bound or converted fail the same way on every attempt.
impl From<DataFusionError> for Failure<String> {
    fn from(error: DataFusionError) -> Self {
        Failure::permanent(error.to_string())
    }
}

impl<E: std::fmt::Display> Failure<E> {
    /// The error of table `table`, for a write that is not retried.
    pub fn into_error(self, table: &str) -> DataFusionError {
        SluiceError::connector(table, self.error.to_string()).into()
    }
}

/// The last failure of a write that was given up.
#[derive(Debug)]
pub struct GaveUp<E> {
    pub error: E,
    /// `CannotHelp`: not retried; `Helps`: retried until `retry.max_elapsed` ran out.
    pub retry: Retry,
    pub attempts: u32,
    /// The policy's `max_elapsed`, which ran out for a transient failure.
    pub max_elapsed: Duration,
}

impl<E: std::fmt::Display> GaveUp<E> {
    /// The error of table `table`: says whether it was retried, so a reader (or a job
    /// supervisor, through [`SluiceError::retry`]) knows if waiting helps.
    pub fn into_error(self, table: &str) -> DataFusionError {
        let why = match self.retry {
            Retry::CannotHelp => "not retried: trying again cannot fix this".to_string(),
            Retry::Helps => format!(
                "gave up after retrying for {} s, {} attempts",
                self.max_elapsed.as_secs_f64(),
                self.attempts
            ),
        };
        SluiceError::Write {
            table: table.to_string(),
            message: format!("{} ({why})", self.error),
            retry: self.retry,
        }
        .into()
    }
}

/// How long and how often to retry; options `retry.max_elapsed` and `retry.initial_backoff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Give up (and fail the job) when a write has been failing for this long.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The default policy with the options a table sets (`retry.max_elapsed`,
    /// `retry.initial_backoff`).
    pub fn with(max_elapsed: Option<Duration>, initial_backoff: Option<Duration>) -> Self {
        let default = RetryPolicy::default();
        RetryPolicy {
            max_elapsed: max_elapsed.unwrap_or(default.max_elapsed),
            initial_backoff: initial_backoff.unwrap_or(default.initial_backoff),
            ..default
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or has failed for `max_elapsed`;
    /// each failure retried is logged with `what` and the wait before the next try, and
    /// counted in the sink's `metrics` (as is a write given up).
    pub async fn run<T, E, F, Fut>(
        &self,
        what: &str,
        metrics: &SinkMetrics,
        mut attempt: F,
    ) -> std::result::Result<T, GaveUp<E>>
    where
        E: std::fmt::Display,
        F: FnMut() -> Fut,
        Fut: Future<Output = std::result::Result<T, Failure<E>>>,
    {
        let started = Instant::now();
        let mut backoff = self.initial_backoff;
        let mut failures = 0u32;
        loop {
            match attempt().await {
                Ok(v) => {
                    if failures > 0 {
                        // As loud as the failures, so the log says when the outage ended.
                        tracing::warn!(
                            "{what}: succeeded after {failures} failed attempt(s), {:.1} s",
                            started.elapsed().as_secs_f64()
                        );
                    }
                    return Ok(v);
                }
                Err(Failure {
                    error,
                    retry: Retry::Helps,
                }) if started.elapsed() + backoff <= self.max_elapsed => {
                    failures += 1;
                    metrics.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        "{what} failed (attempt {failures}): {error}; retrying in {} ms",
                        backoff.as_millis()
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.max_backoff);
                }
                Err(Failure { error, retry }) => {
                    metrics.failures.fetch_add(1, Ordering::Relaxed);
                    return Err(GaveUp {
                        error,
                        retry,
                        attempts: failures + 1,
                        max_elapsed: self.max_elapsed,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    fn quick() -> RetryPolicy {
        RetryPolicy {
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(4),
            max_elapsed: Duration::from_millis(200),
        }
    }

    #[tokio::test]
    async fn retries_until_success_and_gives_up_after_max_elapsed() {
        let policy = quick();
        let calls = AtomicU32::new(0);
        let metrics = SinkMetrics::default();
        let ok = policy
            .run("test write", &metrics, || async {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                if n < 3 {
                    Err(Failure::transient(format!("down {n}")))
                } else {
                    Ok(n)
                }
            })
            .await;
        assert_eq!(ok.ok(), Some(3));
        assert_eq!(metrics.retries.load(Ordering::SeqCst), 3);
        let failing = policy
            .run("test write", &metrics, || async {
                Err::<(), _>(Failure::transient("still down".to_string()))
            })
            .await
            .unwrap_err();
        assert_eq!(failing.error, "still down");
        assert_eq!(failing.retry, Retry::Helps);
        assert!(failing.attempts > 3, "{}", failing.attempts);
        assert_eq!(metrics.failures.load(Ordering::SeqCst), 1);
        let error = failing.into_error("t").to_string();
        assert!(
            error.contains("table 't': still down (gave up after"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_permanent_failure_is_not_retried() {
        let calls = AtomicU32::new(0);
        let metrics = SinkMetrics::default();
        let failed = quick()
            .run("test write", &metrics, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(Failure::permanent("Unknown column 'pv'"))
            })
            .await
            .unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(failed.attempts, 1);
        assert_eq!(metrics.retries.load(Ordering::SeqCst), 0);
        assert_eq!(metrics.failures.load(Ordering::SeqCst), 1);
        let error = failed.into_error("t");
        let SluiceError::Write { retry, message, .. } = sluice_error(&error) else {
            panic!("{error}");
        };
        assert_eq!(*retry, Retry::CannotHelp);
        assert!(message.contains("not retried"), "{message}");
    }

    fn sluice_error(e: &DataFusionError) -> &SluiceError {
        match e {
            DataFusionError::External(e) => e.downcast_ref().expect("a SluiceError"),
            other => panic!("{other}"),
        }
    }
}
