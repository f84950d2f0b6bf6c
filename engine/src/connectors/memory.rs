//! The `memory` connector: a sink that keeps the rows it is given in this process, for
//! tests and benchmarks (nothing is written anywhere; the run summary counts the rows).
//! Reading the table gives the rows the job wrote to it so far (each job its own).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;
use serde::Deserialize;

use super::{ConnectorEnv, Options};
use crate::catalog::TableDef;
use crate::connectors::sink::{Overwrite, TableSink, check_insert, sink_exec};
use crate::job::MemoryTables;
use crate::job::metrics::{JobMetrics, SinkMetrics};
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

#[derive(Debug)]
pub struct MemoryTable {
    name: String,
    schema: SchemaRef,
    /// Keep the rows (default) or only count them (benchmarks of long runs).
    retain: bool,
    error_output: bool,
    metrics: Arc<JobMetrics>,
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
            name: def.name.clone(),
            schema: def.schema(),
            retain: opts.retain,
            error_output: def.error_output,
            metrics: Arc::clone(&env.job.metrics),
            tables: env.job.memory.clone(),
        })
    }
}

#[async_trait]
impl TableProvider for MemoryTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let batches = self.tables.rows(&self.name);
        Ok(MemorySourceConfig::try_new_exec(
            &[batches],
            Arc::clone(&self.schema),
            projection.cloned(),
        )?)
    }

    async fn insert_into(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        check_insert(
            &self.name,
            insert_op,
            Overwrite::Refused("a memory table collects the rows of the run"),
        )?;
        let sink = MemorySink {
            name: self.name.clone(),
            schema: Arc::clone(&self.schema),
            retain: self.retain,
            metrics: self.metrics.sink(&self.name, self.error_output),
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
