//! Retrying writes to external systems (Redis, MySQL) with exponential backoff: a server that
//! is down for a while slows the job (back-pressure reaches the sources) instead of failing it
//! or dropping rows. Only idempotent writes are retried, so a retry never doubles a result.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::connectors::Options;
use crate::error::{Result, SluiceError};

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

/// `250ms`, `10s`, `5m`, `24h`, `1d`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let (n, unit) = number_and_unit(text)
        .ok_or_else(|| format!("'{text}' is not a duration (e.g. 500ms, 10s, 5m, 24h)"))?;
    let ms = match unit {
        "ms" => n,
        "" | "s" => n * 1000,
        "m" | "min" => n * 60_000,
        "h" => n * 3_600_000,
        "d" => n * 86_400_000,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{text}' (use ms, s, m, h or d)"
            ));
        }
    };
    Ok(Duration::from_millis(ms))
}

/// `"10 s"` → `(10, "s")`: a whole number and the unit after it (trimmed).
pub fn number_and_unit(text: &str) -> Option<(u64, &str)> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    Some((number.parse().ok()?, unit.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5y").unwrap_err().contains("unknown unit"));
    }

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
