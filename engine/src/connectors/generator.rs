//! The `generator` connector: realistic imooc access-log lines from the built-in generator
//! (the old LogDataProducer), as a source table of one STRING column. `rows` bounds it (batch
//! runs need it); `rate` paces it in lines per second of wall time.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::NaiveDate;
use datafusion::arrow::array::{RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{Session, TableProvider};
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::physical_plan::streaming::PartitionStream;

use super::{ConnectorEnv, Options};
use crate::catalog::TableDef;
use crate::error::SluiceError;
use crate::exec::metrics::JobMetrics;
use crate::generator::{GeneratorConfig, LogGenerator};

const OPTIONS: &[&str] = &[
    "rows",
    "rate",
    "seed",
    "day",
    "events_per_second",
    "disorder_ms",
    "internal_ip_share",
    "dash_url_share",
];

#[derive(Debug)]
pub struct GeneratorTable {
    name: String,
    schema: SchemaRef,
    config: GeneratorConfig,
    rows: u64,
    /// Lines per second of wall time; `None` = as fast as possible.
    rate: Option<f64>,
    metrics: Arc<JobMetrics>,
}

impl GeneratorTable {
    pub fn try_new(
        def: &TableDef,
        options: BTreeMap<String, String>,
        env: &ConnectorEnv,
    ) -> crate::error::Result<Self> {
        let opts = Options::new(&def.name, options, OPTIONS)?;
        if def.columns.len() != 1 || def.columns[0].data_type != DataType::Utf8 {
            return Err(SluiceError::connector(
                &def.name,
                "the generator gives one STRING column of raw log lines (e.g. `line STRING`)",
            ));
        }
        let rows: u64 = opts
            .get("rows")
            .ok_or_else(|| {
                SluiceError::connector(
                    &def.name,
                    "the generator needs 'rows' (how many lines to make)",
                )
            })
            .and_then(|_| opts.parse_or("rows", 0u64))?;
        let day_text = opts.get("day").unwrap_or("20161110");
        let day = NaiveDate::parse_from_str(day_text, "%Y%m%d").map_err(|_| {
            SluiceError::connector(
                &def.name,
                format!("option 'day' = '{day_text}' is not a YYYYMMDD date"),
            )
        })?;
        let mut config = GeneratorConfig::for_day(opts.parse_or("seed", 42u64)?, day, rows);
        if opts.get("events_per_second").is_some() {
            config.events_per_second = positive(
                &def.name,
                "events_per_second",
                opts.parse_or("events_per_second", 1.0)?,
            )?;
        }
        config.max_disorder_ms = opts.parse_or("disorder_ms", 0u64)?;
        config.internal_ip_share = share(
            &def.name,
            "internal_ip_share",
            opts.parse_or("internal_ip_share", config.internal_ip_share)?,
        )?;
        config.dash_url_share = share(
            &def.name,
            "dash_url_share",
            opts.parse_or("dash_url_share", config.dash_url_share)?,
        )?;
        let rate = match opts.get("rate") {
            None => None,
            Some(_) => Some(positive(&def.name, "rate", opts.parse_or("rate", 1.0)?)?),
        };
        Ok(GeneratorTable {
            name: def.name.clone(),
            schema: def.schema(),
            config,
            rows,
            rate,
            metrics: Arc::clone(&env.metrics),
        })
    }
}

fn positive(table: &str, key: &str, v: f64) -> crate::error::Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(SluiceError::connector(
            table,
            format!("option '{key}' must be a positive number"),
        ))
    }
}

fn share(table: &str, key: &str, v: f64) -> crate::error::Result<f64> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(SluiceError::connector(
            table,
            format!("option '{key}' must be between 0 and 1"),
        ))
    }
}

#[derive(Debug)]
struct GeneratorPartition {
    schema: SchemaRef,
    config: GeneratorConfig,
    rows: u64,
    rate: Option<f64>,
    metrics: Arc<crate::exec::metrics::SourceMetrics>,
}

impl PartitionStream for GeneratorPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batch_size = ctx.session_config().batch_size().max(1);
        let mut builder = RecordBatchReceiverStream::builder(Arc::clone(&self.schema), 2);
        let tx = builder.tx();
        let (schema, config, rows, rate) = (
            Arc::clone(&self.schema),
            self.config.clone(),
            self.rows,
            self.rate,
        );
        let metrics = Arc::clone(&self.metrics);
        builder.spawn_blocking(move || {
            let mut generator = LogGenerator::new(config);
            let started = Instant::now();
            let mut line = String::with_capacity(512);
            let mut made = 0u64;
            while made < rows {
                let n = (rows - made).min(batch_size as u64) as usize;
                let mut lines = StringBuilder::with_capacity(n, n * 320);
                let mut bytes = 0u64;
                for _ in 0..n {
                    line.clear();
                    generator.next_line(&mut line);
                    bytes += line.len() as u64 + 1;
                    lines.append_value(&line);
                }
                made += n as u64;
                let batch =
                    RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(lines.finish())])?;
                if let Some(rate) = rate {
                    // Pace: the n-th line is due n / rate seconds after the start.
                    let due = Duration::from_secs_f64(made as f64 / rate);
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
                metrics.rows.fetch_add(n as u64, Ordering::Relaxed);
                metrics.bytes.fetch_add(bytes, Ordering::Relaxed);
                if tx.blocking_send(Ok(batch)).is_err() {
                    break;
                }
            }
            Ok(())
        });
        builder.build()
    }
}

#[async_trait]
impl TableProvider for GeneratorTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
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
        let partition = GeneratorPartition {
            schema: Arc::clone(&self.schema),
            config: self.config.clone(),
            rows: self.rows,
            rate: self.rate,
            metrics: self.metrics.source(&self.name),
        };
        StreamingTable::try_new(Arc::clone(&self.schema), vec![Arc::new(partition)])?
            .scan(state, projection, filters, limit)
            .await
    }
}
