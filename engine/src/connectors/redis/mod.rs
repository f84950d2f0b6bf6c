//! The `redis` connector: a write-only sink that turns each row into a Redis write — a hash
//! (`HSET`), a sorted-set member (`ZADD`) or a string (`SET`) — under a key rendered from a
//! template such as `realtime:pv:uv:{window_size}:{cms_id}:{window_end}`. Writes are pipelined
//! (one `MULTI`/`EXEC` per `batch_size` rows), retried while Redis is unreachable, and every
//! key gets a TTL. Writing the same rows again gives the same keys and values.
//!
//! NULLs: a row with NULL in a key column is skipped (one warning per batch). Hash: a NULL field
//! is left out of the `HSET` (the field keeps any earlier value); a row whose fields are all NULL
//! is skipped. Sorted set: a NULL member or a NULL/NaN score skips the row. String: a NULL value
//! skips the row (the key is not deleted).

mod sink;
mod template;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::Session;
use datafusion::error::{DataFusionError, Result};
use datafusion::physical_plan::ExecutionPlan;
use redis::ConnectionAddr;
use serde::Deserialize;

use super::options::{duration, some_duration};
use super::retry::RetryPolicy;
use super::table::{ConnectorTable, TableBase};
use super::{ConnectorEnv, Options};
use crate::catalog::TableDef;
use crate::connectors::sink::{Overwrite, sink_exec};
use crate::error::SluiceError;
use sink::RedisSink;
use template::{KeyTemplate, TimeFormat, column_list, resolve_column};

/// The table's options (see the README's connector table).
#[derive(Debug, Deserialize)]
#[serde(default)]
struct RedisOptions {
    url: String,
    data_type: Option<DataTypeOption>,
    key: Option<String>,
    fields: Option<Vec<String>>,
    field: Option<String>,
    member: Option<String>,
    score: Option<String>,
    value: Option<String>,
    #[serde(deserialize_with = "duration")]
    ttl: Duration,
    #[serde(rename = "key.time_format")]
    key_time_format: String,
    batch_size: usize,
    #[serde(rename = "retry.max_elapsed", deserialize_with = "some_duration")]
    retry_max_elapsed: Option<Duration>,
    #[serde(rename = "retry.initial_backoff", deserialize_with = "some_duration")]
    retry_initial_backoff: Option<Duration>,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            url: DEFAULT_URL.into(),
            data_type: None,
            key: None,
            fields: None,
            field: None,
            member: None,
            score: None,
            value: None,
            ttl: DEFAULT_TTL,
            key_time_format: "epoch_millis".into(),
            batch_size: DEFAULT_BATCH_SIZE,
            retry_max_elapsed: None,
            retry_initial_backoff: None,
        }
    }
}

/// `data_type`: which Redis structure the rows are written into.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum DataTypeOption {
    Hash,
    Zset,
    String,
}

impl DataTypeOption {
    fn name(self) -> &'static str {
        match self {
            DataTypeOption::Hash => "hash",
            DataTypeOption::Zset => "zset",
            DataTypeOption::String => "string",
        }
    }
}

const DEFAULT_URL: &str = "redis://127.0.0.1:6379/0";
/// 24 h.
const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);
const DEFAULT_BATCH_SIZE: usize = 1000;

/// What each row becomes; column indices are into the table schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// `HSET key name value …` with one pair per listed column.
    Hash { fields: Vec<usize> },
    /// `HSET key field value`: the field named by one column's value (a hash of provinces,
    /// say), the value from another.
    HashField { field: usize, value: usize },
    /// `ZADD key score member`.
    SortedSet { member: usize, score: usize },
    /// `SET key value`.
    String { value: usize },
}

impl Shape {
    fn name(&self) -> &'static str {
        match self {
            Shape::Hash { .. } | Shape::HashField { .. } => "hash",
            Shape::SortedSet { .. } => "zset",
            Shape::String { .. } => "string",
        }
    }

    /// The columns whose values are written (besides the key's).
    fn value_columns(&self) -> Vec<usize> {
        match self {
            Shape::Hash { fields } => fields.clone(),
            Shape::HashField { field, value } => vec![*field, *value],
            Shape::SortedSet { member, score } => vec![*member, *score],
            Shape::String { value } => vec![*value],
        }
    }
}

/// Where the rows go and how they are written; shared by the table and its sinks.
#[derive(Debug, Clone)]
pub struct RedisTarget {
    /// Catalog table name, for messages.
    pub name: String,
    pub schema: SchemaRef,
    /// Parsed `url`; its `Debug` hides the password.
    pub client: redis::Client,
    pub shape: Shape,
    pub key: KeyTemplate,
    pub time_format: TimeFormat,
    /// `None`: keys never expire.
    pub ttl: Option<Duration>,
    pub batch_size: usize,
    pub retry: RetryPolicy,
}

impl RedisTarget {
    /// `redis://host:port/db`, never the password.
    pub fn display_url(&self) -> String {
        let info = self.client.get_connection_info();
        let db = info.redis_settings().db();
        match info.addr() {
            ConnectionAddr::Tcp(host, port) => format!("redis://{host}:{port}/{db}"),
            ConnectionAddr::TcpTls { host, port, .. } => format!("rediss://{host}:{port}/{db}"),
            ConnectionAddr::Unix(path) => format!("redis+unix://{}?db={db}", path.display()),
            other => format!("redis://{other}/{db}"),
        }
    }

    pub fn error(&self, what: &str, e: impl std::fmt::Display) -> DataFusionError {
        SluiceError::connector(&self.name, format!("{what} ({}): {e}", self.display_url())).into()
    }
}

pub const NAME: &str = "redis";

#[derive(Debug)]
pub struct RedisTable {
    base: TableBase,
    target: RedisTarget,
}

impl RedisTable {
    pub fn try_new(
        def: &TableDef,
        options: BTreeMap<String, String>,
        env: &ConnectorEnv,
    ) -> crate::error::Result<Self> {
        let opts: RedisOptions = Options::decode(&def.name, &options)?;
        let fail = |message: String| SluiceError::connector(&def.name, message);
        let bad =
            |option: &str, message: String| SluiceError::bad_option(&def.name, option, message);
        let needs = |option: &str| fail(format!("connector 'redis' needs the option '{option}'"));
        let schema = def.schema();

        // `open` only parses the URL; the connection is made when the first rows are written.
        let client = redis::Client::open(opts.url.as_str()).map_err(|e| {
            fail(format!(
                "bad url (expected redis://[:password@]host:port/db): {e}"
            ))
        })?;

        let data_type = opts.data_type.ok_or_else(|| needs("data_type"))?;
        let key_text = opts.key.as_deref().ok_or_else(|| needs("key"))?;
        let key = KeyTemplate::parse(key_text, &schema).map_err(|e| bad("key", e))?;
        let column = |option: &str, name: &Option<String>| -> crate::error::Result<usize> {
            let name = name.as_deref().ok_or_else(|| needs(option))?;
            resolve_column(&schema, name.trim())
                .map_err(|e| bad(option, format!("option '{option}': {e}")))
        };
        // Options of another data type are mistakes, not something to ignore silently.
        let set = [
            ("fields", opts.fields.is_some()),
            ("field", opts.field.is_some()),
            ("member", opts.member.is_some()),
            ("score", opts.score.is_some()),
            ("value", opts.value.is_some()),
        ];
        let reject = |others: &[&str]| -> crate::error::Result<()> {
            match set.iter().find(|(o, is_set)| *is_set && others.contains(o)) {
                Some((o, _)) => Err(bad(
                    o,
                    format!(
                        "option '{o}' does not apply to data_type '{}'",
                        data_type.name()
                    ),
                )),
                None => Ok(()),
            }
        };
        let shape = match data_type {
            DataTypeOption::Hash if opts.field.is_some() => {
                reject(&["fields", "member", "score"])?;
                Shape::HashField {
                    field: column("field", &opts.field)?,
                    value: column("value", &opts.value)?,
                }
            }
            DataTypeOption::Hash => {
                reject(&["member", "score", "value"])?;
                Shape::Hash {
                    fields: hash_fields(opts.fields.as_deref(), &schema, &key)
                        .map_err(|e| bad("fields", e))?,
                }
            }
            DataTypeOption::Zset => {
                reject(&["fields", "field", "value"])?;
                let member = column("member", &opts.member)?;
                let score = column("score", &opts.score)?;
                let score_type = schema.field(score).data_type();
                if !score_type.is_numeric() {
                    return Err(bad(
                        "score",
                        format!(
                            "option 'score': column '{}' is {score_type}, not a number",
                            schema.field(score).name()
                        ),
                    ));
                }
                Shape::SortedSet { member, score }
            }
            DataTypeOption::String => {
                reject(&["fields", "field", "member", "score"])?;
                Shape::String {
                    value: column("value", &opts.value)?,
                }
            }
        };
        for col in key.columns().chain(shape.value_columns()) {
            check_renderable(schema.field(col).data_type())
                .map_err(|e| fail(format!("column '{}': {e}", schema.field(col).name())))?;
        }

        let ttl = opts.ttl;
        let time_format = TimeFormat::parse(&opts.key_time_format)
            .map_err(|e| bad("key.time_format", format!("option 'key.time_format': {e}")))?;
        let batch_size = opts.batch_size;
        if batch_size == 0 {
            return Err(bad("batch_size", "batch_size must be at least 1".into()));
        }
        Ok(RedisTable {
            target: RedisTarget {
                name: def.name.clone(),
                schema,
                client,
                shape,
                key,
                time_format,
                ttl: (!ttl.is_zero()).then_some(ttl),
                batch_size,
                retry: RetryPolicy::with(opts.retry_max_elapsed, opts.retry_initial_backoff),
            },
            base: TableBase::new(NAME, def, env),
        })
    }
}

/// `fields` as columns, by default every column the key does not use.
fn hash_fields(
    listed: Option<&[String]>,
    schema: &datafusion::arrow::datatypes::Schema,
    key: &KeyTemplate,
) -> Result<Vec<usize>, String> {
    let fields: Vec<usize> = match listed {
        Some(list) => list
            .iter()
            .map(|name| resolve_column(schema, name).map_err(|e| format!("option 'fields': {e}")))
            .collect::<Result<_, _>>()?,
        None => {
            let in_key: Vec<usize> = key.columns().collect();
            (0..schema.fields().len())
                .filter(|i| !in_key.contains(i))
                .collect()
        }
    };
    if fields.is_empty() {
        return Err(format!(
            "no hash fields to write: the key template '{}' uses every column ({}); list the fields in option 'fields'",
            key.text(),
            column_list(schema)
        ));
    }
    Ok(fields)
}

/// Nested values have no single text form worth storing in Redis.
fn check_renderable(t: &DataType) -> Result<(), String> {
    if t.is_nested() {
        return Err(format!("{t} values cannot be written to redis"));
    }
    Ok(())
}

#[async_trait]
impl ConnectorTable for RedisTable {
    fn base(&self) -> &TableBase {
        &self.base
    }

    fn writes(&self) -> Option<Overwrite> {
        Some(Overwrite::Refused("rows are written over their keys"))
    }

    async fn write(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let sink = RedisSink::new(self.target.clone(), self.base.sink_metrics());
        Ok(sink_exec(input, sink))
    }
}

#[cfg(test)]
mod tests;
