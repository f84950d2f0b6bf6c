//! The streaming executor: sources emit Arrow batches and watermarks over bounded channels;
//! each statement runs its stateless plans per batch, feeds its window aggregates, and when
//! the watermark closes windows runs the plan above them and hands the rows to its sink.

pub mod aggregate;
mod checkpointing;
mod late;
mod runner;
pub mod slot;
mod source;
mod split;
pub mod window;

pub use checkpointing::{JobCheckpoints, split_positions};
pub use runner::run;
pub use split::{caught_up_marker, ended_marker, tag_split, untag_split};

use datafusion::arrow::array::RecordBatch;

/// What a source tells the statements reading it, in order.
#[derive(Debug, Clone)]
pub enum Event {
    Batch(RecordBatch),
    /// No row older than this (epoch ms) is expected any more.
    Watermark(i64),
    /// Nothing arrived for the idle timeout: do not hold back other inputs' watermarks.
    Idle,
    /// Checkpoint `n`: every row before it is in the checkpoint's state, none after it.
    Barrier(u64),
    /// A bounded source has no more rows.
    End,
    Failed(String),
}

/// Capacity of every channel between tasks, in batches: a slow sink slows its statement,
/// which slows the sources (back-pressure) instead of buffering without bound.
pub const CHANNEL_CAPACITY: usize = 4;
