//! The stream wire protocol: what travels between a job's tasks, as one message type.
//!
//! Sources send rows, watermarks, idleness, checkpoint barriers and their end to the
//! statements reading them; a statement sends rows and barriers to its sink; a shared
//! relation sends rows and its end (or failure) to its readers. Everything a task must
//! handle besides rows is a variant of `Message`, so an operator matches on it instead of
//! inspecting batches.
//!
//! Two DataFusion interfaces carry batches only: a source connector's scan, and the input
//! of a table's `insert_into` sink. This module owns both crossings:
//! - `split`: a source's rows name their split (Kafka partition, file) and position in the
//!   batch's schema metadata; the source driver strips the tag.
//! - `barrier` and `channel`: a `Message::Barrier` sent to a sink becomes a tagged empty
//!   batch on the way into the sink plan, and `SinkInput` turns it back into the barrier on
//!   the sink's side, acknowledging it once the sink has written everything before it.
//! - `slot`: a plan's leaf table that yields the batches put in it since its last scan, so
//!   a stateless plan runs again for every batch (statements, the generator's clean plan).

mod barrier;
mod channel;
mod slot;
mod split;

use datafusion::arrow::array::RecordBatch;
use serde::{Deserialize, Serialize};

pub use barrier::{Barrier, BarrierAck, Markers, SinkInput};
pub use channel::{ChannelPartition, Closing, channel_exec};
pub use slot::{Slot, SlotTable};
pub use split::{SplitTag, caught_up_marker, ended_marker, tag_split, untag_split};

/// Capacity of every channel between a stream job's tasks, in messages: a slow sink slows
/// its statement, which slows the sources (back-pressure) instead of buffering without
/// bound. Small, because a checkpoint barrier waits behind every batch queued ahead of it
/// and every queued batch is memory held: at 8, `bench/checkpoints.sh` took its checkpoints
/// about half again as long (p50 94 ms against 60 ms) and peak RSS grew by 10-20 MB.
pub const CHANNEL_CAPACITY: usize = 4;

/// What one task sends another, in order.
#[derive(Debug, Clone)]
pub enum Message {
    /// Rows.
    Data(RecordBatch),
    /// No row older than this (epoch ms) is expected any more.
    Watermark(i64),
    /// Nothing arrived for the idle timeout: do not hold back other inputs' watermarks.
    Idle,
    /// Checkpoint barrier: every row before it is in the checkpoint's state, none after it.
    Barrier(Barrier),
    /// The sender has no more rows.
    End,
    /// The sender failed; its own task reports the error in full.
    Failed(String),
}

/// What a sink had written by a checkpoint barrier, as the sink itself serialized it: the
/// manifest keeps it for the sink, which reads it back when the job resumes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SinkState {
    /// The catalog table (with `#also_writeK` for a table's further targets).
    pub name: String,
    /// Files to make visible once the checkpoint is complete (see `checkpoint::pending`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_files: Vec<String>,
    /// The connector's own state.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub state: serde_json::Value,
}

impl SinkState {
    /// A sink's state of its own type.
    pub fn of<T: Serialize>(name: &str, state: &T) -> Self {
        SinkState {
            name: name.to_string(),
            pending_files: Vec::new(),
            state: serde_json::to_value(state).unwrap_or(serde_json::Value::Null),
        }
    }

    /// The connector's own state, read back as the type it was written from.
    pub fn decode<T: for<'de> Deserialize<'de> + Default>(&self) -> Result<T, String> {
        if self.state.is_null() {
            return Ok(T::default());
        }
        serde_json::from_value(self.state.clone())
            .map_err(|e| format!("the checkpointed state of sink '{}': {e}", self.name))
    }
}
