//! The `memory` connector: a sink that keeps the rows it is given in this process, for
//! tests and benchmarks (nothing is written anywhere; the run summary counts the rows).
//! Reading the table gives the rows the job wrote to it so far (each job its own).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use serde::Deserialize;

use super::table::{ConnectorTable, TableBase};
use super::{ConnectorEnv, Options};
use crate::catalog::TableDef;
use crate::connectors::sink::{Overwrite, TableSink, sink_exec};
use crate::job::MemoryTables;
use crate::job::metrics::SinkMetrics;
use crate::wire::SinkInput;

/// The table's options.
#[derive(Debug, Deserialize)]
#[serde(default)]
struct MemoryOptions {
    retain: bool,
}

impl Default for MemoryOptions {
    fn default() -> Self {
        MemoryOptions { retain: true }
    }
}

pub const NAME: &str = "memory";

#[derive(Debug)]
pub struct MemoryTable {
    base: TableBase,
    /// Keep the rows (default) or only count them (benchmarks of long runs).
    retain: bool,
    tables: MemoryTables,
}

impl MemoryTable {
    pub fn try_new(
        def: &TableDef,
        options: BTreeMap<String, String>,
        env: &ConnectorEnv,
    ) -> crate::error::Result<Self> {
        let opts: MemoryOptions = Options::decode(&def.name, &options)?;
        Ok(MemoryTable {
            base: TableBase::new(NAME, def, env),
            retain: opts.retain,
            tables: env.job.memory.clone(),
        })
    }
}

#[async_trait]
impl ConnectorTable for MemoryTable {
    fn base(&self) -> &TableBase {
        &self.base
    }

    async fn read(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let batches = self.tables.rows(&self.base.name);
        Ok(MemorySourceConfig::try_new_exec(
            &[batches],
            Arc::clone(&self.base.schema),
            projection.cloned(),
        )?)
    }

    fn writes(&self) -> Option<Overwrite> {
        Some(Overwrite::Refused(
            "a memory table collects the rows of the run",
        ))
    }

    async fn write(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let sink = MemorySink {
            name: self.base.name.clone(),
            schema: Arc::clone(&self.base.schema),
            retain: self.retain,
            metrics: self.base.sink_metrics(),
            tables: self.tables.clone(),
        };
        Ok(sink_exec(input, sink))
    }
}

#[derive(Debug)]
struct MemorySink {
    name: String,
    schema: SchemaRef,
    retain: bool,
    metrics: Arc<SinkMetrics>,
    tables: MemoryTables,
}

#[async_trait]
impl TableSink for MemorySink {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn describe(&self) -> String {
        format!("MemorySink: {}", self.name)
    }

    async fn write(&self, mut data: SinkInput, _ctx: &Arc<TaskContext>) -> Result<u64> {
        let mut rows = 0u64;
        while let Some(batch) = data.next_rows().await {
            let batch = batch?;
            let n = batch.num_rows() as u64;
            rows += n;
            self.metrics.rows.fetch_add(n, Ordering::Relaxed);
            if self.retain {
                self.tables.append(&self.name, batch);
            }
        }
        Ok(rows)
    }
}
