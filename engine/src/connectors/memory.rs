//! The `memory` connector: a sink that keeps the rows it is given in this process, for
//! tests and benchmarks (nothing is written anywhere; the run summary counts the rows).
//! Reading the table gives the rows written so far in this process.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock, Mutex};

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::sink::{DataSink, DataSinkExec};
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan};
use futures::StreamExt;

use super::{ConnectorEnv, Options};
use crate::catalog::TableDef;
use crate::exec::metrics::{JobMetrics, SinkMetrics};
use crate::sync::lock;

const OPTIONS: &[&str] = &["retain"];

/// Rows written to memory tables in this process, by table name.
static TABLES: LazyLock<Mutex<HashMap<String, Vec<RecordBatch>>>> = LazyLock::new(Default::default);

/// The rows written to memory table `name` so far.
pub fn rows(name: &str) -> Vec<RecordBatch> {
    lock(&TABLES).get(name).cloned().unwrap_or_default()
}

#[derive(Debug)]
pub struct MemoryTable {
    name: String,
    schema: SchemaRef,
    /// Keep the rows (default) or only count them (benchmarks of long runs).
    retain: bool,
    error_output: bool,
    metrics: Arc<JobMetrics>,
}

impl MemoryTable {
    pub fn try_new(
        def: &TableDef,
        options: BTreeMap<String, String>,
        env: &ConnectorEnv,
    ) -> crate::error::Result<Self> {
        let opts = Options::new(&def.name, options, OPTIONS)?;
        Ok(MemoryTable {
            name: def.name.clone(),
            schema: def.schema(),
            retain: opts.choice("retain", &["true", "false"], "true")? == "true",
            error_output: def.error_output,
            metrics: Arc::clone(&env.metrics),
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
        let batches = rows(&self.name);
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
        _insert_op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let sink = MemorySink {
            name: self.name.clone(),
            schema: Arc::clone(&self.schema),
            retain: self.retain,
            metrics: self.metrics.sink(&self.name, self.error_output),
        };
        Ok(Arc::new(DataSinkExec::new(input, Arc::new(sink), None)))
    }
}

#[derive(Debug)]
struct MemorySink {
    name: String,
    schema: SchemaRef,
    retain: bool,
    metrics: Arc<SinkMetrics>,
}

impl DisplayAs for MemorySink {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MemorySink: {}", self.name)
    }
}

#[async_trait]
impl DataSink for MemorySink {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    async fn write_all(
        &self,
        mut data: SendableRecordBatchStream,
        _ctx: &Arc<TaskContext>,
    ) -> Result<u64> {
        let mut rows = 0u64;
        while let Some(batch) = data.next().await {
            let batch = batch?;
            let n = batch.num_rows() as u64;
            rows += n;
            self.metrics.rows.fetch_add(n, Ordering::Relaxed);
            if self.retain && n > 0 {
                lock(&TABLES)
                    .entry(self.name.clone())
                    .or_default()
                    .push(batch);
            }
        }
        Ok(rows)
    }
}
