//! The `kafka` connector (rdkafka), with Flink's option names: a source reading every
//! partition of a topic (raw lines or JSON rows, start offsets, partition-aware watermarks,
//! bounded in batch mode) and a sink writing rows as messages (JSON or raw, a key column,
//! idempotent producer).

mod client;
mod replay;
mod sink;
mod source;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{Session, TableProvider as _};
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use serde::Deserialize;

pub use client::{DeliveryQueue, REQUEST_TIMEOUT, client_config, ensure_topic, producer};

use super::options::duration;
use super::records::RecordFormat;
use super::table::{ConnectorTable, TableBase};
use super::{ConnectorEnv, Options};
use crate::catalog::TableDef;
use crate::connectors::sink::{Overwrite, sink_exec};
use crate::error::SluiceError;
use crate::job::ExecMode;

/// The table's options besides `properties.*` (see the README's connector table).
#[derive(Debug, Deserialize)]
#[serde(default)]
struct KafkaOptions {
    topic: Option<String>,
    format: FormatOption,
    #[serde(rename = "scan.startup.mode")]
    startup_mode: StartupOption,
    #[serde(rename = "scan.startup.timestamp-millis")]
    startup_timestamp_millis: Option<i64>,
    #[serde(rename = "scan.bounded.mode")]
    bounded_mode: BoundedOption,
    #[serde(rename = "scan.batch-linger", deserialize_with = "duration")]
    batch_linger: Duration,
    #[serde(rename = "key.fields")]
    key_fields: Vec<String>,
    #[serde(rename = "key.format")]
    key_format: KeyFormat,
    #[serde(rename = "sink.delivery-guarantee")]
    delivery_guarantee: DeliveryGuarantee,
    #[serde(rename = "topic.partitions")]
    topic_partitions: i32,
}

impl Default for KafkaOptions {
    fn default() -> Self {
        KafkaOptions {
            topic: None,
            format: FormatOption::Json,
            startup_mode: StartupOption::GroupOffsets,
            startup_timestamp_millis: None,
            bounded_mode: BoundedOption::Unbounded,
            batch_linger: Duration::from_millis(50),
            key_fields: Vec::new(),
            key_format: KeyFormat::Raw,
            delivery_guarantee: DeliveryGuarantee::ExactlyOnce,
            topic_partitions: 3,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum FormatOption {
    Json,
    Raw,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum StartupOption {
    GroupOffsets,
    EarliestOffset,
    LatestOffset,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum BoundedOption {
    Unbounded,
    LatestOffset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum KeyFormat {
    Raw,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum DeliveryGuarantee {
    ExactlyOnce,
    AtLeastOnce,
    None,
}

/// Options starting with this go to librdkafka as they are (minus the prefix).
const PROPERTIES: &str = "properties.";

/// Where a source starts reading each partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartupMode {
    Earliest,
    Latest,
    /// The consumer group's committed offsets; partitions without one start at the earliest.
    GroupOffsets,
    /// The first message at or after this time (epoch ms).
    Timestamp(i64),
}

/// Everything that says which topic on which cluster, shared by source and sink.
#[derive(Debug, Clone)]
pub struct KafkaTarget {
    /// Catalog table name, for messages.
    pub name: String,
    pub topic: String,
    pub brokers: String,
    /// librdkafka settings from `properties.*`.
    pub properties: BTreeMap<String, String>,
    pub schema: SchemaRef,
    pub format: RecordFormat,
}

impl KafkaTarget {
    pub fn error(
        &self,
        what: &str,
        e: impl std::fmt::Display,
    ) -> datafusion::error::DataFusionError {
        SluiceError::connector(
            &self.name,
            format!("{what} (topic '{}' at {}): {e}", self.topic, self.brokers),
        )
        .into()
    }
}

pub const NAME: &str = "kafka";

#[derive(Debug)]
pub struct KafkaTable {
    base: TableBase,
    target: KafkaTarget,
    startup: StartupMode,
    /// Read every partition until caught up, then end (always in batch mode).
    bounded: bool,
    /// How long a partition's rows may wait for more before they go out as a batch.
    linger: Duration,
    key_fields: Vec<usize>,
    key_json: bool,
    idempotent: bool,
    /// `sink.delivery-guarantee = 'exactly-once'`: in effect when the job checkpoints.
    exactly_once: bool,
    partitions: i32,
    mode: ExecMode,
    positions: Arc<crate::checkpoint::SourcePositions>,
    /// What its sink's checkpoint state is called (see `ConnectorEnv::sink_state_name`).
    sink_state: String,
}

impl KafkaTable {
    pub fn try_new(
        def: &TableDef,
        options: BTreeMap<String, String>,
        env: &ConnectorEnv,
    ) -> crate::error::Result<Self> {
        let (properties, options): (BTreeMap<_, _>, BTreeMap<_, _>) = options
            .into_iter()
            .partition(|(k, _)| k.starts_with(PROPERTIES));
        let mut properties: BTreeMap<String, String> = properties
            .into_iter()
            .map(|(k, v)| (k[PROPERTIES.len()..].to_string(), v))
            .collect();
        let opts: KafkaOptions = Options::decode(&def.name, &options)?;
        let fail = |m: String| SluiceError::connector(&def.name, m);
        let bad = |option: &str, m: &str| SluiceError::bad_option(&def.name, option, m);
        let brokers = properties.remove("bootstrap.servers").ok_or_else(|| {
            fail(
                "connector 'kafka' needs the option 'properties.bootstrap.servers' (host:port,...)"
                    .into(),
            )
        })?;
        let topic = opts
            .topic
            .ok_or_else(|| fail("connector 'kafka' needs the option 'topic'".into()))?;
        properties
            .entry("group.id".into())
            .or_insert_with(|| format!("sluice-{}", def.name));
        let schema = def.schema();
        let format = match opts.format {
            FormatOption::Raw => RecordFormat::Raw,
            FormatOption::Json => RecordFormat::Json,
        };
        format.check(&def.name, &schema)?;
        let startup = match opts.startup_mode {
            StartupOption::EarliestOffset => StartupMode::Earliest,
            StartupOption::LatestOffset => StartupMode::Latest,
            StartupOption::GroupOffsets => StartupMode::GroupOffsets,
            StartupOption::Timestamp => {
                StartupMode::Timestamp(opts.startup_timestamp_millis.ok_or_else(|| {
                    bad(
                        "scan.startup.mode",
                        "scan.startup.mode = 'timestamp' needs 'scan.startup.timestamp-millis'",
                    )
                })?)
            }
        };
        let bounded =
            env.job.mode == ExecMode::Batch || opts.bounded_mode == BoundedOption::LatestOffset;
        let key_fields = opts
            .key_fields
            .iter()
            .map(|c| {
                let c = c.to_ascii_lowercase();
                schema.index_of(&c).map_err(|_| {
                    bad(
                        "key.fields",
                        &format!("key.fields: '{c}' is not a column of the table"),
                    )
                })
            })
            .collect::<crate::error::Result<Vec<usize>>>()?;
        let key_json = opts.key_format == KeyFormat::Json;
        if !key_json && key_fields.len() > 1 {
            return Err(bad(
                "key.format",
                "key.format 'raw' takes one key field; use key.format = 'json' for several",
            ));
        }
        let idempotent = opts.delivery_guarantee != DeliveryGuarantee::None;
        let exactly_once = opts.delivery_guarantee == DeliveryGuarantee::ExactlyOnce;
        let partitions = opts.topic_partitions;
        if partitions < 1 {
            return Err(bad(
                "topic.partitions",
                "topic.partitions must be at least 1",
            ));
        }
        let linger = opts.batch_linger;
        Ok(KafkaTable {
            target: KafkaTarget {
                name: def.name.clone(),
                topic,
                brokers,
                properties,
                schema,
                format,
            },
            startup,
            bounded,
            linger,
            key_fields,
            key_json,
            idempotent,
            exactly_once,
            partitions,
            mode: env.job.mode,
            base: TableBase::new(NAME, def, env),
            positions: Arc::clone(&env.job.positions),
            sink_state: env.sink_state_name(&def.name),
        })
    }
}

#[async_trait]
impl ConnectorTable for KafkaTable {
    fn base(&self) -> &TableBase {
        &self.base
    }

    async fn read(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let partition = source::KafkaPartition {
            target: self.target.clone(),
            startup: self.startup,
            bounded: self.bounded,
            linger: self.linger,
            commit: match self.mode {
                // A batch read leaves the group's offsets alone: it is a query, not a consumer.
                ExecMode::Batch => source::Commit::Never,
                ExecMode::Stream if self.positions.checkpointing() => source::Commit::OnCheckpoint,
                ExecMode::Stream => source::Commit::AsRead,
            },
            tag_partitions: self.mode == ExecMode::Stream,
            metrics: self.base.source_metrics(),
            positions: Arc::clone(&self.positions),
        };
        let table =
            StreamingTable::try_new(Arc::clone(&self.target.schema), vec![Arc::new(partition)])?
                .with_infinite_table(!self.bounded);
        table.scan(state, projection, filters, limit).await
    }

    fn writes(&self) -> Option<Overwrite> {
        Some(Overwrite::Refused("a topic can only be appended to"))
    }

    async fn write(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let sink = sink::KafkaSink {
            target: self.target.clone(),
            key_fields: self.key_fields.clone(),
            key_json: self.key_json,
            idempotent: self.idempotent,
            exactly_once: self.exactly_once && self.positions.checkpointing(),
            positions: Arc::clone(&self.positions),
            state_name: self.sink_state.clone(),
            partitions: self.partitions,
            metrics: self.base.sink_metrics(),
        };
        Ok(sink_exec(input, sink))
    }
}
