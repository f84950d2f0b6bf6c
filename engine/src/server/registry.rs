//! The job registry: one directory per job under `{state_dir}/jobs/`, holding `job.json`
//! (its SQL text, settings, profile, state and history) and `checkpoints/`, the job's
//! checkpoint directory. Every change rewrites `job.json` atomically (`durable`), so the
//! registry a server reads after a crash is one it wrote whole. A plain directory of JSON
//! files rather than an embedded database: a handful of small records, changed a few times
//! per job, that an operator can read and back up with `cat` and `cp`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::durable;

const JOBS: &str = "jobs";
const RECORD: &str = "job.json";
/// How many state changes a record keeps; older ones are dropped (a job that restarts
/// forever must not grow its record forever).
const HISTORY_LIMIT: usize = 100;

// Times as RFC 3339 text: readable in the record, and chrono's serde feature would rebuild
// arrow and DataFusion for two fields.
pub(super) fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the job record {} is unreadable: {source}", path.display())]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("no job {0} in the registry")]
    UnknownJob(JobId),
}

type Result<T> = std::result::Result<T, RegistryError>;

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> RegistryError {
    let path = path.to_path_buf();
    move |source| RegistryError::Io { what, path, source }
}

/// A job's id: `job-` and a number the registry hands out in submission order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(String);

impl JobId {
    fn numbered(n: u64) -> Self {
        JobId(format!("job-{n:04}"))
    }

    fn number(&self) -> Option<u64> {
        self.0.strip_prefix("job-")?.parse().ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for JobId {
    fn from(id: &str) -> Self {
        JobId(id.to_string())
    }
}

/// Where a job is in its life (Flink's names, so a Flink user reads them at a glance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    /// Accepted, not yet started.
    Created,
    Running,
    /// Failed and waiting for its next attempt (restart strategy).
    Restarting,
    /// Asked to stop; its final checkpoint or drain is under way.
    Stopping,
    /// Stopped on request.
    Stopped,
    /// Read its bounded inputs to their end.
    Finished,
    /// Failed for good: its restart attempts are spent.
    Failed,
}

impl JobState {
    /// The name the API and the registry use (`RUNNING`).
    pub fn name(self) -> &'static str {
        match self {
            JobState::Created => "CREATED",
            JobState::Running => "RUNNING",
            JobState::Restarting => "RESTARTING",
            JobState::Stopping => "STOPPING",
            JobState::Stopped => "STOPPED",
            JobState::Finished => "FINISHED",
            JobState::Failed => "FAILED",
        }
    }

    /// Whether a restarted server takes the job up again: it was running, or was about to be
    /// (a stop under way when the server died is finished: the job is then STOPPED).
    pub fn resumes(self) -> bool {
        matches!(
            self,
            JobState::Created | JobState::Running | JobState::Restarting | JobState::Stopping
        )
    }
}

/// One state change and why it happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// RFC 3339, UTC.
    pub at: String,
    pub state: JobState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a submission names: the job itself, before the registry gives it an id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    pub name: String,
    /// `batch` or `stream`.
    pub mode: String,
    pub sql: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// `SET`-style settings the job runs with (`--set k=v`).
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

/// A job as the registry keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub id: JobId,
    #[serde(flatten)]
    pub job: NewJob,
    pub state: JobState,
    /// RFC 3339, UTC.
    pub submitted_at: String,
    /// Times the job was started again after a failure.
    #[serde(default)]
    pub restarts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Oldest first, at most `HISTORY_LIMIT` entries.
    #[serde(default)]
    pub history: Vec<Transition>,
    /// The job's `checkpoint.dir`: its checkpoints are in `<name>/` under it.
    pub checkpoint_dir: PathBuf,
}

/// The jobs of one server, kept in its state directory.
#[derive(Debug)]
pub struct Registry {
    dir: PathBuf,
    jobs: BTreeMap<JobId, JobRecord>,
}

impl Registry {
    /// Opens the registry in `state_dir` (made if missing) and reads every job record in it.
    /// A record that cannot be read is an error naming its file: the server must not start
    /// while silently forgetting a job.
    pub fn open(state_dir: &Path) -> Result<Self> {
        let dir = state_dir.join(JOBS);
        fs::create_dir_all(&dir).map_err(io("creating the job registry", &dir))?;
        let mut jobs = BTreeMap::new();
        for entry in fs::read_dir(&dir).map_err(io("reading the job registry", &dir))? {
            let entry = entry.map_err(io("reading the job registry", &dir))?;
            let path = entry.path().join(RECORD);
            let text = match fs::read(&path) {
                Ok(text) => text,
                // A directory without a record: a submission that died before its first
                // write. Nothing was accepted, so there is nothing to resume.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io("reading the job record", &path)(e)),
            };
            let record: JobRecord = serde_json::from_slice(&text)
                .map_err(|source| RegistryError::Corrupt { path, source })?;
            jobs.insert(record.id.clone(), record);
        }
        Ok(Registry { dir, jobs })
    }

    /// Accepts a job: gives it the next id and a checkpoint directory, records it as
    /// CREATED and writes the record before returning.
    pub fn submit(&mut self, job: NewJob) -> Result<&JobRecord> {
        let next = self
            .jobs
            .keys()
            .filter_map(JobId::number)
            .max()
            .unwrap_or(0)
            + 1;
        let id = JobId::numbered(next);
        let job_dir = self.dir.join(id.as_str());
        fs::create_dir_all(&job_dir).map_err(io("creating the job directory", &job_dir))?;
        let now = now();
        let record = JobRecord {
            id: id.clone(),
            job,
            state: JobState::Created,
            submitted_at: now.clone(),
            restarts: 0,
            last_error: None,
            history: vec![Transition {
                at: now.clone(),
                state: JobState::Created,
                reason: None,
            }],
            checkpoint_dir: job_dir.join("checkpoints"),
        };
        self.write(&record)?;
        Ok(self.jobs.entry(id).or_insert(record))
    }

    /// Moves a job to `state`, recording why, and writes the record. A failure (`Restarting`
    /// or `Failed` with a reason) becomes the job's last error; `Restarting` counts a restart.
    pub fn set_state(
        &mut self,
        id: &JobId,
        state: JobState,
        reason: Option<String>,
    ) -> Result<&JobRecord> {
        // Changed on a copy: if the write fails, memory still agrees with the disk.
        let mut record = self.get(id)?.clone();
        record.state = state;
        if matches!(state, JobState::Restarting | JobState::Failed) && reason.is_some() {
            record.last_error.clone_from(&reason);
        }
        if state == JobState::Restarting {
            record.restarts += 1;
        }
        record.history.push(Transition {
            at: now(),
            state,
            reason,
        });
        self.keep(record)
    }

    /// Writes a changed record, then keeps it (trimming its history).
    fn keep(&mut self, mut record: JobRecord) -> Result<&JobRecord> {
        let excess = record.history.len().saturating_sub(HISTORY_LIMIT);
        record.history.drain(..excess);
        self.write(&record)?;
        let id = record.id.clone();
        self.jobs.insert(id.clone(), record);
        self.get(&id)
    }

    /// Records that a restarted server runs the job again: a restart, not a failure.
    pub fn resumed(&mut self, id: &JobId) -> Result<&JobRecord> {
        let mut record = self.get(id)?.clone();
        record.restarts += 1;
        record.history.push(Transition {
            at: now(),
            state: record.state,
            reason: Some("resumed: the server started again".into()),
        });
        self.keep(record)
    }

    /// Forgets a job: its record and its directory (checkpoints included) are deleted.
    pub fn remove(&mut self, id: &JobId) -> Result<JobRecord> {
        self.get(id)?;
        let dir = self.dir.join(id.as_str());
        fs::remove_dir_all(&dir).map_err(io("deleting the job directory", &dir))?;
        self.jobs
            .remove(id)
            .ok_or_else(|| RegistryError::UnknownJob(id.clone()))
    }

    pub fn get(&self, id: &JobId) -> Result<&JobRecord> {
        self.jobs
            .get(id)
            .ok_or_else(|| RegistryError::UnknownJob(id.clone()))
    }

    /// Every job, in submission order.
    pub fn jobs(&self) -> impl Iterator<Item = &JobRecord> {
        self.jobs.values()
    }

    /// The jobs a (re)started server runs again.
    pub fn to_resume(&self) -> impl Iterator<Item = &JobRecord> {
        self.jobs().filter(|job| job.state.resumes())
    }

    fn write(&self, record: &JobRecord) -> Result<()> {
        let path = self.dir.join(record.id.as_str()).join(RECORD);
        let text = serde_json::to_vec_pretty(record).map_err(|source| RegistryError::Corrupt {
            path: path.clone(),
            source,
        })?;
        durable::replace_atomically(&path, &text).map_err(io("writing the job record", &path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pv_uv() -> NewJob {
        NewJob {
            name: "pv_uv".into(),
            mode: "stream".into(),
            sql: "INSERT INTO board SELECT 1;".into(),
            profile: Some("stack".into()),
            settings: BTreeMap::from([("checkpoint.interval".into(), "10s".into())]),
        }
    }

    #[test]
    fn a_reopened_registry_holds_every_job_as_it_was_left() {
        let dir = tempfile::tempdir().unwrap();
        let (running, stopped) = {
            let mut registry = Registry::open(dir.path()).unwrap();
            let running = registry.submit(pv_uv()).unwrap().id.clone();
            let stopped = registry.submit(pv_uv()).unwrap().id.clone();
            registry
                .set_state(&running, JobState::Running, None)
                .unwrap();
            registry
                .set_state(&stopped, JobState::Running, None)
                .unwrap();
            registry
                .set_state(&stopped, JobState::Stopped, Some("stop requested".into()))
                .unwrap();
            (running, stopped)
        };
        let registry = Registry::open(dir.path()).unwrap();
        assert_eq!(running.as_str(), "job-0001");
        assert_eq!(stopped.as_str(), "job-0002");
        let resumed: Vec<_> = registry.to_resume().map(|j| j.id.clone()).collect();
        assert_eq!(resumed, vec![running.clone()]);
        let record = registry.get(&running).unwrap();
        assert_eq!(record.job, pv_uv());
        assert_eq!(
            record.checkpoint_dir,
            dir.path().join("jobs/job-0001/checkpoints")
        );
        let states: Vec<_> = registry
            .get(&stopped)
            .unwrap()
            .history
            .iter()
            .map(|t| t.state)
            .collect();
        assert_eq!(
            states,
            [JobState::Created, JobState::Running, JobState::Stopped]
        );
    }

    #[test]
    fn a_resume_counts_as_a_restart_and_a_removed_job_is_gone_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let mut registry = Registry::open(dir.path()).unwrap();
        let id = registry.submit(pv_uv()).unwrap().id.clone();
        registry.set_state(&id, JobState::Running, None).unwrap();
        let record = registry.resumed(&id).unwrap();
        assert_eq!((record.state, record.restarts), (JobState::Running, 1));
        assert_eq!(record.last_error, None);
        assert!(
            record
                .history
                .last()
                .unwrap()
                .reason
                .as_ref()
                .unwrap()
                .contains("resumed")
        );
        registry.remove(&id).unwrap();
        assert!(!dir.path().join("jobs").join(id.as_str()).exists());
        assert!(Registry::open(dir.path()).unwrap().get(&id).is_err());
        assert!(matches!(
            registry.remove(&id),
            Err(RegistryError::UnknownJob(_))
        ));
    }

    #[test]
    fn ids_keep_counting_after_a_restart_of_the_server() {
        let dir = tempfile::tempdir().unwrap();
        Registry::open(dir.path()).unwrap().submit(pv_uv()).unwrap();
        let mut registry = Registry::open(dir.path()).unwrap();
        assert_eq!(registry.submit(pv_uv()).unwrap().id.as_str(), "job-0002");
    }

    #[test]
    fn failures_count_restarts_keep_the_last_error_and_a_bounded_history() {
        let dir = tempfile::tempdir().unwrap();
        let mut registry = Registry::open(dir.path()).unwrap();
        let id = registry.submit(pv_uv()).unwrap().id.clone();
        for attempt in 0..HISTORY_LIMIT + 5 {
            registry
                .set_state(
                    &id,
                    JobState::Restarting,
                    Some(format!("broker down ({attempt})")),
                )
                .unwrap();
        }
        let record = registry.get(&id).unwrap();
        assert_eq!(record.restarts as usize, HISTORY_LIMIT + 5);
        assert_eq!(record.last_error.as_deref(), Some("broker down (104)"));
        assert_eq!(record.history.len(), HISTORY_LIMIT);
        assert_eq!(record.state, JobState::Restarting);
    }

    #[test]
    fn an_unreadable_record_is_an_error_naming_its_file() {
        let dir = tempfile::tempdir().unwrap();
        Registry::open(dir.path()).unwrap().submit(pv_uv()).unwrap();
        let path = dir.path().join("jobs/job-0001/job.json");
        fs::write(&path, b"{ torn").unwrap();
        let err = Registry::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("jobs/job-0001/job.json"), "{err}");
    }

    #[test]
    fn an_unknown_job_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut registry = Registry::open(dir.path()).unwrap();
        let err = registry
            .set_state(&JobId::from("job-0042"), JobState::Stopped, None)
            .unwrap_err();
        assert_eq!(err.to_string(), "no job job-0042 in the registry");
    }

    #[test]
    fn states_are_written_as_flink_names_them() {
        assert_eq!(
            serde_json::to_string(&JobState::Running).unwrap(),
            "\"RUNNING\""
        );
        assert!(JobState::Stopping.resumes());
        assert!(!JobState::Finished.resumes());
    }
}
