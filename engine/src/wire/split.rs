//! Split tags: how a source's rows say which split (Kafka partition, file) they were read
//! from and where reading goes on after them, across the DataFusion scan that carries them
//! (a scan yields batches and nothing else, so the tag rides in the batch's schema
//! metadata). The source driver reads and strips the tag (`untag_split`). An empty tagged
//! batch announces a split; one marked caught up says it has no backlog; one marked ended
//! says the split is read to its end for good (a file of a bounded read).

use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;

const SPLIT_METADATA: &str = "sluice.split";
const CAUGHT_UP_METADATA: &str = "sluice.split.caught_up";
const POSITION_METADATA: &str = "sluice.split.position";
const ENDED_METADATA: &str = "sluice.split.ended";

/// Marks `batch` as read from `split`, which reads on at `position` (for checkpoints; in the
/// connector's notation, e.g. the next Kafka offset).
pub fn tag_split(
    batch: RecordBatch,
    split: &str,
    position: Option<&str>,
) -> Result<RecordBatch, ArrowError> {
    tag(batch, split, position, "")
}

/// An empty batch saying `split` has been read to its end for now.
pub fn caught_up_marker(schema: &SchemaRef, split: &str) -> Result<RecordBatch, ArrowError> {
    tag(
        RecordBatch::new_empty(Arc::clone(schema)),
        split,
        None,
        CAUGHT_UP_METADATA,
    )
}

/// An empty batch saying `split` is read to its end for good, at `position`.
pub fn ended_marker(
    schema: &SchemaRef,
    split: &str,
    position: &str,
) -> Result<RecordBatch, ArrowError> {
    tag(
        RecordBatch::new_empty(Arc::clone(schema)),
        split,
        Some(position),
        ENDED_METADATA,
    )
}

/// Tags `batch` with its split, its position, and the flag `flag` (if not empty).
fn tag(
    batch: RecordBatch,
    split: &str,
    position: Option<&str>,
    flag: &str,
) -> Result<RecordBatch, ArrowError> {
    let mut metadata = batch.schema().metadata().clone();
    metadata.insert(SPLIT_METADATA.to_string(), split.to_string());
    if let Some(p) = position {
        metadata.insert(POSITION_METADATA.to_string(), p.to_string());
    }
    if !flag.is_empty() {
        metadata.insert(flag.to_string(), "true".to_string());
    }
    let schema = Arc::new(batch.schema().as_ref().clone().with_metadata(metadata));
    batch.with_schema(schema)
}

/// Where a batch came from, as its source tagged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitTag {
    pub split: String,
    pub caught_up: bool,
    pub ended: bool,
    pub position: Option<String>,
}

/// The tag of a batch, and the batch with the plan's own schema again.
pub fn untag_split(
    batch: RecordBatch,
    schema: &SchemaRef,
) -> Result<(RecordBatch, Option<SplitTag>), ArrowError> {
    let metadata = batch.schema_ref().metadata();
    let Some(split) = metadata.get(SPLIT_METADATA).cloned() else {
        return Ok((batch, None));
    };
    let caught_up = metadata.contains_key(CAUGHT_UP_METADATA);
    let ended = metadata.contains_key(ENDED_METADATA);
    let position = metadata.get(POSITION_METADATA).cloned();
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    let batch =
        RecordBatch::try_new_with_options(Arc::clone(schema), batch.columns().to_vec(), &options)?;
    Ok((
        batch,
        Some(SplitTag {
            split,
            caught_up,
            ended,
            position,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    #[test]
    fn tags_survive_to_the_driver_and_are_stripped() {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, false)]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![Arc::new(Int64Array::from(vec![1, 2]))],
        )
        .unwrap();
        let tagged = tag_split(batch.clone(), "3", Some("42")).unwrap();
        let (back, tag) = untag_split(tagged, &schema).unwrap();
        let expected = SplitTag {
            split: "3".into(),
            caught_up: false,
            ended: false,
            position: Some("42".into()),
        };
        assert_eq!(tag, Some(expected));
        assert_eq!(back.schema(), schema);
        assert_eq!(back, batch);
        let (marker, tag) = untag_split(caught_up_marker(&schema, "3").unwrap(), &schema).unwrap();
        assert_eq!(marker.num_rows(), 0);
        assert!(tag.unwrap().caught_up);
        let (same, none) = untag_split(batch.clone(), &schema).unwrap();
        assert_eq!((same, none), (batch, None));
    }
}
