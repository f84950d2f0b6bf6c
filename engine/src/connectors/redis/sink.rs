//! Writing batches to Redis: each batch is rendered to commands, sent in `MULTI`/`EXEC`
//! pipelines of `batch_size` rows, and every pipeline is retried while Redis is unreachable.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, SchemaRef};
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ErrorKind, RedisError, RetryMethod};

use super::template::Cells;
use super::{RedisTarget, Shape};
use crate::connectors::retry::Failure;
use crate::connectors::sink::TableSink;
use crate::job::metrics::SinkMetrics;
use crate::sync::lock;
use crate::wire::SinkInput;

/// One row's write.
#[derive(Debug, Clone, PartialEq)]
enum Write {
    /// Hash fields as (column index, value).
    Hash {
        key: String,
        fields: Vec<(usize, String)>,
    },
    /// One hash field named by a value.
    HashField {
        key: String,
        field: String,
        value: String,
    },
    SortedSet {
        key: String,
        score: f64,
        member: String,
    },
    String {
        key: String,
        value: String,
    },
}

impl Write {
    fn key(&self) -> &str {
        match self {
            Write::Hash { key, .. }
            | Write::HashField { key, .. }
            | Write::SortedSet { key, .. }
            | Write::String { key, .. } => key,
        }
    }
}

/// A batch turned into writes, with the rows left out and why.
#[derive(Debug, Default)]
struct Rendered {
    writes: Vec<Write>,
    null_key: usize,
    null_value: usize,
}

#[derive(Debug)]
pub struct RedisSink {
    target: RedisTarget,
    metrics: Arc<SinkMetrics>,
}

impl RedisSink {
    pub fn new(target: RedisTarget, metrics: Arc<SinkMetrics>) -> Self {
        RedisSink { target, metrics }
    }

    /// Synchronous, so the (non-`Send`) cell formatters never live across an `await`.
    fn render(&self, batch: &RecordBatch) -> Result<Rendered> {
        let t = &self.target;
        let fail = |e: String| t.error("rendering rows", e);
        let mut used: Vec<usize> = t.key.columns().collect();
        used.extend(t.shape.value_columns());
        let cells = Cells::new(batch, &used, &t.time_format).map_err(fail)?;
        // Scores are doubles in Redis; casting once per batch also covers decimals.
        let scores = match &t.shape {
            Shape::SortedSet { score, .. } => Some(cast(batch.column(*score), &DataType::Float64)?),
            _ => None,
        };
        let scores = scores.as_ref().map(|s| s.as_primitive::<Float64Type>());
        let mut out = Rendered::default();
        for row in 0..batch.num_rows() {
            let Some(key) = t.key.render(&cells, row).map_err(fail)? else {
                out.null_key += 1;
                continue;
            };
            let write = match &t.shape {
                Shape::Hash { fields } => {
                    let mut values = Vec::with_capacity(fields.len());
                    for &f in fields {
                        if let Some(v) = cells.text(f, row).map_err(fail)? {
                            values.push((f, v));
                        }
                    }
                    (!values.is_empty()).then_some(Write::Hash {
                        key,
                        fields: values,
                    })
                }
                Shape::HashField { field, value } => {
                    match (
                        cells.text(*field, row).map_err(fail)?,
                        cells.text(*value, row).map_err(fail)?,
                    ) {
                        (Some(field), Some(value)) => Some(Write::HashField { key, field, value }),
                        _ => None,
                    }
                }
                Shape::SortedSet { member, .. } => {
                    let score = scores
                        .filter(|s| s.is_valid(row))
                        .map(|s| s.value(row))
                        .filter(|s| !s.is_nan());
                    match (score, cells.text(*member, row).map_err(fail)?) {
                        (Some(score), Some(member)) => {
                            Some(Write::SortedSet { key, score, member })
                        }
                        _ => None,
                    }
                }
                Shape::String { value } => cells
                    .text(*value, row)
                    .map_err(fail)?
                    .map(|value| Write::String { key, value }),
            };
            match write {
                Some(w) => out.writes.push(w),
                None => out.null_value += 1,
            }
        }
        Ok(out)
    }

    /// One `MULTI`/`EXEC` with the writes and then one expiry per distinct key.
    fn pipeline(&self, writes: &[Write]) -> redis::Pipeline {
        let t = &self.target;
        let ttl_ms = t.ttl.map(|d| d.as_millis() as u64);
        let mut pipe = redis::pipe();
        pipe.atomic();
        let mut expire: Vec<&str> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for w in writes {
            match w {
                Write::Hash { key, fields } => {
                    pipe.cmd("HSET").arg(key);
                    for (col, value) in fields {
                        pipe.arg(t.schema.field(*col).name()).arg(value);
                    }
                }
                Write::HashField { key, field, value } => {
                    pipe.cmd("HSET").arg(key).arg(field).arg(value);
                }
                Write::SortedSet { key, score, member } => {
                    // `{}` gives `inf`/`-inf` and plain decimals, which ZADD accepts.
                    pipe.cmd("ZADD").arg(key).arg(score.to_string()).arg(member);
                }
                Write::String { key, value } => {
                    pipe.cmd("SET").arg(key).arg(value);
                    if let Some(ms) = ttl_ms {
                        pipe.arg("PX").arg(ms);
                    }
                }
            }
            pipe.ignore();
            if !matches!(w, Write::String { .. }) && seen.insert(w.key()) {
                expire.push(w.key());
            }
        }
        if let Some(ms) = ttl_ms {
            for key in expire {
                pipe.cmd("PEXPIRE").arg(key).arg(ms).ignore();
            }
        }
        pipe
    }

    /// Sends `pipe`, retrying transient failures (Redis down, connection lost, timeouts)
    /// under the retry policy; the writes are idempotent, so a resent pipeline is harmless.
    async fn send(&self, conn: &Connection, pipe: &redis::Pipeline) -> Result<()> {
        let t = &self.target;
        let what = format!("table '{}': writing to {}", t.name, t.display_url());
        let failed = |e: &RedisError| format!("writing ({}): {e}", t.display_url());
        t.retry
            .run(&what, &self.metrics, || async {
                // Only a bad client configuration fails here.
                let mut c = conn.get().map_err(|e| Failure::permanent(failed(&e)))?;
                pipe.exec_async(&mut c).await.map_err(|e| {
                    if is_permanent(&e) {
                        // Waiting cannot fix it (wrong type, bad password).
                        Failure::permanent(failed(&e))
                    } else {
                        conn.after_failure(&e);
                        Failure::transient(failed(&e))
                    }
                })
            })
            .await
            .map_err(|gave_up| gave_up.into_error(&t.name))
    }
}

/// Errors that a retry cannot fix.
fn is_permanent(e: &RedisError) -> bool {
    matches!(e.retry_method(), RetryMethod::NoRetry) || e.kind() == ErrorKind::AuthenticationFailed
}

/// The connection of one `write_all`: a `ConnectionManager`, made lazily so that a Redis that
/// is down at start is retried like any later outage.
struct Connection {
    client: redis::Client,
    manager: Mutex<Option<ConnectionManager>>,
}

impl Connection {
    fn new(client: redis::Client) -> Self {
        Connection {
            client,
            manager: Mutex::new(None),
        }
    }

    fn get(&self) -> std::result::Result<ConnectionManager, RedisError> {
        let mut slot = lock(&self.manager);
        if let Some(m) = slot.as_ref() {
            return Ok(m.clone());
        }
        // One connection attempt per try: the retry policy, not the manager, paces retries.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(30)));
        let m = ConnectionManager::new_lazy_with_config(self.client.clone(), config)?;
        *slot = Some(m.clone());
        Ok(m)
    }

    /// The manager reconnects by itself only after I/O errors; after any other transient
    /// error (e.g. `LOADING` during the handshake) it would keep the failed connection, so
    /// the next try starts a fresh one.
    fn after_failure(&self, e: &RedisError) {
        if !e.is_io_error() {
            *lock(&self.manager) = None;
        }
    }
}

#[async_trait]
impl TableSink for RedisSink {
    fn schema(&self) -> &SchemaRef {
        &self.target.schema
    }

    fn describe(&self) -> String {
        let t = &self.target;
        format!(
            "RedisSink: {} {} at {}",
            t.shape.name(),
            t.key.text(),
            t.display_url()
        )
    }

    async fn write(&self, mut data: SinkInput, _ctx: &Arc<TaskContext>) -> Result<u64> {
        let t = &self.target;
        let conn = Connection::new(t.client.clone());
        let mut written = 0u64;
        while let Some(batch) = data.next_rows().await {
            let batch = batch?;
            let rendered = self.render(&batch)?;
            if rendered.null_key > 0 {
                tracing::warn!(
                    table = %t.name,
                    "skipped {} row(s) with NULL in a column of the key template '{}'",
                    rendered.null_key,
                    t.key.text()
                );
            }
            if rendered.null_value > 0 {
                tracing::warn!(
                    table = %t.name,
                    "skipped {} row(s) with nothing to write (NULL {})",
                    rendered.null_value,
                    match t.shape {
                        Shape::Hash { .. } => "in every field",
                        Shape::HashField { .. } => "field name or value",
                        Shape::SortedSet { .. } => "member or NULL/NaN score",
                        Shape::String { .. } => "value",
                    }
                );
            }
            for chunk in rendered.writes.chunks(t.batch_size) {
                self.send(&conn, &self.pipeline(chunk)).await?;
                let n = chunk.len() as u64;
                self.metrics.rows.fetch_add(n, Ordering::Relaxed);
                written += n;
            }
            tracing::debug!(table = %t.name, rows = rendered.writes.len(), "written to redis");
        }
        Ok(written)
    }
}
