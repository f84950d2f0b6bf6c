//! Counters a running job keeps per source and sink table; the progress bar and the run
//! summary read them. Plain atomics: connectors update them from any thread.

use crate::sync::lock;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// No watermark yet (an operator that has seen no event time).
const NO_WATERMARK: i64 = i64::MIN;

/// Upper bounds (seconds) of the checkpoint-duration histogram's buckets.
pub const CHECKPOINT_BUCKETS: [f64; 12] = [
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// The newest complete checkpoint of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointFigures {
    pub id: u64,
    /// When it completed, milliseconds since the epoch.
    pub at_ms: i64,
    pub duration_ms: u64,
    /// Bytes of operator state it holds.
    pub bytes: u64,
}

/// Checkpoint durations in `CHECKPOINT_BUCKETS` (not cumulative), their sum and count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DurationHistogram {
    pub buckets: [u64; CHECKPOINT_BUCKETS.len()],
    pub sum_seconds: f64,
    pub count: u64,
}

impl DurationHistogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = CHECKPOINT_BUCKETS.iter().position(|b| seconds <= *b) {
            self.buckets[i] += 1;
        }
        self.sum_seconds += seconds;
        self.count += 1;
    }
}

#[derive(Debug, Default)]
pub struct SourceMetrics {
    pub table: String,
    pub rows: AtomicU64,
    pub bytes: AtomicU64,
    /// Bytes the source expects to read in total, when known (files); 0 = unknown.
    pub total_bytes: AtomicU64,
    /// Nanoseconds the source waited for room downstream (back-pressure).
    pub blocked_ns: AtomicU64,
    /// Kafka: how many messages each partition has that the source has not read yet, as
    /// the client last reported it.
    lag: Mutex<BTreeMap<i32, i64>>,
}

impl SourceMetrics {
    pub fn set_lag(&self, partition: i32, messages: i64) {
        lock(&self.lag).insert(partition, messages);
    }

    /// Each partition's lag, by partition.
    pub fn lags(&self) -> BTreeMap<i32, i64> {
        lock(&self.lag).clone()
    }
}

#[derive(Debug, Default)]
pub struct SinkMetrics {
    pub table: String,
    pub rows: AtomicU64,
    pub error_output: bool,
    /// Failed writes that were tried again.
    pub retries: AtomicU64,
    /// Writes given up (the job failed on them).
    pub failures: AtomicU64,
}

#[derive(Debug, Default)]
pub struct JobMetrics {
    /// Rows that reached a window aggregate after all their windows had closed.
    pub late_rows: AtomicU64,
    /// Checkpoints completed.
    pub checkpoints: AtomicU64,
    /// Checkpoints begun that did not complete.
    pub checkpoints_failed: AtomicU64,
    last_checkpoint: Mutex<Option<CheckpointFigures>>,
    checkpoint_durations: Mutex<DurationHistogram>,
    /// The window aggregates by name, with their gauges.
    operators: Mutex<Vec<OperatorGauges>>,
    /// The most state (bytes) the job's operators held at once.
    pub peak_state_bytes: AtomicU64,
    sources: Mutex<Vec<Arc<SourceMetrics>>>,
    sinks: Mutex<Vec<Arc<SinkMetrics>>>,
}

/// A sink table's (name, rows, is error output).
pub type SinkFigures = (String, u64, bool);

/// One window aggregate's gauges: the state it holds and its watermark.
#[derive(Debug, Clone)]
pub struct OperatorGauges {
    /// Its statement and place there, as `explain` names it.
    pub name: String,
    pub state_bytes: Arc<AtomicU64>,
    pub watermark: Arc<AtomicI64>,
}

impl OperatorGauges {
    /// Its watermark, once it has one.
    pub fn watermark(&self) -> Option<i64> {
        let w = self.watermark.load(Ordering::Relaxed);
        (w != NO_WATERMARK).then_some(w)
    }
}

/// A snapshot, for printing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsSnapshot {
    pub rows_read: u64,
    pub bytes_read: u64,
    pub total_bytes: u64,
    pub late_rows: u64,
    pub checkpoints: u64,
    pub peak_state_bytes: u64,
    /// In registration order.
    pub sinks: Vec<SinkFigures>,
}

impl MetricsSnapshot {
    pub fn rows_rejected(&self) -> u64 {
        self.sinks.iter().filter(|s| s.2).map(|s| s.1).sum()
    }
}

impl JobMetrics {
    pub fn source(&self, table: &str) -> Arc<SourceMetrics> {
        let m = Arc::new(SourceMetrics {
            table: table.to_string(),
            ..Default::default()
        });
        lock(&self.sources).push(Arc::clone(&m));
        m
    }

    /// The figures source table `table` keeps (registered when it was planned), or new ones.
    pub fn source_named(&self, table: &str) -> Arc<SourceMetrics> {
        let found = lock(&self.sources)
            .iter()
            .find(|s| s.table == table)
            .cloned();
        found.unwrap_or_else(|| self.source(table))
    }

    /// Every source's and sink's figures, in registration order.
    pub fn all(&self) -> (Vec<Arc<SourceMetrics>>, Vec<Arc<SinkMetrics>>) {
        (lock(&self.sources).clone(), lock(&self.sinks).clone())
    }

    pub fn sink(&self, table: &str, error_output: bool) -> Arc<SinkMetrics> {
        let mut sinks = lock(&self.sinks);
        if let Some(m) = sinks.iter().find(|s| s.table == table) {
            return Arc::clone(m);
        }
        let m = Arc::new(SinkMetrics {
            table: table.to_string(),
            error_output,
            ..Default::default()
        });
        sinks.push(Arc::clone(&m));
        m
    }

    /// The gauges of window aggregate `name` (its state size and its watermark).
    pub fn operator(&self, name: String) -> OperatorGauges {
        let gauges = OperatorGauges {
            name,
            state_bytes: Arc::default(),
            watermark: Arc::new(AtomicI64::new(NO_WATERMARK)),
        };
        lock(&self.operators).push(gauges.clone());
        gauges
    }

    /// Every window aggregate's gauges, in the order they were made.
    pub fn operators(&self) -> Vec<OperatorGauges> {
        lock(&self.operators).clone()
    }

    /// The job's watermark: the least of its operators' (ms since the epoch); `None` until
    /// every operator has one.
    pub fn watermark(&self) -> Option<i64> {
        let least = lock(&self.operators)
            .iter()
            .map(|o| o.watermark.load(Ordering::Relaxed))
            .min()?;
        (least != NO_WATERMARK).then_some(least)
    }

    /// Counts a completed checkpoint.
    pub fn checkpoint_completed(&self, figures: CheckpointFigures) {
        self.checkpoints.fetch_add(1, Ordering::Relaxed);
        lock(&self.checkpoint_durations).observe(figures.duration_ms as f64 / 1000.0);
        *lock(&self.last_checkpoint) = Some(figures);
    }

    pub fn last_checkpoint(&self) -> Option<CheckpointFigures> {
        lock(&self.last_checkpoint).clone()
    }

    pub fn checkpoint_durations(&self) -> DurationHistogram {
        lock(&self.checkpoint_durations).clone()
    }

    /// Sets an operator's state size; returns the job's total, and keeps the peak.
    pub fn set_state_bytes(&self, gauge: &AtomicU64, bytes: u64) -> u64 {
        gauge.store(bytes, Ordering::Relaxed);
        let total = lock(&self.operators)
            .iter()
            .map(|o| o.state_bytes.load(Ordering::Relaxed))
            .sum();
        self.peak_state_bytes.fetch_max(total, Ordering::Relaxed);
        total
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let sources = lock(&self.sources);
        MetricsSnapshot {
            rows_read: sources.iter().map(|s| s.rows.load(Ordering::Relaxed)).sum(),
            bytes_read: sources
                .iter()
                .map(|s| s.bytes.load(Ordering::Relaxed))
                .sum(),
            total_bytes: sources
                .iter()
                .map(|s| s.total_bytes.load(Ordering::Relaxed))
                .sum(),
            late_rows: self.late_rows.load(Ordering::Relaxed),
            checkpoints: self.checkpoints.load(Ordering::Relaxed),
            peak_state_bytes: self.peak_state_bytes.load(Ordering::Relaxed),
            sinks: lock(&self.sinks)
                .iter()
                .map(|s| {
                    (
                        s.table.clone(),
                        s.rows.load(Ordering::Relaxed),
                        s.error_output,
                    )
                })
                .collect(),
        }
    }
}
