//! Each job's log: what its tracing events said while it ran, and the server's own notes
//! about it (started, failed, restarting). The newest `KEPT_LINES` lines are kept in memory
//! for `GET /api/v1/jobs/{id}/logs?tail=N`, and every new line is broadcast for live tails.
//!
//! A job runs inside a `sluice_job` span carrying its id (`job_span`); `JobLogLayer`, a
//! tracing layer, files every event raised inside such a span under that job. The tasks a
//! job spawns carry its span along: ours with `in_current_span`, DataFusion's through its
//! join-set tracer hook (`carry_spans_into_datafusion_tasks`).

use std::collections::{HashMap, VecDeque};
use std::fmt::Write;
use std::sync::{Arc, Mutex};

use datafusion::common::runtime::{JoinSetTracer, set_join_set_tracer};
use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::broadcast;
use tracing::Instrument;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::JobId;
use crate::sync::lock;

/// Lines kept per job.
pub const KEPT_LINES: usize = 2000;
/// Lines a slow live reader may fall behind before it misses some.
const LIVE_BACKLOG: usize = 256;
const JOB_SPAN: &str = "sluice_job";

/// The span a job runs in: its events go to its log.
pub fn job_span(id: &JobId) -> tracing::Span {
    tracing::info_span!("sluice_job", job_id = %id)
}

/// Makes the tasks DataFusion spawns for a plan (repartitions, file scans) run in the span
/// of the task that spawned them, so what they log is filed under their job. Process-wide,
/// as DataFusion's hook is; a second call changes nothing.
pub fn carry_spans_into_datafusion_tasks() {
    let _ = set_join_set_tracer(&CurrentSpan);
}

struct CurrentSpan;

type Erased = Box<dyn std::any::Any + Send>;

impl JoinSetTracer for CurrentSpan {
    fn trace_future(&self, fut: BoxFuture<'static, Erased>) -> BoxFuture<'static, Erased> {
        fut.in_current_span().boxed()
    }

    fn trace_block(
        &self,
        f: Box<dyn FnOnce() -> Erased + Send>,
    ) -> Box<dyn FnOnce() -> Erased + Send> {
        let span = tracing::Span::current();
        Box::new(move || span.in_scope(f))
    }
}

/// One job's log.
#[derive(Debug, Clone)]
pub struct JobLog(Arc<LogInner>);

#[derive(Debug)]
struct LogInner {
    lines: Mutex<VecDeque<String>>,
    live: broadcast::Sender<String>,
}

impl Default for JobLog {
    fn default() -> Self {
        JobLog(Arc::new(LogInner {
            lines: Mutex::new(VecDeque::new()),
            live: broadcast::Sender::new(LIVE_BACKLOG),
        }))
    }
}

impl JobLog {
    /// Adds a line: the time, `level` and `message`.
    pub fn push(&self, level: &str, message: &str) {
        let at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let line = format!("{at} {level:>5} {message}");
        {
            let mut lines = lock(&self.0.lines);
            if lines.len() == KEPT_LINES {
                lines.pop_front();
            }
            lines.push_back(line.clone());
        }
        // No live reader: nobody to tell.
        let _ = self.0.live.send(line);
    }

    /// The newest `n` lines, oldest first.
    pub fn tail(&self, n: usize) -> Vec<String> {
        let lines = lock(&self.0.lines);
        lines
            .iter()
            .skip(lines.len().saturating_sub(n))
            .cloned()
            .collect()
    }

    /// Every line pushed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.0.live.subscribe()
    }
}

/// The logs of every job of a server, by job id.
#[derive(Debug, Clone, Default)]
pub struct JobLogs(Arc<Mutex<HashMap<String, JobLog>>>);

impl JobLogs {
    /// Job `id`'s log (made empty if it has none yet).
    pub fn of(&self, id: &str) -> JobLog {
        lock(&self.0).entry(id.to_string()).or_default().clone()
    }

    pub fn remove(&self, id: &str) {
        lock(&self.0).remove(id);
    }

    /// The tracing layer that files events raised inside job spans under their jobs.
    pub fn layer(&self) -> JobLogLayer {
        JobLogLayer { logs: self.clone() }
    }
}

/// Files tracing events under the job whose span they were raised in.
pub struct JobLogLayer {
    logs: JobLogs,
}

/// Kept in a job span's extensions: where its events go.
struct SpanLog(JobLog);

impl<S> Layer<S> for JobLogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != JOB_SPAN {
            return;
        }
        let mut job = FieldText::default();
        attrs.record(&mut job);
        if let Some(span) = ctx.span(id) {
            let id = job.0.trim_start_matches("job_id=");
            span.extensions_mut().insert(SpanLog(self.logs.of(id)));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        for span in scope {
            if let Some(SpanLog(log)) = span.extensions().get::<SpanLog>() {
                let mut text = FieldText::default();
                event.record(&mut text);
                log.push(event.metadata().level().as_str(), &text.0);
                return;
            }
        }
    }
}

/// An event's or span's fields as one line: the message, then `name=value` for the rest.
#[derive(Default)]
struct FieldText(String);

impl Visit for FieldText {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_debug(field, &format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        if field.name() != "message" {
            let _ = write!(self.0, "{}=", field.name());
        }
        let _ = write!(self.0, "{value:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn events_in_a_job_span_land_in_that_jobs_log_only() {
        let logs = JobLogs::default();
        let subscriber = tracing_subscriber::registry().with(logs.layer());
        tracing::subscriber::with_default(subscriber, || {
            let a = job_span(&JobId::from("job-0001"));
            let b = job_span(&JobId::from("job-0002"));
            a.in_scope(|| tracing::info!(rows = 3, "checkpoint 1 complete"));
            b.in_scope(|| {
                let inner = tracing::info_span!("statement");
                inner.in_scope(|| tracing::warn!("late rows"));
            });
            tracing::info!("no job's");
        });
        let a = logs.of("job-0001").tail(10);
        assert_eq!(a.len(), 1);
        assert!(
            a[0].ends_with(" INFO checkpoint 1 complete rows=3"),
            "{a:?}"
        );
        let b = logs.of("job-0002").tail(10);
        assert_eq!(b.len(), 1);
        assert!(b[0].ends_with(" WARN late rows"), "{b:?}");
    }

    #[test]
    fn a_log_keeps_its_newest_lines_and_tells_live_readers() {
        let log = JobLog::default();
        let mut live = log.subscribe();
        for i in 0..KEPT_LINES + 5 {
            log.push("INFO", &format!("line {i}"));
        }
        let tail = log.tail(2);
        assert!(tail[0].ends_with(&format!("line {}", KEPT_LINES + 3)));
        assert!(tail[1].ends_with(&format!("line {}", KEPT_LINES + 4)));
        assert_eq!(log.tail(usize::MAX).len(), KEPT_LINES);
        // A reader that fell behind is told so, then reads on from the newest lines.
        assert!(matches!(
            live.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(_))
        ));
        assert!(live.try_recv().unwrap().contains("line "));
    }
}
