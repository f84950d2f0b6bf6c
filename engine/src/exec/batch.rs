//! Runs a planned job over bounded inputs: every shared relation's producer and every
//! statement run concurrently; the first failure stops the job.

use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

use datafusion::arrow::array::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::{ExecutionPlan, collect};
use tokio::task::JoinSet;

use super::Output;
use super::fanout::FanOutTable;
use super::progress::Progress;
use crate::error::{Result, SluiceError};
use crate::job::JobEnv;
use crate::job::metrics::MetricsSnapshot;
use crate::sql::{Script, Statement};

pub struct PlannedStatement {
    pub statement: Statement,
    pub output: Output,
    pub plan: Arc<dyn ExecutionPlan>,
}

/// A view computed once for several readers.
pub struct SharedRelation {
    pub name: String,
    pub table: Arc<FanOutTable>,
    pub plan: Arc<dyn ExecutionPlan>,
}

pub struct JobPlan {
    pub script: Script,
    pub shared: Vec<SharedRelation>,
    pub statements: Vec<PlannedStatement>,
}

/// What a finished run reports.
#[derive(Debug)]
pub struct RunReport {
    pub metrics: MetricsSnapshot,
    /// Rows of the job's bare SELECTs, in statement order.
    pub printed: Vec<Vec<RecordBatch>>,
    pub started: Instant,
    /// How the job stopped, when it was asked to (a stream job).
    pub stopped: Option<Stopped>,
}

/// How a stream job that was asked to stop stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// With final checkpoint `id`: a restart resumes from it.
    AtCheckpoint(u64),
    /// The final checkpoint failed (why): a restart resumes from the one before.
    CheckpointFailed(String),
    /// The job takes no checkpoints: its open windows are lost.
    WithoutCheckpoint,
    /// Its input was ended: every window closed and was written.
    Drained,
    /// At once: nothing written or committed since the last checkpoint.
    AtOnce,
}

enum Done {
    Producer,
    Statement(usize, Vec<RecordBatch>),
}

/// Runs `job`, a job of `env`, with the task context of its session.
pub async fn run(
    task_ctx: Arc<TaskContext>,
    env: &JobEnv,
    job: JobPlan,
    show_progress: bool,
) -> Result<RunReport> {
    let started = Instant::now();
    let progress = Progress::start(Arc::clone(&env.metrics), show_progress);
    let mut tasks: JoinSet<std::result::Result<Done, (Option<usize>, DataFusionError)>> =
        JoinSet::new();
    let mut executed: Vec<Arc<dyn ExecutionPlan>> = Vec::new();

    for shared in &job.shared {
        let table = Arc::clone(&shared.table);
        let plan = Arc::clone(&shared.plan);
        executed.push(Arc::clone(&plan));
        let ctx = Arc::clone(&task_ctx);
        tasks.spawn(
            async move {
                table
                    .drive(plan, ctx)
                    .await
                    .map(|_| Done::Producer)
                    .map_err(|e| (None::<usize>, e))
            }
            .in_current_span(),
        );
    }
    for (i, stmt) in job.statements.iter().enumerate() {
        let plan = Arc::clone(&stmt.plan);
        executed.push(Arc::clone(&plan));
        let ctx = Arc::clone(&task_ctx);
        tasks.spawn(
            async move {
                collect(plan, ctx)
                    .await
                    .map(|b| Done::Statement(i, b))
                    .map_err(|e| (Some(i), e))
            }
            .in_current_span(),
        );
    }

    let describe = |which: Option<usize>| match which {
        Some(i) => {
            let p = &job.statements[i];
            let what = match &p.output {
                Output::Table(t) => format!("INSERT INTO {t}"),
                Output::Print => "SELECT".to_string(),
            };
            format!("{}:{}: {what}", job.script.file, p.statement.start)
        }
        None => format!("{}: a view shared by several statements", job.script.file),
    };
    let mut printed = vec![Vec::new(); job.statements.len()];
    while let Some(joined) = tasks.join_next().await {
        let outcome = joined.map_err(|e| {
            SluiceError::Run(format!("{}: a job task failed: {e}", job.script.file))
        })?;
        match outcome {
            Ok(Done::Producer) => {}
            Ok(Done::Statement(i, batches)) => {
                if job.statements[i].output == Output::Print {
                    printed[i] = batches;
                }
            }
            Err((which, e)) => {
                // Stop the other statements and wait for them, so none is cut off half-way
                // through a commit when the process exits.
                tasks.shutdown().await;
                drop(progress);
                return Err(SluiceError::Run(format!(
                    "{} failed: {}",
                    describe(which),
                    crate::sql::diagnostics::clean_message(&e)
                )));
            }
        }
    }
    drop(progress);
    let mut metrics = env.metrics.snapshot();
    metrics.rows_read += executed
        .iter()
        .map(|p| rows_from_file_scans(p.as_ref()))
        .sum::<u64>();
    Ok(RunReport {
        metrics,
        printed,
        started,
        stopped: None,
    })
}

/// Rows produced by DataFusion's own scans (Parquet, CSV, JSON, memory) in an executed plan;
/// our line reader counts its rows itself.
pub(crate) fn rows_from_file_scans(plan: &dyn ExecutionPlan) -> u64 {
    let own = if plan.children().is_empty() && plan.name() == "DataSourceExec" {
        plan.metrics().and_then(|m| m.output_rows()).unwrap_or(0) as u64
    } else {
        0
    };
    own + plan
        .children()
        .iter()
        .map(|c| rows_from_file_scans(c.as_ref()))
        .sum::<u64>()
}
