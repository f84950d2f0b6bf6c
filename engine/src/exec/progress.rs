//! The progress bar of long runs (rows, bytes, rate) and the one-line run summary.

use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::job::metrics::{JobMetrics, MetricsSnapshot};

/// Redraws a bar from the job's metrics until dropped. Draws nothing when stderr is not a
/// terminal (indicatif's default), so logs and pipes stay clean.
pub struct Progress {
    bar: ProgressBar,
    ticker: tokio::task::JoinHandle<()>,
}

impl Progress {
    pub fn start(metrics: Arc<JobMetrics>, enabled: bool) -> Progress {
        let bar = if enabled {
            ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(4))
        } else {
            ProgressBar::hidden()
        };
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        let b = bar.clone();
        let ticker = tokio::spawn(async move {
            loop {
                let s = metrics.snapshot();
                if s.total_bytes > 0 {
                    b.set_length(s.total_bytes);
                }
                b.set_position(s.bytes_read);
                let written: u64 = s.sinks.iter().map(|x| x.1).sum();
                b.set_message(format!("{} rows read, {written} written", s.rows_read));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        Progress { bar, ticker }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.ticker.abort();
        self.bar.finish_and_clear();
    }
}

/// `read 10000 rows (2.6 MiB) | wrote dwd_access=3342 access_rejects=0 | rejected 0 | 0.42 s`
pub fn summary_line(s: &MetricsSnapshot, started: Instant) -> String {
    let secs = started.elapsed().as_secs_f64();
    let rate = if secs > 0.0 {
        s.rows_read as f64 / secs
    } else {
        0.0
    };
    let sinks: Vec<String> = s
        .sinks
        .iter()
        .filter(|x| x.1 > 0 || !x.2)
        .map(|(t, n, _)| format!("{t}={n}"))
        .collect();
    let bytes = if s.bytes_read > 0 {
        format!("{}, ", HumanBytes(s.bytes_read))
    } else {
        String::new()
    };
    let late = if s.late_rows > 0 {
        format!(" | late {}", s.late_rows)
    } else {
        String::new()
    };
    let state = if s.peak_state_bytes > 0 || s.checkpoints > 0 {
        format!(
            " | state peak {} | checkpoints {}",
            HumanBytes(s.peak_state_bytes),
            s.checkpoints
        )
    } else {
        String::new()
    };
    format!(
        "read {} rows ({bytes}{:.0} rows/s) | wrote {} | rejected {}{late}{state} | {:.2} s",
        s.rows_read,
        rate,
        if sinks.is_empty() {
            "nothing".into()
        } else {
            sinks.join(" ")
        },
        s.rows_rejected(),
        secs
    )
}
