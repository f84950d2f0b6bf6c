//! What a running job owns: its mode, metrics, source positions, memory tables and stop
//! request. Nothing of a job is process-global, so one process (a `sluice serve`) runs many
//! jobs side by side; each gets a `JobEnv` of its own and hands it to its connectors and
//! tasks. (Its checkpoint barriers in flight live in its DataFusion session: `wire::Markers`.)

pub mod metrics;
mod stop;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::RecordBatch;

use crate::checkpoint::SourcePositions;
use crate::sync::lock;
use metrics::JobMetrics;
pub use stop::{StopMode, StopSignal, StopWatch};

/// How a job runs. Batch reads bounded inputs to their end and stops; stream runs window by
/// window as event time advances, over bounded or unbounded inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExecMode {
    #[default]
    Batch,
    Stream,
}

impl std::fmt::Display for ExecMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecMode::Batch => write!(f, "batch"),
            ExecMode::Stream => write!(f, "stream"),
        }
    }
}

/// The state one job owns, shared by its connectors and tasks.
#[derive(Debug, Clone)]
pub struct JobEnv {
    pub mode: ExecMode,
    pub metrics: Arc<JobMetrics>,
    /// Source positions to resume from and to commit (checkpoints).
    pub positions: Arc<SourcePositions>,
    /// Rows written to the job's `memory` tables.
    pub memory: MemoryTables,
    /// Whether, and how, the job was asked to stop.
    pub stop: StopSignal,
}

impl JobEnv {
    pub fn new(mode: ExecMode) -> Self {
        JobEnv {
            mode,
            metrics: Arc::default(),
            positions: Arc::default(),
            memory: MemoryTables::default(),
            stop: StopSignal::default(),
        }
    }
}

/// The rows a job wrote to its `memory` tables, by table name.
#[derive(Debug, Clone, Default)]
pub struct MemoryTables(Arc<Mutex<HashMap<String, Vec<RecordBatch>>>>);

impl MemoryTables {
    /// The rows written to memory table `name` so far.
    pub fn rows(&self, name: &str) -> Vec<RecordBatch> {
        lock(&self.0).get(name).cloned().unwrap_or_default()
    }

    pub fn append(&self, name: &str, batch: RecordBatch) {
        lock(&self.0)
            .entry(name.to_string())
            .or_default()
            .push(batch);
    }
}
