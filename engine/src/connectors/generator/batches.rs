//! Making batches of generated lines: raw text (`lines`), or the parsed-log structs the
//! `events` format runs clean.sql's query over.

use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{
    ArrayRef, Int64Builder, RecordBatch, RecordBatchOptions, StringBuilder,
    TimestampMillisecondBuilder,
};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::Result;
use sluice_loggen::{LogGenerator, push_ip};
use sluice_udfs::time::NginxTime;
use sluice_udfs::udf::access_log_struct;

/// Longest sleep of a paced generator, so it notices a consumer that went away.
const MAX_SLEEP: Duration = Duration::from_millis(100);

/// Accumulates rows for the next batch, one generated line at a time.
pub(super) enum BatchMaker {
    Lines(LineRows),
    Parsed(Box<ParsedRows>),
}

impl BatchMaker {
    /// Raw lines; without `column` (`count(*)`) only their number.
    pub fn lines(schema: SchemaRef, column: bool, capacity: usize) -> Self {
        BatchMaker::Lines(LineRows {
            schema,
            column: column.then(|| LineRows::builder(capacity)),
            line: String::with_capacity(512),
            rows: 0,
            bytes: 0,
            capacity,
        })
    }

    /// `parse_access_log` structs of the lines, in a one-column `schema`.
    pub fn parsed(schema: SchemaRef, generator: &LogGenerator, capacity: usize) -> Self {
        BatchMaker::Parsed(Box::new(ParsedRows::new(schema, generator, capacity)))
    }

    /// Makes one line and adds its row.
    #[inline]
    fn push(&mut self, generator: &mut LogGenerator) {
        match self {
            BatchMaker::Lines(l) => l.push(generator),
            BatchMaker::Parsed(p) => p.push(generator),
        }
    }

    fn pending(&self) -> usize {
        match self {
            BatchMaker::Lines(l) => l.rows,
            BatchMaker::Parsed(p) => p.rows,
        }
    }

    /// The pending rows as a batch, and the bytes they stand for.
    fn finish(&mut self) -> Result<(RecordBatch, u64)> {
        match self {
            BatchMaker::Lines(l) => l.finish(),
            BatchMaker::Parsed(p) => p.finish(),
        }
    }
}

pub(super) fn batch_of(
    schema: &SchemaRef,
    columns: Vec<ArrayRef>,
    rows: usize,
) -> Result<RecordBatch> {
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(schema),
        columns,
        &options,
    )?)
}

pub(super) struct LineRows {
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

/// What `parse_access_log` gives for the generated lines, in the fields clean.sql's
/// `dwd_access` query reads (`ip`, `time`, `day`, `bytes`, `referer`; the others NULL):
/// the generator holds those parts already, so it skips writing the text and parsing it.
pub(super) struct ParsedRows {
    schema: SchemaRef,
    ip: StringBuilder,
    time: TimestampMillisecondBuilder,
    day: StringBuilder,
    bytes: Int64Builder,
    referer: StringBuilder,
    ip_text: String,
    /// The UTC offset the lines are written at.
    offset_secs: i32,
    /// The last second's time, by its epoch second: many lines share a second, and the
    /// calendar arithmetic was a tenth of the generator's time.
    last_time: Option<(i64, Option<NginxTime>)>,
    rows: usize,
    /// Rows each batch's builders are sized for.
    capacity: usize,
}

impl ParsedRows {
    fn new(schema: SchemaRef, generator: &LogGenerator, capacity: usize) -> Self {
        let offset_secs = i32::try_from(generator.utc_offset_secs()).unwrap_or(0);
        Self::empty(schema, offset_secs, capacity)
    }

    fn empty(schema: SchemaRef, offset_secs: i32, capacity: usize) -> Self {
        let strings = |per_row| StringBuilder::with_capacity(capacity, capacity * per_row);
        ParsedRows {
            schema,
            ip: strings(15),
            time: TimestampMillisecondBuilder::with_capacity(capacity).with_timezone("UTC"),
            day: strings(8),
            bytes: Int64Builder::with_capacity(capacity),
            referer: strings(40),
            ip_text: String::with_capacity(16),
            offset_secs,
            last_time: None,
            rows: 0,
            capacity,
        }
    }

    #[inline]
    fn push(&mut self, generator: &mut LogGenerator) {
        let e = generator.next_event();
        self.ip_text.clear();
        push_ip(&mut self.ip_text, e.ip);
        self.ip.append_value(&self.ip_text);
        let time = match self.last_time {
            Some((secs, time)) if secs == e.epoch_secs => time,
            _ => {
                let time = NginxTime::at(e.epoch_secs.saturating_mul(1000), self.offset_secs);
                self.last_time = Some((e.epoch_secs, time));
                time
            }
        };
        match time {
            Some(time) => {
                self.time.append_value(time.epoch_millis);
                self.day.append_value(time.day());
            }
            // Only an event time past the year 9999; such a line would not parse.
            None => {
                self.time.append_null();
                self.day.append_null();
            }
        }
        self.bytes
            .append_value(i64::try_from(e.bytes).unwrap_or(i64::MAX));
        self.referer.append_value(e.referer);
        self.rows += 1;
    }

    fn finish(&mut self) -> Result<(RecordBatch, u64)> {
        // The builders start over sized for a batch (a finished builder would grow from
        // nothing, batch after batch).
        let fresh = Self::empty(Arc::clone(&self.schema), self.offset_secs, self.capacity);
        let mut full = std::mem::replace(self, fresh);
        let parts: Vec<(&str, ArrayRef)> = vec![
            ("ip", Arc::new(full.ip.finish())),
            ("time", Arc::new(full.time.finish())),
            ("day", Arc::new(full.day.finish())),
            ("bytes", Arc::new(full.bytes.finish())),
            ("referer", Arc::new(full.referer.finish())),
        ];
        let log = access_log_struct(full.rows, parts)?;
        let batch = RecordBatch::try_new(full.schema, vec![Arc::new(log)])?;
        let bytes = batch.get_array_memory_size() as u64;
        Ok((batch, bytes))
    }
}

/// How many lines, how fast, in what batches.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pace {
    /// Lines to make; `None` = forever.
    pub rows: Option<u64>,
    /// Lines per second of wall time; `None` = as fast as possible.
    pub rate: Option<f64>,
    pub batch_size: usize,
    /// With `rate`: the longest pending rows wait for their batch.
    pub batch_interval: Duration,
}

/// Where batches go.
pub(super) struct Output<'a> {
    /// Sends a batch and the bytes it stands for; `false` once the consumer is gone.
    pub send: &'a mut dyn FnMut(RecordBatch, u64) -> bool,
    /// Whether the consumer is gone, without sending.
    pub closed: &'a dyn Fn() -> bool,
}

/// Makes lines and sends batches until `rows` lines are made (forever without `rows`) or the
/// consumer goes away.
///
/// Without `rate`, batches are full (`batch_size` rows). With `rate`, the n-th line is made
/// when it is due (n / rate seconds after the start), and pending rows go out when the batch
/// is full or `batch_interval` after the last batch, whichever comes first.
pub(super) fn run(
    generator: &mut LogGenerator,
    maker: &mut BatchMaker,
    pace: Pace,
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
        // A cheap check, between batches.
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
            if !(out.send)(batch, bytes) {
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
