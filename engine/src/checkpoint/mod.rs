//! Checkpoints: every `checkpoint.interval` a stream job writes its operators' state
//! (open windows' partial aggregates, watermarks) and its sources' positions (Kafka offsets)
//! to `checkpoint.dir`, so a job that was killed resumes where its last complete checkpoint
//! left off. Together with sinks that write idempotently (Redis keys, MySQL upserts) a
//! replay after a crash ends in the same results as a run that never stopped.
//!
//! How a checkpoint is taken (aligned barriers, as Flink does): the coordinator asks every
//! source for checkpoint `n`; each source records its positions and sends a barrier after
//! the rows it has read so far; a statement that has seen the barrier from all its inputs
//! writes its state and passes a marker to its sink; the checkpoint is complete — its
//! manifest written — once every sink has written everything before its marker. Only then
//! are the positions committed back to Kafka. Sinks may add to the checkpoint what they had
//! written by their marker (the Kafka sink: its topic's offsets), to write nothing twice when
//! a restart replays.

mod barrier;
mod config;
pub mod pending;
mod positions;
mod store;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use barrier::{
    BarrierAck, attach_sink_state, is_marker, marker_batch, marker_checkpoint, release_marker,
};
pub use config::{CheckpointConfig, FromCheckpoint, parse_bytes, state_limit};
pub use positions::{PositionCommitter, SourcePositions, SplitPositions};
pub use store::CheckpointStore;

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("checkpoint {id} is unusable: {reason}")]
    Corrupt { id: u64, reason: String },
}

/// What `_manifest.json` says of a complete checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub id: u64,
    /// The job file's name.
    pub job: String,
    /// A hash of the job's SQL: state only fits the statements that wrote it.
    pub fingerprint: String,
    pub created_ms: i64,
    pub sources: Vec<SourceState>,
    /// In statement order.
    pub statements: Vec<StatementState>,
    /// What sinks that replay exactly once need to know of what they had written.
    #[serde(default)]
    pub sinks: Vec<SinkState>,
}

impl Manifest {
    pub fn files(&self) -> impl Iterator<Item = &StateFile> {
        self.statements
            .iter()
            .flat_map(|s| s.stages.iter())
            .flat_map(|s| s.files.iter())
    }

    pub fn state_bytes(&self) -> u64 {
        self.statements
            .iter()
            .flat_map(|s| s.stages.iter())
            .map(|s| s.state_bytes)
            .sum()
    }
}

/// A source's position: per split (Kafka partition), how far it was read and its watermark.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceState {
    /// The catalog table.
    pub name: String,
    pub watermark: i64,
    pub splits: Vec<SplitState>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SplitState {
    /// `None`: a source without splits.
    pub split: Option<String>,
    pub watermark: i64,
    /// Where to read on from (the connector's own notation: the next Kafka offset).
    pub position: Option<String>,
}

/// What a sink had written by a checkpoint: how far (per split: the Kafka partition's next
/// offset) and which messages after that it has seen again in a replay and not yet matched
/// (see `connectors::kafka::replay`); or which files, to commit when the checkpoint is
/// complete (see `pending`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SinkState {
    /// The catalog table.
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub positions: SplitPositions,
    /// Split → offsets of messages written before the crash that the replay has not written
    /// again yet.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unmatched: BTreeMap<String, Vec<i64>>,
    /// Files the sink wrote by the checkpoint, pending until it is complete (see `pending`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StatementState {
    pub inputs: Vec<InputState>,
    /// One per window aggregate of the statement.
    pub stages: Vec<StageState>,
}

/// Where one input of a statement stood in event time.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct InputState {
    pub source: usize,
    pub watermark: i64,
    pub idle: bool,
    pub ended: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StageState {
    pub watermark: i64,
    /// Arrow IPC files: one per open window (and one of pending session rows).
    pub files: Vec<StateFile>,
    pub state_bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StateFile {
    pub name: String,
    pub bytes: u64,
    pub crc32: u32,
}
