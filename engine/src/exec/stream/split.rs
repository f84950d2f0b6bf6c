//! Sources that read several independently ordered splits (Kafka partitions) keep one
//! watermark per split, as Flink does per partition: the source's watermark is the smallest
//! of its splits', so a lagging partition's rows are not made late by a faster one. A split
//! silent for the idle timeout stops holding the others back — if it is caught up: a split
//! that still has a backlog to read is behind, not idle (else reading one partition's
//! backlog first would turn the others' rows late).
//!
//! A source tags each batch with its split in the batch's schema metadata (a batch carries
//! nothing else that could say where it came from); the driver reads and strips the tag.
//! An empty tagged batch announces a split; one marked caught up says it has no backlog; one
//! marked ended says the split is read to its end for good (a file of a bounded read): it no
//! longer holds the others back, and its position stays for checkpoints.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

#[derive(Debug)]
struct Split {
    /// The largest watermark value seen.
    watermark: i64,
    /// When it last sent anything.
    last: Instant,
    /// Whether it may count as idle: untagged sources always (they cannot tell), tagged
    /// splits once they said they are caught up, until their next rows.
    may_idle: bool,
    /// Read to its end for good: it holds nothing back.
    ended: bool,
}

/// Watermarks of a source's splits; untagged batches count as one split.
#[derive(Debug, Default)]
pub struct SplitWatermarks {
    splits: HashMap<Option<String>, Split>,
}

impl SplitWatermarks {
    /// The split sent a batch (rows, an announcement or a caught-up marker) at `now`.
    pub fn touch(&mut self, tag: &Option<SplitTag>, rows: usize, now: Instant) {
        let key = tag.as_ref().map(|t| t.split.clone());
        let split = self.splits.entry(key).or_insert(Split {
            watermark: i64::MIN,
            last: now,
            may_idle: tag.is_none(),
            ended: false,
        });
        split.last = now;
        if let Some(t) = tag {
            split.ended |= t.ended;
            if t.caught_up {
                split.may_idle = true;
            } else if rows > 0 {
                split.may_idle = false;
            }
        }
    }

    pub fn observe(&mut self, tag: &Option<SplitTag>, value: i64) {
        let key = tag.as_ref().map(|t| t.split.clone());
        if let Some(split) = self.splits.get_mut(&key) {
            split.watermark = split.watermark.max(value);
        }
    }

    /// Each split's watermark, for a checkpoint.
    pub fn watermarks(&self) -> Vec<(Option<String>, i64)> {
        let mut all: Vec<_> = self
            .splits
            .iter()
            .map(|(k, s)| (k.clone(), s.watermark))
            .collect();
        all.sort();
        all
    }

    /// Takes back a split's checkpointed watermark (it counts as caught up until it sends).
    pub fn restore(&mut self, split: Option<String>, watermark: i64, now: Instant) {
        self.splits.insert(
            split,
            Split {
                watermark,
                last: now,
                may_idle: false,
                ended: false,
            },
        );
    }

    /// The smallest watermark of the splits that are neither ended nor idle (silent for
    /// `idle` and caught up); when none is, the largest (nothing is coming that could be
    /// late).
    pub fn current(&self, now: Instant, idle: Duration) -> i64 {
        let active = self
            .splits
            .values()
            .filter(|s| {
                let idle = s.may_idle && now.duration_since(s.last) >= idle;
                !(s.ended || idle)
            })
            .map(|s| s.watermark)
            .min();
        active.unwrap_or_else(|| {
            self.splits
                .values()
                .map(|s| s.watermark)
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

    fn tag(split: &str, caught_up: bool) -> Option<SplitTag> {
        Some(SplitTag {
            split: split.into(),
            caught_up,
            ended: false,
            position: None,
        })
    }

    #[test]
    fn the_slowest_split_holds_the_watermark_until_it_is_caught_up_and_silent() {
        let t0 = Instant::now();
        let idle = Duration::from_secs(5);
        let mut w = SplitWatermarks::default();
        let (a, b) = (tag("0", false), tag("1", false));
        w.touch(&a, 0, t0);
        w.touch(&b, 0, t0);
        w.touch(&a, 10, t0);
        w.observe(&a, 100);
        assert_eq!(
            w.current(t0, idle),
            i64::MIN,
            "split 1 has sent nothing yet"
        );
        // Split 1 has a backlog (not caught up): however long it is silent, it holds.
        let later = t0 + Duration::from_secs(6);
        w.touch(&a, 10, later);
        w.observe(&a, 200);
        assert_eq!(w.current(later, idle), i64::MIN);
        w.touch(&b, 10, later);
        w.observe(&b, 40);
        assert_eq!(w.current(later, idle), 40);
        // Split 1 is caught up and then silent: split 0 alone decides.
        w.touch(&tag("1", true), 0, later);
        let much_later = later + Duration::from_secs(6);
        w.touch(&a, 10, much_later);
        w.observe(&a, 300);
        assert_eq!(w.current(much_later, idle), 300);
        // Everything silent: the largest.
        assert_eq!(w.current(much_later + Duration::from_secs(10), idle), 300);
    }

    #[test]
    fn an_ended_split_holds_nothing_back_at_once_and_keeps_its_watermark() {
        let t0 = Instant::now();
        let idle = Duration::from_secs(5);
        let mut w = SplitWatermarks::default();
        w.touch(&tag("a.log", false), 10, t0);
        w.observe(&tag("a.log", false), 100);
        w.touch(&tag("b.log", false), 10, t0);
        w.observe(&tag("b.log", false), 300);
        assert_eq!(w.current(t0, idle), 100);
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, false)]));
        let (_, ended) =
            untag_split(ended_marker(&schema, "a.log", "1:2:3").unwrap(), &schema).unwrap();
        assert!(ended.as_ref().is_some_and(|t| t.ended && !t.caught_up));
        assert_eq!(
            ended.as_ref().and_then(|t| t.position.clone()),
            Some("1:2:3".into())
        );
        w.touch(&ended, 0, t0);
        assert_eq!(w.current(t0, idle), 300);
        assert_eq!(
            w.watermarks(),
            vec![(Some("a.log".into()), 100), (Some("b.log".into()), 300)]
        );
    }

    #[test]
    fn an_untagged_source_is_idle_when_silent() {
        let t0 = Instant::now();
        let idle = Duration::from_secs(5);
        let mut w = SplitWatermarks::default();
        w.touch(&None, 10, t0);
        w.observe(&None, 70);
        assert_eq!(w.current(t0, idle), 70);
        assert_eq!(w.current(t0 + Duration::from_secs(6), idle), 70);
    }
}
