//! The restart strategy of a server's jobs: Flink's exponential-delay strategy, with its
//! names. A job that fails is started again, from its newest checkpoint, after `backoff`,
//! then twice that, up to `backoff.max`; after `max_attempts` failures in a row it is FAILED.
//! A run that completed a checkpoint ends the row (it got somewhere), so a job that fails
//! once a day is not FAILED after a week.

use std::time::Duration;

use crate::catalog::Vars;
use crate::error::{Result, SluiceError};
use crate::units::parse_duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartStrategy {
    /// `restart.max_attempts` (default 10; 0: never restart).
    pub max_attempts: u32,
    /// `restart.backoff` (default 1 s): the wait before the first restart.
    pub backoff: Duration,
    /// `restart.backoff.max` (default 1 min): the longest wait.
    pub max_backoff: Duration,
}

impl Default for RestartStrategy {
    fn default() -> Self {
        RestartStrategy {
            max_attempts: 10,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }
}

impl RestartStrategy {
    /// The strategy a job's variables set (profile, server `--set`, the job's own settings).
    pub fn from_vars(vars: &Vars) -> Result<Self> {
        let defaults = RestartStrategy::default();
        let max_attempts = match vars.lookup("restart.max_attempts")? {
            None => defaults.max_attempts,
            Some(v) => v.trim().parse().map_err(|_| {
                SluiceError::Variable(format!(
                    "restart.max_attempts = '{v}' must be a whole number (0: never restart)"
                ))
            })?,
        };
        let duration = |name: &str, default: Duration| -> Result<Duration> {
            match vars.lookup(name)? {
                None => Ok(default),
                Some(v) => {
                    parse_duration(&v).map_err(|m| SluiceError::Variable(format!("{name}: {m}")))
                }
            }
        };
        let backoff = duration("restart.backoff", defaults.backoff)?;
        let max_backoff = duration("restart.backoff.max", defaults.max_backoff.max(backoff))?;
        if max_backoff < backoff {
            return Err(SluiceError::Variable(format!(
                "restart.backoff.max ({max_backoff:?}) is shorter than restart.backoff \
                 ({backoff:?})"
            )));
        }
        Ok(RestartStrategy {
            max_attempts,
            backoff,
            max_backoff,
        })
    }

    /// The wait before restart number `attempt` (1 for the first) of a row of failures;
    /// `None` once the attempts are spent.
    pub fn delay(&self, attempt: u32) -> Option<Duration> {
        if attempt == 0 || attempt > self.max_attempts {
            return None;
        }
        let doubled = self
            .backoff
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(31)));
        Some(doubled.min(self.max_backoff))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_then_the_attempts_run_out() {
        let s = RestartStrategy::from_vars(&Vars::of(&[
            ("restart.max_attempts", "5"),
            ("restart.backoff", "100ms"),
            ("restart.backoff.max", "300ms"),
        ]))
        .unwrap();
        let waits: Vec<Option<u64>> = (1..=6)
            .map(|n| s.delay(n).map(|d| d.as_millis() as u64))
            .collect();
        assert_eq!(
            waits,
            [Some(100), Some(200), Some(300), Some(300), Some(300), None]
        );
        assert_eq!(
            RestartStrategy::from_vars(&Vars::of(&[])).unwrap(),
            RestartStrategy::default()
        );
        let never =
            RestartStrategy::from_vars(&Vars::of(&[("restart.max_attempts", "0")])).unwrap();
        assert_eq!(never.delay(1), None);
        // A long first wait lifts the default cap with it.
        let long = RestartStrategy::from_vars(&Vars::of(&[("restart.backoff", "5m")])).unwrap();
        assert_eq!(long.delay(3), Some(Duration::from_secs(300)));
    }

    #[test]
    fn bad_settings_name_themselves() {
        for (pairs, named) in [
            (vec![("restart.max_attempts", "-1")], "restart.max_attempts"),
            (vec![("restart.backoff", "soon")], "restart.backoff"),
            (
                vec![("restart.backoff", "10s"), ("restart.backoff.max", "1s")],
                "restart.backoff.max",
            ),
        ] {
            let e = RestartStrategy::from_vars(&Vars::of(&pairs)).unwrap_err();
            assert!(e.to_string().contains(named), "{e}");
        }
    }
}
