//! Sources that read several independently ordered splits (Kafka partitions) keep one
//! watermark per split, as Flink does per partition: the source's watermark is the smallest
//! of its splits', so a lagging partition's rows are not made late by a faster one. A split
//! silent for the idle timeout stops holding the others back.
//!
//! A source tags each batch with its split in the batch's schema metadata (a batch carries
//! nothing else that could say where it came from); the driver reads and strips the tag.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;

const SPLIT_METADATA: &str = "sluice.split";

/// Marks `batch` as read from `split`.
pub fn tag_split(batch: RecordBatch, split: &str) -> Result<RecordBatch, ArrowError> {
    let mut metadata = batch.schema().metadata().clone();
    metadata.insert(SPLIT_METADATA.to_string(), split.to_string());
    let schema = Arc::new(batch.schema().as_ref().clone().with_metadata(metadata));
    batch.with_schema(schema)
}

/// The split a batch was tagged with, and the batch with the plan's own schema again.
pub fn untag_split(
    batch: RecordBatch,
    schema: &SchemaRef,
) -> Result<(RecordBatch, Option<String>), ArrowError> {
    let Some(split) = batch.schema().metadata().get(SPLIT_METADATA).cloned() else {
        return Ok((batch, None));
    };
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    let batch =
        RecordBatch::try_new_with_options(Arc::clone(schema), batch.columns().to_vec(), &options)?;
    Ok((batch, Some(split)))
}

/// Watermarks of a source's splits; untagged batches count as one split.
#[derive(Debug, Default)]
pub struct SplitWatermarks {
    /// Per split: the largest watermark value seen and when it last sent rows.
    splits: HashMap<Option<String>, (i64, Instant)>,
}

impl SplitWatermarks {
    /// The split sent a batch (rows or an empty announcement) at `now`.
    pub fn touch(&mut self, split: &Option<String>, now: Instant) {
        self.splits
            .entry(split.clone())
            .and_modify(|(_, last)| *last = now)
            .or_insert((i64::MIN, now));
    }

    pub fn observe(&mut self, split: &Option<String>, value: i64, now: Instant) {
        let entry = self.splits.entry(split.clone()).or_insert((i64::MIN, now));
        entry.0 = entry.0.max(value);
        entry.1 = now;
    }

    /// The smallest watermark of the splits active within `idle` of `now`; when all are
    /// idle, the largest (nothing is coming that could be late).
    pub fn current(&self, now: Instant, idle: Duration) -> i64 {
        let active = self
            .splits
            .values()
            .filter(|(_, last)| now.duration_since(*last) < idle)
            .map(|(w, _)| *w)
            .min();
        active.unwrap_or_else(|| {
            self.splits
                .values()
                .map(|(w, _)| *w)
                .max()
                .unwrap_or(i64::MIN)
        })
    }
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
        let tagged = tag_split(batch.clone(), "3").unwrap();
        let (back, split) = untag_split(tagged, &schema).unwrap();
        assert_eq!(split.as_deref(), Some("3"));
        assert_eq!(back.schema(), schema);
        assert_eq!(back, batch);
        let (same, none) = untag_split(batch.clone(), &schema).unwrap();
        assert_eq!((same, none), (batch, None));
    }

    #[test]
    fn the_slowest_active_split_holds_the_watermark() {
        let t0 = Instant::now();
        let idle = Duration::from_secs(5);
        let mut w = SplitWatermarks::default();
        let (a, b) = (Some("0".to_string()), Some("1".to_string()));
        w.touch(&a, t0);
        w.touch(&b, t0);
        w.observe(&a, 100, t0);
        assert_eq!(
            w.current(t0, idle),
            i64::MIN,
            "split 1 has sent nothing yet"
        );
        w.observe(&b, 40, t0);
        assert_eq!(w.current(t0, idle), 40);
        // Split 1 goes silent: after the idle timeout split 0 alone decides.
        let later = t0 + Duration::from_secs(6);
        w.observe(&a, 200, later);
        assert_eq!(w.current(later, idle), 200);
        // Everything silent: the largest.
        assert_eq!(w.current(later + Duration::from_secs(10), idle), 200);
    }
}
