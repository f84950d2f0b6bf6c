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
