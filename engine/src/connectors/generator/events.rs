//! The stream of an `events` scan: batches of parsed lines from the generator's thread, each
//! run through clean.sql's query (`clean_plan`), gathered again into batches of
//! `batch_size` events (or, paced, sent as they come so rows are not held back).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::BatchCoalescer;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;
use sluice_udfs::UdfConfig;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::batches::batch_of;
use super::clean_plan::CleanPlan;
use crate::job::metrics::SourceMetrics;

/// Cleaned batches waiting for the consumer.
const CLEANED_IN_FLIGHT: usize = 2;

/// Sends `state`'s batches until they end, the first error, or the consumer is gone.
async fn clean_into(mut state: State, tx: mpsc::Sender<Result<RecordBatch>>) {
    loop {
        let item = match state.next().await {
            Ok(Some(batch)) => Ok(batch),
            Ok(None) => return,
            Err(e) => Err(e),
        };
        let failed = item.is_err();
        if tx.send(item).await.is_err() || failed {
            return;
        }
    }
}

/// What an `events` scan reads and how its batches go out.
pub(super) struct EventsScan {
    /// The projected columns (names of clean.sql's `dwd_access` query).
    pub columns: Vec<String>,
    /// The table's projected schema: what the batches carry.
    pub schema: SchemaRef,
    pub udfs: UdfConfig,
    /// Paced (`rate`): every batch of lines goes out as soon as it is cleaned.
    pub paced: bool,
    pub metrics: Arc<SourceMetrics>,
}

/// The events of `parsed` (batches of parsed lines), as `scan` describes.
pub(super) fn events_stream(
    scan: EventsScan,
    parsed: SendableRecordBatchStream,
    ctx: Arc<TaskContext>,
) -> SendableRecordBatchStream {
    let schema = Arc::clone(&scan.schema);
    let batch_size = ctx.session_config().batch_size().max(1);
    let state = State {
        coalescer: BatchCoalescer::new(Arc::clone(&scan.schema), batch_size),
        scan,
        parsed,
        plan: None,
        ctx,
        done: false,
    };
    // The cleaning runs in a task of its own, a stage between the generator's thread and the
    // consumer: run in the consumer's task it made one task clean and aggregate in turn, and
    // `bench/stream.sh` ran a third slower than with the generator doing the work.
    let (tx, rx) = mpsc::channel(CLEANED_IN_FLIGHT);
    let events = futures::stream::once(async move {
        // A JoinSet aborts the task when the stream is dropped.
        let mut task = JoinSet::new();
        task.spawn(clean_into(state, tx));
        futures::stream::unfold((rx, task), |(mut rx, mut task)| async move {
            if let Some(item) = rx.recv().await {
                return Some((item, (rx, task)));
            }
            // The channel closed: the task has ended; a panic in it must not end the stream
            // as if every event had been read.
            match task.join_next().await? {
                Ok(()) => None,
                Err(e) => Some((
                    Err(DataFusionError::Execution(format!(
                        "cleaning generated lines: {e}"
                    ))),
                    (rx, task),
                )),
            }
        })
    })
    .flatten();
    Box::pin(RecordBatchStreamAdapter::new(schema, events))
}

struct State {
    scan: EventsScan,
    parsed: SendableRecordBatchStream,
    /// Planned at the first batch (planning is async, `execute` is not).
    plan: Option<CleanPlan>,
    coalescer: BatchCoalescer,
    ctx: Arc<TaskContext>,
    done: bool,
}

impl State {
    async fn next(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if let Some(batch) = self.coalescer.next_completed_batch() {
                return Ok(Some(self.counted(batch)));
            }
            if self.done {
                return Ok(None);
            }
            match self.parsed.next().await {
                None => {
                    self.done = true;
                    self.coalescer.finish_buffered_batch()?;
                }
                Some(parsed) => {
                    let events = self.clean(parsed?).await?;
                    if self.scan.columns.is_empty() {
                        // `count(*)`: no column to gather, only the number of rows.
                        let rows = events.iter().map(RecordBatch::num_rows).sum();
                        if rows > 0 {
                            let batch = batch_of(&self.scan.schema, vec![], rows)?;
                            return Ok(Some(self.counted(batch)));
                        }
                        continue;
                    }
                    for batch in events {
                        // The plan's columns, under the table's declared schema.
                        let batch = RecordBatch::try_new(
                            Arc::clone(&self.scan.schema),
                            batch.columns().to_vec(),
                        )?;
                        self.coalescer.push_batch(batch)?;
                    }
                    if self.scan.paced {
                        self.coalescer.finish_buffered_batch()?;
                    }
                }
            }
        }
    }

    async fn clean(&mut self, parsed: RecordBatch) -> Result<Vec<RecordBatch>> {
        let plan = match self.plan.take() {
            Some(plan) => plan,
            // A count reads no column, but the plan needs one: the cheapest.
            None if self.scan.columns.is_empty() => {
                CleanPlan::new(&["event_time".to_string()], &self.scan.udfs).await?
            }
            None => CleanPlan::new(&self.scan.columns, &self.scan.udfs).await?,
        };
        let events = plan.run(parsed, Arc::clone(&self.ctx)).await;
        self.plan = Some(plan);
        events
    }

    fn counted(&self, batch: RecordBatch) -> RecordBatch {
        let metrics = &self.scan.metrics;
        metrics
            .rows
            .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        metrics
            .bytes
            .fetch_add(batch.get_array_memory_size() as u64, Ordering::Relaxed);
        batch
    }
}
