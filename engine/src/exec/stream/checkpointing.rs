//! The checkpoint coordinator of a stream job (see `crate::checkpoint` for the protocol):
//! every interval it asks the sources for a checkpoint, gathers what sources and statements
//! report, waits until every sink has written what came before its marker, writes the
//! manifest and only then commits the sources' positions and the sinks' pending files.
//! Asked to stop with a checkpoint, it takes a last one whose barrier stops the sources.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;

use crate::checkpoint::{
    CheckpointConfig, CheckpointStore, MANIFEST_FORMAT, Manifest, SourcePositions, SourceState,
    SplitPositions, StatementState, pending,
};
use crate::job::metrics::{CheckpointFigures, JobMetrics};
use crate::job::{StopMode, StopSignal};
use crate::wire::{Barrier, BarrierAck};

/// Checkpointing of one job run: where, how often, and what it resumed from.
pub struct JobCheckpoints {
    pub config: CheckpointConfig,
    pub store: CheckpointStore,
    /// The job file's name.
    pub job: String,
    /// A hash of the job's SQL (see `Manifest::fingerprint`).
    pub fingerprint: String,
    pub restored: Option<Manifest>,
}

/// What a source or statement tells the coordinator about checkpoint `id`.
pub enum Report {
    Source {
        id: u64,
        index: usize,
        state: SourceState,
    },
    Statement {
        id: u64,
        index: usize,
        state: StatementState,
        /// Released once the statement's sinks have written everything before the barrier.
        acks: Vec<BarrierAck>,
    },
    /// A statement could not write its state: the checkpoint is abandoned.
    Failed { id: u64, what: String },
}

impl Report {
    fn id(&self) -> u64 {
        match self {
            Report::Source { id, .. }
            | Report::Statement { id, .. }
            | Report::Failed { id, .. } => *id,
        }
    }
}

pub struct Coordinator {
    pub checkpoints: Arc<JobCheckpoints>,
    /// One per source, in job order.
    pub triggers: Vec<mpsc::UnboundedSender<Barrier>>,
    pub statements: usize,
    pub reports: mpsc::UnboundedReceiver<Report>,
    pub positions: Arc<SourcePositions>,
    pub metrics: Arc<JobMetrics>,
    pub stop: StopSignal,
}

/// How a stop with a final checkpoint went.
pub type FinalCheckpoint = std::result::Result<u64, String>;

impl Coordinator {
    /// Takes checkpoints until a source ends (the job is finishing: nothing to resume), or
    /// until the job is asked to stop with a checkpoint: then it takes the last one and says
    /// how that went.
    pub async fn run(mut self) -> Option<FinalCheckpoint> {
        let c = Arc::clone(&self.checkpoints);
        let mut next = match c.store.ids() {
            Ok(ids) => ids.first().map_or(1, |n| n + 1),
            Err(e) => {
                tracing::warn!("checkpoints are off: {e}");
                return None;
            }
        };
        let mut ticks = tokio::time::interval_at(
            tokio::time::Instant::now() + c.config.interval,
            c.config.interval,
        );
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let last = tokio::select! {
                _ = ticks.tick() => false,
                _ = self.stop.wait_for(&[StopMode::Checkpoint]) => true,
            };
            match self.checkpoint(next, last).await {
                Ok(true) if last => return Some(Ok(next)),
                Ok(true) => next += 1,
                Ok(false) => {
                    // No more checkpoints: sinks that wait for one to commit their output and
                    // sources that commit only checkpointed positions stop waiting.
                    self.positions.set_checkpointing(false);
                    let why = "no final checkpoint: checkpoints are off (see above)";
                    return last.then(|| Err(why.into()));
                }
                Err(why) => {
                    tracing::warn!("checkpoint {next} abandoned: {why}");
                    self.metrics
                        .checkpoints_failed
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if let Err(e) = std::fs::remove_dir_all(c.store.checkpoint_dir(next)) {
                        tracing::debug!("removing abandoned checkpoint {next}: {e}");
                    }
                    if last {
                        return Some(Err(why));
                    }
                    next += 1;
                }
            }
        }
    }

    /// Takes checkpoint `id`, the `last` before the job stops. `Ok(false)`: a source has
    /// ended, checkpoints stop.
    async fn checkpoint(&mut self, id: u64, last: bool) -> Result<bool, String> {
        let c = Arc::clone(&self.checkpoints);
        let started = Instant::now();
        c.store.begin(id).map_err(|e| e.to_string())?;
        let barrier = match last {
            true => Barrier::last_at(id),
            false => Barrier::at(id),
        };
        for trigger in &self.triggers {
            if trigger.send(barrier.clone()).is_err() {
                // A source has ended: the job is finishing, or reads on from its other
                // sources without checkpoints (a restart could not resume the ended one).
                tracing::info!("a source has ended: no more checkpoints for this job");
                let _ = std::fs::remove_dir_all(c.store.checkpoint_dir(id));
                return Ok(false);
            }
        }
        let deadline = tokio::time::Instant::now() + c.config.timeout;
        let Some(Gathered {
            sources,
            statements,
            acks,
        }) = self.gather(id, deadline).await?
        else {
            // Every source and statement has stopped: the job is ending.
            return Ok(false);
        };
        if let Some(s) = sources
            .iter()
            // A source that has sent nothing yet (a watched folder still empty) has no
            // splits: nothing to resume, but nothing that rules checkpoints out either.
            .find(|s| !s.splits.is_empty() && s.splits.iter().all(|split| split.position.is_none()))
        {
            tracing::warn!(
                "checkpoints are off for this job: source '{}' cannot say how far it has read \
                 (Kafka and file sources can), so a restart could not resume it",
                s.name
            );
            let _ = std::fs::remove_dir_all(c.store.checkpoint_dir(id));
            return Ok(false);
        }
        let written = futures::future::join_all(acks.into_iter().map(BarrierAck::wait));
        let Ok(sinks) = tokio::time::timeout_at(deadline, written).await else {
            return Err(format!(
                "the sinks had not written their rows after {:?}",
                c.config.timeout
            ));
        };
        let manifest = Manifest {
            format: MANIFEST_FORMAT,
            id,
            job: c.job.clone(),
            fingerprint: c.fingerprint.clone(),
            created_ms: chrono::Utc::now().timestamp_millis(),
            sources,
            statements,
            sinks: sinks.into_iter().flatten().collect(),
        };
        c.store.commit(&manifest).map_err(|e| e.to_string())?;
        let figures = CheckpointFigures {
            id,
            at_ms: manifest.created_ms,
            duration_ms: started.elapsed().as_millis() as u64,
            bytes: manifest.state_bytes(),
        };
        tracing::info!(
            "checkpoint {id} complete in {} ms ({} bytes of state) at {}",
            figures.duration_ms,
            figures.bytes,
            c.store.checkpoint_dir(id).display()
        );
        self.metrics.checkpoint_completed(figures);
        self.after_commit(&manifest).await;
        Ok(true)
    }

    /// Waits for every source's and statement's report of checkpoint `id`. `Ok(None)`: they
    /// have all stopped.
    async fn gather(
        &mut self,
        id: u64,
        deadline: tokio::time::Instant,
    ) -> Result<Option<Gathered>, String> {
        let mut sources: Vec<Option<SourceState>> = vec![None; self.triggers.len()];
        let mut statements: Vec<Option<StatementState>> = vec![None; self.statements];
        let mut acks = Vec::new();
        while sources.iter().any(Option::is_none) || statements.iter().any(Option::is_none) {
            let report = match tokio::time::timeout_at(deadline, self.reports.recv()).await {
                Err(_) => {
                    let timeout = self.checkpoints.config.timeout;
                    return Err(format!("not complete after {timeout:?}"));
                }
                Ok(None) => return Ok(None),
                Ok(Some(r)) => r,
            };
            if report.id() != id {
                continue;
            }
            match report {
                Report::Source { index, state, .. } => sources[index] = Some(state),
                Report::Statement {
                    index,
                    state,
                    acks: a,
                    ..
                } => {
                    statements[index] = Some(state);
                    acks.extend(a);
                }
                Report::Failed { what, .. } => return Err(what),
            }
        }
        Ok(Some(Gathered {
            sources: sources.into_iter().flatten().collect(),
            statements: statements.into_iter().flatten().collect(),
            acks,
        }))
    }

    /// After a checkpoint is complete: old ones go, and the sources' positions and the sinks'
    /// pending files are committed.
    async fn after_commit(&self, manifest: &Manifest) {
        let c = &self.checkpoints;
        if let Err(e) = c.store.prune(c.config.retained) {
            tracing::warn!("pruning old checkpoints: {e}");
        }
        commit_positions(&self.positions, &manifest.sources).await;
        let files: Vec<String> = manifest
            .sinks
            .iter()
            .flat_map(|s| s.pending_files.clone())
            .collect();
        if !files.is_empty() {
            let committed = tokio::task::spawn_blocking(move || pending::commit_all(&files)).await;
            if let Err(e) = committed {
                tracing::warn!("committing the checkpoint's files: {e}");
            }
        }
    }
}

/// What every part of the job reported for one checkpoint.
struct Gathered {
    sources: Vec<SourceState>,
    statements: Vec<StatementState>,
    /// Released once each sink has written everything before the barrier.
    acks: Vec<BarrierAck>,
}

/// The checkpointed (or, at a clean end, final) positions of every source go back to the
/// systems they came from.
pub async fn commit_positions(positions: &Arc<SourcePositions>, sources: &[SourceState]) {
    let commits: Vec<(String, SplitPositions)> = sources
        .iter()
        .map(|s| (s.name.clone(), split_positions(s)))
        .collect();
    let positions = Arc::clone(positions);
    // Commits are blocking client calls.
    let done = tokio::task::spawn_blocking(move || {
        for (name, at) in commits {
            positions.commit(&name, &at);
        }
    })
    .await;
    if let Err(e) = done {
        tracing::warn!("committing source positions: {e}");
    }
}

/// A source's positions by split, as its connector resumes from them.
pub fn split_positions(source: &SourceState) -> SplitPositions {
    source
        .splits
        .iter()
        .filter_map(|s| Some((s.split.clone()?, s.position.clone()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use super::*;
    use crate::checkpoint::{FromCheckpoint, PositionCommitter, SplitState};
    use crate::wire::{Barrier, SinkState};

    /// A coordinator of one source and one statement over checkpoints in `dir`, with the
    /// source's trigger receiver and the report sender the tasks would hold.
    fn coordinator(
        dir: &std::path::Path,
        interval: Duration,
    ) -> (
        Coordinator,
        mpsc::UnboundedReceiver<Barrier>,
        mpsc::UnboundedSender<Report>,
    ) {
        let config = CheckpointConfig {
            dir: dir.to_path_buf(),
            interval,
            timeout: Duration::from_secs(5),
            retained: 2,
            from: FromCheckpoint::Latest,
        };
        let checkpoints = Arc::new(JobCheckpoints {
            store: CheckpointStore::new(dir),
            config,
            job: "job.sql".into(),
            fingerprint: "f".into(),
            restored: None,
        });
        let (trigger, triggered) = mpsc::unbounded_channel();
        let (reporter, reports) = mpsc::unbounded_channel();
        let coordinator = Coordinator {
            checkpoints,
            triggers: vec![trigger],
            statements: 1,
            reports,
            positions: Arc::new(SourcePositions::default()),
            metrics: Arc::new(JobMetrics::default()),
            stop: StopSignal::default(),
        };
        (coordinator, triggered, reporter)
    }

    fn source(id: u64, offset: Option<&str>) -> Report {
        Report::Source {
            id,
            index: 0,
            state: SourceState {
                name: "events".into(),
                watermark: 1_000,
                splits: vec![SplitState {
                    split: Some("0".into()),
                    watermark: 1_000,
                    position: offset.map(str::to_string),
                }],
            },
        }
    }

    fn statement(id: u64, acks: Vec<BarrierAck>) -> Report {
        Report::Statement {
            id,
            index: 0,
            state: StatementState {
                inputs: vec![],
                stages: vec![],
            },
            acks,
        }
    }

    #[derive(Default)]
    struct Committed(Mutex<Vec<SplitPositions>>);

    impl PositionCommitter for Committed {
        fn commit(&self, positions: &SplitPositions) -> Result<(), String> {
            self.0.lock().unwrap().push(positions.clone());
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_checkpoint_completes_once_every_part_reported_and_every_sink_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, mut triggered, reporter) = coordinator(dir.path(), Duration::from_millis(10));
        let committed = Arc::new(Committed::default());
        c.positions.register_committer("events", committed.clone());
        let (barrier, ack) = Barrier::at(1).for_sink();
        barrier.attach(SinkState::of("out", &serde_json::json!({"n": 7})));
        // A report of an older checkpoint is not this one's.
        reporter.send(source(0, Some("1"))).unwrap();
        reporter.send(source(1, Some("42"))).unwrap();
        reporter.send(statement(1, vec![ack])).unwrap();
        let sink_writes = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            barrier.acknowledge();
        });
        assert_eq!(c.checkpoint(1, false).await, Ok(true));
        sink_writes.await.unwrap();
        assert_eq!(triggered.recv().await.map(|b| b.id), Some(1));

        let manifest = c.checkpoints.store.latest().unwrap().expect("checkpoint 1");
        assert_eq!(manifest.id, 1);
        assert_eq!(
            manifest.sources[0].splits[0].position.as_deref(),
            Some("42")
        );
        assert_eq!(manifest.statements.len(), 1);
        assert_eq!(manifest.sinks[0].name, "out");
        assert_eq!(manifest.sinks[0].state["n"], 7);
        // Only a complete checkpoint's positions go back to the source's system.
        let positions = committed.0.lock().unwrap().clone();
        assert_eq!(
            positions,
            vec![SplitPositions::from([("0".into(), "42".into())])]
        );
    }

    #[tokio::test]
    async fn a_failed_statement_abandons_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, _triggered, reporter) = coordinator(dir.path(), Duration::from_millis(10));
        reporter.send(source(1, Some("5"))).unwrap();
        reporter
            .send(Report::Failed {
                id: 1,
                what: "disk full".into(),
            })
            .unwrap();
        assert_eq!(c.checkpoint(1, false).await, Err("disk full".into()));
        assert!(c.checkpoints.store.latest().unwrap().is_none());
    }

    #[tokio::test]
    async fn a_source_that_cannot_say_where_it_is_turns_checkpoints_off() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, _triggered, reporter) = coordinator(dir.path(), Duration::from_millis(10));
        reporter.send(source(1, None)).unwrap();
        reporter.send(statement(1, vec![])).unwrap();
        assert_eq!(c.checkpoint(1, false).await, Ok(false));
        assert!(!c.checkpoints.store.checkpoint_dir(1).exists());
    }

    #[tokio::test]
    async fn an_ended_source_ends_checkpointing() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, triggered, _reporter) = coordinator(dir.path(), Duration::from_millis(10));
        drop(triggered);
        assert_eq!(c.checkpoint(1, false).await, Ok(false));
        assert!(!c.checkpoints.store.checkpoint_dir(1).exists());
    }

    #[tokio::test]
    async fn a_stop_takes_a_last_checkpoint_whose_barrier_stops_the_sources() {
        let dir = tempfile::tempdir().unwrap();
        let (c, mut triggered, reporter) = coordinator(dir.path(), Duration::from_secs(3600));
        let stop = c.stop.clone();
        let coordinator = tokio::spawn(c.run());
        // No checkpoint is due within the hour: the first one asked for is the stop's.
        stop.request(StopMode::Checkpoint);
        let barrier = triggered.recv().await.unwrap();
        assert!(barrier.last);
        reporter.send(source(barrier.id, Some("9"))).unwrap();
        reporter.send(statement(barrier.id, vec![])).unwrap();
        assert_eq!(coordinator.await.unwrap(), Some(Ok(barrier.id)));
        let manifest = CheckpointStore::new(dir.path()).latest().unwrap().unwrap();
        assert_eq!(manifest.id, barrier.id);
    }

    #[tokio::test]
    async fn old_checkpoints_are_pruned_to_the_retained_count() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, _triggered, reporter) = coordinator(dir.path(), Duration::from_millis(10));
        for id in 1..=4 {
            reporter.send(source(id, Some(&id.to_string()))).unwrap();
            reporter.send(statement(id, vec![])).unwrap();
            assert_eq!(c.checkpoint(id, false).await, Ok(true));
        }
        assert_eq!(c.checkpoints.store.ids().unwrap(), vec![4, 3]);
        assert_eq!(c.metrics.checkpoints.load(Ordering::Relaxed), 4);
    }
}
