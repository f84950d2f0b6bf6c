//! The stream of an `events` scan: batches of parsed lines from the generator's thread, each
//! run through clean.sql's query (`clean_plan`), gathered again into batches of
//! `batch_size` events (or, paced, sent as they come so rows are not held back).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::BatchCoalescer;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;
use sluice_udfs::UdfConfig;

use super::batches::batch_of;
use super::clean_plan::CleanPlan;
use crate::job::metrics::SourceMetrics;

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
    let events = futures::stream::unfold(state, |mut state| async move {
        match state.next().await {
            Ok(Some(batch)) => Some((Ok(batch), state)),
            Ok(None) => None,
            Err(e) => {
                state.done = true;
                Some((Err(e), state))
            }
        }
    });
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
