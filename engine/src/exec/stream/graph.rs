//! The resolved operator graph of a stream job, as the planner hands it to the runner:
//! its sources, and per statement the stateless plans, window aggregates and the sink its
//! rows go to (already resolved: the runner looks nothing up).

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::ExecutionPlan;
use tokio::sync::mpsc;

use super::aggregate::WindowAggregateSpec;
use crate::exec::Output;
use crate::sql::{Script, Statement};
use crate::wire::{Message, Slot};

/// A table read by the job, read once and fanned out to the statements reading it.
pub struct StreamSource {
    pub name: String,
    /// The connector's scan of every column.
    pub plan: Arc<dyn ExecutionPlan>,
    /// `WATERMARK FOR` as declared, and evaluated over the source's rows.
    pub watermark_sql: Option<String>,
    pub watermark: Option<Arc<dyn PhysicalExpr>>,
    pub unbounded: bool,
}

/// A stateless DataFusion plan executed once per input batch.
pub struct Pipeline {
    pub plan: Arc<dyn ExecutionPlan>,
    /// The slots its scans read, with the index of the job source feeding each.
    pub slots: Vec<(usize, Slot)>,
}

impl Pipeline {
    pub fn reads(&self, source: usize) -> bool {
        self.slots.iter().any(|(s, _)| *s == source)
    }
}

/// A window aggregate with the stateless plan feeding it.
pub struct AggregateStage {
    pub input: Pipeline,
    pub spec: WindowAggregateSpec,
    /// Where its closed windows go for the plan above.
    pub output: Slot,
}

pub enum StatementBody {
    /// No aggregate: every input batch goes through the plan to the sink.
    Stateless(Pipeline),
    /// Window aggregates, and the plan over their closed windows.
    Windowed {
        stages: Vec<AggregateStage>,
        upper: Arc<dyn ExecutionPlan>,
    },
}

pub struct StreamStatement {
    pub statement: Statement,
    pub output: Output,
    pub schema: SchemaRef,
    pub body: StatementBody,
    /// Indexes of the job sources the statement reads.
    pub sources: Vec<usize>,
    pub sink: SinkPlan,
}

pub struct StreamJob {
    pub script: Script,
    pub sources: Vec<StreamSource>,
    pub statements: Vec<StreamStatement>,
    pub late: Option<LateSink>,
    pub settings: StreamSettings,
}

/// Where rows go: a plan to run to its end (a table's insert plan, or for a bare SELECT the
/// rows themselves, kept to print) that reads what is sent on `input`.
pub struct SinkPlan {
    pub plan: Arc<dyn ExecutionPlan>,
    pub input: mpsc::Sender<Message>,
    pub schema: SchemaRef,
}

/// The `late_output` table of a job, resolved.
pub struct LateSink {
    pub table: String,
    pub sink: SinkPlan,
}

/// Settings of a stream job, read when it was planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSettings {
    /// How long a source may stay silent before it stops holding back the watermark of
    /// statements that read other sources too (`idle_timeout_ms`).
    pub idle_timeout: Duration,
    /// `state.max_bytes`: the most state the job may hold.
    pub state_limit: Option<u64>,
}
