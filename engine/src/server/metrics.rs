//! `GET /metrics`: the jobs' figures in Prometheus' text format, read from their counters at
//! scrape time (a `prometheus-client` collector), so metrics cost the jobs nothing between
//! scrapes; and a few minutes of rate history per job, sampled in the server, for a console
//! that draws rates without a Prometheus server.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use serde::Serialize;

use crate::job::JobEnv;
use crate::job::metrics::{CHECKPOINT_BUCKETS, SinkMetrics, SourceMetrics};
use crate::sync::lock;

pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// One job as the metrics see it.
#[derive(Debug, Clone)]
pub struct JobFigures {
    pub id: String,
    pub name: String,
    /// `RUNNING`, `FAILED`, …
    pub state: &'static str,
    pub restarts: u32,
    /// Its current (or last) run's counters; `None` before its first run.
    pub env: Option<JobEnv>,
}

/// Where the metrics read the jobs from: a server's jobs, or the one job of a `sluice run`.
pub trait JobsView: Send + Sync + 'static {
    fn figures(&self) -> Vec<JobFigures>;
}

/// The states a job may be in, for the `sluice_job_state` gauge (1 for the job's state, 0
/// for the others, as Prometheus' enum convention has it).
const STATES: [&str; 7] = [
    "CREATED",
    "RUNNING",
    "RESTARTING",
    "STOPPING",
    "STOPPED",
    "FINISHED",
    "FAILED",
];

/// The scrape endpoint's body.
pub fn render(view: Arc<dyn JobsView>) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(JobsCollector(view)));
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &registry);
    text
}

struct JobsCollector(Arc<dyn JobsView>);

impl std::fmt::Debug for JobsCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JobsCollector")
    }
}

type Labels = Vec<(&'static str, String)>;
/// Which counter of a source or a sink a metric family reads.
type SourceCounter = fn(&SourceMetrics) -> &AtomicU64;
type SinkCounter = fn(&SinkMetrics) -> &AtomicU64;

fn job_labels(j: &JobFigures) -> Labels {
    vec![("job_id", j.id.clone()), ("job", j.name.clone())]
}

fn with(mut labels: Labels, name: &'static str, value: impl Into<String>) -> Labels {
    labels.push((name, value.into()));
    labels
}

/// Writes one counter family: `rows` of (labels, value).
fn counters<N>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: impl IntoIterator<Item = (Labels, N)>,
) -> std::fmt::Result
where
    ConstCounter<N>: EncodeMetric,
{
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, value) in rows {
        ConstCounter::new(value).encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

/// Writes one gauge family: `rows` of (labels, value).
fn gauges(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: impl IntoIterator<Item = (Labels, f64)>,
) -> std::fmt::Result {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in rows {
        ConstGauge::new(value).encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for JobsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let jobs = self.0.figures();
        let running: Vec<(&JobFigures, &JobEnv)> = jobs
            .iter()
            .filter_map(|j| j.env.as_ref().map(|e| (j, e)))
            .collect();
        // Each job's tables, read once per scrape.
        let tables: Vec<_> = running.iter().map(|(j, e)| (*j, e.metrics.all())).collect();
        let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
        gauges(
            &mut encoder,
            "sluice_job_state",
            "1 for the state the job is in, 0 for the others",
            jobs.iter().flat_map(|j| {
                STATES.iter().map(move |s| {
                    (
                        with(job_labels(j), "state", *s),
                        f64::from(u8::from(j.state == *s)),
                    )
                })
            }),
        )?;
        counters(
            &mut encoder,
            "sluice_job_restarts",
            "Times the job was started again after a failure",
            jobs.iter().map(|j| (job_labels(j), u64::from(j.restarts))),
        )?;
        let per_source: [(&str, &str, SourceCounter); 2] = [
            (
                "sluice_source_records",
                "Records a source table has read (this run of the job)",
                |s| &s.rows,
            ),
            (
                "sluice_source_read_bytes",
                "Bytes a source table has read (this run of the job)",
                |s| &s.bytes,
            ),
        ];
        for (name, help, value) in per_source {
            counters(
                &mut encoder,
                name,
                help,
                tables.iter().flat_map(|(j, (sources, _))| {
                    sources.iter().map(move |s| {
                        (
                            with(job_labels(j), "table", s.table.clone()),
                            load(value(s)),
                        )
                    })
                }),
            )?;
        }
        counters(
            &mut encoder,
            "sluice_source_backpressure_seconds",
            "Time a source waited for room downstream (its readers were slower)",
            tables.iter().flat_map(|(j, (sources, _))| {
                sources.iter().map(move |s| {
                    let seconds = load(&s.blocked_ns) as f64 / 1e9;
                    (with(job_labels(j), "table", s.table.clone()), seconds)
                })
            }),
        )?;
        // Which sinks (error outputs or not, or every one) and what of them.
        let per_sink: [(&str, &str, Option<bool>, SinkCounter); 4] = [
            (
                "sluice_sink_records",
                "Records written to a sink table (this run of the job)",
                Some(false),
                |s| &s.rows,
            ),
            (
                "sluice_rows_rejected",
                "Rows written to an error output (rejected input) table",
                Some(true),
                |s| &s.rows,
            ),
            (
                "sluice_sink_retries",
                "Failed writes to a sink that were tried again",
                None,
                |s| &s.retries,
            ),
            (
                "sluice_sink_failures",
                "Writes to a sink given up (the job failed)",
                None,
                |s| &s.failures,
            ),
        ];
        for (name, help, error_output, value) in per_sink {
            counters(
                &mut encoder,
                name,
                help,
                tables.iter().flat_map(|(j, (_, sinks))| {
                    sinks
                        .iter()
                        .filter(move |s| error_output.is_none_or(|e| e == s.error_output))
                        .map(move |s| {
                            (
                                with(job_labels(j), "table", s.table.clone()),
                                load(value(s)),
                            )
                        })
                }),
            )?;
        }
        counters(
            &mut encoder,
            "sluice_late_rows",
            "Rows that arrived after all their windows had closed",
            running
                .iter()
                .map(|(j, e)| (job_labels(j), load(&e.metrics.late_rows))),
        )?;
        gauges(
            &mut encoder,
            "sluice_kafka_consumer_lag",
            "Messages of a Kafka partition not read yet, as the client last reported",
            tables.iter().flat_map(|(j, (sources, _))| {
                sources.iter().flat_map(move |s| {
                    s.lags().into_iter().map(move |(partition, lag)| {
                        let labels = with(job_labels(j), "table", s.table.clone());
                        (with(labels, "partition", partition.to_string()), lag as f64)
                    })
                })
            }),
        )?;
        gauges(
            &mut encoder,
            "sluice_operator_state_bytes",
            "State a window aggregate holds now",
            running.iter().flat_map(|(j, e)| {
                e.metrics.operators().into_iter().map(move |o| {
                    let bytes = o.state_bytes.load(Ordering::Relaxed);
                    (with(job_labels(j), "operator", o.name), bytes as f64)
                })
            }),
        )?;
        let now_ms = chrono::Utc::now().timestamp_millis();
        let watermarks: Vec<(&JobFigures, i64)> = running
            .iter()
            .filter_map(|(j, e)| e.metrics.watermark().map(|w| (*j, w)))
            .collect();
        gauges(
            &mut encoder,
            "sluice_watermark_seconds",
            "The job's watermark, seconds since the epoch",
            watermarks
                .iter()
                .map(|(j, w)| (job_labels(j), *w as f64 / 1000.0)),
        )?;
        gauges(
            &mut encoder,
            "sluice_watermark_lag_seconds",
            "How far the job's watermark trails the wall clock",
            watermarks
                .iter()
                .map(|(j, w)| (job_labels(j), (now_ms - w) as f64 / 1000.0)),
        )?;
        counters(
            &mut encoder,
            "sluice_checkpoints",
            "Checkpoints by outcome (this run of the job)",
            running.iter().flat_map(|(j, e)| {
                let m = &e.metrics;
                let completed = m.checkpoints.load(Ordering::Relaxed);
                let failed = m.checkpoints_failed.load(Ordering::Relaxed);
                [
                    (with(job_labels(j), "status", "completed"), completed),
                    (with(job_labels(j), "status", "failed"), failed),
                ]
            }),
        )?;
        gauges(
            &mut encoder,
            "sluice_checkpoint_size_bytes",
            "Operator state held by the newest complete checkpoint",
            running.iter().filter_map(|(j, e)| {
                let c = e.metrics.last_checkpoint()?;
                Some((job_labels(j), c.bytes as f64))
            }),
        )?;
        gauges(
            &mut encoder,
            "sluice_state_peak_bytes",
            "The most state the job's window operators held at once",
            running
                .iter()
                .map(|(j, e)| (job_labels(j), load(&e.metrics.peak_state_bytes) as f64)),
        )?;
        let mut histogram = encoder.encode_descriptor(
            "sluice_checkpoint_duration_seconds",
            "How long complete checkpoints took",
            None,
            MetricType::Histogram,
        )?;
        for (j, e) in &running {
            let h = e.metrics.checkpoint_durations();
            // Per bucket, not cumulative: the encoder adds them up (and the +Inf bucket).
            let buckets: Vec<(f64, u64)> =
                CHECKPOINT_BUCKETS.iter().copied().zip(h.buckets).collect();
            let labels = job_labels(j);
            histogram
                .encode_family(&labels)?
                .encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                    h.sum_seconds,
                    h.count,
                    &buckets,
                    None,
                )?;
        }
        Ok(())
    }
}

/// How often the server samples its jobs' counters for the rate history.
pub const RATE_EVERY: Duration = Duration::from_secs(5);
/// How many samples a job keeps: ten minutes.
const RATE_SAMPLES: usize = 120;

/// Records in and out per second over one sampling interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    /// The interval's end, milliseconds since the epoch.
    pub at_ms: i64,
    pub records_in_per_s: f64,
    pub records_out_per_s: f64,
}

/// The last minutes of each job's rates.
#[derive(Debug, Default)]
pub struct RateHistory {
    jobs: Mutex<HashMap<String, JobRates>>,
}

#[derive(Debug, Default)]
struct JobRates {
    /// The counters at the last sample: (at_ms, in, out, which run).
    last: Option<(i64, u64, u64, usize)>,
    rates: VecDeque<Rate>,
}

impl RateHistory {
    /// Samples every job that has run. A run's counters start from 0: a new run (another
    /// `JobEnv`) counts from there.
    pub fn sample(&self, jobs: &[JobFigures], at_ms: i64) {
        let mut history = lock(&self.jobs);
        history.retain(|id, _| jobs.iter().any(|j| &j.id == id));
        for j in jobs {
            let Some(env) = &j.env else { continue };
            let s = env.metrics.snapshot();
            let out: u64 = s.sinks.iter().filter(|t| !t.2).map(|t| t.1).sum();
            let run = Arc::as_ptr(&env.metrics) as usize;
            let rates = history.entry(j.id.clone()).or_default();
            if let Some((t, was_in, was_out, was_run)) = rates.last {
                let seconds = (at_ms - t) as f64 / 1000.0;
                if seconds > 0.0 {
                    let (base_in, base_out) = if was_run == run {
                        (was_in, was_out)
                    } else {
                        (0, 0)
                    };
                    if rates.rates.len() == RATE_SAMPLES {
                        rates.rates.pop_front();
                    }
                    rates.rates.push_back(Rate {
                        at_ms,
                        records_in_per_s: s.rows_read.saturating_sub(base_in) as f64 / seconds,
                        records_out_per_s: out.saturating_sub(base_out) as f64 / seconds,
                    });
                }
            }
            rates.last = Some((at_ms, s.rows_read, out, run));
        }
    }

    /// Job `id`'s rates, oldest first.
    /// The job's latest rates.
    pub fn latest(&self, id: &str) -> Option<Rate> {
        lock(&self.jobs)
            .get(id)
            .and_then(|r| r.rates.back().copied())
    }

    pub fn of(&self, id: &str) -> Vec<Rate> {
        lock(&self.jobs)
            .get(id)
            .map(|r| r.rates.iter().copied().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::ExecMode;
    use crate::job::metrics::CheckpointFigures;
    use std::sync::atomic::Ordering;

    struct One(JobFigures);

    impl JobsView for One {
        fn figures(&self) -> Vec<JobFigures> {
            vec![self.0.clone()]
        }
    }

    fn running() -> JobFigures {
        JobFigures {
            id: "job-0001".into(),
            name: "pv_uv".into(),
            state: "RUNNING",
            restarts: 2,
            env: Some(JobEnv::new(ExecMode::Stream)),
        }
    }

    #[test]
    fn the_text_names_each_jobs_figures_the_prometheus_way() {
        let job = running();
        let env = job.env.clone().unwrap();
        env.metrics
            .source("access_events")
            .rows
            .store(42, Ordering::Relaxed);
        let sink = env.metrics.sink("realtime_pv_uv_stat", false);
        sink.rows.store(7, Ordering::Relaxed);
        sink.retries.store(2, Ordering::Relaxed);
        let source = env.metrics.source_named("access_events");
        source.set_lag(1, 120);
        source.blocked_ns.store(1_500_000_000, Ordering::Relaxed);
        env.metrics.checkpoint_completed(CheckpointFigures {
            id: 3,
            at_ms: 0,
            duration_ms: 120,
            bytes: 2048,
        });
        let text = render(Arc::new(One(job)));
        for line in [
            "# TYPE sluice_source_records_total counter",
            r#"sluice_source_records_total{job_id="job-0001",job="pv_uv",table="access_events"} 42"#,
            r#"sluice_sink_records_total{job_id="job-0001",job="pv_uv",table="realtime_pv_uv_stat"} 7"#,
            r#"sluice_job_state{job_id="job-0001",job="pv_uv",state="RUNNING"} 1.0"#,
            r#"sluice_job_state{job_id="job-0001",job="pv_uv",state="FAILED"} 0.0"#,
            r#"sluice_job_restarts_total{job_id="job-0001",job="pv_uv"} 2"#,
            r#"sluice_checkpoints_total{job_id="job-0001",job="pv_uv",status="completed"} 1"#,
            r#"sluice_checkpoint_duration_seconds_bucket{job_id="job-0001",job="pv_uv",le="0.1"} 0"#,
            r#"sluice_checkpoint_duration_seconds_bucket{job_id="job-0001",job="pv_uv",le="0.25"} 1"#,
            r#"sluice_checkpoint_duration_seconds_bucket{job_id="job-0001",job="pv_uv",le="300"} 1"#,
            r#"sluice_checkpoint_duration_seconds_bucket{job_id="job-0001",job="pv_uv",le="+Inf"} 1"#,
            r#"sluice_checkpoint_duration_seconds_count{job_id="job-0001",job="pv_uv"} 1"#,
            r#"sluice_checkpoint_size_bytes{job_id="job-0001",job="pv_uv"} 2048.0"#,
            r#"sluice_kafka_consumer_lag{job_id="job-0001",job="pv_uv",table="access_events",partition="1"} 120.0"#,
            r#"sluice_source_backpressure_seconds_total{job_id="job-0001",job="pv_uv",table="access_events"} 1.5"#,
            r#"sluice_sink_retries_total{job_id="job-0001",job="pv_uv",table="realtime_pv_uv_stat"} 2"#,
            r#"sluice_sink_failures_total{job_id="job-0001",job="pv_uv",table="realtime_pv_uv_stat"} 0"#,
        ] {
            assert!(text.lines().any(|l| l == line), "no {line} in\n{text}");
        }
    }

    #[test]
    fn rates_count_from_zero_when_a_job_runs_again() {
        let history = RateHistory::default();
        let mut job = running();
        let source = job.env.as_ref().unwrap().metrics.source("t");
        history.sample(std::slice::from_ref(&job), 0);
        source.rows.store(500, Ordering::Relaxed);
        history.sample(std::slice::from_ref(&job), 5000);
        // A restart: a new run whose counter starts again.
        job.env = Some(JobEnv::new(ExecMode::Stream));
        job.env
            .as_ref()
            .unwrap()
            .metrics
            .source("t")
            .rows
            .store(50, Ordering::Relaxed);
        history.sample(std::slice::from_ref(&job), 10_000);
        let rates: Vec<f64> = history
            .of("job-0001")
            .iter()
            .map(|r| r.records_in_per_s)
            .collect();
        assert_eq!(rates, [100.0, 10.0]);
        history.sample(&[], 15_000);
        assert!(history.of("job-0001").is_empty());
    }
}
