//! The `generator` connector: realistic imooc access-log lines from the built-in generator
//! (the old LogDataProducer), as a source table.
//!
//! Options:
//! - `format` = `lines` (default): one STRING column of raw nginx lines, what `raw_access_log`
//!   holds; `events`: the rows `jobs/clean.sql` makes from those lines (the DWD shape), for
//!   stream benchmarks and tests that skip parsing. Declare any of the columns of
//!   [`EventColumn::ALL`]; only the declared (and queried) ones are computed, by clean.sql's
//!   own query (`clean_plan`) over the lines' parsed form.
//! - `rows`: how many lines to make. Required in batch mode; in stream mode the generator runs
//!   forever without it (an unbounded source). In `events` format `rows` still counts lines:
//!   the events are the DWD rows of those lines (about 45 % of them with the default shares).
//! - `rate`: lines per second of wall time (default: as fast as possible, in full batches).
//! - `batch_ms` (default 100): with `rate`, a batch goes out at least this often, even if it
//!   holds fewer than `batch_size` rows, so consumers see rows soon after they are due.
//! - `seed`, `day` (YYYYMMDD, default 20161110), `events_per_second` (event-time density;
//!   default `rows` lines over the day, else `rate`, else one million lines a day),
//!   `disorder_ms`, `internal_ip_share`, `dash_url_share`: see [`GeneratorConfig`].
//! - `ip2region_path`: the ip2region database for the `events` columns city, country,
//!   city_name and isp (default: the UDFs' default, [`sluice_udfs::UdfConfig`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use chrono::NaiveDate;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{Session, TableProvider as _};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::physical_plan::streaming::PartitionStream;
use serde::Deserialize;
use sluice_loggen::{GeneratorConfig, LogGenerator};
use sluice_udfs::UdfConfig;
use sluice_udfs::ip::shared_xdb;

use self::batches::{BatchMaker, Output, Pace};
use self::clean_plan::parsed_schema;
use self::events::{EventsScan, events_stream};
use super::table::{ConnectorTable, TableBase};
use super::{ConnectorEnv, Options};
use crate::catalog::TableDef;
use crate::catalog::types::sql_type_name;
use crate::error::SluiceError;
use crate::job::ExecMode;
use crate::job::metrics::SourceMetrics;

mod batches;
mod clean_plan;
mod events;

/// The table's options (see the module documentation).
#[derive(Debug, Deserialize)]
#[serde(default)]
struct GeneratorOptions {
    format: FormatOption,
    rows: Option<u64>,
    rate: Option<f64>,
    batch_ms: u64,
    seed: u64,
    /// YYYYMMDD.
    day: String,
    events_per_second: Option<f64>,
    disorder_ms: u64,
    internal_ip_share: Option<f64>,
    dash_url_share: Option<f64>,
    ip2region_path: Option<String>,
}

impl Default for GeneratorOptions {
    fn default() -> Self {
        GeneratorOptions {
            format: FormatOption::Lines,
            rows: None,
            rate: None,
            batch_ms: DEFAULT_BATCH_MS,
            seed: 42,
            day: "20161110".into(),
            events_per_second: None,
            disorder_ms: 0,
            internal_ip_share: None,
            dash_url_share: None,
            ip2region_path: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum FormatOption {
    Lines,
    Events,
}

/// Default of `batch_ms`.
const DEFAULT_BATCH_MS: u64 = 100;
/// Lines per day when neither `rows`, `rate` nor `events_per_second` sets the density.
const DEFAULT_LINES_PER_DAY: u64 = 1_000_000;

/// A column of the `events` format: a column of `dwd_access` as `jobs/clean.sql` fills it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventColumn {
    /// The referer.
    Url,
    CmsType,
    CmsId,
    /// `$body_bytes_sent`.
    Traffic,
    Ip,
    /// The province (ip2region), named `city` as in the original Spark jobs.
    City,
    Country,
    /// The prefecture-level city (ip2region).
    CityName,
    Isp,
    EventTime,
    /// `YYYYMMDD` in the log's local time.
    Day,
}

impl EventColumn {
    pub const ALL: [EventColumn; 11] = [
        EventColumn::Url,
        EventColumn::CmsType,
        EventColumn::CmsId,
        EventColumn::Traffic,
        EventColumn::Ip,
        EventColumn::City,
        EventColumn::Country,
        EventColumn::CityName,
        EventColumn::Isp,
        EventColumn::EventTime,
        EventColumn::Day,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EventColumn::Url => "url",
            EventColumn::CmsType => "cms_type",
            EventColumn::CmsId => "cms_id",
            EventColumn::Traffic => "traffic",
            EventColumn::Ip => "ip",
            EventColumn::City => "city",
            EventColumn::Country => "country",
            EventColumn::CityName => "city_name",
            EventColumn::Isp => "isp",
            EventColumn::EventTime => "event_time",
            EventColumn::Day => "day",
        }
    }

    /// The Arrow type, as `dwd_access` declares it (`TIMESTAMP_LTZ(3)` is milliseconds in UTC).
    pub fn data_type(self) -> DataType {
        match self {
            EventColumn::CmsId | EventColumn::Traffic => DataType::Int64,
            EventColumn::EventTime => {
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
            }
            _ => DataType::Utf8,
        }
    }

    /// Filled from the ip2region database (and NULL where it does not know the address).
    pub fn needs_ip_database(self) -> bool {
        matches!(
            self,
            EventColumn::City | EventColumn::Country | EventColumn::CityName | EventColumn::Isp
        )
    }

    fn from_name(name: &str) -> Option<EventColumn> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// `url STRING, cms_type STRING, ...` for error messages.
    fn all_described() -> String {
        Self::ALL
            .iter()
            .map(|c| format!("{} {}", c.name(), sql_type_name(&c.data_type())))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What the table's rows are.
#[derive(Debug, Clone)]
enum Format {
    Lines,
    /// One entry per declared column, in declaration order.
    Events(Vec<EventColumn>),
}

pub const NAME: &str = "generator";

#[derive(Debug)]
pub struct GeneratorTable {
    base: TableBase,
    config: GeneratorConfig,
    format: Format,
    /// Lines to make; `None` = forever (stream mode only).
    rows: Option<u64>,
    /// Lines per second of wall time; `None` = as fast as possible.
    rate: Option<f64>,
    /// With `rate`: the longest a due row waits for its batch.
    batch_interval: Duration,
    ip2region_path: PathBuf,
}

impl GeneratorTable {
    pub fn try_new(
        def: &TableDef,
        options: BTreeMap<String, String>,
        env: &ConnectorEnv,
    ) -> crate::error::Result<Self> {
        let opts: GeneratorOptions = Options::decode(&def.name, &options)?;
        let format = match opts.format {
            FormatOption::Events => Format::Events(event_columns(def)?),
            FormatOption::Lines => {
                if def.columns.len() != 1 || def.columns[0].data_type != DataType::Utf8 {
                    return Err(SluiceError::connector(
                        &def.name,
                        "the generator gives one STRING column of raw log lines (e.g. `line STRING`); \
                         for cleaned rows set format = 'events'",
                    ));
                }
                Format::Lines
            }
        };
        if opts.rows.is_none() && env.job.mode != ExecMode::Stream {
            return Err(SluiceError::connector(
                &def.name,
                "the generator needs 'rows' (how many lines to make) in batch mode; \
                 without it, run with --mode stream",
            ));
        }
        let rows = opts.rows;
        let rate = opts
            .rate
            .map(|r| positive(&def.name, "rate", r))
            .transpose()?;
        if opts.batch_ms == 0 {
            return Err(SluiceError::bad_option(
                &def.name,
                "batch_ms",
                "option 'batch_ms' must be at least 1",
            ));
        }
        let day = NaiveDate::parse_from_str(&opts.day, "%Y%m%d").map_err(|_| {
            SluiceError::bad_option(
                &def.name,
                "day",
                format!("option 'day' = '{}' is not a YYYYMMDD date", opts.day),
            )
        })?;
        // Event-time density: `rows` lines over the day; unbounded and paced, event time
        // follows wall time.
        let lines_per_day = match (rows, rate) {
            (Some(rows), _) => rows,
            (None, Some(rate)) => (rate * 86_400.0).round().max(1.0) as u64,
            (None, None) => DEFAULT_LINES_PER_DAY,
        };
        let mut config = GeneratorConfig::for_day(opts.seed, day, lines_per_day);
        if let Some(eps) = opts.events_per_second {
            config.events_per_second = positive(&def.name, "events_per_second", eps)?;
        }
        config.max_disorder_ms = opts.disorder_ms;
        if let Some(v) = opts.internal_ip_share {
            config.internal_ip_share = share(&def.name, "internal_ip_share", v)?;
        }
        if let Some(v) = opts.dash_url_share {
            config.dash_url_share = share(&def.name, "dash_url_share", v)?;
        }
        let ip2region_path = match opts.ip2region_path {
            Some(path) if !path.trim().is_empty() => PathBuf::from(path.trim()),
            _ => UdfConfig::default().ip2region_path,
        };
        Ok(GeneratorTable {
            base: TableBase::new(NAME, def, env),
            config,
            format,
            rows,
            rate,
            batch_interval: Duration::from_millis(opts.batch_ms),
            ip2region_path,
        })
    }

    /// Whether the table never ends (stream mode without `rows`).
    pub fn is_unbounded(&self) -> bool {
        self.rows.is_none()
    }
}

/// The `events` columns of `def`, checking names and types.
fn event_columns(def: &TableDef) -> crate::error::Result<Vec<EventColumn>> {
    def.columns
        .iter()
        .map(|c| {
            let column = EventColumn::from_name(&c.name).ok_or_else(|| {
                SluiceError::connector(
                    &def.name,
                    format!(
                        "column '{}' is not a column of the generator's 'events' format; \
                         declare some of: {}",
                        c.name,
                        EventColumn::all_described()
                    ),
                )
            })?;
            if c.data_type != column.data_type() {
                return Err(SluiceError::connector(
                    &def.name,
                    format!(
                        "column '{}' is declared {} but the generator's 'events' format gives {}",
                        c.name,
                        sql_type_name(&c.data_type),
                        sql_type_name(&column.data_type())
                    ),
                ));
            }
            if column.needs_ip_database() && !c.nullable {
                return Err(SluiceError::connector(
                    &def.name,
                    format!(
                        "column '{}' must be nullable: it is NULL where ip2region does not know the address",
                        c.name
                    ),
                ));
            }
            Ok(column)
        })
        .collect()
}

fn positive(table: &str, key: &str, v: f64) -> crate::error::Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(SluiceError::bad_option(
            table,
            key,
            format!("option '{key}' must be a positive number"),
        ))
    }
}

fn share(table: &str, key: &str, v: f64) -> crate::error::Result<f64> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(SluiceError::bad_option(
            table,
            key,
            format!("option '{key}' must be between 0 and 1"),
        ))
    }
}

/// The rows of one scan, already projected.
#[derive(Debug, Clone)]
enum Shape {
    /// The line column, or no column at all (`count(*)`).
    Lines { column: bool },
    /// These columns of clean.sql's `dwd_access` query (none for `count(*)`).
    Events {
        columns: Vec<String>,
        udfs: UdfConfig,
    },
}

#[derive(Debug)]
struct GeneratorPartition {
    schema: SchemaRef,
    shape: Shape,
    config: GeneratorConfig,
    rows: Option<u64>,
    rate: Option<f64>,
    batch_interval: Duration,
    metrics: Arc<SourceMetrics>,
}

impl GeneratorPartition {
    /// Runs the generator on a blocking thread, sending what `maker` makes of its lines.
    fn generate(
        &self,
        schema: SchemaRef,
        batch_size: usize,
        maker: impl FnOnce(&LogGenerator, usize) -> BatchMaker + Send + 'static,
        count: bool,
    ) -> SendableRecordBatchStream {
        let mut builder = RecordBatchReceiverStream::builder(schema, 2);
        let tx = builder.tx();
        let config = self.config.clone();
        let pace = Pace {
            rows: self.rows,
            rate: self.rate,
            batch_size,
            batch_interval: self.batch_interval,
        };
        let metrics = Arc::clone(&self.metrics);
        builder.spawn_blocking(move || {
            let mut generator = LogGenerator::new(config);
            // Paced batches are small: do not reserve a full batch for each.
            let capacity = match pace.rate {
                Some(rate) => {
                    batch_size.min((rate * pace.batch_interval.as_secs_f64()) as usize + 16)
                }
                None => batch_size,
            };
            let mut maker = maker(&generator, capacity);
            let mut send = |batch: RecordBatch, bytes: u64| {
                if count {
                    metrics
                        .rows
                        .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
                    metrics.bytes.fetch_add(bytes, Ordering::Relaxed);
                }
                tx.blocking_send(Ok(batch)).is_ok()
            };
            let closed = || tx.is_closed();
            let out = Output {
                send: &mut send,
                closed: &closed,
            };
            batches::run(&mut generator, &mut maker, pace, out)
        });
        builder.build()
    }
}

impl PartitionStream for GeneratorPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batch_size = ctx.session_config().batch_size().max(1);
        match &self.shape {
            Shape::Lines { column } => {
                let (schema, column) = (Arc::clone(&self.schema), *column);
                let maker =
                    move |_: &LogGenerator, capacity| BatchMaker::lines(schema, column, capacity);
                self.generate(Arc::clone(&self.schema), batch_size, maker, true)
            }
            Shape::Events { columns, udfs } => {
                let schema = parsed_schema();
                let parsed_schema = Arc::clone(&schema);
                let maker = move |generator: &LogGenerator, capacity| {
                    BatchMaker::parsed(parsed_schema, generator, capacity)
                };
                // The events are counted once cleaned, not as lines.
                let parsed = self.generate(schema, batch_size, maker, false);
                let scan = EventsScan {
                    columns: columns.clone(),
                    schema: Arc::clone(&self.schema),
                    udfs: udfs.clone(),
                    paced: self.rate.is_some(),
                    metrics: Arc::clone(&self.metrics),
                };
                events_stream(scan, parsed, ctx)
            }
        }
    }
}

#[async_trait]
impl ConnectorTable for GeneratorTable {
    fn base(&self) -> &TableBase {
        &self.base
    }

    async fn read(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // The partition makes only the projected columns.
        let indices: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.base.schema.fields().len()).collect(),
        };
        let schema = Arc::new(self.base.schema.project(&indices)?);
        let shape = match &self.format {
            Format::Lines => Shape::Lines {
                column: !indices.is_empty(),
            },
            Format::Events(declared) => {
                let columns: Vec<EventColumn> = indices.iter().map(|&i| declared[i]).collect();
                if columns.iter().any(|c| c.needs_ip_database()) {
                    // Found now, with a message naming the columns, rather than by the
                    // first lookup; ip_location then finds it loaded.
                    self.ip_database(&columns)?;
                }
                Shape::Events {
                    columns: columns.iter().map(|c| c.name().to_string()).collect(),
                    udfs: UdfConfig {
                        ip2region_path: self.ip2region_path.clone(),
                    },
                }
            }
        };
        let partition = GeneratorPartition {
            schema: Arc::clone(&schema),
            shape,
            config: self.config.clone(),
            rows: self.rows,
            rate: self.rate,
            batch_interval: self.batch_interval,
            metrics: self.base.source_metrics(),
        };
        StreamingTable::try_new(schema, vec![Arc::new(partition)])?
            .with_infinite_table(self.is_unbounded())
            .scan(state, None, filters, limit)
            .await
    }
}

impl GeneratorTable {
    /// Loads the ip2region database (once per process and path, shared with the UDFs).
    fn ip_database(&self, columns: &[EventColumn]) -> Result<()> {
        shared_xdb(&self.ip2region_path).map(drop).map_err(|e| {
            let needing: Vec<&str> = columns
                .iter()
                .filter(|c| c.needs_ip_database())
                .map(|c| c.name())
                .collect();
            DataFusionError::from(SluiceError::connector(
                &self.base.name,
                format!(
                    "columns {} need the ip2region database: {e} \
                     (or set the option 'ip2region_path', or drop those columns)",
                    needing.join(", ")
                ),
            ))
        })
    }
}

#[cfg(test)]
mod tests;
