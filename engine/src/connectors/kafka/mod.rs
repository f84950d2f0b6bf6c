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
use datafusion::catalog::{Session, TableProvider};
use datafusion::error::Result;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;

pub use client::{DeliveryQueue, REQUEST_TIMEOUT, client_config, ensure_topic, producer};

use super::records::RecordFormat;
use super::{ConnectorEnv, Options};
use crate::catalog::TableDef;
use crate::connectors::sink::{Overwrite, check_insert, sink_exec};
use crate::error::SluiceError;
use crate::job::ExecMode;
use crate::job::metrics::JobMetrics;
use crate::units::parse_duration;

const OPTIONS: &[&str] = &[
    "topic",
    "format",
    "scan.startup.mode",
    "scan.startup.timestamp-millis",
    "scan.bounded.mode",
    "scan.batch-linger",
    "key.fields",
    "key.format",
    "sink.delivery-guarantee",
    "topic.partitions",
];

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

#[derive(Debug)]
pub struct KafkaTable {
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
    error_output: bool,
    mode: ExecMode,
    metrics: Arc<JobMetrics>,
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
        let opts = Options::new(&def.name, options, OPTIONS)?;
        let fail = |m: String| SluiceError::connector(&def.name, m);
        let brokers = properties.remove("bootstrap.servers").ok_or_else(|| {
            fail(
                "connector 'kafka' needs the option 'properties.bootstrap.servers' (host:port,...)"
                    .into(),
            )
        })?;
        properties
            .entry("group.id".into())
            .or_insert_with(|| format!("sluice-{}", def.name));
        let schema = def.schema();
        let format = match opts.choice("format", &["json", "raw"], "json")? {
            "raw" => RecordFormat::Raw,
            _ => RecordFormat::Json,
        };
        format.check(&def.name, &schema)?;
        let startup = match opts.choice(
            "scan.startup.mode",
            &[
                "group-offsets",
                "earliest-offset",
                "latest-offset",
                "timestamp",
            ],
            "group-offsets",
        )? {
            "earliest-offset" => StartupMode::Earliest,
            "latest-offset" => StartupMode::Latest,
            "timestamp" => StartupMode::Timestamp(
                opts.get("scan.startup.timestamp-millis")
                    .ok_or_else(|| {
                        fail(
                            "scan.startup.mode = 'timestamp' needs 'scan.startup.timestamp-millis'"
                                .into(),
                        )
                    })?
                    .trim()
                    .parse()
                    .map_err(|_| {
                        fail("'scan.startup.timestamp-millis' must be epoch milliseconds".into())
                    })?,
            ),
            _ => StartupMode::GroupOffsets,
        };
        let bounded = env.job.mode == ExecMode::Batch
            || opts.choice(
                "scan.bounded.mode",
                &["unbounded", "latest-offset"],
                "unbounded",
            )? == "latest-offset";
        let linger = parse_duration(opts.get("scan.batch-linger").unwrap_or("50ms"))
            .map_err(|m| fail(format!("option 'scan.batch-linger': {m}")))?;
        let key_fields = opts
            .list("key.fields")
            .iter()
            .map(|c| {
                schema
                    .index_of(c)
                    .map_err(|_| fail(format!("key.fields: '{c}' is not a column of the table")))
            })
            .collect::<crate::error::Result<Vec<usize>>>()?;
        let key_json = opts.choice("key.format", &["raw", "json"], "raw")? == "json";
        if !key_json && key_fields.len() > 1 {
            return Err(fail(
                "key.format 'raw' takes one key field; use key.format = 'json' for several".into(),
            ));
        }
        let guarantee = opts.choice(
            "sink.delivery-guarantee",
            &["exactly-once", "at-least-once", "none"],
            "exactly-once",
        )?;
        let idempotent = guarantee != "none";
        let exactly_once = guarantee == "exactly-once";
        let partitions: i32 = opts.parse_or("topic.partitions", 3)?;
        if partitions < 1 {
            return Err(fail("topic.partitions must be at least 1".into()));
        }
        Ok(KafkaTable {
            target: KafkaTarget {
                name: def.name.clone(),
                topic: opts.required("topic")?.to_string(),
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
            error_output: def.error_output,
            mode: env.job.mode,
            metrics: Arc::clone(&env.job.metrics),
            positions: Arc::clone(&env.job.positions),
            sink_state: env.sink_state_name(&def.name),
        })
    }
}

#[async_trait]
impl TableProvider for KafkaTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.target.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
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
            metrics: self.metrics.source(&self.target.name),
            positions: Arc::clone(&self.positions),
        };
        let table =
            StreamingTable::try_new(Arc::clone(&self.target.schema), vec![Arc::new(partition)])?
                .with_infinite_table(!self.bounded);
        table.scan(state, projection, filters, limit).await
    }

    async fn insert_into(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        check_insert(
            &self.target.name,
            insert_op,
            Overwrite::Refused("a topic can only be appended to"),
        )?;
        let sink = sink::KafkaSink {
            target: self.target.clone(),
            key_fields: self.key_fields.clone(),
            key_json: self.key_json,
            idempotent: self.idempotent,
            exactly_once: self.exactly_once && self.positions.checkpointing(),
            positions: Arc::clone(&self.positions),
            state_name: self.sink_state.clone(),
            partitions: self.partitions,
            metrics: self.metrics.sink(&self.target.name, self.error_output),
        };
        Ok(sink_exec(input, sink))
    }
}
