//! Runs a planned stream job: one task per source, per statement and per sink.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::catalog::SchemaProvider;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::physical_plan::{ExecutionPlan, collect};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::aggregate::WindowAggregate;
use super::late::LateOutput;
use super::slot::{Slot, channel_exec};
use super::source::SourceDriver;
use super::{CHANNEL_CAPACITY, Event};
use crate::error::{Result, SluiceError};
use crate::exec::batch::{RunReport, rows_from_file_scans};
use crate::exec::metrics::JobMetrics;
use crate::exec::progress::Progress;
use crate::plan::job::Output;
use crate::plan::session::Session;
use crate::plan::stream::{Pipeline, StatementBody, StreamJob, StreamStatement};

/// How long a source may stay silent before it stops holding back the watermark of
/// statements that read other sources too.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

enum Done {
    /// A source, statement or sink finished.
    Ran,
    /// The rows of bare SELECT `n`.
    Printed(usize, Vec<RecordBatch>),
}

type TaskResult = std::result::Result<Done, (String, DataFusionError)>;

pub async fn run(session: &Session, job: StreamJob, show_progress: bool) -> Result<RunReport> {
    let started = Instant::now();
    let progress = Progress::start(Arc::clone(&session.env.metrics), show_progress);
    let ctx = session.ctx.task_ctx();
    let state = session.ctx.state();
    let idle_timeout = match session.catalog().vars.lookup("idle_timeout_ms")? {
        Some(ms) => Duration::from_millis(ms.parse().map_err(|_| {
            SluiceError::Variable(format!("idle_timeout_ms = '{ms}' is not a number"))
        })?),
        None => DEFAULT_IDLE_TIMEOUT,
    };
    let mut tasks: JoinSet<TaskResult> = JoinSet::new();
    let file = job.script.file.clone();
    let mut readers: Vec<Vec<mpsc::Sender<(usize, Event)>>> = vec![Vec::new(); job.sources.len()];
    let mut printed = vec![Vec::new(); job.statements.len()];

    let late_table = session.catalog().vars.lookup("late_output")?;
    let late = match late_table {
        Some(table) => {
            let what = format!("{file}: late rows into '{table}'");
            let provider = sink_table(session, &table, &what).await?;
            let schema = provider.schema();
            LateOutput::check(&schema, &table)
                .map_err(|m| SluiceError::Run(format!("{what}: {m}")))?;
            let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
            let sink =
                insert_from_channel(&state, provider, Arc::clone(&schema), rx, &what).await?;
            spawn_plan(&mut tasks, sink, &ctx, what, None);
            Some(LateOutput { schema, tx })
        }
        None => None,
    };

    for (i, stmt) in job.statements.into_iter().enumerate() {
        let what = describe(&file, &stmt);
        let (events_tx, events_rx) = mpsc::channel(CHANNEL_CAPACITY);
        for &s in &stmt.sources {
            readers[s].push(events_tx.clone());
        }
        drop(events_tx);
        let (rows_tx, rows_rx) = mpsc::channel::<RecordBatch>(CHANNEL_CAPACITY);
        let schema = Arc::clone(&stmt.schema);
        match &stmt.output {
            Output::Table(table) => {
                let provider = sink_table(session, table, &what).await?;
                let sink = insert_from_channel(&state, provider, schema, rows_rx, &what).await?;
                spawn_plan(&mut tasks, sink, &ctx, what.clone(), None);
            }
            Output::Print => {
                let rows = channel_exec(schema, rows_rx)?;
                spawn_plan(&mut tasks, rows, &ctx, what.clone(), Some(i));
            }
        }
        let runner = StatementRunner::new(
            stmt,
            Arc::clone(&session.env.metrics),
            late.clone(),
            what.clone(),
        )?;
        let ctx = Arc::clone(&ctx);
        tasks.spawn(async move {
            runner
                .run(events_rx, rows_tx, ctx)
                .await
                .map(|_| Done::Ran)
                .map_err(|e| (what, e))
        });
    }

    // The statements hold the late output's senders now; it ends when they all have.
    drop(late);
    let mut scans: Vec<Arc<dyn ExecutionPlan>> = Vec::new();
    for (index, source) in job.sources.into_iter().enumerate() {
        scans.push(Arc::clone(&source.plan));
        let driver = SourceDriver {
            index,
            plan: source.plan,
            watermark: source.watermark,
            idle_timeout,
            readers: std::mem::take(&mut readers[index]),
        };
        let what = format!("{file}: source '{}'", source.name);
        let ctx = Arc::clone(&ctx);
        tasks.spawn(async move {
            driver
                .run(ctx)
                .await
                .map(|_| Done::Ran)
                .map_err(|e| (what, e))
        });
    }

    while let Some(joined) = tasks.join_next().await {
        let outcome =
            joined.map_err(|e| SluiceError::Run(format!("{file}: a job task failed: {e}")))?;
        match outcome {
            Ok(Done::Printed(i, rows)) => printed[i] = rows,
            Ok(Done::Ran) => {}
            Err((what, e)) => {
                tasks.shutdown().await;
                drop(progress);
                return Err(SluiceError::Run(format!(
                    "{what} failed: {}",
                    crate::sql::diagnostics::clean_message(&e)
                )));
            }
        }
    }
    drop(progress);
    let mut metrics = session.env.metrics.snapshot();
    metrics.rows_read += scans
        .iter()
        .map(|p| rows_from_file_scans(p.as_ref()))
        .sum::<u64>();
    Ok(RunReport {
        metrics,
        printed,
        started,
    })
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
    tasks.spawn(async move {
        match collect(plan, ctx).await {
            Ok(rows) => Ok(print.map_or(Done::Ran, |n| Done::Printed(n, rows))),
            Err(e) => Err((what, e)),
        }
    });
}

/// The plan writing into `provider` whatever is sent on `rx`.
async fn insert_from_channel(
    state: &datafusion::execution::SessionState,
    provider: Arc<dyn datafusion::catalog::TableProvider>,
    schema: datafusion::arrow::datatypes::SchemaRef,
    rx: mpsc::Receiver<RecordBatch>,
    what: &str,
) -> Result<Arc<dyn ExecutionPlan>> {
    provider
        .insert_into(state, channel_exec(schema, rx)?, InsertOp::Append)
        .await
        .map_err(|e| SluiceError::Run(format!("{what}: {e}")))
}

async fn sink_table(
    session: &Session,
    table: &str,
    what: &str,
) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
    SchemaProvider::table(session.schema.as_ref(), table)
        .await
        .map_err(|e| SluiceError::Run(format!("{what}: {e}")))?
        .ok_or_else(|| SluiceError::Run(format!("{what}: table '{table}' is not in the catalog")))
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
}

struct StatementRunner {
    body: Body,
    /// Per job source (only those read are used).
    inputs: Vec<(usize, InputTime)>,
    metrics: Arc<JobMetrics>,
    late: Option<LateOutput>,
    /// `file:line:col: INSERT INTO t`, for the late output.
    label: String,
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
        stmt: StreamStatement,
        metrics: Arc<JobMetrics>,
        late: Option<LateOutput>,
        label: String,
    ) -> DfResult<Self> {
        let body = match stmt.body {
            StatementBody::Stateless(p) => Body::Stateless(p),
            StatementBody::Windowed { stages, upper } => Body::Windowed {
                stages: stages
                    .into_iter()
                    .map(|s| {
                        Ok(Stage {
                            operator: WindowAggregate::try_new(s.spec)?,
                            input: s.input,
                            output: s.output,
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
            body,
            inputs: stmt.sources.iter().map(|&s| (s, start)).collect(),
            metrics,
            late,
            label,
        })
    }

    async fn run(
        mut self,
        mut events: mpsc::Receiver<(usize, Event)>,
        rows: mpsc::Sender<RecordBatch>,
        ctx: Arc<TaskContext>,
    ) -> DfResult<()> {
        while let Some((source, event)) = events.recv().await {
            let Some(at) = self.inputs.iter().position(|(s, _)| *s == source) else {
                continue;
            };
            let out = match event {
                Event::Batch(batch) => {
                    self.inputs[at].1.idle = false;
                    self.on_batch(source, batch, &ctx).await?
                }
                Event::Watermark(w) => {
                    let input = &mut self.inputs[at].1;
                    input.watermark = w;
                    input.idle = false;
                    self.on_time(&ctx).await?
                }
                Event::Idle => {
                    self.inputs[at].1.idle = true;
                    self.on_time(&ctx).await?
                }
                Event::End => {
                    self.inputs[at].1.ended = true;
                    self.on_time(&ctx).await?
                }
                Event::Failed(m) => {
                    return Err(DataFusionError::Execution(format!(
                        "its source failed: {m}"
                    )));
                }
            };
            for batch in out {
                if batch.num_rows() > 0 && rows.send(batch).await.is_err() {
                    // The sink stopped; its own task reports why.
                    return Ok(());
                }
            }
            if self.inputs.iter().all(|(_, t)| t.ended) {
                break;
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
                        if let Some(late) = stage.operator.process(&rows)? {
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
