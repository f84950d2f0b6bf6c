//! Source positions between checkpoints and connectors: where each source table resumes
//! after a restart, and how positions of a complete checkpoint are committed back to the
//! system they came from (Kafka consumer-group offsets). Also what sinks had written by the
//! checkpoint a job resumes from.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use super::SinkState;
use crate::sync::lock;

/// Split (e.g. Kafka partition) → position in the connector's notation (next offset).
pub type SplitPositions = BTreeMap<String, String>;

/// Commits the positions of a complete checkpoint where the source's system keeps them.
pub trait PositionCommitter: Send + Sync {
    fn commit(&self, positions: &SplitPositions) -> Result<(), String>;
}

#[derive(Default)]
struct Inner {
    checkpointing: bool,
    restored: HashMap<String, SplitPositions>,
    sinks: HashMap<String, SinkState>,
    committers: HashMap<String, Arc<dyn PositionCommitter>>,
}

/// Shared by a job's connectors (through `ConnectorEnv`) and its checkpoint coordinator.
#[derive(Default)]
pub struct SourcePositions {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for SourcePositions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = lock(&self.inner);
        f.debug_struct("SourcePositions")
            .field("checkpointing", &inner.checkpointing)
            .field("restored", &inner.restored)
            .finish()
    }
}

impl SourcePositions {
    /// Whether the job takes checkpoints: then sources commit positions only when a
    /// checkpoint completes, not as they read.
    pub fn set_checkpointing(&self, on: bool) {
        lock(&self.inner).checkpointing = on;
    }

    pub fn checkpointing(&self) -> bool {
        lock(&self.inner).checkpointing
    }

    /// Where `table` resumes (set from a checkpoint before the job is planned).
    pub fn restore(&self, table: &str, positions: SplitPositions) {
        lock(&self.inner)
            .restored
            .insert(table.to_string(), positions);
    }

    pub fn restored(&self, table: &str) -> Option<SplitPositions> {
        lock(&self.inner).restored.get(table).cloned()
    }

    /// What sink `state.name` had written by the checkpoint the job resumes from. (Two
    /// statements writing one table: their pending files are the table's.)
    pub fn restore_sink(&self, state: SinkState) {
        let mut inner = lock(&self.inner);
        match inner.sinks.get_mut(&state.name) {
            Some(known) => known.pending_files.extend(state.pending_files),
            None => {
                inner.sinks.insert(state.name.clone(), state);
            }
        }
    }

    pub fn restored_sink(&self, table: &str) -> Option<SinkState> {
        lock(&self.inner).sinks.get(table).cloned()
    }

    pub fn register_committer(&self, table: &str, committer: Arc<dyn PositionCommitter>) {
        lock(&self.inner)
            .committers
            .insert(table.to_string(), committer);
    }

    /// Commits `table`'s positions of a complete checkpoint. A failure is logged, not fatal:
    /// the checkpoint itself is what a restart resumes from.
    pub fn commit(&self, table: &str, positions: &SplitPositions) {
        let committer = lock(&self.inner).committers.get(table).cloned();
        if let Some(c) = committer
            && let Err(e) = c.commit(positions)
        {
            tracing::warn!("{table}: committing checkpointed positions failed: {e}");
        }
    }
}
