//! The one shape of our tables. Every connector's table holds the same fields (`TableBase`)
//! and implements `ConnectorTable`: how it is read, how it is written and what `INSERT
//! OVERWRITE` means there. `Table` gives every one of them DataFusion's face, so the
//! schema, the table type, the insert check and the words for "this table is only read"
//! or "only written" are written once.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;

use super::ConnectorEnv;
use super::sink::{Overwrite, check_insert};
use crate::catalog::TableDef;
use crate::error::SluiceError;
use crate::job::metrics::{JobMetrics, SinkMetrics, SourceMetrics};

/// What every connector's table has.
#[derive(Debug, Clone)]
pub struct TableBase {
    /// The connector's name (`connector = '...'`).
    pub connector: &'static str,
    pub name: String,
    pub schema: SchemaRef,
    /// Whether the table takes a job's rejected rows (counted apart in the run summary).
    pub error_output: bool,
    pub metrics: Arc<JobMetrics>,
}

impl TableBase {
    pub fn new(connector: &'static str, def: &TableDef, env: &ConnectorEnv) -> Self {
        TableBase {
            connector,
            name: def.name.clone(),
            schema: def.schema(),
            error_output: def.error_output,
            metrics: Arc::clone(&env.job.metrics),
        }
    }

    /// The counters of the table's reads.
    pub fn source_metrics(&self) -> Arc<SourceMetrics> {
        self.metrics.source(&self.name)
    }

    /// The counters of the table's writes.
    pub fn sink_metrics(&self) -> Arc<SinkMetrics> {
        self.metrics.sink(&self.name, self.error_output)
    }

    fn cannot(&self, what: &str) -> DataFusionError {
        SluiceError::connector(
            &self.name,
            format!("the {} connector is {what}", self.connector),
        )
        .into()
    }
}

/// A connector's table. The defaults are a table that cannot be read and cannot be written:
/// a connector provides what it does.
#[async_trait]
pub trait ConnectorTable: std::fmt::Debug + Send + Sync + 'static {
    fn base(&self) -> &TableBase;

    /// A scan of the table, as `TableProvider::scan`.
    async fn read(
        &self,
        _state: &dyn Session,
        _projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Err(self
            .base()
            .cannot("write-only: it can be written (INSERT INTO), not read"))
    }

    /// Which scan filters the table applies itself (none by default).
    fn filters_applied(&self, filters: &[&Expr]) -> Vec<TableProviderFilterPushDown> {
        vec![TableProviderFilterPushDown::Unsupported; filters.len()]
    }

    /// Whether the table is written, and then what `INSERT OVERWRITE` does to it.
    fn writes(&self) -> Option<Overwrite> {
        None
    }

    /// The plan writing `input` into the table (asked only of a table that `writes`).
    async fn write(
        &self,
        _state: &dyn Session,
        _input: Arc<dyn ExecutionPlan>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Err(self.base().cannot(READ_ONLY))
    }
}

const READ_ONLY: &str = "read-only: it can be read, not written (INSERT INTO)";

/// A connector's table as DataFusion sees it.
#[derive(Debug)]
pub struct Table<T>(pub T);

#[async_trait]
impl<T: ConnectorTable> TableProvider for Table<T> {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.0.base().schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.0.read(state, projection, filters, limit).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(self.0.filters_applied(filters))
    }

    async fn insert_into(
        &self,
        state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let base = self.0.base();
        let Some(overwrite) = self.0.writes() else {
            return Err(base.cannot(READ_ONLY));
        };
        check_insert(&base.name, insert_op, overwrite)?;
        self.0.write(state, input).await
    }
}
