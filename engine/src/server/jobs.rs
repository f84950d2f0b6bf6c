//! The jobs a server runs, and their supervision: each job is planned when it is submitted
//! (a bad job is refused, nothing recorded), then run by a supervisor task that records every
//! state change in the registry, restarts it after a failure (`RestartStrategy`), and ends
//! when it finishes, is stopped, or has failed for good.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use tracing::Instrument;

use super::logs::{JobLog, JobLogs, job_span};
use super::metrics::{JobFigures, JobsView};
use super::registry::{JobId, JobRecord, JobState, NewJob, Registry, RegistryError};
use super::restart::RestartStrategy;
use crate::catalog::{Catalog, Vars};
use crate::checkpoint::{CheckpointStore, FromCheckpoint};
use crate::error::SluiceError;
use crate::exec::batch::{RunReport, Stopped};
use crate::exec::progress::summary_line;
use crate::job::{ExecMode, JobEnv, StopMode, StopSignal};
use crate::launch::{Job, script_from_text};
use crate::sync::lock;

/// What every job of a server runs with, under its own settings.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub catalog_dir: PathBuf,
    /// The profile of a job that names none.
    pub profile: String,
    /// The server's `--set` variables.
    pub sets: BTreeMap<String, String>,
}

/// A job as submitted (`POST /api/v1/jobs`).
#[derive(Debug, Clone)]
pub struct Submission {
    /// Its mode is `batch` or `stream` (checked when it is planned).
    pub job: NewJob,
    /// Which checkpoint its first run resumes from.
    pub restore: FromCheckpoint,
}

#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    /// The job's SQL or settings are wrong (already rendered with `file:line:col`).
    #[error("{0}")]
    Plan(SluiceError),
    #[error("{0}")]
    Invalid(String),
    #[error("no job {0}")]
    Unknown(JobId),
    /// The job is not in a state that allows the request.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Registry(RegistryError),
}

impl From<RegistryError> for JobsError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::UnknownJob(id) => JobsError::Unknown(id),
            e => JobsError::Registry(e),
        }
    }
}

type Result<T> = std::result::Result<T, JobsError>;

/// The run of a job now going on (or the last one).
struct Attempt {
    env: JobEnv,
    started_at: String,
    explain: String,
    abort: tokio::task::AbortHandle,
}

/// What the server holds of a job besides its record.
struct Live {
    attempt: Option<Attempt>,
    /// The stop asked of the job: it outlives attempts and backoff waits.
    stop: StopSignal,
    /// How its last run stopped, when it was asked to.
    stopped: Option<Stopped>,
    /// True once its supervisor has ended.
    done: watch::Receiver<bool>,
}

/// A job's figures as the API shows them.
#[derive(Debug, Clone, Serialize)]
pub struct JobSummary {
    pub id: JobId,
    pub name: String,
    pub mode: String,
    pub state: JobState,
    pub submitted_at: String,
    pub started_at: Option<String>,
    pub records_in: u64,
    pub records_out: u64,
    pub rows_rejected: u64,
    pub late_rows: u64,
    /// RFC 3339, UTC.
    pub watermark: Option<String>,
    /// How far the watermark trails the wall clock.
    pub watermark_lag_ms: Option<i64>,
    /// Kafka messages not read yet, over the job's source partitions.
    pub kafka_lag: Option<i64>,
    pub checkpoints: u64,
    pub last_checkpoint: Option<CheckpointView>,
    pub restarts: u32,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckpointView {
    pub id: u64,
    pub at: String,
    /// Known for the checkpoints of the current run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    pub bytes: u64,
}

/// One operator's figures: a source or sink table, or a window aggregate.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OperatorView {
    pub kind: &'static str,
    /// The table, or the window aggregate as `explain` names it.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Sources: seconds spent waiting for room downstream (back-pressure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_bytes: Option<u64>,
    /// RFC 3339, UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watermark: Option<String>,
}

/// A job in full (`GET /api/v1/jobs/{id}`).
#[derive(Debug, Clone, Serialize)]
pub struct JobDetail {
    #[serde(flatten)]
    pub summary: JobSummary,
    pub sql: String,
    pub profile: String,
    pub settings: BTreeMap<String, String>,
    pub explain: Option<String>,
    pub operators: Vec<OperatorView>,
    pub history: Vec<super::Transition>,
    pub checkpoint_dir: PathBuf,
}

/// How a stop request ended.
#[derive(Debug, Clone, Serialize)]
pub struct StopOutcome {
    pub id: JobId,
    pub state: JobState,
    /// The final checkpoint, when the job stopped with one.
    pub checkpoint: Option<u64>,
    pub message: String,
}

/// The jobs of one server.
pub struct Jobs {
    settings: ServerSettings,
    registry: Mutex<Registry>,
    live: Mutex<HashMap<JobId, Live>>,
    logs: JobLogs,
    /// Submissions one at a time: a job's plan is checked between taking its id and
    /// recording it.
    submitting: tokio::sync::Mutex<()>,
    /// The server is going down: jobs that stop now stay RUNNING, to resume on its return.
    shutting_down: AtomicBool,
    /// The runtime jobs are planned and run on (API calls come on another, `server`).
    runtime: tokio::runtime::Handle,
}

impl Jobs {
    /// The jobs of a server; they run on the runtime this is called on.
    pub fn new(settings: ServerSettings, registry: Registry, logs: JobLogs) -> Arc<Self> {
        Arc::new(Jobs {
            runtime: tokio::runtime::Handle::current(),
            settings,
            registry: Mutex::new(registry),
            live: Mutex::new(HashMap::new()),
            logs,
            submitting: tokio::sync::Mutex::new(()),
            shutting_down: AtomicBool::new(false),
        })
    }

    pub fn settings(&self) -> &ServerSettings {
        &self.settings
    }

    pub fn log(&self, id: &JobId) -> Result<JobLog> {
        self.record(id)?;
        Ok(self.logs.of(id.as_str()))
    }

    fn record(&self, id: &JobId) -> Result<JobRecord> {
        Ok(lock(&self.registry).get(id)?.clone())
    }

    fn set_state(&self, id: &JobId, state: JobState, reason: Option<String>) {
        let log = self.logs.of(id.as_str());
        match &reason {
            Some(r) => log.push("INFO", &format!("{}: {r}", state.name())),
            None => log.push("INFO", state.name()),
        }
        if let Err(e) = lock(&self.registry).set_state(id, state, reason) {
            // The job goes on; the record says the state before. Say so where it is seen.
            tracing::error!("job {id}: recording state {}: {e}", state.name());
            log.push("ERROR", &format!("recording the state: {e}"));
        }
    }

    /// Starts every job that was running when the server last stopped, from its newest
    /// checkpoint. A stop that was under way is finished instead: the job is STOPPED, and a
    /// restart resumes it from its last checkpoint.
    pub fn resume_all(self: &Arc<Self>) {
        let records: Vec<JobRecord> = lock(&self.registry).to_resume().cloned().collect();
        for record in records {
            let stop = StopSignal::default();
            if record.state == JobState::Stopping {
                stop.request(StopMode::Checkpoint);
            } else {
                self.logs
                    .of(record.id.as_str())
                    .push("INFO", "the server started again: resuming the job");
                if let Err(e) = lock(&self.registry).resumed(&record.id) {
                    tracing::error!("job {}: recording its resume: {e}", record.id);
                }
            }
            self.supervise(record.id.clone(), None, FromCheckpoint::Latest, stop);
        }
    }

    /// Plans a submitted job and, if it plans, records and starts it.
    pub async fn submit(self: &Arc<Self>, submission: Submission) -> Result<JobRecord> {
        check_name(&submission.job.name)?;
        let _one_at_a_time = self.submitting.lock().await;
        let record = lock(&self.registry).submit(submission.job)?.clone();
        match self.plan_on_jobs_runtime(&record, submission.restore).await {
            Ok(planned) => {
                self.supervise(
                    record.id.clone(),
                    Some(planned),
                    submission.restore,
                    StopSignal::default(),
                );
                Ok(record)
            }
            Err(e) => {
                if let Err(removing) = lock(&self.registry).remove(&record.id) {
                    tracing::warn!("forgetting refused job {}: {removing}", record.id);
                }
                Err(e)
            }
        }
    }

    /// The catalog a job runs over: the server's catalog and profile (or the job's), the
    /// server's variables under the job's own, its name as `${job}`, and its checkpoints in
    /// its own directory of the registry.
    fn catalog_for(&self, record: &JobRecord) -> Result<Catalog> {
        let mut vars = self.settings.sets.clone();
        vars.extend(record.job.settings.clone());
        let profile = record
            .job
            .profile
            .as_ref()
            .unwrap_or(&self.settings.profile);
        let mut catalog = Catalog::load(&self.settings.catalog_dir, profile, Vars::new(vars))
            .map_err(JobsError::Plan)?;
        catalog.vars.set("job", record.job.name.clone());
        let checkpoints_on = catalog
            .vars
            .lookup("checkpoint.dir")
            .map_err(JobsError::Plan)?
            .is_some_and(|d| !d.trim().is_empty());
        if checkpoints_on {
            catalog.vars.set(
                "checkpoint.dir",
                record.checkpoint_dir.display().to_string(),
            );
        }
        Ok(catalog)
    }

    async fn plan(
        &self,
        record: &JobRecord,
        from: FromCheckpoint,
    ) -> Result<(Job, RestartStrategy)> {
        let mode = parse_mode(&record.job.mode)?;
        let catalog = self.catalog_for(record)?;
        let strategy = RestartStrategy::from_vars(&catalog.vars).map_err(JobsError::Plan)?;
        let file = format!("{}.sql", record.job.name);
        let script = script_from_text(&file, &record.job.sql, &catalog).map_err(JobsError::Plan)?;
        let job = Job::plan(catalog, script, mode, from)
            .instrument(job_span(&record.id))
            .await
            .map_err(JobsError::Plan)?;
        Ok((job, strategy))
    }

    /// `plan`, on the jobs' runtime: what planning opens (connection pools) lives there.
    async fn plan_on_jobs_runtime(
        self: &Arc<Self>,
        record: &JobRecord,
        from: FromCheckpoint,
    ) -> Result<(Job, RestartStrategy)> {
        let (jobs, record) = (Arc::clone(self), record.clone());
        self.runtime
            .spawn(async move { jobs.plan(&record, from).await })
            .await
            .map_err(|e| JobsError::Invalid(format!("planning the job failed: {e}")))?
    }

    /// Starts the supervisor of job `id`: `first`, when planned already, is its first run
    /// (with its restart strategy).
    fn supervise(
        self: &Arc<Self>,
        id: JobId,
        first: Option<(Job, RestartStrategy)>,
        from: FromCheckpoint,
        stop: StopSignal,
    ) {
        let (done_tx, done) = watch::channel(false);
        lock(&self.live).insert(
            id.clone(),
            Live {
                attempt: None,
                stop: stop.clone(),
                stopped: None,
                done,
            },
        );
        let jobs = Arc::clone(self);
        self.runtime.spawn(async move {
            jobs.run_supervised(&id, first, from, stop).await;
            let _ = done_tx.send(true);
        });
    }

    async fn run_supervised(
        self: &Arc<Self>,
        id: &JobId,
        mut first: Option<(Job, RestartStrategy)>,
        mut from: FromCheckpoint,
        stop: StopSignal,
    ) {
        let mut failures = 0u32;
        loop {
            if stop.requested().is_some() {
                self.end_stopped(id, None);
                return;
            }
            let record = match self.record(id) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!("job {id}: {e}");
                    return;
                }
            };
            let planned = match first.take() {
                Some(planned) => Ok(planned),
                None => self.plan(&record, from).await,
            };
            let (outcome, strategy) = match planned {
                Ok((job, strategy)) => (self.run_attempt(id, job, &stop).await, strategy),
                Err(e) => (
                    Outcome::Failed {
                        error: e.to_string(),
                        checkpointed: false,
                    },
                    RestartStrategy::default(),
                ),
            };
            match outcome {
                Outcome::Finished(summary) => {
                    self.set_state(id, JobState::Finished, Some(summary));
                    return;
                }
                Outcome::Stopped(stopped) => {
                    self.end_stopped(id, Some(stopped));
                    return;
                }
                Outcome::Failed {
                    error,
                    checkpointed,
                } => {
                    if checkpointed {
                        failures = 0;
                    }
                    failures += 1;
                    let Some(wait) = strategy.delay(failures) else {
                        let why = match strategy.max_attempts {
                            0 => error,
                            n => format!("{error} (after {n} restarts; restart.max_attempts)"),
                        };
                        self.set_state(id, JobState::Failed, Some(why));
                        return;
                    };
                    self.set_state(id, JobState::Restarting, Some(error));
                    self.logs.of(id.as_str()).push(
                        "INFO",
                        &format!(
                            "restart {failures} of {} in {wait:?}, from the newest checkpoint",
                            strategy.max_attempts
                        ),
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.wait_for(&[StopMode::Checkpoint, StopMode::Drain, StopMode::Immediate]) => {}
                    }
                    from = FromCheckpoint::Latest;
                }
            }
        }
    }

    /// Records how a stopped job stopped: STOPPED, or still RUNNING when the server is
    /// going down (it resumes when the server starts again).
    fn end_stopped(&self, id: &JobId, stopped: Option<Stopped>) {
        let said = stopped.as_ref().map_or_else(
            || "stopped before it started again".to_string(),
            describe_stop,
        );
        if let Some(live) = lock(&self.live).get_mut(id) {
            live.stopped = stopped;
        }
        if self.shutting_down.load(Ordering::Relaxed) {
            self.set_state(
                id,
                JobState::Running,
                Some(format!(
                    "the server stopped; the job {said} and resumes when it starts again"
                )),
            );
        } else {
            self.set_state(id, JobState::Stopped, Some(said));
        }
    }

    async fn run_attempt(&self, id: &JobId, job: Job, stop: &StopSignal) -> Outcome {
        let env = job.env().clone();
        let mode = env.mode;
        let explain = job.explain();
        let task = self.runtime.spawn(job.run(false).instrument(job_span(id)));
        {
            let mut live = lock(&self.live);
            if let Some(live) = live.get_mut(id) {
                // A stop asked for while the job was being planned holds for this run too.
                if let Some(asked) = live.stop.requested() {
                    request_stop(&env, &task.abort_handle(), asked);
                }
                live.attempt = Some(Attempt {
                    env: env.clone(),
                    started_at: super::registry::now(),
                    explain,
                    abort: task.abort_handle(),
                });
            }
        }
        if stop.requested().is_none() {
            self.set_state(id, JobState::Running, None);
        }
        let checkpointed = || env.metrics.checkpoints.load(Ordering::Relaxed) > 0;
        match task.await {
            Ok(Ok(report)) => match report.stopped {
                Some(stopped) => Outcome::Stopped(stopped),
                // A batch job stopped on request ends early but well: say stopped, not finished.
                None if mode == ExecMode::Batch && stop.requested().is_some() => {
                    Outcome::Stopped(Stopped::AtOnce)
                }
                None => Outcome::Finished(report_summary(&report)),
            },
            Ok(Err(e)) => Outcome::Failed {
                error: e.to_string(),
                checkpointed: checkpointed(),
            },
            Err(e) if e.is_cancelled() => Outcome::Stopped(Stopped::AtOnce),
            Err(e) => Outcome::Failed {
                error: format!("the job panicked: {}", panic_message(e)),
                checkpointed: checkpointed(),
            },
        }
    }

    /// Asks job `id` to stop in `mode` and waits (up to `wait`) until it has.
    pub async fn stop(&self, id: &JobId, mode: StopMode, wait: Duration) -> Result<StopOutcome> {
        let record = self.record(id)?;
        if !self.is_running(id) {
            return Err(JobsError::Conflict(format!(
                "job {id} is {}, not running: there is nothing to stop",
                record.state.name()
            )));
        }
        // Recorded before the request: a job that stops at once must not end up STOPPING.
        if record.state != JobState::Stopping {
            let why = format!("stop requested ({})", stop_mode_name(mode));
            self.set_state(id, JobState::Stopping, Some(why));
        }
        let mut done = {
            let live = lock(&self.live);
            let Some(live) = live.get(id) else {
                return Err(JobsError::Unknown(id.clone()));
            };
            live.stop.request(mode);
            if let Some(a) = &live.attempt {
                request_stop(&a.env, &a.abort, mode);
            }
            live.done.clone()
        };
        if tokio::time::timeout(wait, done.wait_for(|d| *d))
            .await
            .is_err()
        {
            return Err(JobsError::Conflict(format!(
                "job {id} is still stopping after {wait:?}: ask again, or stop it at once \
                 (mode immediate)"
            )));
        }
        let record = self.record(id)?;
        let stopped = lock(&self.live).get(id).and_then(|l| l.stopped.clone());
        Ok(StopOutcome {
            id: id.clone(),
            state: record.state,
            checkpoint: match stopped {
                Some(Stopped::AtCheckpoint(c)) => Some(c),
                _ => None,
            },
            message: record
                .history
                .last()
                .and_then(|t| t.reason.clone())
                .unwrap_or_default(),
        })
    }

    /// Runs a job that has ended (stopped, finished or failed) again, resuming from
    /// checkpoint `from`. A running job is first stopped with a final checkpoint.
    pub async fn restart(self: &Arc<Self>, id: &JobId, from: FromCheckpoint) -> Result<JobRecord> {
        if self.is_running(id) {
            self.stop(id, StopMode::Checkpoint, Duration::from_secs(600))
                .await?;
        }
        let record = self.record(id)?;
        // Planned first: a job whose checkpoint cannot be read is refused, and stays as it was.
        let planned = self.plan_on_jobs_runtime(&record, from).await?;
        self.set_state(
            id,
            JobState::Created,
            Some(format!("restart requested (from {})", show_from(from))),
        );
        self.supervise(id.clone(), Some(planned), from, StopSignal::default());
        self.record(id)
    }

    fn is_running(&self, id: &JobId) -> bool {
        lock(&self.live).get(id).is_some_and(|l| !*l.done.borrow())
    }

    /// Forgets a job that has ended, with its checkpoints and log.
    pub fn delete(&self, id: &JobId) -> Result<JobRecord> {
        let record = self.record(id)?;
        if self.is_running(id) || record.state.resumes() {
            return Err(JobsError::Conflict(format!(
                "job {id} is {}: stop it before deleting it",
                record.state.name()
            )));
        }
        let removed = lock(&self.registry).remove(id)?;
        lock(&self.live).remove(id);
        self.logs.remove(id.as_str());
        Ok(removed)
    }

    /// The server is going down: every job stops with a final checkpoint (`mode` harder if
    /// asked) and stays RUNNING in the registry, to resume when the server starts again.
    /// Waits up to `wait` for them.
    pub async fn shut_down(&self, mode: StopMode, wait: Duration) {
        self.shutting_down.store(true, Ordering::Relaxed);
        let waits: Vec<watch::Receiver<bool>> = {
            let live = lock(&self.live);
            live.values()
                .filter(|l| !*l.done.borrow())
                .map(|l| {
                    l.stop.request(mode);
                    if let Some(a) = &l.attempt {
                        request_stop(&a.env, &a.abort, mode);
                    }
                    l.done.clone()
                })
                .collect()
        };
        let all = futures::future::join_all(waits.into_iter().map(|mut d| async move {
            let _ = d.wait_for(|d| *d).await;
        }));
        if tokio::time::timeout(wait, all).await.is_err() {
            tracing::warn!(
                "some jobs had not stopped after {wait:?}: they resume from their last checkpoint"
            );
        }
    }

    /// Every job, in submission order.
    pub fn list(&self) -> Vec<JobSummary> {
        let records: Vec<JobRecord> = lock(&self.registry).jobs().cloned().collect();
        let live = lock(&self.live);
        records
            .iter()
            .map(|r| summarize(r, live.get(&r.id)))
            .collect()
    }

    pub fn detail(&self, id: &JobId) -> Result<JobDetail> {
        let record = self.record(id)?;
        let live = lock(&self.live);
        let live = live.get(id);
        let attempt = live.and_then(|l| l.attempt.as_ref());
        let operators = attempt.map_or_else(Vec::new, |a| operators(&a.env));
        Ok(JobDetail {
            summary: summarize(&record, live),
            sql: record.job.sql.clone(),
            profile: record
                .job
                .profile
                .clone()
                .unwrap_or_else(|| self.settings.profile.clone()),
            settings: record.job.settings.clone(),
            explain: attempt.map(|a| a.explain.clone()),
            operators,
            history: record.history.clone(),
            checkpoint_dir: record.checkpoint_dir.join(&record.job.name),
        })
    }

    /// The job's complete checkpoints, newest first.
    pub fn checkpoints(&self, id: &JobId) -> Result<Vec<CheckpointView>> {
        let record = self.record(id)?;
        let store = CheckpointStore::new(record.checkpoint_dir.join(&record.job.name));
        let ids = store.ids().map_err(|e| JobsError::Invalid(e.to_string()))?;
        Ok(ids
            .into_iter()
            .filter_map(|n| store.load(n).ok())
            .map(|m| CheckpointView {
                id: m.id,
                at: rfc3339(m.created_ms),
                duration_ms: None,
                bytes: m.state_bytes(),
            })
            .collect())
    }
}

impl JobsView for Jobs {
    fn figures(&self) -> Vec<JobFigures> {
        let records: Vec<JobRecord> = lock(&self.registry).jobs().cloned().collect();
        let live = lock(&self.live);
        records
            .into_iter()
            .map(|r| JobFigures {
                env: live
                    .get(&r.id)
                    .and_then(|l| l.attempt.as_ref())
                    .map(|a| a.env.clone()),
                id: r.id.to_string(),
                name: r.job.name,
                state: r.state.name(),
                restarts: r.restarts,
            })
            .collect()
    }
}

enum Outcome {
    Finished(String),
    Stopped(Stopped),
    Failed { error: String, checkpointed: bool },
}

fn request_stop(env: &JobEnv, abort: &tokio::task::AbortHandle, mode: StopMode) {
    match env.mode {
        ExecMode::Stream => env.stop.request(mode),
        // A batch job has no checkpoint to stop at: it stops where it is (its outputs are
        // overwritten whole by its next run).
        ExecMode::Batch => abort.abort(),
    }
}

fn describe_stop(stopped: &Stopped) -> String {
    match stopped {
        Stopped::AtCheckpoint(id) => format!("stopped at checkpoint {id}"),
        Stopped::CheckpointFailed(why) => {
            format!(
                "stopped, but its final checkpoint failed ({why}): it resumes from the one before"
            )
        }
        Stopped::WithoutCheckpoint => {
            "stopped; it takes no checkpoints, so windows still open were not kept".into()
        }
        Stopped::Drained => "stopped: its input ended, every window was written".into(),
        Stopped::AtOnce => "stopped at once: it resumes from its last checkpoint".into(),
    }
}

fn report_summary(report: &RunReport) -> String {
    summary_line(&report.metrics, report.started)
}

fn panic_message(e: tokio::task::JoinError) -> String {
    let panic = e.into_panic();
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}

fn show_from(from: FromCheckpoint) -> String {
    match from {
        FromCheckpoint::Latest => "latest".into(),
        FromCheckpoint::None => "none".into(),
        FromCheckpoint::Id(id) => id.to_string(),
    }
}

/// A job's name names its checkpoint directory and its `${job}` (a Kafka consumer group):
/// plain characters only.
fn check_name(name: &str) -> Result<()> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if name.is_empty() || name.len() > 100 || !name.chars().all(plain) || name.starts_with('.') {
        return Err(JobsError::Invalid(format!(
            "'{name}' is not a job name: use 1 to 100 letters, digits, '_', '-' or '.', not \
             starting with '.'"
        )));
    }
    Ok(())
}

pub fn parse_mode(mode: &str) -> Result<ExecMode> {
    match mode {
        "batch" => Ok(ExecMode::Batch),
        "stream" => Ok(ExecMode::Stream),
        other => Err(JobsError::Invalid(format!(
            "mode '{other}': use batch or stream"
        ))),
    }
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn summarize(record: &JobRecord, live: Option<&Live>) -> JobSummary {
    let attempt = live.and_then(|l| l.attempt.as_ref());
    let metrics = attempt.map(|a| (a.env.metrics.snapshot(), &a.env.metrics));
    let (records_in, records_out, rows_rejected, late_rows, checkpoints) =
        metrics.as_ref().map_or((0, 0, 0, 0, 0), |(s, _)| {
            let out: u64 = s.sinks.iter().filter(|t| !t.2).map(|t| t.1).sum();
            (
                s.rows_read,
                out,
                s.rows_rejected(),
                s.late_rows,
                s.checkpoints,
            )
        });
    let watermark = metrics.as_ref().and_then(|(_, m)| m.watermark());
    JobSummary {
        id: record.id.clone(),
        name: record.job.name.clone(),
        mode: record.job.mode.clone(),
        state: record.state,
        submitted_at: record.submitted_at.clone(),
        started_at: attempt.map(|a| a.started_at.clone()),
        records_in,
        records_out,
        rows_rejected,
        late_rows,
        watermark: watermark.map(rfc3339),
        watermark_lag_ms: watermark.map(|w| chrono::Utc::now().timestamp_millis() - w),
        kafka_lag: metrics.as_ref().and_then(|(_, m)| {
            let lags: Vec<i64> = m
                .all()
                .0
                .iter()
                .flat_map(|s| s.lags().into_values())
                .collect();
            (!lags.is_empty()).then(|| lags.iter().sum())
        }),
        checkpoints,
        last_checkpoint: metrics
            .as_ref()
            .and_then(|(_, m)| m.last_checkpoint())
            .map(|c| CheckpointView {
                id: c.id,
                at: rfc3339(c.at_ms),
                duration_ms: Some(c.duration_ms),
                bytes: c.bytes,
            }),
        restarts: record.restarts,
        last_error: record.last_error.clone(),
    }
}

fn operators(env: &JobEnv) -> Vec<OperatorView> {
    let (sources, sinks) = env.metrics.all();
    let sources = sources.iter().map(|s| OperatorView {
        kind: "source",
        name: s.table.clone(),
        rows: Some(s.rows.load(Ordering::Relaxed)),
        bytes: Some(s.bytes.load(Ordering::Relaxed)),
        blocked_s: Some(s.blocked_ns.load(Ordering::Relaxed) as f64 / 1e9),
        ..OperatorView::default()
    });
    let windows = env.metrics.operators().into_iter().map(|o| OperatorView {
        kind: "window aggregate",
        state_bytes: Some(o.state_bytes.load(Ordering::Relaxed)),
        watermark: o.watermark().map(rfc3339),
        name: o.name,
        ..OperatorView::default()
    });
    let sinks = sinks.iter().map(|s| OperatorView {
        kind: if s.error_output { "error sink" } else { "sink" },
        name: s.table.clone(),
        rows: Some(s.rows.load(Ordering::Relaxed)),
        ..OperatorView::default()
    });
    sources.chain(windows).chain(sinks).collect()
}

const STOP_MODES: [StopMode; 3] = [StopMode::Checkpoint, StopMode::Drain, StopMode::Immediate];

/// The stop mode the API calls `name`.
pub fn parse_stop_mode(name: &str) -> Result<StopMode> {
    STOP_MODES
        .into_iter()
        .find(|m| stop_mode_name(*m) == name)
        .ok_or_else(|| {
            let names: Vec<&str> = STOP_MODES.into_iter().map(stop_mode_name).collect();
            JobsError::Invalid(format!("stop mode '{name}': use {}", names.join(", ")))
        })
}

/// The API's name of a stop mode.
pub fn stop_mode_name(mode: StopMode) -> &'static str {
    match mode {
        StopMode::Checkpoint => "checkpoint",
        StopMode::Drain => "drain",
        StopMode::Immediate => "immediate",
    }
}
