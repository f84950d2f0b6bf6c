//! Checkpoint markers on the way to a sink. A statement that has written its state for a
//! checkpoint sends a *marker* down its sink's channel: an empty batch tagged in its schema
//! metadata (the only thing a batch can carry through a DataFusion sink plan). Every sink of
//! ours writes a batch before it asks for the next one, so once the sink asks for the batch
//! after the marker, everything before the marker is written and the marker is released;
//! the checkpoint waits for that. A sink that fans out (`also_write`) passes a marker of its
//! own to each target and waits for all of them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use tokio::sync::oneshot;

use crate::sync::lock;

const MARKER_METADATA: &str = "sluice.checkpoint.marker";

/// Markers sent and not yet released, by token.
static PENDING: LazyLock<Mutex<HashMap<u64, oneshot::Sender<()>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// Resolves once the sink has written everything sent before its marker.
#[derive(Debug)]
pub struct BarrierAck(oneshot::Receiver<()>);

impl BarrierAck {
    /// Waits for the release; an unreleased marker (its sink failed) never resolves, and the
    /// checkpoint waiting for it times out.
    pub async fn wait(self) {
        let _ = self.0.await;
    }
}

/// A marker for a sink whose rows have `schema`.
pub fn marker_batch(schema: &SchemaRef) -> (RecordBatch, BarrierAck) {
    let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = oneshot::channel();
    lock(&PENDING).insert(token, tx);
    let mut metadata = schema.metadata().clone();
    metadata.insert(MARKER_METADATA.to_string(), token.to_string());
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

/// Everything before marker `token` is written.
pub fn release_marker(token: u64) {
    if let Some(tx) = lock(&PENDING).remove(&token) {
        let _ = tx.send(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    #[tokio::test]
    async fn a_released_marker_acknowledges_and_rows_are_not_markers() {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let (marker, ack) = marker_batch(&schema);
        let token = is_marker(&marker).expect("a marker");
        assert!(is_marker(&RecordBatch::new_empty(Arc::clone(&schema))).is_none());
        release_marker(token);
        ack.wait().await;
        let (marker, ack) = marker_batch(&schema);
        drop(marker);
        // Unreleased: the ack waits (a checkpoint times out), nothing is acknowledged.
        let waited = tokio::time::timeout(std::time::Duration::from_millis(20), ack.wait()).await;
        assert!(waited.is_err());
    }
}
