//! Drives one source: reads its batches, derives the watermark (bounded out-of-orderness:
//! the largest value of the declared WATERMARK expression seen so far) and sends both to
//! every statement reading it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use futures::StreamExt;
use tokio::sync::mpsc;

use super::Event;
use super::aggregate::event_millis;
use super::split::{SplitWatermarks, untag_split};

pub struct SourceDriver {
    pub index: usize,
    pub plan: Arc<dyn ExecutionPlan>,
    pub watermark: Option<Arc<dyn PhysicalExpr>>,
    pub idle_timeout: Duration,
    pub readers: Vec<mpsc::Sender<(usize, Event)>>,
}

impl SourceDriver {
    /// Runs until the source ends, fails, or no statement reads it any more.
    pub async fn run(mut self, ctx: Arc<TaskContext>) -> Result<()> {
        let mut watermark = i64::MIN;
        let mut splits = SplitWatermarks::default();
        let schema = self.plan.schema();
        // Partitions are read one after another so a file keeps its order.
        for partition in 0..self.plan.output_partitioning().partition_count() {
            let mut stream = self.plan.execute(partition, Arc::clone(&ctx))?;
            let mut idle = false;
            loop {
                let next = tokio::time::timeout(self.idle_timeout, stream.next()).await;
                let batch = match next {
                    Err(_) => {
                        if !idle {
                            idle = true;
                            self.send(Event::Idle).await;
                            // Splits that went silent stop holding back the ones that sent last.
                            let w = splits.current(Instant::now(), self.idle_timeout);
                            self.advance(&mut watermark, w).await;
                        }
                        continue;
                    }
                    Ok(None) => break,
                    Ok(Some(Err(e))) => {
                        self.send(Event::Failed(e.to_string())).await;
                        return Err(e);
                    }
                    Ok(Some(Ok(batch))) => batch,
                };
                idle = false;
                let (batch, split) = untag_split(batch, &schema)?;
                let now = Instant::now();
                splits.touch(&split, batch.num_rows(), now);
                if batch.num_rows() == 0 {
                    continue;
                }
                let seen = match &self.watermark {
                    Some(expr) => {
                        let values = expr.evaluate(&batch)?.into_array(batch.num_rows())?;
                        event_millis(&values)?.into_iter().flatten().max()
                    }
                    None => None,
                };
                self.send(Event::Batch(batch)).await;
                if let Some(w) = seen {
                    splits.observe(&split, w);
                }
                let w = splits.current(now, self.idle_timeout);
                self.advance(&mut watermark, w).await;
                if self.readers.is_empty() {
                    return Ok(());
                }
            }
        }
        self.send(Event::End).await;
        Ok(())
    }

    /// Moves the source's watermark forward to `w` (never back) and tells the readers.
    async fn advance(&mut self, watermark: &mut i64, w: i64) {
        if w > *watermark {
            *watermark = w;
            self.send(Event::Watermark(w)).await;
        }
    }

    /// Sends to every reader; readers that have stopped are dropped.
    async fn send(&mut self, event: Event) {
        let mut open = Vec::with_capacity(self.readers.len());
        for tx in self.readers.drain(..) {
            if tx.send((self.index, event.clone())).await.is_ok() {
                open.push(tx);
            }
        }
        self.readers = open;
    }
}
