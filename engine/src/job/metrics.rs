//! Counters a running job keeps per source and sink table; the progress bar and the run
//! summary read them. Plain atomics: connectors update them from any thread.

use crate::sync::lock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
pub struct SourceMetrics {
    pub table: String,
    pub rows: AtomicU64,
    pub bytes: AtomicU64,
    /// Bytes the source expects to read in total, when known (files); 0 = unknown.
    pub total_bytes: AtomicU64,
}

#[derive(Debug, Default)]
pub struct SinkMetrics {
    pub table: String,
    pub rows: AtomicU64,
    pub error_output: bool,
}

#[derive(Debug, Default)]
pub struct JobMetrics {
    /// Rows that reached a window aggregate after all their windows had closed.
    pub late_rows: AtomicU64,
    /// Checkpoints completed.
    pub checkpoints: AtomicU64,
    /// The most state (bytes) the job's operators held at once.
    pub peak_state_bytes: AtomicU64,
    /// Per window aggregate: the bytes of state it holds now.
    state: Mutex<Vec<Arc<AtomicU64>>>,
    sources: Mutex<Vec<Arc<SourceMetrics>>>,
    sinks: Mutex<Vec<Arc<SinkMetrics>>>,
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
    /// (table, rows, is error output), in registration order.
    pub sinks: Vec<(String, u64, bool)>,
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

    pub fn sink(&self, table: &str, error_output: bool) -> Arc<SinkMetrics> {
        let mut sinks = lock(&self.sinks);
        if let Some(m) = sinks.iter().find(|s| s.table == table) {
            return Arc::clone(m);
        }
        let m = Arc::new(SinkMetrics {
            table: table.to_string(),
            rows: AtomicU64::new(0),
            error_output,
        });
        sinks.push(Arc::clone(&m));
        m
    }

    /// A gauge for one operator's state size.
    pub fn state_gauge(&self) -> Arc<AtomicU64> {
        let gauge = Arc::new(AtomicU64::new(0));
        lock(&self.state).push(Arc::clone(&gauge));
        gauge
    }

    /// Sets an operator's state size; returns the job's total, and keeps the peak.
    pub fn set_state_bytes(&self, gauge: &AtomicU64, bytes: u64) -> u64 {
        gauge.store(bytes, Ordering::Relaxed);
        let total = lock(&self.state)
            .iter()
            .map(|g| g.load(Ordering::Relaxed))
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
