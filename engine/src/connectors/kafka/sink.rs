//! Writing rows as Kafka messages: one message per row, the value JSON (or the raw string
//! column), the key from `key.fields`. Each batch is acknowledged by the broker before the
//! next is taken, so a finished run or a closed window is on the topic. In a job that takes
//! checkpoints, `sink.delivery-guarantee = 'exactly-once'` (the default) adds to every
//! checkpoint how far the topic was written, so a replay after a restart does not write
//! the same messages again (see `replay`).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::json::LineDelimitedWriter;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::Result;
use datafusion::execution::TaskContext;

use super::KafkaTarget;
use super::client::{DeliveryQueue, ensure_topic, producer};
use super::replay::{KafkaSinkState, Replay, WrittenLog};
use crate::checkpoint::SourcePositions;
use crate::connectors::records::RecordFormat;
use crate::connectors::sink::TableSink;
use crate::job::metrics::SinkMetrics;
use crate::wire::{Message, SinkInput};

/// Messages in flight before the sink waits for acknowledgements.
const MAX_IN_FLIGHT: usize = 100_000;

#[derive(Debug)]
pub struct KafkaSink {
    pub target: KafkaTarget,
    pub key_fields: Vec<usize>,
    pub key_json: bool,
    pub idempotent: bool,
    /// Record what was written at every checkpoint and match a replay against it.
    pub exactly_once: bool,
    pub positions: Arc<SourcePositions>,
    /// What its checkpoint state is called.
    pub state_name: String,
    /// Partitions of the topic if the sink has to create it.
    pub partitions: i32,
    pub metrics: Arc<SinkMetrics>,
}

/// The first `rows` lines of `text` (JSON lines: one per row, never a newline inside).
fn lines(text: &[u8], rows: usize) -> impl Iterator<Item = &[u8]> {
    text.split(|&b| b == b'\n').take(rows)
}

/// The JSON lines of `batch`, one per row.
fn json_rows(batch: &RecordBatch) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(batch.get_array_memory_size());
    let mut writer = LineDelimitedWriter::new(&mut out);
    writer.write(batch)?;
    writer.finish()?;
    drop(writer);
    Ok(out)
}

impl KafkaSink {
    fn keys(&self, batch: &RecordBatch) -> Result<Option<Vec<Vec<u8>>>> {
        if self.key_fields.is_empty() {
            return Ok(None);
        }
        let keys = batch.project(&self.key_fields)?;
        if self.key_json {
            let text = json_rows(&keys)?;
            return Ok(Some(
                lines(&text, batch.num_rows()).map(<[u8]>::to_vec).collect(),
            ));
        }
        let column = keys.column(0);
        let formatter = ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default())?;
        Ok(Some(
            (0..batch.num_rows())
                .map(|i| {
                    if column.is_null(i) {
                        Vec::new()
                    } else {
                        formatter.value(i).to_string().into_bytes()
                    }
                })
                .collect(),
        ))
    }

    /// Writes a batch's rows but those a replay finds on the topic already.
    async fn write_batch(
        &self,
        queue: &mut DeliveryQueue<'_>,
        replay: &mut Replay,
        batch: &RecordBatch,
    ) -> Result<()> {
        let keys = self.keys(batch)?;
        let key = |i: usize| keys.as_ref().map(|k| k[i].as_slice());
        let sent = |e| self.target.error("producing", e);
        let replaying = !replay.is_empty();
        match self.target.format {
            RecordFormat::Raw => {
                let values = datafusion::arrow::compute::cast(
                    batch.column(0),
                    &datafusion::arrow::datatypes::DataType::Utf8,
                )?;
                let values = values.as_string::<i32>();
                for i in 0..batch.num_rows() {
                    let value = values.value(i).as_bytes();
                    if !replay.already_written(key(i), value) {
                        queue.send(key(i), value).await.map_err(sent)?;
                    }
                }
            }
            RecordFormat::Json => {
                let text = json_rows(batch)?;
                for (i, row) in lines(&text, batch.num_rows()).enumerate() {
                    if !replay.already_written(key(i), row) {
                        queue.send(key(i), row).await.map_err(sent)?;
                    }
                }
            }
        }
        if replaying && replay.is_empty() {
            tracing::info!(
                "{}: the replay has caught up with what was on topic '{}' ({} messages not \
                 written twice)",
                self.target.name,
                self.target.topic,
                replay.matched()
            );
        }
        queue.flush().await.map_err(sent)?;
        self.metrics
            .rows
            .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        Ok(())
    }
}

#[async_trait]
impl TableSink for KafkaSink {
    fn schema(&self) -> &SchemaRef {
        &self.target.schema
    }

    fn describe(&self) -> String {
        format!(
            "KafkaSink: topic={} at {}",
            self.target.topic, self.target.brokers
        )
    }

    async fn write(&self, mut data: SinkInput, _ctx: &Arc<TaskContext>) -> Result<u64> {
        let t = &self.target;
        ensure_topic(&t.brokers, &t.properties, &t.topic, self.partitions)
            .await
            .map_err(|e| t.error("creating the topic", e))?;
        let producer = producer(&t.brokers, &t.properties, self.idempotent)
            .map_err(|e| t.error("creating the producer", e))?;
        let mut log = if self.exactly_once {
            let target = t.clone();
            let restored = match self.positions.restored_sink(&self.state_name) {
                Some(state) => Some(
                    state
                        .decode::<KafkaSinkState>()
                        .map_err(|m| t.error("resuming", m))?,
                ),
                None => None,
            };
            let log =
                tokio::task::spawn_blocking(move || WrittenLog::open(&target, restored.as_ref()))
                    .await
                    .map_err(|e| t.error("reading back the topic", e))?
                    .map_err(|e| t.error("reading back the topic", e))?;
            Some(log)
        } else {
            None
        };
        let mut no_replay = Replay::default();
        let mut queue = DeliveryQueue::new(&producer, &t.topic, MAX_IN_FLIGHT);
        let mut written = 0u64;
        while let Some(message) = data.next().await {
            let batch = match message? {
                Message::Data(batch) => batch,
                Message::Barrier(barrier) => {
                    // Everything before the barrier is acknowledged (each batch is flushed).
                    if let Some(log) = &log {
                        barrier.attach(log.state(&self.state_name, queue.written()));
                    }
                    continue;
                }
                _ => continue,
            };
            let replay = log.as_mut().map_or(&mut no_replay, |l| &mut l.replay);
            self.write_batch(&mut queue, replay, &batch).await?;
            written += batch.num_rows() as u64;
        }
        Ok(written)
    }
}
