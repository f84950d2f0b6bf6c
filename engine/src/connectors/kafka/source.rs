//! Reading a topic: one consumer assigned every partition (as Flink's KafkaSource, without
//! group rebalancing), polled on a blocking thread. Rows are batched per partition and each
//! batch is tagged with its partition, so the stream runtime keeps a watermark per partition
//! (a partition that lags does not see its rows turned late by a faster one).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::physical_plan::streaming::PartitionStream;
use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::BorrowedMessage;
use rdkafka::{ClientContext, Statistics};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::mpsc::Sender;

use super::client::{REQUEST_TIMEOUT, client_config};
use super::{KafkaTarget, StartupMode};
use crate::checkpoint::{PositionCommitter, SourcePositions, SplitPositions};
use crate::connectors::records::RecordBuffer;
use crate::job::metrics::SourceMetrics;
use crate::wire::{caught_up_marker, tag_split};

/// How often offsets are committed when a job's checkpoints turned out to be off (as
/// librdkafka's `auto.commit.interval.ms`).
const UNCHECKPOINTED_COMMIT_EVERY: Duration = Duration::from_secs(5);

/// How often librdkafka reports its statistics, whose per-partition consumer lag the
/// source's metrics keep (`sluice_kafka_consumer_lag`).
const LAG_EVERY_MS: &str = "5000";

/// A source's consumer: its context keeps the lag librdkafka reports in the metrics.
type SourceConsumer = BaseConsumer<LagReporter>;

struct LagReporter {
    topic: String,
    metrics: Arc<SourceMetrics>,
}

impl ClientContext for LagReporter {
    fn stats(&self, statistics: Statistics) {
        let Some(topic) = statistics.topics.get(&self.topic) else {
            return;
        };
        for (&partition, figures) in &topic.partitions {
            // Partition -1 is librdkafka's own (unassigned messages); a lag of -1 is unknown.
            if partition >= 0 && figures.consumer_lag >= 0 {
                self.metrics.set_lag(partition, figures.consumer_lag);
            }
        }
    }
}

impl ConsumerContext for LagReporter {}

/// The single DataFusion partition of a Kafka table (all Kafka partitions, one consumer).
#[derive(Debug)]
pub struct KafkaPartition {
    pub target: KafkaTarget,
    pub startup: StartupMode,
    pub bounded: bool,
    pub linger: Duration,
    pub commit: Commit,
    /// Stream mode: tag each batch with its Kafka partition and the offset it reads on from
    /// (see `exec::stream::tag_split`).
    pub tag_partitions: bool,
    pub metrics: Arc<SourceMetrics>,
    /// Where a restarted job resumes, and where checkpointed offsets are committed.
    pub positions: Arc<SourcePositions>,
}

/// Which offsets a source commits to its consumer group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// None (a bounded batch read is a query, not a consumer).
    Never,
    /// What it has read, as it goes (librdkafka's auto-commit): a job without checkpoints.
    AsRead,
    /// The offsets of each complete checkpoint.
    OnCheckpoint,
}

impl PartitionStream for KafkaPartition {
    fn schema(&self) -> &SchemaRef {
        &self.target.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batch_size = ctx.session_config().batch_size().max(1);
        let mut builder = RecordBatchReceiverStream::builder(Arc::clone(&self.target.schema), 2);
        let tx = builder.tx();
        let reader = Reader {
            target: self.target.clone(),
            startup: self.startup,
            bounded: self.bounded,
            linger: self.linger,
            commit: self.commit,
            tag_partitions: self.tag_partitions,
            metrics: Arc::clone(&self.metrics),
            positions: Arc::clone(&self.positions),
            batch_size,
            tx,
        };
        // librdkafka's poll blocks: keep it off the async workers.
        builder.spawn_blocking(move || reader.run());
        builder.build()
    }
}

struct Reader {
    target: KafkaTarget,
    startup: StartupMode,
    bounded: bool,
    linger: Duration,
    commit: Commit,
    tag_partitions: bool,
    metrics: Arc<SourceMetrics>,
    positions: Arc<SourcePositions>,
    batch_size: usize,
    tx: Sender<Result<RecordBatch>>,
}

/// Rows of one Kafka partition waiting to go out.
struct Pending {
    records: RecordBuffer,
    since: Option<Instant>,
    /// Bounded reads: this partition has been read to its end.
    done: bool,
    /// The offset after the last record read.
    next: i64,
}

impl Reader {
    fn run(self) -> Result<()> {
        let consumer = Arc::new(self.consumer()?);
        let Some(partitions) = self.partitions(&consumer)? else {
            return Ok(());
        };
        if self.commit == Commit::OnCheckpoint {
            self.positions.register_committer(
                &self.target.name,
                Arc::new(OffsetCommitter {
                    consumer: Arc::clone(&consumer),
                    target: self.target.clone(),
                }),
            );
        }
        let Some(mut pending) = self.assign(&consumer, &partitions)? else {
            return Ok(());
        };
        tracing::info!(
            "{}: reading topic '{}' ({} partitions{}) from {}",
            self.target.name,
            self.target.topic,
            partitions.len(),
            if self.bounded {
                ", up to the current end"
            } else {
                ""
            },
            self.target.brokers
        );
        if self.read(&consumer, &mut pending)? {
            self.flush_where(&mut pending, |_| true)?;
        }
        Ok(())
    }

    /// Assigns the consumer `partitions`, each from where it starts (the checkpoint's
    /// offset, or the startup mode's); their rows-to-be, or `None` if the scan went away.
    fn assign(
        &self,
        consumer: &SourceConsumer,
        partitions: &[i32],
    ) -> Result<Option<HashMap<i32, Pending>>> {
        let restored = self.positions.restored(&self.target.name);
        let mut assignment = TopicPartitionList::new();
        let mut pending: HashMap<i32, Pending> = HashMap::new();
        for &p in partitions {
            let (low, high) = consumer
                .fetch_watermarks(&self.target.topic, p, REQUEST_TIMEOUT)
                .map_err(|e| self.target.error("reading partition offsets", e))?;
            let start = match restored.as_ref().and_then(|r| r.get(&p.to_string())) {
                Some(at) => self.resume_offset(p, at, low)?,
                None => self.start_offset(consumer, p, low, high)?,
            };
            assignment
                .add_partition_offset(&self.target.topic, p, Offset::Offset(start))
                .map_err(|e| self.target.error("assigning partitions", e))?;
            pending.insert(
                p,
                Pending {
                    records: RecordBuffer::new(Arc::clone(&self.target.schema), self.target.format),
                    since: None,
                    done: self.bounded && start >= high,
                    next: start,
                },
            );
            // An empty batch makes the partition known to the watermark before it has rows.
            if self.tag_partitions
                && !self.send(
                    RecordBatch::new_empty(Arc::clone(&self.target.schema)),
                    p,
                    start,
                )
            {
                return Ok(None);
            }
        }
        consumer
            .assign(&assignment)
            .map_err(|e| self.target.error("assigning partitions", e))?;
        Ok(Some(pending))
    }

    /// Polls and sends batches until a bounded read is done (`true`) or the scan went
    /// away (`false`).
    fn read(&self, consumer: &SourceConsumer, pending: &mut HashMap<i32, Pending>) -> Result<bool> {
        let poll_wait = self.linger.min(Duration::from_millis(100));
        let mut last_commit = Instant::now();
        loop {
            if self.bounded && pending.values().all(|p| p.done) {
                return Ok(true);
            }
            // The job meant to checkpoint, but checkpoints are off after all (another source
            // cannot say how far it has read): commit what was sent, as auto-commit would.
            if self.commit == Commit::OnCheckpoint
                && last_commit.elapsed() >= UNCHECKPOINTED_COMMIT_EVERY
                && !self.positions.checkpointing()
            {
                last_commit = Instant::now();
                self.commit_sent(consumer, pending);
            }
            let going = match consumer.poll(poll_wait) {
                Some(Ok(message)) => self.take(&message, pending)?,
                Some(Err(KafkaError::PartitionEOF(p))) => self.caught_up(p, pending)?,
                Some(Err(e)) => {
                    // librdkafka retries on its own (a broker that went away, a leader change):
                    // say so and keep polling.
                    tracing::warn!(
                        "{}: {}",
                        self.target.name,
                        self.target.error("consuming", e)
                    );
                    true
                }
                None => {
                    // Nothing more right now: what is gathered goes out.
                    if !self.flush_where(pending, |_| true)? || self.tx.is_closed() {
                        return Ok(false);
                    }
                    continue;
                }
            };
            if !going {
                return Ok(false);
            }
            let now = Instant::now();
            let lingered = |part: &Pending| {
                part.since
                    .is_some_and(|t| now.duration_since(t) >= self.linger)
            };
            if !self.flush_where(pending, lingered)? {
                return Ok(false);
            }
        }
    }

    /// Adds a record to its partition's rows, sending them when a batch is full; `false`
    /// if the scan went away.
    fn take(
        &self,
        message: &BorrowedMessage<'_>,
        pending: &mut HashMap<i32, Pending>,
    ) -> Result<bool> {
        let p = message.partition();
        let Some(part) = pending.get_mut(&p) else {
            return Ok(true);
        };
        if part.done {
            return Ok(true);
        }
        let payload = message.payload().unwrap_or_default();
        self.metrics
            .bytes
            .fetch_add(payload.len() as u64, Ordering::Relaxed);
        part.records.push(payload);
        part.next = message.offset() + 1;
        part.since.get_or_insert_with(Instant::now);
        if part.records.len() >= self.batch_size {
            return self.flush(p, part);
        }
        Ok(true)
    }

    /// Partition `p` is read up to its end for now; `false` if the scan went away.
    fn caught_up(&self, p: i32, pending: &mut HashMap<i32, Pending>) -> Result<bool> {
        // A bounded read ends where the consumer catches up with the partition. Not at the
        // end offset listed at start: some Kafka-protocol brokers (tansu) list the last
        // batch's first offset there, which would cut that batch short.
        if let Some(part) = pending.get_mut(&p) {
            part.done = self.bounded;
            if !self.flush(p, part)? {
                return Ok(false);
            }
        }
        // Caught up: from now on this partition may count as idle.
        if self.tag_partitions {
            let marker = caught_up_marker(&self.target.schema, &p.to_string());
            return Ok(self
                .tx
                .blocking_send(marker.map_err(DataFusionError::from))
                .is_ok());
        }
        Ok(true)
    }

    /// Commits, without waiting, the offsets after the rows sent of every partition that
    /// has none gathered.
    fn commit_sent(&self, consumer: &SourceConsumer, pending: &HashMap<i32, Pending>) {
        let sent = pending
            .iter()
            .filter(|(_, part)| part.records.is_empty())
            .map(|(&p, part)| (p, part.next));
        if let Err(e) = commit_offsets(consumer, &self.target, sent, CommitMode::Async) {
            tracing::warn!("{e}");
        }
    }

    fn consumer(&self) -> Result<SourceConsumer> {
        let mut config = client_config(&self.target.brokers, &self.target.properties);
        // Committed offsets follow what was read (unless the table says otherwise), or only
        // what was checkpointed; bounded reads commit nothing.
        match self.commit {
            Commit::AsRead => {
                if !config.config_map().contains_key("enable.auto.commit") {
                    config.set("enable.auto.commit", "true");
                }
            }
            Commit::Never | Commit::OnCheckpoint => {
                config.set("enable.auto.commit", "false");
            }
        }
        // End of partition: where a bounded read stops, and where a stream's partition is
        // caught up (may count as idle).
        config.set("enable.partition.eof", "true");
        config.set("statistics.interval.ms", LAG_EVERY_MS);
        let lag = LagReporter {
            topic: self.target.topic.clone(),
            metrics: Arc::clone(&self.metrics),
        };
        config
            .create_with_context(lag)
            .map_err(|e| self.target.error("creating the consumer", e))
    }

    /// The topic's partitions. A stream waits for a topic that does not exist yet (its
    /// producer may start later); a bounded read fails. `None`: the reader was dropped.
    fn partitions(&self, consumer: &SourceConsumer) -> Result<Option<Vec<i32>>> {
        let mut warned = false;
        loop {
            let metadata = consumer.fetch_metadata(Some(&self.target.topic), REQUEST_TIMEOUT);
            let found = match &metadata {
                Ok(m) => m
                    .topics()
                    .iter()
                    .find(|t| t.name() == self.target.topic && t.error().is_none())
                    .map(|t| t.partitions().iter().map(|p| p.id()).collect::<Vec<_>>())
                    .filter(|p| !p.is_empty()),
                Err(_) => None,
            };
            if let Some(mut partitions) = found {
                partitions.sort_unstable();
                return Ok(Some(partitions));
            }
            let why = match metadata {
                Err(e) => e.to_string(),
                Ok(_) => "no such topic".to_string(),
            };
            if self.bounded {
                return Err(self.target.error("reading the topic", why));
            }
            if !warned {
                tracing::warn!(
                    "{}: waiting for topic '{}' at {}: {why}",
                    self.target.name,
                    self.target.topic,
                    self.target.brokers
                );
                warned = true;
            }
            if self.tx.is_closed() {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    fn start_offset(
        &self,
        consumer: &SourceConsumer,
        partition: i32,
        low: i64,
        high: i64,
    ) -> Result<i64> {
        let topic = &self.target.topic;
        let offset = match self.startup {
            StartupMode::Earliest => low,
            StartupMode::Latest => high,
            StartupMode::GroupOffsets => {
                let mut tpl = TopicPartitionList::new();
                tpl.add_partition(topic, partition);
                let committed = consumer
                    .committed_offsets(tpl, REQUEST_TIMEOUT)
                    .map_err(|e| {
                        self.target
                            .error("reading the group's committed offsets", e)
                    })?;
                match committed
                    .find_partition(topic, partition)
                    .map(|e| e.offset())
                {
                    Some(Offset::Offset(o)) => o,
                    _ => low,
                }
            }
            StartupMode::Timestamp(ms) => {
                let mut tpl = TopicPartitionList::new();
                tpl.add_partition_offset(topic, partition, Offset::Offset(ms))
                    .map_err(|e| self.target.error("looking up offsets by time", e))?;
                let found = consumer
                    .offsets_for_times(tpl, REQUEST_TIMEOUT)
                    .map_err(|e| self.target.error("looking up offsets by time", e))?;
                match found.find_partition(topic, partition).map(|e| e.offset()) {
                    Some(Offset::Offset(o)) => o,
                    // No message at or after the time: start at the end.
                    _ => high,
                }
            }
        };
        Ok(offset.clamp(low, high))
    }

    /// Where a partition resumes after a restart: the checkpoint's offset. Records deleted
    /// since (retention) cannot be read again: that is said, and reading starts at the
    /// oldest one left.
    fn resume_offset(&self, partition: i32, at: &str, low: i64) -> Result<i64> {
        let offset: i64 = at.parse().map_err(|_| {
            self.target.error(
                "resuming from a checkpoint",
                format!("partition {partition}: '{at}' is not an offset"),
            )
        })?;
        if offset < low {
            tracing::warn!(
                "{}: topic '{}' partition {partition}: the checkpoint resumes at offset {offset}, \
                 but the oldest record left is {low}; {} records are gone",
                self.target.name,
                self.target.topic,
                low - offset
            );
            return Ok(low);
        }
        Ok(offset)
    }

    /// Sends the gathered rows of every partition `which` selects; false when nobody reads
    /// any more.
    fn flush_where(
        &self,
        pending: &mut HashMap<i32, Pending>,
        which: impl Fn(&Pending) -> bool,
    ) -> Result<bool> {
        for (&p, part) in pending.iter_mut() {
            if !part.records.is_empty() && which(part) && !self.flush(p, part)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Sends the partition's rows; false when nobody reads any more.
    fn flush(&self, partition: i32, part: &mut Pending) -> Result<bool> {
        part.since = None;
        if part.records.is_empty() {
            return Ok(true);
        }
        let origin = format!(
            "{}: topic '{}' partition {partition}",
            self.target.name, self.target.topic
        );
        let (batch, _skipped) = part.records.finish(&origin)?;
        self.metrics
            .rows
            .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        Ok(self.send(batch, partition, part.next))
    }

    fn send(&self, batch: RecordBatch, partition: i32, next: i64) -> bool {
        let batch = if self.tag_partitions {
            tag_split(batch, &partition.to_string(), Some(&next.to_string()))
                .map_err(DataFusionError::from)
        } else {
            Ok(batch)
        };
        self.tx.blocking_send(batch).is_ok()
    }
}

/// Commits checkpointed offsets to the consumer group, through the reading consumer (it is
/// assigned the partitions, so the group accepts its commits).
struct OffsetCommitter {
    consumer: Arc<SourceConsumer>,
    target: super::KafkaTarget,
}

impl PositionCommitter for OffsetCommitter {
    fn commit(&self, positions: &SplitPositions) -> std::result::Result<(), String> {
        let offsets = positions
            .iter()
            .filter_map(|(p, o)| Some((p.parse::<i32>().ok()?, o.parse::<i64>().ok()?)));
        commit_offsets(&self.consumer, &self.target, offsets, CommitMode::Sync)
    }
}

/// Commits `offsets` (partition, next offset) of `target`'s topic to the consumer group.
fn commit_offsets(
    consumer: &SourceConsumer,
    target: &KafkaTarget,
    offsets: impl IntoIterator<Item = (i32, i64)>,
    mode: CommitMode,
) -> std::result::Result<(), String> {
    let mut tpl = TopicPartitionList::new();
    for (p, o) in offsets {
        tpl.add_partition_offset(&target.topic, p, Offset::Offset(o))
            .map_err(|e| e.to_string())?;
    }
    if tpl.count() == 0 {
        return Ok(());
    }
    consumer
        .commit(&tpl, mode)
        .map_err(|e| target.error("committing offsets", e).to_string())
}
