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

mod config;
pub mod pending;
mod positions;
mod store;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use crate::wire::SinkState;
pub use config::{CheckpointConfig, FromCheckpoint, state_limit};
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
    #[error(
        "checkpoint {id} in {} was written by another version of Sluice (checkpoint format {found}; \
         this one reads format {MANIFEST_FORMAT}): run that version to the job's end, or start \
         afresh with --from-checkpoint none",
        dir.display()
    )]
    Format { id: u64, dir: PathBuf, found: u32 },
}

/// The manifest's layout; a checkpoint of another format is refused, not misread.
/// Format 2: sinks keep their own serialized state (`SinkState::state`).
pub const MANIFEST_FORMAT: u32 = 2;

fn first_format() -> u32 {
    1
}

/// What `_manifest.json` says of a complete checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// `MANIFEST_FORMAT` of the build that wrote it (absent: format 1).
    #[serde(default = "first_format")]
    pub format: u32,
    pub id: u64,
    /// The job file's name.
    pub job: String,
    /// A hash of the job's SQL: state only fits the statements that wrote it.
    pub fingerprint: String,
    pub created_ms: i64,
    pub sources: Vec<SourceState>,
    /// In statement order.
    pub statements: Vec<StatementState>,
    /// What each sink said of itself at the checkpoint's barrier (its own serialized state).
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
