//! What the Kafka source, sink and `sluice produce` share: client configuration, creating a
//! topic, and a producer that keeps many messages in flight and waits when librdkafka's queue
//! is full (back-pressure) instead of failing.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};

/// How long metadata and admin requests may take before they count as failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A librdkafka configuration: `bootstrap.servers` plus the table's `properties.*`
/// (passed through as librdkafka settings, as Flink passes them to the Kafka client).
pub fn client_config(brokers: &str, properties: &BTreeMap<String, String>) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set_log_level(RDKafkaLogLevel::Warning);
    for (k, v) in properties {
        config.set(k, v);
    }
    config
}

/// Producer settings: idempotent (no duplicates from the producer's own retries, order kept
/// per partition) unless `idempotent` is false; a short linger so batches fill under load.
pub fn producer(
    brokers: &str,
    properties: &BTreeMap<String, String>,
    idempotent: bool,
) -> Result<FutureProducer, KafkaError> {
    let mut config = ClientConfig::new();
    config
        .set(
            "enable.idempotence",
            if idempotent { "true" } else { "false" },
        )
        .set("linger.ms", "5")
        .set("compression.type", "none");
    // The table's own settings win over the defaults above.
    for (k, v) in client_config(brokers, properties).config_map() {
        // Consumer settings (the table may be read too) would only draw warnings here.
        if k != "group.id" {
            config.set(k, v);
        }
    }
    config.set_log_level(RDKafkaLogLevel::Warning);
    config.create()
}

/// Creates `topic` with `partitions` partitions unless it exists already.
pub async fn ensure_topic(
    brokers: &str,
    properties: &BTreeMap<String, String>,
    topic: &str,
    partitions: i32,
) -> Result<(), KafkaError> {
    let admin: AdminClient<DefaultClientContext> = client_config(brokers, properties).create()?;
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let options = AdminOptions::new().request_timeout(Some(REQUEST_TIMEOUT));
    let results = admin.create_topics([&new], &options).await?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(KafkaError::AdminOp(code)).inspect_err(|_| {
                    tracing::warn!("creating topic '{name}' failed: {code}");
                });
            }
        }
    }
    Ok(())
}

/// Messages sent and not yet acknowledged; at most `max_in_flight` of them.
pub struct DeliveryQueue<'p> {
    producer: &'p FutureProducer,
    topic: String,
    pending: VecDeque<DeliveryFuture>,
    max_in_flight: usize,
    /// Partition → the offset after the last message acknowledged there.
    written: BTreeMap<i32, i64>,
}

impl<'p> DeliveryQueue<'p> {
    pub fn new(producer: &'p FutureProducer, topic: &str, max_in_flight: usize) -> Self {
        DeliveryQueue {
            producer,
            topic: topic.to_string(),
            pending: VecDeque::new(),
            max_in_flight: max_in_flight.max(1),
            written: BTreeMap::new(),
        }
    }

    /// Partition → the offset after the last message acknowledged there (what `flush` has
    /// made sure of).
    pub fn written(&self) -> &BTreeMap<i32, i64> {
        &self.written
    }

    /// Queues one message; waits for earlier deliveries when too many are in flight or
    /// librdkafka's queue is full. A failed delivery is returned as the error.
    pub async fn send(&mut self, key: Option<&[u8]>, payload: &[u8]) -> Result<(), KafkaError> {
        if self.pending.len() >= self.max_in_flight {
            self.wait_oldest().await?;
        }
        loop {
            let mut record = FutureRecord::<[u8], [u8]>::to(&self.topic).payload(payload);
            if let Some(key) = key {
                record = record.key(key);
            }
            match self.producer.send_result(record) {
                Ok(delivery) => {
                    self.pending.push_back(delivery);
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    if self.pending.is_empty() {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    } else {
                        self.wait_oldest().await?;
                    }
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    async fn wait_oldest(&mut self) -> Result<(), KafkaError> {
        if let Some(delivery) = self.pending.pop_front() {
            match delivery.await {
                Ok(Ok(d)) => {
                    let next = self.written.entry(d.partition).or_default();
                    *next = (*next).max(d.offset + 1);
                }
                Ok(Err((e, _))) => return Err(e),
                Err(_) => return Err(KafkaError::Canceled),
            }
        }
        Ok(())
    }

    /// Waits until every queued message is acknowledged by the broker.
    pub async fn flush(&mut self) -> Result<(), KafkaError> {
        while !self.pending.is_empty() {
            self.wait_oldest().await?;
        }
        Ok(())
    }
}
