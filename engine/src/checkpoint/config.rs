//! Checkpoint settings, from the profile's variables or `--set`, with Flink's names.

use std::path::PathBuf;
use std::time::Duration;

use crate::catalog::Vars;
use crate::error::{Result, SluiceError};
use crate::units::{parse_bytes, parse_duration};

/// Which checkpoint `sluice run` resumes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FromCheckpoint {
    /// The newest complete one, if any.
    #[default]
    Latest,
    Id(u64),
    /// Start afresh (existing checkpoints are left until pruned).
    None,
}

impl std::str::FromStr for FromCheckpoint {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim() {
            "latest" => Ok(FromCheckpoint::Latest),
            "none" => Ok(FromCheckpoint::None),
            id => id.parse().map(FromCheckpoint::Id).map_err(|_| {
                format!("'{s}' is not a checkpoint: use latest, none or a checkpoint id")
            }),
        }
    }
}

#[derive(Debug, Clone)]
pub struct CheckpointConfig {
    /// This job's checkpoints: `checkpoint.dir`/<job>.
    pub dir: PathBuf,
    /// `checkpoint.interval` (default 10 s).
    pub interval: Duration,
    /// `checkpoint.timeout`: a checkpoint not complete by then is abandoned (default 10 min).
    pub timeout: Duration,
    /// `checkpoint.retained`: complete checkpoints kept (default 3).
    pub retained: usize,
    pub from: FromCheckpoint,
}

impl CheckpointConfig {
    /// The settings for `job`; `None` when `checkpoint.dir` is not set or empty (no
    /// checkpoints: `--set checkpoint.dir=` turns off a profile's).
    pub fn from_vars(vars: &Vars, job: &str, from: FromCheckpoint) -> Result<Option<Self>> {
        let Some(dir) = vars
            .lookup("checkpoint.dir")?
            .filter(|d| !d.trim().is_empty())
        else {
            return Ok(None);
        };
        let duration = |name: &str, default: Duration| -> Result<Duration> {
            match vars.lookup(name)? {
                None => Ok(default),
                Some(v) => {
                    let d = parse_duration(&v)
                        .map_err(|m| SluiceError::Variable(format!("{name}: {m}")))?;
                    if d.is_zero() {
                        return Err(SluiceError::Variable(format!("{name} must be more than 0")));
                    }
                    Ok(d)
                }
            }
        };
        let retained = match vars.lookup("checkpoint.retained")? {
            None => 3,
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    SluiceError::Variable(format!(
                        "checkpoint.retained = '{v}' must be a whole number of at least 1"
                    ))
                })?,
        };
        Ok(Some(CheckpointConfig {
            dir: PathBuf::from(dir).join(job),
            interval: duration("checkpoint.interval", Duration::from_secs(10))?,
            timeout: duration("checkpoint.timeout", Duration::from_secs(600))?,
            retained,
            from,
        }))
    }
}

/// `state.max_bytes`: the most state a job's operators may hold together. By default half
/// the machine's memory, so a job that outgrows its memory stops with a message instead of
/// being killed by the kernel; `none` lifts the limit.
pub fn state_limit(vars: &Vars) -> Result<Option<u64>> {
    match vars.lookup("state.max_bytes")? {
        Some(v) if v.trim().eq_ignore_ascii_case("none") => Ok(None),
        Some(v) => parse_bytes(&v)
            .map(Some)
            .map_err(|m| SluiceError::Variable(format!("state.max_bytes: {m}"))),
        None => Ok(total_memory().map(|m| m / 2)),
    }
}

/// MemTotal from /proc/meminfo (Linux); `None` elsewhere.
fn total_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_choices_parse() {
        assert_eq!("latest".parse(), Ok(FromCheckpoint::Latest));
        assert_eq!("none".parse(), Ok(FromCheckpoint::None));
        assert_eq!("17".parse(), Ok(FromCheckpoint::Id(17)));
        assert!("yesterday".parse::<FromCheckpoint>().is_err());
    }

    #[test]
    fn an_empty_checkpoint_dir_turns_checkpoints_off() {
        let vars = |dir: &str| {
            crate::catalog::Vars::new([("checkpoint.dir".to_string(), dir.to_string())].into())
                .without_env()
        };
        let config = CheckpointConfig::from_vars(&vars("/cp"), "pv_uv", FromCheckpoint::Latest);
        let config = config.unwrap().unwrap();
        assert_eq!(config.dir, std::path::Path::new("/cp/pv_uv"));
        assert_eq!(config.interval, Duration::from_secs(10));
        let off = CheckpointConfig::from_vars(&vars(""), "pv_uv", FromCheckpoint::Latest);
        assert!(off.unwrap().is_none());
    }
}
