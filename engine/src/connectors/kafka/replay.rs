//! Exactly-once writes to a topic across restarts, without Kafka transactions.
//!
//! Why not transactions, as Flink does: a transaction prepared before a crash can only be
//! committed after it by taking over its producer id and epoch, which librdkafka cannot do,
//! so a crash between a checkpoint's manifest and the commit would lose or double an epoch;
//! and every consumer would have to read with `isolation.level=read_committed`, which not
//! every Kafka-protocol broker honours (tansu does not).
//!
//! Instead, at each checkpoint the sink records how far it had written every partition
//! (`KafkaSinkState::positions`). A job that resumes from that checkpoint replays the input after
//! it, and so computes again what the killed run wrote after the checkpoint. Before writing,
//! the sink reads those messages back from the topic; a message the replay would write that
//! equals one of them (same key, same value) is on the topic already and is not written
//! again. Counted as a multiset, the topic then holds every message as often as a run that
//! never stopped would have written it, whatever partition or order the replay takes.
//! Messages read back and not yet matched when the next checkpoint is taken are recorded
//! in it (`KafkaSinkState::unmatched`), so a second crash during the replay stays exact.
//!
//! It takes the sink to be the topic's only writer (Flink's transactional ids take the
//! same), and a replay to write what the first run wrote: true of stateless statements
//! (stream_clean); a window that a replay closes with other rows than the first run did
//! (its input interleaved otherwise) is written as computed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::time::Instant;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{Message, Offset, TopicPartitionList};

use super::KafkaTarget;
use super::client::{REQUEST_TIMEOUT, client_config};
use serde::{Deserialize, Serialize};

use crate::checkpoint::SplitPositions;
use crate::wire::SinkState;

/// What an exactly-once Kafka sink keeps in a checkpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct KafkaSinkState {
    /// Partition → the offset after the last message written by the checkpoint.
    #[serde(default)]
    pub positions: SplitPositions,
    /// Partition → offsets of messages written before a crash that the replay has not
    /// written again yet.
    #[serde(default)]
    pub unmatched: BTreeMap<String, Vec<i64>>,
}

/// A message written before a restart, as read back.
struct Written<'m> {
    key: Option<&'m [u8]>,
    value: &'m [u8],
    partition: i32,
    offset: i64,
}

/// A message's key and value as 128 bits (two independently seeded hashes): what is kept of
/// the messages to match, so that a checkpoint interval's output (millions of messages)
/// takes tens of MB, not its size. Two different messages agree on all 128 bits with a
/// chance of about n²/2¹²⁹ — nil next to a broker losing a write.
#[derive(Default)]
struct Fingerprint(RandomState, RandomState);

impl Fingerprint {
    fn of(&self, key: Option<&[u8]>, value: &[u8]) -> (u64, u64) {
        (self.0.hash_one((key, value)), self.1.hash_one((key, value)))
    }
}

/// The messages written after the checkpoint a job resumed from, as a multiset by key and
/// value. Empty (and free to ask) once the replay has matched them all.
#[derive(Default)]
pub struct Replay {
    fingerprint: Fingerprint,
    /// Fingerprint → where the messages with it are (partition, offset).
    offsets: HashMap<(u64, u64), Vec<(i32, i64)>>,
    len: usize,
    matched: u64,
}

impl Replay {
    fn insert(&mut self, w: Written) {
        let f = self.fingerprint.of(w.key, w.value);
        self.offsets
            .entry(f)
            .or_default()
            .push((w.partition, w.offset));
        self.len += 1;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Messages matched so far (not written twice).
    pub fn matched(&self) -> u64 {
        self.matched
    }

    /// Whether a message with this key and value is on the topic already; if so it now
    /// counts as written by the replay.
    pub fn already_written(&mut self, key: Option<&[u8]>, value: &[u8]) -> bool {
        if self.len == 0 {
            return false;
        }
        let f = self.fingerprint.of(key, value);
        let Some(same) = self.offsets.get_mut(&f) else {
            return false;
        };
        same.pop();
        if same.is_empty() {
            self.offsets.remove(&f);
        }
        self.len -= 1;
        self.matched += 1;
        true
    }

    /// Partition → offsets of the messages not matched yet.
    fn unmatched(&self) -> BTreeMap<String, Vec<i64>> {
        let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for &(partition, offset) in self.offsets.values().flatten() {
            out.entry(partition.to_string()).or_default().push(offset);
        }
        for offsets in out.values_mut() {
            offsets.sort_unstable();
        }
        out
    }
}

/// What an exactly-once sink knows of its topic: where every partition stood when it
/// started (the end, after the messages of a killed run), and what to match in a replay.
pub struct WrittenLog {
    start: BTreeMap<i32, i64>,
    pub replay: Replay,
}

impl WrittenLog {
    /// Reads where the topic ends and, when the job resumes from a checkpoint (`restored`:
    /// what this sink had written by it), the messages written after it. Blocking.
    pub fn open(
        target: &KafkaTarget,
        restored: Option<&KafkaSinkState>,
    ) -> Result<Self, KafkaError> {
        // Partition → (the checkpoint's offset, offsets before it not matched yet).
        let mut wanted: HashMap<i32, (i64, HashSet<i64>)> = HashMap::new();
        if let Some(state) = restored {
            for (p, at) in &state.positions {
                if let (Ok(p), Ok(at)) = (p.parse::<i32>(), at.parse::<i64>()) {
                    wanted.insert(p, (at, HashSet::new()));
                }
            }
            for (p, offsets) in &state.unmatched {
                let Ok(p) = p.parse::<i32>() else { continue };
                let entry = wanted.entry(p).or_insert((i64::MAX, HashSet::new()));
                entry.1.extend(offsets);
            }
        }
        // Each partition is read from the first of those.
        let from: BTreeMap<i32, i64> = wanted
            .iter()
            .map(|(&p, (at, extra))| (p, extra.iter().copied().fold(*at, i64::min)))
            .collect();
        let mut replay = Replay::default();
        // Without a checkpoint nothing is matched: the read only finds where the topic ends
        // (from the listed end, which some brokers give as the last batch's first offset).
        // A partition the checkpoint does not know was added since: all of it is new.
        let keep = |p: i32, offset: i64| match wanted.get(&p) {
            Some((at, extra)) => offset >= *at || extra.contains(&offset),
            None => restored.is_some(),
        };
        let start = read_to_end(target, &from, restored.is_some(), keep, |w| {
            replay.insert(w)
        })?;
        if restored.is_some() {
            tracing::info!(
                "{}: {} messages on topic '{}' were written after the checkpoint; the replay \
                 does not write them again",
                target.name,
                replay.len(),
                target.topic
            );
        }
        Ok(WrittenLog { start, replay })
    }

    /// What to record at a checkpoint, `written` being what the producer has had
    /// acknowledged since the start.
    pub fn state(&self, name: &str, written: &BTreeMap<i32, i64>) -> SinkState {
        let mut positions: BTreeMap<i32, i64> = self.start.clone();
        for (&p, &next) in written {
            let at = positions.entry(p).or_insert(next);
            *at = (*at).max(next);
        }
        let own = KafkaSinkState {
            positions: positions
                .into_iter()
                .map(|(p, at)| (p.to_string(), at.to_string()))
                .collect::<SplitPositions>(),
            unmatched: self.replay.unmatched(),
        };
        SinkState::of(name, &own)
    }
}

/// Reads every partition of the topic to its end: from `from` (a partition not in it from
/// its beginning, or, unless `from_beginning`, from its listed end), handing the messages
/// `keep` selects to `found`. Returns partition → the offset after its last message.
fn read_to_end(
    target: &KafkaTarget,
    from: &BTreeMap<i32, i64>,
    from_beginning: bool,
    keep: impl Fn(i32, i64) -> bool,
    mut found: impl FnMut(Written),
) -> Result<BTreeMap<i32, i64>, KafkaError> {
    let mut config = client_config(&target.brokers, &target.properties);
    // Reading back is not consuming: no group offsets move.
    config
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true");
    let consumer: BaseConsumer = config.create()?;
    let metadata = consumer.fetch_metadata(Some(&target.topic), REQUEST_TIMEOUT)?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == target.topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    let mut assignment = TopicPartitionList::new();
    let mut ends = BTreeMap::new();
    for &p in &partitions {
        let (low, high) = consumer.fetch_watermarks(&target.topic, p, REQUEST_TIMEOUT)?;
        let start = match from.get(&p) {
            Some(&at) => at.max(low),
            None if from_beginning => low,
            None => high,
        };
        assignment.add_partition_offset(&target.topic, p, Offset::Offset(start))?;
        ends.insert(p, start);
    }
    consumer.assign(&assignment)?;
    let mut open: HashSet<i32> = partitions.iter().copied().collect();
    let mut last_progress = Instant::now();
    while !open.is_empty() {
        match consumer.poll(REQUEST_TIMEOUT / 10) {
            Some(Ok(m)) => {
                last_progress = Instant::now();
                let (p, offset) = (m.partition(), m.offset());
                ends.insert(p, offset + 1);
                if keep(p, offset) {
                    found(Written {
                        key: m.key(),
                        value: m.payload().unwrap_or_default(),
                        partition: p,
                        offset,
                    });
                }
            }
            Some(Err(KafkaError::PartitionEOF(p))) => {
                last_progress = Instant::now();
                open.remove(&p);
            }
            Some(Err(e)) => tracing::warn!(
                "{}: reading back topic '{}': {e}",
                target.name,
                target.topic
            ),
            None if last_progress.elapsed() > REQUEST_TIMEOUT => {
                return Err(KafkaError::MessageConsumption(
                    rdkafka::error::RDKafkaErrorCode::OperationTimedOut,
                ));
            }
            None => {}
        }
    }
    Ok(ends)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written<'m>(
        key: Option<&'m str>,
        value: &'m str,
        partition: i32,
        offset: i64,
    ) -> Written<'m> {
        Written {
            key: key.map(str::as_bytes),
            value: value.as_bytes(),
            partition,
            offset,
        }
    }

    #[test]
    fn each_message_on_the_topic_is_matched_once() {
        let mut replay = Replay::default();
        assert!(!replay.already_written(None, b"a"));
        replay.insert(written(Some("k"), "a", 0, 10));
        replay.insert(written(Some("k"), "a", 1, 11));
        replay.insert(written(None, "b", 2, 12));
        // Key and value both count.
        assert!(!replay.already_written(None, b"a"));
        assert!(!replay.already_written(Some(b"j"), b"a"));
        assert!(replay.already_written(Some(b"k"), b"a"));
        assert_eq!(replay.len(), 2);
        assert!(replay.already_written(Some(b"k"), b"a"));
        // A third equal message is a new one: the topic holds two.
        assert!(!replay.already_written(Some(b"k"), b"a"));
        assert_eq!(
            replay.unmatched(),
            BTreeMap::from([("2".to_string(), vec![12])])
        );
        assert!(replay.already_written(None, b"b"));
        assert!(replay.is_empty());
        assert_eq!(replay.matched(), 3);
    }

    #[test]
    fn the_state_holds_the_furthest_offsets_and_what_is_unmatched() {
        let mut log = WrittenLog {
            start: BTreeMap::from([(0, 5), (1, 7)]),
            replay: Replay::default(),
        };
        log.replay.insert(written(None, "x", 1, 6));
        let state = log.state("events", &BTreeMap::from([(1, 9), (2, 1)]));
        assert_eq!(state.name, "events");
        let state: KafkaSinkState = state.decode().unwrap();
        assert_eq!(
            state.positions,
            SplitPositions::from([
                ("0".into(), "5".into()),
                ("1".into(), "9".into()),
                ("2".into(), "1".into())
            ])
        );
        assert_eq!(
            state.unmatched,
            BTreeMap::from([("1".to_string(), vec![6])])
        );
    }
}
