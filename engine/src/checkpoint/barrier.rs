//! Checkpoint markers on the way to a sink. A statement that has written its state for a
//! checkpoint sends a *marker* down its sink's channel: an empty batch tagged in its schema
//! metadata (the only thing a batch can carry through a DataFusion sink plan). Every sink of
//! ours writes a batch before it asks for the next one, so once the sink asks for the batch
//! after the marker, everything before the marker is written and the marker is released;
//! the checkpoint waits for that. A sink that fans out (`also_write`) passes a marker of its
//! own to each target and waits for all of them. A sink that has to remember how far it had
//! written attaches that to the marker before it asks for more; the release carries it to
//! the checkpoint.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use tokio::sync::oneshot;

use super::SinkState;
use crate::sync::lock;

const MARKER_METADATA: &str = "sluice.checkpoint.marker";
const CHECKPOINT_METADATA: &str = "sluice.checkpoint.id";

/// A marker sent and not yet released, and the sink states attached to it.
struct Pending {
    release: oneshot::Sender<Vec<SinkState>>,
    states: Vec<SinkState>,
}

/// Markers sent and not yet released, by token.
static PENDING: LazyLock<Mutex<HashMap<u64, Pending>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// Resolves once the sink has written everything sent before its marker.
#[derive(Debug)]
pub struct BarrierAck(oneshot::Receiver<Vec<SinkState>>);

impl BarrierAck {
    /// Waits for the release and returns what the sinks attached; an unreleased marker (its
    /// sink failed) never resolves, and the checkpoint waiting for it times out.
    pub async fn wait(self) -> Vec<SinkState> {
        self.0.await.unwrap_or_default()
    }
}

/// A marker of checkpoint `checkpoint` for a sink whose rows have `schema`.
pub fn marker_batch(schema: &SchemaRef, checkpoint: u64) -> (RecordBatch, BarrierAck) {
    let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = oneshot::channel();
    lock(&PENDING).insert(
        token,
        Pending {
            release: tx,
            states: Vec::new(),
        },
    );
    let mut metadata = schema.metadata().clone();
    metadata.insert(MARKER_METADATA.to_string(), token.to_string());
    metadata.insert(CHECKPOINT_METADATA.to_string(), checkpoint.to_string());
    let schema = Arc::new(schema.as_ref().clone().with_metadata(metadata));
    (RecordBatch::new_empty(schema), BarrierAck(rx))
}

/// The token of a marker batch; `None` for rows.
pub fn is_marker(batch: &RecordBatch) -> Option<u64> {
    if batch.num_rows() != 0 {
        return None;
    }
    batch
        .schema_ref()
        .metadata()
        .get(MARKER_METADATA)
        .and_then(|t| t.parse().ok())
}

/// The checkpoint a marker belongs to.
pub fn marker_checkpoint(batch: &RecordBatch) -> Option<u64> {
    is_marker(batch)?;
    batch
        .schema_ref()
        .metadata()
        .get(CHECKPOINT_METADATA)
        .and_then(|t| t.parse().ok())
}

/// What a sink had written by marker `token`, for the checkpoint.
pub fn attach_sink_state(token: u64, state: SinkState) {
    if let Some(p) = lock(&PENDING).get_mut(&token) {
        p.states.push(state);
    }
}

/// Everything before marker `token` is written.
pub fn release_marker(token: u64) {
    if let Some(p) = lock(&PENDING).remove(&token) {
        let _ = p.release.send(p.states);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    #[tokio::test]
    async fn a_released_marker_acknowledges_and_rows_are_not_markers() {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let (marker, ack) = marker_batch(&schema, 7);
        let token = is_marker(&marker).expect("a marker");
        assert_eq!(marker_checkpoint(&marker), Some(7));
        assert!(is_marker(&RecordBatch::new_empty(Arc::clone(&schema))).is_none());
        let state = SinkState {
            name: "t".into(),
            ..SinkState::default()
        };
        attach_sink_state(token, state.clone());
        release_marker(token);
        assert_eq!(ack.wait().await, vec![state]);
        let (marker, ack) = marker_batch(&schema, 8);
        drop(marker);
        // Unreleased: the ack waits (a checkpoint times out), nothing is acknowledged.
        let waited = tokio::time::timeout(std::time::Duration::from_millis(20), ack.wait()).await;
        assert!(waited.is_err());
    }
}
