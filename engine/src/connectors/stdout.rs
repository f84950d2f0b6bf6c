//! The `stdout` connector: a sink that prints rows as they arrive (like Flink's `print`),
//! as JSON lines (default), CSV or a table per batch.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::catalog::Session;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use serde::Deserialize;

use super::table::{ConnectorTable, TableBase};
use super::{ConnectorEnv, Options};
use crate::catalog::TableDef;
use crate::connectors::sink::{Overwrite, TableSink, sink_exec};
use crate::wire::SinkInput;

/// The table's options.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StdoutOptions {
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Format {
    #[default]
    Json,
    Csv,
    Table,
}

pub const NAME: &str = "stdout";

#[derive(Debug)]
pub struct StdoutTable {
    base: TableBase,
    format: Format,
}

impl StdoutTable {
    pub fn try_new(
        def: &TableDef,
        options: BTreeMap<String, String>,
        env: &ConnectorEnv,
    ) -> crate::error::Result<Self> {
        let opts: StdoutOptions = Options::decode(&def.name, &options)?;
        Ok(StdoutTable {
            base: TableBase::new(NAME, def, env),
            format: opts.format,
        })
    }
}

#[async_trait]
impl ConnectorTable for StdoutTable {
    fn base(&self) -> &TableBase {
        &self.base
    }

    fn writes(&self) -> Option<Overwrite> {
        Some(Overwrite::Refused("printed rows cannot be taken back"))
    }

    async fn write(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let sink = StdoutSink {
            schema: Arc::clone(&self.base.schema),
            format: self.format,
            metrics: self.base.sink_metrics(),
        };
        Ok(sink_exec(input, sink))
    }
}

#[derive(Debug)]
struct StdoutSink {
    schema: SchemaRef,
    format: Format,
    metrics: Arc<crate::job::metrics::SinkMetrics>,
}

#[async_trait]
impl TableSink for StdoutSink {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn describe(&self) -> String {
        format!("StdoutSink: format={:?}", self.format)
    }

    async fn write(&self, mut data: SinkInput, _ctx: &Arc<TaskContext>) -> Result<u64> {
        let mut rows = 0u64;
        let mut header = true;
        while let Some(batch) = data.next_rows().await {
            let batch = batch?;
            let mut out = std::io::stdout().lock();
            match self.format {
                Format::Json => {
                    let mut w = datafusion::arrow::json::LineDelimitedWriter::new(&mut out);
                    w.write(&batch)?;
                    w.finish()?;
                }
                Format::Csv => {
                    let mut w = datafusion::arrow::csv::WriterBuilder::new()
                        .with_header(header)
                        .build(&mut out);
                    w.write(&batch)?;
                    header = false;
                }
                Format::Table => writeln!(
                    out,
                    "{}",
                    pretty_format_batches(std::slice::from_ref(&batch))?
                )?,
            }
            out.flush()?;
            rows += batch.num_rows() as u64;
            self.metrics
                .rows
                .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        }
        Ok(rows)
    }
}
