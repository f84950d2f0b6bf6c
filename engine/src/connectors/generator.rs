//! The `generator` connector: realistic imooc access-log lines from the built-in generator
//! (the old LogDataProducer), as a source table.
//!
//! Options:
//! - `format` = `lines` (default): one STRING column of raw nginx lines, what `raw_access_log`
//!   holds; `events`: the rows `jobs/clean.sql` makes from those lines (the DWD shape), for
//!   stream benchmarks and tests that skip parsing. Declare any of the columns of
//!   [`EventColumn::ALL`]; only the declared (and queried) ones are computed.
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
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::NaiveDate;
use datafusion::arrow::array::{
    ArrayRef, Int64Builder, RecordBatch, RecordBatchOptions, StringBuilder,
    TimestampMillisecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{Session, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::physical_plan::streaming::PartitionStream;
use serde::Deserialize;
use sluice_loggen::{GeneratorConfig, LogGenerator, push_ip};
use sluice_udfs::cms::{cms_id, cms_type};
use sluice_udfs::ip::{Region, Xdb, is_internal_addr, shared_xdb};

use super::{ConnectorEnv, Options};
use crate::catalog::TableDef;
use crate::catalog::types::sql_type_name;
use crate::error::SluiceError;
use crate::job::ExecMode;
use crate::job::metrics::{JobMetrics, SourceMetrics};

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
/// Longest sleep of a paced generator, so it notices a consumer that went away.
const MAX_SLEEP: Duration = Duration::from_millis(100);

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

#[derive(Debug)]
pub struct GeneratorTable {
    name: String,
    schema: SchemaRef,
    config: GeneratorConfig,
    format: Format,
    /// Lines to make; `None` = forever (stream mode only).
    rows: Option<u64>,
    /// Lines per second of wall time; `None` = as fast as possible.
    rate: Option<f64>,
    /// With `rate`: the longest a due row waits for its batch.
    batch_interval: Duration,
    ip2region_path: PathBuf,
    metrics: Arc<JobMetrics>,
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
            return Err(SluiceError::connector(
                &def.name,
                "option 'batch_ms' must be at least 1",
            ));
        }
        let day = NaiveDate::parse_from_str(&opts.day, "%Y%m%d").map_err(|_| {
            SluiceError::connector(
                &def.name,
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
            _ => sluice_udfs::UdfConfig::default().ip2region_path,
        };
        Ok(GeneratorTable {
            name: def.name.clone(),
            schema: def.schema(),
            config,
            format,
            rows,
            rate,
            batch_interval: Duration::from_millis(opts.batch_ms),
            ip2region_path,
            metrics: Arc::clone(&env.job.metrics),
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

// ---------------------------------------------------------------------------------------------
// Making batches.

/// The rows of one scan, already projected.
#[derive(Debug, Clone)]
enum Shape {
    /// The line column, or no column at all (`count(*)`).
    Lines { column: bool },
    Events {
        columns: Vec<EventColumn>,
        /// Loaded when a projected column needs it.
        db: Option<Arc<Xdb>>,
    },
}

/// Accumulates rows for the next batch, one generated line at a time.
enum BatchMaker {
    Lines(LineRows),
    Events(EventRows),
}

impl BatchMaker {
    fn new(shape: &Shape, schema: SchemaRef, generator: &LogGenerator, capacity: usize) -> Self {
        match shape {
            Shape::Lines { column } => BatchMaker::Lines(LineRows {
                schema,
                column: column.then(|| LineRows::builder(capacity)),
                line: String::with_capacity(512),
                rows: 0,
                bytes: 0,
                capacity,
            }),
            Shape::Events { columns, db } => BatchMaker::Events(EventRows::new(
                schema,
                columns,
                db.clone(),
                generator.utc_offset_secs(),
                capacity,
            )),
        }
    }

    /// Makes one line and adds the row it gives (none for a line clean.sql drops).
    #[inline]
    fn push(&mut self, generator: &mut LogGenerator) {
        match self {
            BatchMaker::Lines(l) => l.push(generator),
            BatchMaker::Events(e) => e.push(generator),
        }
    }

    fn pending(&self) -> usize {
        match self {
            BatchMaker::Lines(l) => l.rows,
            BatchMaker::Events(e) => e.rows,
        }
    }

    /// The pending rows as a batch, and the bytes they stand for.
    fn finish(&mut self) -> Result<(RecordBatch, u64)> {
        match self {
            BatchMaker::Lines(l) => l.finish(),
            BatchMaker::Events(e) => e.finish(),
        }
    }
}

fn batch_of(schema: &SchemaRef, columns: Vec<ArrayRef>, rows: usize) -> Result<RecordBatch> {
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(schema),
        columns,
        &options,
    )?)
}

struct LineRows {
    schema: SchemaRef,
    /// `None` when no column is read: only the count matters.
    column: Option<StringBuilder>,
    line: String,
    rows: usize,
    bytes: u64,
    capacity: usize,
}

impl LineRows {
    fn builder(capacity: usize) -> StringBuilder {
        StringBuilder::with_capacity(capacity, capacity * 320)
    }

    #[inline]
    fn push(&mut self, generator: &mut LogGenerator) {
        self.line.clear();
        generator.next_line(&mut self.line);
        self.bytes += self.line.len() as u64 + 1;
        if let Some(column) = &mut self.column {
            column.append_value(&self.line);
        }
        self.rows += 1;
    }

    fn finish(&mut self) -> Result<(RecordBatch, u64)> {
        let columns: Vec<ArrayRef> = match &mut self.column {
            Some(column) => {
                let mut full = std::mem::replace(column, Self::builder(self.capacity));
                vec![Arc::new(full.finish())]
            }
            None => vec![],
        };
        let batch = batch_of(&self.schema, columns, self.rows)?;
        let bytes = self.bytes;
        self.rows = 0;
        self.bytes = 0;
        Ok((batch, bytes))
    }
}

/// One builder per projected `events` column.
enum EventBuilder {
    Text(EventColumn, StringBuilder),
    Int(EventColumn, Int64Builder),
    Time(TimestampMillisecondBuilder),
}

impl EventBuilder {
    fn new(column: EventColumn, capacity: usize) -> Self {
        match column {
            EventColumn::CmsId | EventColumn::Traffic => {
                EventBuilder::Int(column, Int64Builder::with_capacity(capacity))
            }
            EventColumn::EventTime => EventBuilder::Time(
                TimestampMillisecondBuilder::with_capacity(capacity).with_timezone("UTC"),
            ),
            _ => {
                let per_row = match column {
                    EventColumn::Url => 40,
                    EventColumn::Ip => 15,
                    EventColumn::CmsType | EventColumn::Day => 8,
                    _ => 10,
                };
                EventBuilder::Text(
                    column,
                    StringBuilder::with_capacity(capacity, capacity * per_row),
                )
            }
        }
    }

    fn column(&self) -> EventColumn {
        match self {
            EventBuilder::Text(c, _) | EventBuilder::Int(c, _) => *c,
            EventBuilder::Time(_) => EventColumn::EventTime,
        }
    }

    /// The array so far; the builder starts over, sized for `capacity` rows (a finished
    /// builder would otherwise grow from nothing, batch after batch).
    fn finish(&mut self, capacity: usize) -> ArrayRef {
        let full = std::mem::replace(self, EventBuilder::new(self.column(), capacity));
        match full {
            EventBuilder::Text(_, mut b) => Arc::new(b.finish()),
            EventBuilder::Int(_, mut b) => Arc::new(b.finish()),
            EventBuilder::Time(mut b) => Arc::new(b.finish()),
        }
    }
}

struct EventRows {
    schema: SchemaRef,
    builders: Vec<EventBuilder>,
    db: Option<Arc<Xdb>>,
    offset_secs: i64,
    rows: usize,
    /// Whether `ip` is projected (then `ip_text` holds the current row's address).
    has_ip: bool,
    ip_text: String,
    /// Local day number (days since 1970-01-01 in the log's offset) and its `YYYYMMDD`.
    day: Option<(i64, String)>,
    /// Rows each batch's builders are sized for.
    capacity: usize,
    cms: CmsMemo,
}

/// `cms_type(url)` and `cms_id(url)` of the last URL: a visit's requests share their referer.
#[derive(Default)]
struct CmsMemo {
    url: String,
    cms_type: String,
    cms_id: i64,
    valid: bool,
}

impl CmsMemo {
    #[inline]
    fn get(&mut self, url: &str) -> (&str, i64) {
        if !self.valid || self.url != url {
            self.url.clear();
            self.url.push_str(url);
            self.cms_type.clear();
            self.cms_type.push_str(cms_type(url));
            self.cms_id = cms_id(url);
            self.valid = true;
        }
        (&self.cms_type, self.cms_id)
    }
}

impl EventRows {
    fn new(
        schema: SchemaRef,
        columns: &[EventColumn],
        db: Option<Arc<Xdb>>,
        offset_secs: i64,
        capacity: usize,
    ) -> Self {
        let builders = columns
            .iter()
            .map(|&c| EventBuilder::new(c, capacity))
            .collect();
        EventRows {
            schema,
            builders,
            db,
            offset_secs,
            rows: 0,
            has_ip: columns.contains(&EventColumn::Ip),
            ip_text: String::with_capacity(16),
            day: None,
            capacity,
            cms: CmsMemo::default(),
        }
    }

    #[inline]
    fn push(&mut self, generator: &mut LogGenerator) {
        let e = generator.next_event();
        // clean.sql: `log['referer'] <> '-' AND NOT is_internal_ip(log['ip'])`. Generated
        // lines always parse, and their address is always dotted IPv4.
        if e.referer == "-" || is_internal_addr(e.ip) {
            return;
        }
        // ip_location(ip): a NULL struct (so NULL parts) for an unknown address.
        let region = match &self.db {
            Some(db) => db.search(e.ip).map(Region::parse).unwrap_or_default(),
            None => Region::default(),
        };
        if self.has_ip {
            self.ip_text.clear();
            push_ip(&mut self.ip_text, e.ip);
        }
        for builder in &mut self.builders {
            match builder {
                EventBuilder::Text(column, b) => match column {
                    EventColumn::Url => b.append_value(e.referer),
                    EventColumn::CmsType => b.append_value(self.cms.get(e.referer).0),
                    EventColumn::Ip => b.append_value(&self.ip_text),
                    EventColumn::City => b.append_option(region.province),
                    EventColumn::Country => b.append_option(region.country),
                    EventColumn::CityName => b.append_option(region.city),
                    EventColumn::Isp => b.append_option(region.isp),
                    EventColumn::Day => {
                        let local_day = (e.epoch_secs + self.offset_secs).div_euclid(86_400);
                        b.append_value(day_text(&mut self.day, local_day));
                    }
                    _ => b.append_null(),
                },
                EventBuilder::Int(column, b) => match column {
                    EventColumn::CmsId => b.append_value(self.cms.get(e.referer).1),
                    _ => b.append_value(i64::try_from(e.bytes).unwrap_or(i64::MAX)),
                },
                EventBuilder::Time(b) => b.append_value(e.epoch_secs.saturating_mul(1000)),
            }
        }
        self.rows += 1;
    }

    fn finish(&mut self) -> Result<(RecordBatch, u64)> {
        let capacity = self.capacity;
        let columns: Vec<ArrayRef> = self
            .builders
            .iter_mut()
            .map(|b| b.finish(capacity))
            .collect();
        let batch = batch_of(&self.schema, columns, self.rows)?;
        self.rows = 0;
        let bytes = batch.get_array_memory_size() as u64;
        Ok((batch, bytes))
    }
}

/// `YYYYMMDD` of a local day number, as `NginxTime::day` writes it; cached per day.
fn day_text(cache: &mut Option<(i64, String)>, local_day: i64) -> &str {
    if cache.as_ref().is_none_or(|(d, _)| *d != local_day) {
        let date = i32::try_from(local_day + 719_163)
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .unwrap_or_default();
        *cache = Some((local_day, date.format("%Y%m%d").to_string()));
    }
    cache.as_ref().map_or("", |(_, text)| text.as_str())
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

/// How many lines, how fast, in what batches.
#[derive(Debug, Clone, Copy)]
struct Pace {
    /// Lines to make; `None` = forever.
    rows: Option<u64>,
    /// Lines per second of wall time; `None` = as fast as possible.
    rate: Option<f64>,
    batch_size: usize,
    /// With `rate`: the longest pending rows wait for their batch.
    batch_interval: Duration,
}

/// Where batches go.
struct Output<'a> {
    /// Sends a batch; `false` once the consumer is gone.
    send: &'a mut dyn FnMut(RecordBatch) -> bool,
    /// Whether the consumer is gone, without sending.
    closed: &'a dyn Fn() -> bool,
}

/// Makes lines and sends batches until `rows` lines are made (forever without `rows`) or the
/// consumer goes away.
///
/// Without `rate`, batches are full (`batch_size` rows). With `rate`, the n-th line is made
/// when it is due (n / rate seconds after the start), and pending rows go out when the batch
/// is full or `batch_interval` after the last batch, whichever comes first.
fn run(
    generator: &mut LogGenerator,
    maker: &mut BatchMaker,
    pace: Pace,
    metrics: &SourceMetrics,
    out: Output<'_>,
) -> Result<()> {
    let Pace {
        rows,
        rate,
        batch_size,
        batch_interval,
    } = pace;
    let started = Instant::now();
    let limit = rows.unwrap_or(u64::MAX);
    let mut made = 0u64;
    let mut last_batch = started;
    loop {
        // A cheap check; it matters when lines give no rows for long (events format).
        if (out.closed)() {
            return Ok(());
        }
        let due = match rate {
            None => limit,
            Some(rate) => ((started.elapsed().as_secs_f64() * rate) as u64).min(limit),
        };
        // Bounded so the clock and the batch are checked at least every batch_size lines.
        let mut budget = due.saturating_sub(made).min(batch_size as u64);
        while budget > 0 && maker.pending() < batch_size {
            maker.push(generator);
            made += 1;
            budget -= 1;
        }
        let done = made >= limit;
        let pending = maker.pending();
        let flush = pending >= batch_size
            || done
            || (rate.is_some() && last_batch.elapsed() >= batch_interval);
        if flush && pending > 0 {
            let (batch, bytes) = maker.finish()?;
            metrics.rows.fetch_add(pending as u64, Ordering::Relaxed);
            metrics.bytes.fetch_add(bytes, Ordering::Relaxed);
            if !(out.send)(batch) {
                return Ok(());
            }
            last_batch = Instant::now();
        }
        if done {
            return Ok(());
        }
        if let Some(rate) = rate
            && made >= due
        {
            // Caught up: sleep until the next line is due or the pending rows must go (and
            // never long, to notice a consumer that went away).
            let now = Instant::now();
            let next_due = Duration::try_from_secs_f64((made + 1) as f64 / rate)
                .ok()
                .and_then(|d| started.checked_add(d));
            let mut wake = next_due.map_or(now + MAX_SLEEP, |t| t.min(now + MAX_SLEEP));
            if maker.pending() > 0 {
                wake = wake.min(last_batch + batch_interval);
            }
            if wake > now {
                std::thread::sleep(wake - now);
            }
        }
    }
}

impl PartitionStream for GeneratorPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batch_size = ctx.session_config().batch_size().max(1);
        let mut builder = RecordBatchReceiverStream::builder(Arc::clone(&self.schema), 2);
        let tx = builder.tx();
        let (schema, shape, config) = (
            Arc::clone(&self.schema),
            self.shape.clone(),
            self.config.clone(),
        );
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
            let mut maker = BatchMaker::new(&shape, schema, &generator, capacity);
            let mut send = |batch: RecordBatch| tx.blocking_send(Ok(batch)).is_ok();
            let closed = || tx.is_closed();
            let out = Output {
                send: &mut send,
                closed: &closed,
            };
            run(&mut generator, &mut maker, pace, &metrics, out)
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
        // The partition makes only the projected columns.
        let indices: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        let schema = Arc::new(self.schema.project(&indices)?);
        let shape = match &self.format {
            Format::Lines => Shape::Lines {
                column: !indices.is_empty(),
            },
            Format::Events(declared) => {
                let columns: Vec<EventColumn> = indices.iter().map(|&i| declared[i]).collect();
                let db = if columns.iter().any(|c| c.needs_ip_database()) {
                    Some(self.ip_database(&columns)?)
                } else {
                    None
                };
                Shape::Events { columns, db }
            }
        };
        let partition = GeneratorPartition {
            schema: Arc::clone(&schema),
            shape,
            config: self.config.clone(),
            rows: self.rows,
            rate: self.rate,
            batch_interval: self.batch_interval,
            metrics: self.metrics.source(&self.name),
        };
        StreamingTable::try_new(schema, vec![Arc::new(partition)])?
            .with_infinite_table(self.is_unbounded())
            .scan(state, None, filters, limit)
            .await
    }
}

impl GeneratorTable {
    /// The ip2region database (loaded once per process and path, as the UDFs do).
    fn ip_database(&self, columns: &[EventColumn]) -> Result<Arc<Xdb>> {
        shared_xdb(&self.ip2region_path).map_err(|e| {
            let needing: Vec<&str> = columns
                .iter()
                .filter(|c| c.needs_ip_database())
                .map(|c| c.name())
                .collect();
            DataFusionError::from(SluiceError::connector(
                &self.name,
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
mod tests {
    use std::time::{Duration, Instant};

    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::compute::concat_batches;
    use datafusion::arrow::datatypes::Int64Type;
    use datafusion::execution::context::SessionContext;
    use datafusion::prelude::SessionConfig;
    use futures::StreamExt;

    use super::*;
    use crate::catalog::{ColumnDef, TableOrigin};

    const ALL_EVENT_COLUMNS: &str =
        "url, cms_type, cms_id, traffic, ip, city, country, city_name, isp, event_time, day";
    const PLAIN_EVENT_COLUMNS: &str = "url, cms_type, cms_id, traffic, ip, event_time, day";

    fn def(columns: &[(&str, DataType)], options: &[(&str, &str)]) -> TableDef {
        let mut opts: BTreeMap<String, String> = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        opts.insert("connector".into(), "generator".into());
        TableDef {
            name: "gen".into(),
            description: None,
            columns: columns
                .iter()
                .map(|(name, data_type)| ColumnDef {
                    name: name.to_string(),
                    data_type: data_type.clone(),
                    nullable: true,
                })
                .collect(),
            primary_key: vec![],
            watermark: None,
            error_output: false,
            options: opts.clone(),
            also_write: Vec::new(),
            origin: TableOrigin::Yaml("test".into()),
        }
    }

    fn table(
        columns: &[(&str, DataType)],
        options: &[(&str, &str)],
        mode: ExecMode,
    ) -> crate::error::Result<GeneratorTable> {
        let def = def(columns, options);
        GeneratorTable::try_new(&def, def.options.clone(), &ConnectorEnv::new(mode))
    }

    fn line_table(options: &[(&str, &str)], mode: ExecMode) -> GeneratorTable {
        table(&[("line", DataType::Utf8)], options, mode).unwrap()
    }

    /// An `events` table with the named columns (of [`EventColumn::ALL`]).
    fn events_table(columns: &str, options: &[(&str, &str)], mode: ExecMode) -> GeneratorTable {
        let columns: Vec<(&str, DataType)> = columns
            .split(',')
            .map(|name| {
                let name = name.trim();
                (name, EventColumn::from_name(name).unwrap().data_type())
            })
            .collect();
        let mut options = options.to_vec();
        options.push(("format", "events"));
        table(&columns, &options, mode).unwrap()
    }

    fn context() -> SessionContext {
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_batch_size(4096));
        sluice_udfs::register_all(&ctx, &sluice_udfs::UdfConfig::default());
        ctx
    }

    async fn query(ctx: &SessionContext, sql: &str) -> RecordBatch {
        let df = ctx.sql(sql).await.unwrap();
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.unwrap();
        concat_batches(&schema, &batches).unwrap()
    }

    /// The `CREATE VIEW parsed` and the SELECT of `INSERT INTO dwd_access` in jobs/clean.sql.
    fn clean_sql() -> (String, String) {
        let text = include_str!("../../../jobs/clean.sql");
        let statement = |start: &str| {
            let at = text
                .find(start)
                .unwrap_or_else(|| panic!("clean.sql has no {start}"));
            let rest = &text[at..];
            rest[..rest.find(";\n").unwrap()].to_string()
        };
        let view = statement("CREATE VIEW parsed AS");
        let insert = statement("INSERT INTO dwd_access");
        let select = insert["INSERT INTO dwd_access".len()..].to_string();
        (view, select)
    }

    /// Runs jobs/clean.sql's cleaning over `lines` (a generator table of raw lines) and reads
    /// `columns` of `events`; both sorted by every column, so they compare row for row.
    async fn clean_sql_and_events(
        lines: GeneratorTable,
        events: GeneratorTable,
        columns: &str,
    ) -> (RecordBatch, RecordBatch) {
        let ctx = context();
        ctx.register_table("raw_access_log", Arc::new(lines))
            .unwrap();
        ctx.register_table("gen", Arc::new(events)).unwrap();
        let (view, select) = clean_sql();
        ctx.sql(&view).await.unwrap().collect().await.unwrap();
        let expected = query(
            &ctx,
            &format!("SELECT {columns} FROM ({select}) ORDER BY {columns}"),
        )
        .await;
        let actual = query(
            &ctx,
            &format!("SELECT {columns} FROM gen ORDER BY {columns}"),
        )
        .await;
        (expected, actual)
    }

    fn assert_same_rows(expected: &RecordBatch, actual: &RecordBatch) {
        assert_eq!(expected.num_rows(), actual.num_rows(), "row counts");
        for (i, field) in expected.schema().fields().iter().enumerate() {
            assert_eq!(
                field.data_type(),
                actual.schema().field(i).data_type(),
                "type of {}",
                field.name()
            );
            let (e, a) = (expected.column(i), actual.column(i));
            if e.as_ref() != a.as_ref() {
                let first = (0..e.len())
                    .find(|&r| e.slice(r, 1).as_ref() != a.slice(r, 1).as_ref())
                    .unwrap_or(0);
                panic!(
                    "column {} differs first at sorted row {first}: clean.sql {:?}, events {:?}",
                    field.name(),
                    e.slice(first, 1),
                    a.slice(first, 1)
                );
            }
        }
    }

    #[tokio::test]
    async fn generator_events_equal_clean_sql_rows() {
        for options in [
            &[("rows", "30000"), ("seed", "11")][..],
            &[
                ("rows", "20000"),
                ("seed", "5"),
                ("disorder_ms", "60000"),
                ("internal_ip_share", "0.2"),
                ("dash_url_share", "0.3"),
                ("day", "20161231"),
                ("events_per_second", "0.2"),
            ][..],
        ] {
            let (expected, actual) = clean_sql_and_events(
                line_table(options, ExecMode::Batch),
                events_table(PLAIN_EVENT_COLUMNS, options, ExecMode::Batch),
                PLAIN_EVENT_COLUMNS,
            )
            .await;
            assert!(expected.num_rows() > 5000, "{}", expected.num_rows());
            assert_same_rows(&expected, &actual);
        }
    }

    #[tokio::test]
    async fn generator_events_with_ip2region_columns_equal_clean_sql_rows() {
        let path = sluice_udfs::UdfConfig::default().ip2region_path;
        if !path.exists() {
            eprintln!(
                "SKIPPED: no ip2region database at {} (scripts/fetch-ip2region.sh, or set \
                 SLUICE_IP2REGION_PATH)",
                path.display()
            );
            return;
        }
        let options = &[("rows", "20000"), ("seed", "3")];
        let (expected, actual) = clean_sql_and_events(
            line_table(options, ExecMode::Batch),
            events_table(ALL_EVENT_COLUMNS, options, ExecMode::Batch),
            ALL_EVENT_COLUMNS,
        )
        .await;
        assert!(expected.num_rows() > 5000, "{}", expected.num_rows());
        let provinces = expected.column_by_name("city").unwrap();
        assert!(
            provinces.null_count() < provinces.len() / 2,
            "ip2region answers most lookups"
        );
        assert_same_rows(&expected, &actual);
    }

    #[tokio::test]
    async fn generator_events_project_only_what_is_read() {
        // The database is not needed when no column that needs it is read.
        let options = [
            ("rows", "5000"),
            ("ip2region_path", "/nonexistent/ip2region.xdb"),
        ];
        let ctx = context();
        let events = events_table("cms_id, city, event_time", &options, ExecMode::Batch);
        ctx.register_table("gen", Arc::new(events)).unwrap();
        let batch = query(&ctx, "SELECT cms_id, event_time FROM gen").await;
        assert!(batch.num_rows() > 1000);
        let count = query(&ctx, "SELECT count(*) FROM gen").await;
        assert_eq!(
            count.column(0).as_primitive::<Int64Type>().value(0),
            batch.num_rows() as i64
        );
        let err = ctx
            .sql("SELECT city FROM gen")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("columns city need the ip2region database")
                && err.contains("/nonexistent/ip2region.xdb"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn generator_count_of_lines() {
        let ctx = context();
        ctx.register_table(
            "gen",
            Arc::new(line_table(&[("rows", "12345")], ExecMode::Batch)),
        )
        .unwrap();
        let count = query(&ctx, "SELECT count(*) FROM gen").await;
        assert_eq!(count.column(0).as_primitive::<Int64Type>().value(0), 12345);
    }

    #[test]
    fn generator_events_columns_are_checked() {
        let err = table(
            &[("cms_id", DataType::Int64), ("referer", DataType::Utf8)],
            &[("rows", "10"), ("format", "events")],
            ExecMode::Batch,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("column 'referer' is not a column of the generator's 'events' format")
                && err.contains(
                    "url STRING, cms_type STRING, cms_id BIGINT, traffic BIGINT, ip STRING, \
                     city STRING, country STRING, city_name STRING, isp STRING, \
                     event_time TIMESTAMP_LTZ(3), day STRING"
                ),
            "{err}"
        );
        let err = table(
            &[("cms_id", DataType::Int32)],
            &[("rows", "10"), ("format", "events")],
            ExecMode::Batch,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(
                "column 'cms_id' is declared INT but the generator's 'events' format gives BIGINT"
            ),
            "{err}"
        );
        let err = table(
            &[("line", DataType::Utf8)],
            &[("rows", "10"), ("format", "csv")],
            ExecMode::Batch,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("'format' = 'csv' is not one of: lines, events"),
            "{err}"
        );
    }

    #[test]
    fn generator_needs_rows_in_batch_mode() {
        let err = table(&[("line", DataType::Utf8)], &[], ExecMode::Batch)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "table 'gen': the generator needs 'rows' (how many lines to make) in batch mode; \
             without it, run with --mode stream"
        );
    }

    #[tokio::test]
    async fn generator_unbounded_without_rows_in_stream_mode() {
        let ctx = context();
        let state = ctx.state();
        for (options, unbounded) in [
            (&[][..], true),
            (&[("rate", "1000")][..], true),
            (&[("rows", "100")][..], false),
        ] {
            let t = line_table(options, ExecMode::Stream);
            assert_eq!(t.is_unbounded(), unbounded, "{options:?}");
            let plan = t.scan(&state, None, &[], None).await.unwrap();
            assert_eq!(
                plan.properties().boundedness.is_unbounded(),
                unbounded,
                "{options:?}"
            );
            let e = events_table("cms_id", options, ExecMode::Stream);
            let plan = e.scan(&state, None, &[], None).await.unwrap();
            assert_eq!(
                plan.properties().boundedness.is_unbounded(),
                unbounded,
                "{options:?}"
            );
        }
        // An endless source still ends a query with a LIMIT.
        ctx.register_table(
            "gen",
            Arc::new(events_table("cms_type, cms_id", &[], ExecMode::Stream)),
        )
        .unwrap();
        let batch = tokio::time::timeout(
            Duration::from_secs(30),
            query(&ctx, "SELECT cms_type, cms_id FROM gen LIMIT 20000"),
        )
        .await
        .expect("LIMIT over the endless generator ends");
        assert_eq!(batch.num_rows(), 20000);
    }

    #[tokio::test]
    async fn generator_paced_batches_go_out_every_batch_ms() {
        let ctx = context();
        for (name, table) in [
            ("lines", line_table(&[("rate", "50")], ExecMode::Stream)),
            // Events: about 20 of the 50 lines a second survive cleaning.
            (
                "events",
                events_table("event_time, cms_id", &[("rate", "50")], ExecMode::Stream),
            ),
        ] {
            let plan = table.scan(&ctx.state(), None, &[], None).await.unwrap();
            let started = Instant::now();
            let mut stream = plan.execute(0, ctx.task_ctx()).unwrap();
            let first = stream.next().await.unwrap().unwrap();
            let waited = started.elapsed();
            assert!(
                waited < Duration::from_millis(500),
                "{name}: first batch after {waited:?}"
            );
            assert!(
                first.num_rows() > 0 && first.num_rows() < 4096,
                "{name}: {} rows",
                first.num_rows()
            );
            let mut rows = first.num_rows();
            let mut batches = 1;
            while started.elapsed() < Duration::from_millis(1000) {
                rows += stream.next().await.unwrap().unwrap().num_rows();
                batches += 1;
            }
            let secs = started.elapsed().as_secs_f64();
            // Paced: about `rate` lines a second, in batches about every 100 ms.
            if name == "lines" {
                assert!(
                    rows as f64 <= 50.0 * secs + 1.0,
                    "{name}: {rows} rows in {secs} s"
                );
                assert!(rows >= 30, "{name}: {rows} rows in {secs} s");
                assert!(batches >= 5, "{name}: {batches} batches in {secs} s");
            } else {
                assert!(rows >= 5, "{name}: {rows} rows in {secs} s");
            }
        }
    }

    /// Without `rate` batches are full.
    #[tokio::test]
    async fn generator_unpaced_batches_are_full() {
        let ctx = context();
        let t = events_table("cms_id", &[("rows", "100000")], ExecMode::Batch);
        let plan = t.scan(&ctx.state(), None, &[], None).await.unwrap();
        let mut stream = plan.execute(0, ctx.task_ctx()).unwrap();
        let mut sizes = vec![];
        while let Some(batch) = stream.next().await {
            sizes.push(batch.unwrap().num_rows());
        }
        let last = sizes.pop().unwrap();
        assert!(
            sizes.len() >= 5 && sizes.iter().all(|&n| n == 4096),
            "{sizes:?}"
        );
        assert!(last > 0 && last <= 4096);
    }

    /// Throughput of the `events` format for the board benchmark's columns, without
    /// DataFusion around it: `cargo test --release -p sluice generator_events_throughput -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn generator_events_throughput() {
        let columns = [
            EventColumn::EventTime,
            EventColumn::CmsType,
            EventColumn::CmsId,
            EventColumn::Ip,
        ];
        let schema = Arc::new(datafusion::arrow::datatypes::Schema::new(
            columns
                .iter()
                .map(|c| datafusion::arrow::datatypes::Field::new(c.name(), c.data_type(), true))
                .collect::<Vec<_>>(),
        ));
        let lines = 5_000_000u64;
        let mut generator = LogGenerator::new(GeneratorConfig::for_day(
            42,
            NaiveDate::from_ymd_opt(2016, 11, 10).unwrap(),
            lines,
        ));
        let shape = Shape::Events {
            columns: columns.to_vec(),
            db: None,
        };
        let mut maker = BatchMaker::new(&shape, schema, &generator, 8192);
        let metrics = SourceMetrics::default();
        let mut events = 0usize;
        let started = Instant::now();
        let mut send = |batch: RecordBatch| {
            events += batch.num_rows();
            true
        };
        let pace = Pace {
            rows: Some(lines),
            rate: None,
            batch_size: 8192,
            batch_interval: Duration::from_millis(100),
        };
        let out = Output {
            send: &mut send,
            closed: &|| false,
        };
        run(&mut generator, &mut maker, pace, &metrics, out).unwrap();
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "{lines} lines -> {events} events in {secs:.2} s: {:.0} events/s, {:.0} lines/s",
            events as f64 / secs,
            lines as f64 / secs
        );
    }
}
