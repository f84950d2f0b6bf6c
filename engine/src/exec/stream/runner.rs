//! Runs a planned stream job: one task per source, per statement and per sink. A stop
//! request (`JobEnv::stop`) ends it early: with a final checkpoint, drained, or at once.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;
use tracing::Instrument;

use datafusion::arrow::array::RecordBatch;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::{ExecutionPlan, collect};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::aggregate::WindowAggregate;
use super::checkpointing::{
    Coordinator, FinalCheckpoint, JobCheckpoints, Report, commit_positions,
};
use super::graph::{Pipeline, StatementBody, StreamJob, StreamStatement};
use super::late::LateOutput;
use super::source::SourceDriver;
use crate::checkpoint::{
    CheckpointStore, InputState, Manifest, SourceState, StageState, StatementState,
};
use crate::error::{Result, SluiceError};
use crate::exec::Output;
use crate::exec::batch::{RunReport, Stopped, rows_from_file_scans};
use crate::exec::progress::Progress;
use crate::job::metrics::JobMetrics;
use crate::job::{JobEnv, StopMode};
use crate::wire::{Barrier, CHANNEL_CAPACITY, Message, Slot};

enum Done {
    /// A statement or sink finished.
    Ran,
    /// A source finished; where it stood when it ended (it ended, not just stopped).
    Source(Option<SourceState>),
    /// The rows of bare SELECT `n`.
    Printed(usize, Vec<RecordBatch>),
}

type TaskResult = std::result::Result<Done, (String, DataFusionError)>;

/// Runs `job`, a job of `env`, with the task context of its session; with `checkpoints`,
/// taking them (and resuming from the one restored).
pub async fn run(
    ctx: Arc<TaskContext>,
    env: &JobEnv,
    job: StreamJob,
    show_progress: bool,
    checkpoints: Option<JobCheckpoints>,
) -> Result<RunReport> {
    let started = Instant::now();
    let progress = Progress::start(Arc::clone(&env.metrics), show_progress);
    let idle_timeout = job.settings.idle_timeout;
    let limit = job.settings.state_limit;
    let checkpoints = checkpoints.map(Arc::new);
    let (reports_tx, reports_rx) = mpsc::unbounded_channel();
    let restored = checkpoints.as_ref().and_then(|c| c.restored.as_ref());
    check_restored(restored, job.statements.len())?;
    let mut tasks: JoinSet<TaskResult> = JoinSet::new();
    let file = job.script.file.clone();
    let mut readers: Vec<Vec<mpsc::Sender<(usize, Message)>>> = vec![Vec::new(); job.sources.len()];
    let mut printed = vec![Vec::new(); job.statements.len()];

    let late = job.late.map(|late| {
        let what = format!("{file}: late rows into '{}'", late.table);
        spawn_plan(&mut tasks, late.sink.plan, &ctx, what, None);
        LateOutput {
            schema: late.sink.schema,
            tx: late.sink.input,
        }
    });

    for (i, stmt) in job.statements.into_iter().enumerate() {
        let what = describe(&file, &stmt);
        let (events_tx, events_rx) = mpsc::channel(CHANNEL_CAPACITY);
        for &s in &stmt.sources {
            readers[s].push(events_tx.clone());
        }
        drop(events_tx);
        let print = (stmt.output == Output::Print).then_some(i);
        spawn_plan(&mut tasks, stmt.sink.plan, &ctx, what.clone(), print);
        let sink = stmt.sink.input;
        let mut runner = StatementRunner::new(
            i,
            stmt.body,
            &stmt.sources,
            Arc::clone(&env.metrics),
            late.clone(),
            what.clone(),
            limit,
        )?;
        if let Some(c) = &checkpoints {
            runner.checkpoints = Some((c.store.clone(), reports_tx.clone()));
            if let Some(m) = &c.restored {
                runner
                    .restore(m, &c.store)
                    .map_err(|e| SluiceError::Run(format!("{what}: resuming: {e}")))?;
            }
        }
        let ctx = Arc::clone(&ctx);
        tasks.spawn(
            async move {
                runner
                    .run(events_rx, sink, ctx)
                    .await
                    .map(|_| Done::Ran)
                    .map_err(|e| (what, e))
            }
            .in_current_span(),
        );
    }

    // The statements hold the late output's senders now; it ends when they all have.
    drop(late);
    let mut scans: Vec<Arc<dyn ExecutionPlan>> = Vec::new();
    let mut triggers = Vec::new();
    let sources = job.sources.len();
    for (index, source) in job.sources.into_iter().enumerate() {
        scans.push(Arc::clone(&source.plan));
        let driver = SourceDriver {
            index,
            name: source.name.clone(),
            plan: source.plan,
            watermark: source.watermark,
            idle_timeout,
            readers: std::mem::take(&mut readers[index]),
            checkpoints: checkpoints.as_ref().map(|_| {
                let (tx, rx) = mpsc::unbounded_channel();
                triggers.push(tx);
                (rx, reports_tx.clone())
            }),
            restored: restored
                .and_then(|m| m.sources.iter().find(|s| s.name == source.name).cloned()),
            stop: env.stop.clone(),
            metrics: env.metrics.source_named(&source.name),
        };
        let what = format!("{file}: source '{}'", source.name);
        let ctx = Arc::clone(&ctx);
        tasks.spawn(
            async move {
                driver
                    .run(ctx)
                    .await
                    .map(Done::Source)
                    .map_err(|e| (what, e))
            }
            .in_current_span(),
        );
    }
    drop(reports_tx);
    let coordinator = checkpoints.as_ref().map(|c| {
        tokio::spawn(
            Coordinator {
                checkpoints: Arc::clone(c),
                triggers,
                statements: printed.len(),
                reports: reports_rx,
                positions: Arc::clone(&env.positions),
                metrics: Arc::clone(&env.metrics),
                stop: env.stop.clone(),
            }
            .run()
            .in_current_span(),
        )
    });

    let joined = tokio::select! {
        joined = join_tasks(&mut tasks, &file, &mut printed) => Some(joined),
        _ = env.stop.wait_for(&[StopMode::Immediate]) => None,
    };
    let Some((ended, failure)) = joined else {
        tracing::warn!("{file}: stopped at once; a restart resumes from the last checkpoint");
        if let Some(c) = coordinator {
            c.abort();
        }
        tasks.shutdown().await;
        drop(progress);
        return Ok(RunReport {
            metrics: env.metrics.snapshot(),
            printed,
            started,
            stopped: Some(Stopped::AtOnce),
        });
    };
    let final_checkpoint = match coordinator {
        // Asked to stop with a checkpoint: the coordinator is taking the last one (or has).
        Some(c) if failure.is_none() && env.stop.requested() == Some(StopMode::Checkpoint) => {
            c.await.ok().flatten()
        }
        Some(c) => {
            c.abort();
            let _ = c.await;
            None
        }
        None => None,
    };
    if let Some(failure) = failure {
        // Checkpoints stay: a rerun resumes from the last one.
        tasks.shutdown().await;
        drop(progress);
        return Err(SluiceError::Run(failure));
    }
    if let Some(c) = &checkpoints
        && ended.len() == sources
    {
        finish_checkpoints(c, env, &ended).await;
    }
    drop(progress);
    let mut metrics = env.metrics.snapshot();
    metrics.rows_read += scans
        .iter()
        .map(|p| rows_from_file_scans(p.as_ref()))
        .sum::<u64>();
    Ok(RunReport {
        metrics,
        printed,
        started,
        stopped: stopped(
            env,
            checkpoints.is_some(),
            ended.len() == sources,
            final_checkpoint,
        ),
    })
}

/// How a job asked to stop stopped; `None` when it was not asked, or its input ended
/// before the stop could take effect.
fn stopped(
    env: &JobEnv,
    checkpointed: bool,
    finished: bool,
    final_checkpoint: Option<FinalCheckpoint>,
) -> Option<Stopped> {
    Some(match env.stop.requested()? {
        StopMode::Drain => Stopped::Drained,
        StopMode::Immediate => Stopped::AtOnce,
        StopMode::Checkpoint if finished => return None,
        StopMode::Checkpoint if !checkpointed => Stopped::WithoutCheckpoint,
        StopMode::Checkpoint => match final_checkpoint {
            Some(Ok(id)) => Stopped::AtCheckpoint(id),
            Some(Err(why)) => Stopped::CheckpointFailed(why),
            None => Stopped::CheckpointFailed("the job ended before its final checkpoint".into()),
        },
    })
}

/// A restored checkpoint must hold the state of every statement.
fn check_restored(restored: Option<&Manifest>, statements: usize) -> Result<()> {
    match restored {
        Some(m) if m.statements.len() != statements => Err(SluiceError::Run(format!(
            "checkpoint {} has state of {} statements, the job has {statements}",
            m.id,
            m.statements.len(),
        ))),
        _ => Ok(()),
    }
}

/// Waits for every task of the job, keeping what bare SELECTs printed; returns where the
/// sources that ended stood, and the first failure (the other tasks are left running).
async fn join_tasks(
    tasks: &mut JoinSet<TaskResult>,
    file: &str,
    printed: &mut [Vec<RecordBatch>],
) -> (Vec<SourceState>, Option<String>) {
    let mut ended = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let outcome = match joined {
            Ok(o) => o,
            Err(e) => return (ended, Some(format!("{file}: a job task failed: {e}"))),
        };
        match outcome {
            Ok(Done::Printed(i, rows)) => printed[i] = rows,
            Ok(Done::Source(state)) => ended.extend(state),
            Ok(Done::Ran) => {}
            Err((what, e)) => {
                let failure = format!(
                    "{what} failed: {}",
                    crate::sql::diagnostics::clean_message(&e)
                );
                return (ended, Some(failure));
            }
        }
    }
    (ended, None)
}

/// Every source ended and every sink has written its rows: the final positions are the
/// ones to commit, and there is nothing left to resume.
async fn finish_checkpoints(checkpoints: &JobCheckpoints, env: &JobEnv, ended: &[SourceState]) {
    commit_positions(&env.positions, ended).await;
    if let Err(e) = checkpoints.store.clear() {
        tracing::warn!("removing the finished job's checkpoints: {e}");
    }
}

/// Runs `plan` to its end as a job task; with `print`, its rows are kept for statement `n`.
fn spawn_plan(
    tasks: &mut JoinSet<TaskResult>,
    plan: Arc<dyn ExecutionPlan>,
    ctx: &Arc<TaskContext>,
    what: String,
    print: Option<usize>,
) {
    let ctx = Arc::clone(ctx);
    tasks.spawn(
        async move {
            match collect(plan, ctx).await {
                Ok(rows) => Ok(print.map_or(Done::Ran, |n| Done::Printed(n, rows))),
                Err(e) => Err((what, e)),
            }
        }
        .in_current_span(),
    );
}

fn describe(file: &str, stmt: &StreamStatement) -> String {
    let what = match &stmt.output {
        Output::Table(t) => format!("INSERT INTO {t}"),
        Output::Print => "SELECT".to_string(),
    };
    format!("{file}:{}: {what}", stmt.statement.start)
}

/// Where each input stands in event time.
#[derive(Debug, Clone, Copy)]
struct InputTime {
    watermark: i64,
    idle: bool,
    ended: bool,
}

struct Stage {
    input: Pipeline,
    operator: WindowAggregate,
    output: Slot,
    /// The operator's state size, in the job's metrics.
    state_bytes: Arc<AtomicU64>,
    /// The operator's watermark, in the job's metrics.
    watermark: Arc<AtomicI64>,
}

/// A checkpoint barrier being aligned: the inputs it has come from so far.
struct Aligning {
    barrier: Barrier,
    arrived: Vec<usize>,
}

struct StatementRunner {
    /// The statement's index in the job.
    index: usize,
    body: Body,
    /// Per job source (only those read are used).
    inputs: Vec<(usize, InputTime)>,
    metrics: Arc<JobMetrics>,
    late: Option<LateOutput>,
    /// `file:line:col: INSERT INTO t`, for the late output.
    label: String,
    /// `state.max_bytes`: the most state the job may hold.
    state_limit: Option<u64>,
    /// Where state goes, and where to report, when the job takes checkpoints.
    checkpoints: Option<(CheckpointStore, mpsc::UnboundedSender<Report>)>,
    aligning: Option<Aligning>,
    /// Events of inputs whose barrier has arrived, held until the others' arrive.
    held: VecDeque<(usize, Message)>,
    /// Held events to process before reading more.
    replay: VecDeque<(usize, Message)>,
}

enum Body {
    Stateless(Pipeline),
    Windowed {
        stages: Vec<Stage>,
        upper: Arc<dyn ExecutionPlan>,
    },
}

impl StatementRunner {
    fn new(
        index: usize,
        body: StatementBody,
        sources: &[usize],
        metrics: Arc<JobMetrics>,
        late: Option<LateOutput>,
        label: String,
        state_limit: Option<u64>,
    ) -> DfResult<Self> {
        let body = match body {
            StatementBody::Stateless(p) => Body::Stateless(p),
            StatementBody::Windowed { stages, upper } => Body::Windowed {
                stages: stages
                    .into_iter()
                    .enumerate()
                    .map(|(n, s)| {
                        let gauges = metrics.operator(format!("{label}: WindowAggregate #{n}"));
                        Ok(Stage {
                            operator: WindowAggregate::try_new(s.spec)?,
                            input: s.input,
                            output: s.output,
                            state_bytes: gauges.state_bytes,
                            watermark: gauges.watermark,
                        })
                    })
                    .collect::<DfResult<_>>()?,
                upper,
            },
        };
        let start = InputTime {
            watermark: i64::MIN,
            idle: false,
            ended: false,
        };
        Ok(StatementRunner {
            index,
            body,
            inputs: sources.iter().map(|&s| (s, start)).collect(),
            metrics,
            late,
            label,
            state_limit,
            checkpoints: None,
            aligning: None,
            held: VecDeque::new(),
            replay: VecDeque::new(),
        })
    }

    fn stages(&self) -> &[Stage] {
        match &self.body {
            Body::Stateless(_) => &[],
            Body::Windowed { stages, .. } => stages,
        }
    }

    /// Takes back the statement's state from checkpoint `manifest`.
    fn restore(&mut self, manifest: &Manifest, store: &CheckpointStore) -> Result<()> {
        let state = &manifest.statements[self.index];
        if state.stages.len() != self.stages().len() {
            return Err(SluiceError::Run(format!(
                "checkpoint {} has {} window aggregates for this statement, it has {}",
                manifest.id,
                state.stages.len(),
                self.stages().len()
            )));
        }
        for saved in &state.inputs {
            if let Some((_, t)) = self.inputs.iter_mut().find(|(s, _)| *s == saved.source) {
                *t = InputTime {
                    watermark: saved.watermark,
                    idle: saved.idle,
                    ended: saved.ended,
                };
            }
        }
        if let Body::Windowed { stages, .. } = &mut self.body {
            for (stage, saved) in stages.iter_mut().zip(&state.stages) {
                let files = saved
                    .files
                    .iter()
                    .map(|f| store.read_file(manifest.id, &f.name))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| SluiceError::Run(e.to_string()))?;
                stage.operator.restore(saved.watermark, &files)?;
            }
        }
        Ok(())
    }

    async fn run(
        mut self,
        mut events: mpsc::Receiver<(usize, Message)>,
        rows: mpsc::Sender<Message>,
        ctx: Arc<TaskContext>,
    ) -> DfResult<()> {
        loop {
            let (source, event) = match self.replay.pop_front() {
                Some(e) => e,
                None => match events.recv().await {
                    Some(e) => e,
                    None => break,
                },
            };
            let Some(at) = self.inputs.iter().position(|(s, _)| *s == source) else {
                continue;
            };
            if self
                .aligning
                .as_ref()
                .is_some_and(|a| a.arrived.contains(&source))
            {
                self.held.push_back((source, event));
                continue;
            }
            let out = match event {
                Message::Data(batch) => {
                    self.inputs[at].1.idle = false;
                    self.on_batch(source, batch, &ctx).await?
                }
                Message::Watermark(w) => {
                    let input = &mut self.inputs[at].1;
                    input.watermark = w;
                    input.idle = false;
                    self.on_time(&ctx).await?
                }
                Message::Idle => {
                    self.inputs[at].1.idle = true;
                    self.on_time(&ctx).await?
                }
                Message::End => {
                    self.inputs[at].1.ended = true;
                    self.on_time(&ctx).await?
                }
                Message::Barrier(barrier) => {
                    match &mut self.aligning {
                        Some(a) if a.barrier.id == barrier.id => a.arrived.push(source),
                        _ => {
                            // A newer barrier: the one being aligned was abandoned.
                            let held = std::mem::take(&mut self.held);
                            self.replay.extend(held);
                            self.aligning = Some(Aligning {
                                barrier,
                                arrived: vec![source],
                            });
                        }
                    }
                    vec![]
                }
                Message::Failed(m) => {
                    return Err(DataFusionError::Execution(format!(
                        "its source failed: {m}"
                    )));
                }
            };
            for batch in out {
                if batch.num_rows() > 0 && rows.send(Message::Data(batch)).await.is_err() {
                    // The sink stopped; its own task reports why.
                    return Ok(());
                }
            }
            self.complete_alignment(&rows).await;
            if self.inputs.iter().all(|(_, t)| t.ended) {
                return Ok(());
            }
        }
        // The sources stopped without ending (the job was asked to stop).
        let held: usize = self.stages().iter().map(|s| s.operator.state_bytes()).sum();
        if held > 0 && self.checkpoints.is_none() {
            tracing::warn!(
                "{}: stopped with {} of open windows unwritten; the job takes no checkpoints, \
                 so they are lost (set checkpoint.dir to keep them)",
                self.label,
                indicatif::HumanBytes(held as u64)
            );
        }
        Ok(())
    }

    /// Once the barrier being aligned has come from every input still running, everything
    /// before it has been processed: the state goes into the checkpoint, a marker to the
    /// sinks, and the held events are processed.
    async fn complete_alignment(&mut self, rows: &mpsc::Sender<Message>) {
        let Some(aligning) = &self.aligning else {
            return;
        };
        let aligned = self
            .inputs
            .iter()
            .all(|(s, t)| t.ended || aligning.arrived.contains(s));
        if !aligned {
            return;
        }
        let checkpoint = aligning.barrier.clone();
        let id = checkpoint.id;
        self.aligning = None;
        let held = std::mem::take(&mut self.held);
        for e in held.into_iter().rev() {
            self.replay.push_front(e);
        }
        let Some((store, reports)) = self.checkpoints.clone() else {
            return;
        };
        let report = match self.write_state(id, &store) {
            Ok(state) => {
                let mut acks = Vec::with_capacity(2);
                let (barrier, ack) = checkpoint.for_sink();
                if rows.send(Message::Barrier(barrier)).await.is_ok() {
                    acks.push(ack);
                }
                if let Some(late) = &self.late {
                    let (barrier, ack) = checkpoint.for_sink();
                    if late.tx.send(Message::Barrier(barrier)).await.is_ok() {
                        acks.push(ack);
                    }
                }
                Report::Statement {
                    id,
                    index: self.index,
                    state,
                    acks,
                }
            }
            Err(e) => Report::Failed {
                id,
                what: format!("{}: writing its state: {e}", self.label),
            },
        };
        let _ = reports.send(report);
    }

    /// Writes the state of every window aggregate as files of checkpoint `id`.
    fn write_state(&mut self, id: u64, store: &CheckpointStore) -> Result<StatementState> {
        let index = self.index;
        let inputs = self
            .inputs
            .iter()
            .map(|(s, t)| InputState {
                source: *s,
                watermark: t.watermark,
                idle: t.idle,
                ended: t.ended,
            })
            .collect();
        let mut stages_state = Vec::new();
        if let Body::Windowed { stages, .. } = &mut self.body {
            for (k, stage) in stages.iter_mut().enumerate() {
                let mut files = Vec::new();
                for (name, bytes) in stage.operator.snapshot()? {
                    let file = store
                        .write_file(id, &format!("s{index}-a{k}-{name}.arrow"), &bytes)
                        .map_err(|e| SluiceError::Run(e.to_string()))?;
                    files.push(file);
                }
                stages_state.push(StageState {
                    watermark: stage.operator.watermark(),
                    files,
                    state_bytes: stage.operator.state_bytes() as u64,
                });
            }
        }
        Ok(StatementState {
            inputs,
            stages: stages_state,
        })
    }

    /// Updates the state gauges; past `state.max_bytes`, the statement fails saying which
    /// operator holds what.
    fn account_state(&self) -> DfResult<()> {
        for (k, stage) in self.stages().iter().enumerate() {
            let bytes = stage.operator.state_bytes() as u64;
            let total = self.metrics.set_state_bytes(&stage.state_bytes, bytes);
            if let Some(max) = self.state_limit
                && total > max
            {
                return Err(DataFusionError::ResourcesExhausted(format!(
                    "window aggregate #{} ({}) holds {} of state, the job {} in all: over \
                     state.max_bytes = {}. Raise state.max_bytes (--set state.max_bytes=..), \
                     or hold less: shorter windows, a shorter watermark delay, fewer keys",
                    k + 1,
                    stage.operator.spec().kind.describe(),
                    indicatif::HumanBytes(bytes),
                    indicatif::HumanBytes(total),
                    indicatif::HumanBytes(max)
                )));
            }
        }
        Ok(())
    }

    async fn on_batch(
        &mut self,
        source: usize,
        batch: RecordBatch,
        ctx: &Arc<TaskContext>,
    ) -> DfResult<Vec<RecordBatch>> {
        match &mut self.body {
            Body::Stateless(pipeline) => run_pipeline(pipeline, source, &batch, ctx).await,
            Body::Windowed { stages, .. } => {
                for stage in stages.iter_mut() {
                    if !stage.input.reads(source) {
                        continue;
                    }
                    for rows in run_pipeline(&stage.input, source, &batch, ctx).await? {
                        let late = stage.operator.process(&rows)?;
                        if let Some(late) = late {
                            self.metrics
                                .late_rows
                                .fetch_add(late.rows.num_rows() as u64, Ordering::Relaxed);
                            if let Some(out) = &self.late {
                                let time = stage.operator.spec().time.as_ref();
                                out.send(&self.label, &late.rows, time).await?;
                            }
                        }
                    }
                }
                self.account_state()?;
                Ok(vec![])
            }
        }
    }

    /// Moves each window aggregate to the watermark of its inputs and runs the plan above
    /// over the windows that closed.
    async fn on_time(&mut self, ctx: &Arc<TaskContext>) -> DfResult<Vec<RecordBatch>> {
        let Body::Windowed { stages, upper } = &mut self.body else {
            return Ok(vec![]);
        };
        let mut closed = false;
        for stage in stages.iter_mut() {
            let Some(watermark) = combined_watermark(
                self.inputs
                    .iter()
                    .filter(|(s, _)| stage.input.reads(*s))
                    .map(|(_, t)| *t),
            ) else {
                continue;
            };
            if watermark != i64::MAX {
                stage.watermark.store(watermark, Ordering::Relaxed);
            }
            for batch in stage.operator.advance(watermark)? {
                stage.output.put(batch);
                closed = true;
            }
        }
        if !closed {
            return Ok(vec![]);
        }
        let out = collect(Arc::clone(upper), Arc::clone(ctx)).await;
        for stage in stages.iter() {
            stage.output.clear();
        }
        self.account_state()?;
        out
    }
}

/// The watermark of an operator: the least of its inputs', ignoring idle inputs (unless
/// all are idle: then it holds). An ended input no longer holds anything back.
fn combined_watermark(inputs: impl Iterator<Item = InputTime>) -> Option<i64> {
    let mut least: Option<i64> = None;
    for t in inputs {
        let w = if t.ended {
            i64::MAX
        } else if t.idle {
            continue;
        } else {
            t.watermark
        };
        least = Some(least.map_or(w, |l| l.min(w)));
    }
    least
}

/// Runs a stateless plan over one batch of `source`.
async fn run_pipeline(
    pipeline: &Pipeline,
    source: usize,
    batch: &RecordBatch,
    ctx: &Arc<TaskContext>,
) -> DfResult<Vec<RecordBatch>> {
    for (s, slot) in &pipeline.slots {
        if *s == source {
            slot.put(batch.clone());
        }
    }
    let out = collect(Arc::clone(&pipeline.plan), Arc::clone(ctx)).await;
    // A scan the optimizer dropped never drains its slot.
    for (_, slot) in &pipeline.slots {
        slot.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(watermark: i64, idle: bool, ended: bool) -> InputTime {
        InputTime {
            watermark,
            idle,
            ended,
        }
    }

    #[test]
    fn the_slowest_active_input_holds_the_watermark() {
        assert_eq!(
            combined_watermark([t(10, false, false), t(5, false, false)].into_iter()),
            Some(5)
        );
        assert_eq!(
            combined_watermark([t(10, false, false), t(5, true, false)].into_iter()),
            Some(10)
        );
        assert_eq!(
            combined_watermark([t(10, true, false), t(5, true, false)].into_iter()),
            None
        );
        assert_eq!(
            combined_watermark([t(10, false, true), t(5, false, true)].into_iter()),
            Some(i64::MAX)
        );
        assert_eq!(
            combined_watermark([t(10, false, false), t(0, false, true)].into_iter()),
            Some(10)
        );
    }
}
