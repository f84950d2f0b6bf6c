//! Drives one source: reads its batches, derives the watermark (bounded out-of-orderness:
//! the largest value of the declared WATERMARK expression seen so far) and sends both to
//! every statement reading it. Asked to stop, it ends its input (drain) or stops reading
//! after the final checkpoint's barrier (or at once, in a job without checkpoints).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use futures::StreamExt;
use tokio::sync::mpsc;

use super::aggregate::event_millis;
use super::checkpointing::Report;
use super::split::SplitWatermarks;
use crate::checkpoint::{SourceState, SplitState};
use crate::job::metrics::SourceMetrics;
use crate::job::{StopMode, StopSignal, StopWatch};
use crate::wire::untag_split;
use crate::wire::{Barrier, Message};

pub struct SourceDriver {
    pub index: usize,
    /// The catalog table.
    pub name: String,
    pub plan: Arc<dyn ExecutionPlan>,
    pub watermark: Option<Arc<dyn PhysicalExpr>>,
    pub idle_timeout: Duration,
    pub readers: Vec<mpsc::Sender<(usize, Message)>>,
    /// Checkpoint requests (their barriers) from the coordinator, and where to report.
    pub checkpoints: Option<(
        mpsc::UnboundedReceiver<Barrier>,
        mpsc::UnboundedSender<Report>,
    )>,
    /// Where the source stood at the checkpoint the job resumes from.
    pub restored: Option<SourceState>,
    pub stop: StopSignal,
    /// The source table's figures: the time spent waiting for room downstream goes there.
    pub metrics: Arc<SourceMetrics>,
}

/// Why a source stopped reading before its end.
enum Halt {
    /// Asked to drain: its input ends here.
    Drain,
    /// It stops without ending (after the final checkpoint's barrier, or in a job without
    /// checkpoints): what it sent is all its readers get.
    Stop,
}

/// The source's progress: event time per split, and how far each split was read.
struct Progress {
    watermark: i64,
    splits: SplitWatermarks,
    positions: std::collections::BTreeMap<Option<String>, String>,
}

impl Progress {
    /// From the start, or from where a checkpoint left the source.
    fn new(restored: Option<SourceState>) -> Self {
        let mut progress = Progress {
            watermark: i64::MIN,
            splits: SplitWatermarks::default(),
            positions: Default::default(),
        };
        if let Some(state) = restored {
            progress.watermark = state.watermark;
            let now = Instant::now();
            for split in state.splits {
                progress
                    .splits
                    .restore(split.split.clone(), split.watermark, now);
                if let Some(p) = split.position {
                    progress.positions.insert(split.split, p);
                }
            }
        }
        progress
    }

    /// Where the source stands, for a checkpoint (or at its end).
    fn state(&self, name: &str) -> SourceState {
        SourceState {
            name: name.to_string(),
            watermark: self.watermark,
            splits: self
                .splits
                .watermarks()
                .into_iter()
                .map(|(split, w)| SplitState {
                    position: self.positions.get(&split).cloned(),
                    split,
                    watermark: w,
                })
                .collect(),
        }
    }
}

impl SourceDriver {
    /// Runs until the source ends, fails, is stopped, or no statement reads it any more.
    /// When it ended (or was drained), it says where it stood at the end.
    pub async fn run(mut self, ctx: Arc<TaskContext>) -> Result<Option<SourceState>> {
        let mut progress = Progress::new(self.restored.take());
        let (mut triggers, reports) = match self.checkpoints.take() {
            Some((t, r)) => (Some(t), Some(r)),
            None => (None, None),
        };
        let schema = self.plan.schema();
        // Subscribed once: the read loop below waits on it for every batch.
        let mut stop = self.stop.watch();
        // Partitions are read one after another so a file keeps its order.
        for partition in 0..self.plan.output_partitioning().partition_count() {
            let mut stream = self.plan.execute(partition, Arc::clone(&ctx))?;
            let mut idle = false;
            loop {
                let coordinated = triggers.is_some();
                let next = tokio::select! {
                    biased;
                    barrier = recv(&mut triggers) => {
                        let Some(barrier) = barrier else {
                            // The coordinator is gone: no more checkpoints, stops are ours.
                            triggers = None;
                            continue;
                        };
                        // Everything sent so far is before the barrier; the positions say
                        // where reading goes on after it.
                        if let Some(r) = &reports {
                            let state = progress.state(&self.name);
                            let id = barrier.id;
                            let _ = r.send(Report::Source { id, index: self.index, state });
                        }
                        let last = barrier.last;
                        self.send(Message::Barrier(barrier)).await;
                        if last {
                            return Ok(None);
                        }
                        continue;
                    }
                    halt = halted(&mut stop, coordinated) => match halt {
                        Halt::Stop => return Ok(None),
                        Halt::Drain => break,
                    },
                    next = tokio::time::timeout(self.idle_timeout, stream.next()) => next,
                };
                let batch = match next {
                    Err(_) => {
                        if !idle {
                            idle = true;
                            self.send(Message::Idle).await;
                            // Splits that went silent stop holding back the ones that sent last.
                            let w = progress.splits.current(Instant::now(), self.idle_timeout);
                            self.advance(&mut progress.watermark, w).await;
                        }
                        continue;
                    }
                    Ok(None) => break,
                    Ok(Some(Err(e))) => {
                        self.send(Message::Failed(e.to_string())).await;
                        return Err(e);
                    }
                    Ok(Some(Ok(batch))) => batch,
                };
                idle = false;
                self.forward(batch, &schema, &mut progress).await?;
                if self.readers.is_empty() {
                    return Ok(None);
                }
            }
            if stop.requested() == Some(StopMode::Drain) {
                break;
            }
        }
        self.send(Message::End).await;
        Ok(Some(progress.state(&self.name)))
    }

    /// Sends a batch read from the source on, untagged, and the watermark it moves.
    async fn forward(
        &mut self,
        batch: RecordBatch,
        schema: &SchemaRef,
        progress: &mut Progress,
    ) -> Result<()> {
        let (batch, split) = untag_split(batch, schema)?;
        if let Some(tag) = &split
            && let Some(p) = &tag.position
        {
            progress
                .positions
                .insert(Some(tag.split.clone()), p.clone());
        }
        let now = Instant::now();
        progress.splits.touch(&split, batch.num_rows(), now);
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let seen = match &self.watermark {
            Some(expr) => {
                let values = expr.evaluate(&batch)?.into_array(batch.num_rows())?;
                event_millis(&values)?.into_iter().flatten().max()
            }
            None => None,
        };
        self.send(Message::Data(batch)).await;
        if let Some(w) = seen {
            progress.splits.observe(&split, w);
        }
        let w = progress.splits.current(now, self.idle_timeout);
        self.advance(&mut progress.watermark, w).await;
        Ok(())
    }

    /// Moves the source's watermark forward to `w` (never back) and tells the readers.
    async fn advance(&mut self, watermark: &mut i64, w: i64) {
        if w > *watermark {
            *watermark = w;
            self.send(Message::Watermark(w)).await;
        }
    }

    /// Sends to every reader; readers that have stopped are dropped.
    async fn send(&mut self, event: Message) {
        let mut open = Vec::with_capacity(self.readers.len());
        for tx in self.readers.drain(..) {
            // A full channel is back-pressure: a reader slower than the source.
            let blocked = (tx.capacity() == 0).then(Instant::now);
            let sent = tx.send((self.index, event.clone())).await.is_ok();
            if let Some(since) = blocked {
                let ns = since.elapsed().as_nanos() as u64;
                self.metrics.blocked_ns.fetch_add(ns, Ordering::Relaxed);
            }
            if sent {
                open.push(tx);
            }
        }
        self.readers = open;
    }
}

/// The next checkpoint request (`None`: the coordinator is gone); never, without one.
async fn recv(triggers: &mut Option<mpsc::UnboundedReceiver<Barrier>>) -> Option<Barrier> {
    match triggers {
        Some(t) => t.recv().await,
        None => std::future::pending().await,
    }
}

/// Resolves when the source must stop on its own: asked to drain, or to stop while no
/// coordinator is there to take the final checkpoint (with one, the last barrier stops it).
async fn halted(stop: &mut StopWatch, coordinated: bool) -> Halt {
    let modes: &[StopMode] = match coordinated {
        true => &[StopMode::Drain],
        false => &[StopMode::Drain, StopMode::Checkpoint],
    };
    match stop.wait_for(modes).await {
        StopMode::Drain => Halt::Drain,
        _ => Halt::Stop,
    }
}
