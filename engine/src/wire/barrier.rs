//! Checkpoint barriers on the way to a sink. A statement that has written its state for a
//! checkpoint sends a `Message::Barrier` to its sink. The sink's input is a DataFusion plan,
//! which carries batches only, so the barrier crosses it as an empty batch tagged in its
//! schema metadata with a token (`channel`); `SinkInput` on the sink's side looks the token
//! up in the job's `Markers` and hands the sink the barrier again.
//!
//! Every sink of ours writes a batch before it asks for the next one, so once the sink asks
//! for what follows a barrier, everything before it is written: `SinkInput` then
//! acknowledges the barrier with whatever the sink attached to it (`Barrier::attach`: how
//! far it had written), and the checkpoint waits for that acknowledgement. A sink that
//! fails never asks again, so its barrier is never acknowledged and the checkpoint times
//! out. A sink that fans out (`also_write`) sends a barrier of its own to each target and
//! waits for all of them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use futures::StreamExt;
use tokio::sync::oneshot;

use super::{Message, SinkState};
use crate::sync::lock;

const MARKER_METADATA: &str = "sluice.checkpoint.marker";

/// A checkpoint barrier. Sent by a source, it only says where the checkpoint falls; sent to
/// a sink, it also carries the acknowledgement the checkpoint waits for.
#[derive(Debug, Clone)]
pub struct Barrier {
    pub id: u64,
    /// The job stops once this checkpoint is complete: nothing follows the barrier, and what
    /// a sink holds for the checkpoint (pending files) is the checkpoint's to commit.
    pub last: bool,
    ack: Option<Arc<Ack>>,
}

/// The acknowledgement of a barrier sent to a sink, and the sink states attached so far;
/// taken when the barrier is acknowledged.
#[derive(Debug)]
struct Ack {
    release: Mutex<Option<Unacknowledged>>,
}

#[derive(Debug)]
struct Unacknowledged {
    tx: oneshot::Sender<Vec<SinkState>>,
    states: Vec<SinkState>,
}

/// Resolves once the sink has written everything sent before its barrier.
#[derive(Debug)]
pub struct BarrierAck(oneshot::Receiver<Vec<SinkState>>);

impl BarrierAck {
    /// Waits for the acknowledgement and returns what the sinks attached; a barrier never
    /// acknowledged (its sink failed) never resolves, and the checkpoint waiting for it
    /// times out.
    pub async fn wait(self) -> Vec<SinkState> {
        match self.0.await {
            Ok(states) => states,
            Err(_) => std::future::pending().await,
        }
    }
}

impl Barrier {
    /// The barrier of checkpoint `id` as a source sends it.
    pub fn at(id: u64) -> Self {
        Barrier {
            id,
            last: false,
            ack: None,
        }
    }

    /// The barrier of checkpoint `id`, after which the job stops.
    pub fn last_at(id: u64) -> Self {
        Barrier {
            last: true,
            ..Barrier::at(id)
        }
    }

    /// This checkpoint's barrier for a sink, and its acknowledgement.
    pub fn for_sink(&self) -> (Self, BarrierAck) {
        let (tx, rx) = oneshot::channel();
        let ack = Ack {
            release: Mutex::new(Some(Unacknowledged {
                tx,
                states: Vec::new(),
            })),
        };
        let barrier = Barrier {
            id: self.id,
            last: self.last,
            ack: Some(Arc::new(ack)),
        };
        (barrier, BarrierAck(rx))
    }

    /// Adds what the sink had written by this barrier to the checkpoint.
    pub fn attach(&self, state: SinkState) {
        if let Some(ack) = &self.ack
            && let Some(open) = lock(&ack.release).as_mut()
        {
            open.states.push(state);
        }
    }

    /// Everything before the barrier is written.
    pub(crate) fn acknowledge(&self) {
        if let Some(ack) = &self.ack
            && let Some(open) = lock(&ack.release).take()
        {
            let _ = open.tx.send(open.states);
        }
    }
}

/// The barriers of one job that are on their way into a sink plan, by token. It lives in
/// the job's DataFusion session (a config extension), so jobs never see each other's.
#[derive(Debug, Default)]
pub struct Markers {
    next: AtomicU64,
    pending: Mutex<HashMap<u64, Barrier>>,
}

impl Markers {
    /// The job's markers, from the task context of one of its plans.
    fn of(ctx: &TaskContext) -> Result<Arc<Markers>> {
        ctx.session_config()
            .get_extension::<Markers>()
            .ok_or_else(|| {
                DataFusionError::Internal(
                    "this session carries no checkpoint markers (not a Sluice job session)".into(),
                )
            })
    }

    /// `barrier` as a batch that can cross into a sink plan whose rows have `schema`.
    pub(super) fn encode(
        ctx: &TaskContext,
        schema: &SchemaRef,
        barrier: Barrier,
    ) -> Result<RecordBatch> {
        let markers = Markers::of(ctx)?;
        let token = markers.next.fetch_add(1, Ordering::Relaxed);
        lock(&markers.pending).insert(token, barrier);
        let mut metadata = schema.metadata().clone();
        metadata.insert(MARKER_METADATA.to_string(), token.to_string());
        let schema = Arc::new(schema.as_ref().clone().with_metadata(metadata));
        Ok(RecordBatch::new_empty(schema))
    }

    /// The barrier a batch stands for; `None` for rows.
    fn decode(&self, batch: &RecordBatch) -> Option<Barrier> {
        if batch.num_rows() != 0 {
            return None;
        }
        let token: u64 = batch
            .schema_ref()
            .metadata()
            .get(MARKER_METADATA)?
            .parse()
            .ok()?;
        lock(&self.pending).remove(&token)
    }
}

/// What a sink reads: its rows and the checkpoint barriers between them, as `Message`s
/// (`Data` and `Barrier` only). Asking for the next message acknowledges the barrier
/// returned before it.
pub struct SinkInput {
    data: SendableRecordBatchStream,
    /// `None` in a session that is not a job's (nothing in it can carry a barrier).
    markers: Option<Arc<Markers>>,
    /// The barrier handed out last, acknowledged when the sink asks for more.
    open: Option<Barrier>,
}

impl SinkInput {
    pub fn new(data: SendableRecordBatchStream, ctx: &TaskContext) -> Self {
        SinkInput {
            data,
            markers: ctx.session_config().get_extension::<Markers>(),
            open: None,
        }
    }

    /// The next batch of rows (never empty) or barrier; `None` at the end of the input.
    pub async fn next(&mut self) -> Option<Result<Message>> {
        if let Some(b) = self.open.take() {
            b.acknowledge();
        }
        loop {
            let batch = match self.data.next().await? {
                Ok(b) => b,
                Err(e) => return Some(Err(e)),
            };
            if let Some(barrier) = self.markers.as_ref().and_then(|m| m.decode(&batch)) {
                self.open = Some(barrier.clone());
                return Some(Ok(Message::Barrier(barrier)));
            }
            if batch.num_rows() > 0 {
                return Some(Ok(Message::Data(batch)));
            }
        }
    }

    /// The next batch of rows, for a sink that keeps nothing in checkpoints: it writes each
    /// batch before it asks for the next, so barriers are acknowledged as they pass.
    pub async fn next_rows(&mut self) -> Option<Result<RecordBatch>> {
        loop {
            match self.next().await? {
                Ok(Message::Data(batch)) => return Some(Ok(batch)),
                Ok(_) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Closing, channel_exec};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::prelude::{SessionConfig, SessionContext};
    use std::time::Duration;

    fn job_context() -> Arc<TaskContext> {
        let config = SessionConfig::new().with_extension(Arc::new(Markers::default()));
        SessionContext::new_with_config(config).task_ctx()
    }

    #[tokio::test]
    async fn a_barrier_crosses_the_sink_plan_and_is_acknowledged_when_the_sink_reads_on() {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let ctx = job_context();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let plan = channel_exec(Arc::clone(&schema), rx, Closing::Ends).unwrap();
        let mut input = SinkInput::new(plan.execute(0, Arc::clone(&ctx)).unwrap(), &ctx);
        let (barrier, ack) = Barrier::at(7).for_sink();
        tx.send(Message::Barrier(barrier)).await.unwrap();
        let (unacked, never) = Barrier::at(8).for_sink();
        tx.send(Message::Barrier(unacked)).await.unwrap();
        let Some(Ok(Message::Barrier(b))) = input.next().await else {
            panic!("expected the barrier");
        };
        assert_eq!(b.id, 7);
        let state = SinkState {
            name: "t".into(),
            ..SinkState::default()
        };
        b.attach(state.clone());
        // The sink reads on: everything before barrier 7 is written.
        let Some(Ok(Message::Barrier(b8))) = input.next().await else {
            panic!("expected the second barrier");
        };
        assert_eq!(ack.wait().await, vec![state]);
        // Barrier 8 was handed out but the sink never asked for more: not acknowledged.
        assert_eq!(b8.id, 8);
        let waited = tokio::time::timeout(Duration::from_millis(20), never.wait()).await;
        assert!(waited.is_err());
    }

    #[tokio::test]
    async fn two_jobs_keep_their_markers_apart() {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let (a, b) = (job_context(), job_context());
        let (barrier, _ack) = Barrier::at(1).for_sink();
        let marker = Markers::encode(&a, &schema, barrier).unwrap();
        assert!(Markers::of(&b).unwrap().decode(&marker).is_none());
        assert!(Markers::of(&a).unwrap().decode(&marker).is_some());
        let rows = RecordBatch::new_empty(Arc::clone(&schema));
        assert!(Markers::of(&a).unwrap().decode(&rows).is_none());
    }
}
