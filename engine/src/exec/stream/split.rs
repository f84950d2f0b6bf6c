//! Sources that read several independently ordered splits (Kafka partitions) keep one
//! watermark per split, as Flink does per partition: the source's watermark is the smallest
//! of its splits', so a lagging partition's rows are not made late by a faster one. A split
//! silent for the idle timeout stops holding the others back — if it is caught up: a split
//! that still has a backlog to read is behind, not idle (else reading one partition's
//! backlog first would turn the others' rows late). An ended split no longer holds the
//! others back, and its position stays for checkpoints. How a batch names its split:
//! `wire::split`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::wire::SplitTag;

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
    use crate::wire::{ended_marker, untag_split};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

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
