//! Retrying writes to external systems (Redis, MySQL) with exponential backoff: a server that
//! is down for a while slows the job (back-pressure reaches the sources) instead of failing it
//! or dropping rows. Only idempotent writes are retried, so a retry never doubles a result.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::connectors::Options;
use crate::error::{Result, SluiceError};
use crate::units::parse_duration;

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

/// The option names a connector that retries accepts.
pub const RETRY_OPTIONS: &[&str] = &["retry.max_elapsed", "retry.initial_backoff"];

impl RetryPolicy {
    pub fn from_options(opts: &Options) -> Result<Self> {
        let mut policy = RetryPolicy::default();
        if let Some(v) = opts.get("retry.max_elapsed") {
            policy.max_elapsed = parse_duration(v).map_err(|m| {
                SluiceError::connector(opts.table(), format!("option 'retry.max_elapsed': {m}"))
            })?;
        }
        if let Some(v) = opts.get("retry.initial_backoff") {
            policy.initial_backoff = parse_duration(v).map_err(|m| {
                SluiceError::connector(opts.table(), format!("option 'retry.initial_backoff': {m}"))
            })?;
        }
        Ok(policy)
    }

    /// Runs `attempt` until it succeeds or has failed for `max_elapsed`; each failure is
    /// logged with `what` and the wait before the next try.
    pub async fn run<T, E, F, Fut>(&self, what: &str, mut attempt: F) -> std::result::Result<T, E>
    where
        E: std::fmt::Display,
        F: FnMut() -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
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
                Err(e) if started.elapsed() + backoff <= self.max_elapsed => {
                    failures += 1;
                    tracing::warn!(
                        "{what} failed (attempt {failures}): {e}; retrying in {} ms",
                        backoff.as_millis()
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.max_backoff);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn retries_until_success_and_gives_up_after_max_elapsed() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(4),
            max_elapsed: Duration::from_millis(200),
        };
        let calls = AtomicU32::new(0);
        let ok: std::result::Result<u32, String> = policy
            .run("test write", || async {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                if n < 3 {
                    Err(format!("down {n}"))
                } else {
                    Ok(n)
                }
            })
            .await;
        assert_eq!(ok, Ok(3));
        let failing: std::result::Result<(), String> = policy
            .run("test write", || async { Err("still down".to_string()) })
            .await;
        assert_eq!(failing, Err("still down".to_string()));
    }
}
