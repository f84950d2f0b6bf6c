//! The `mysql` connector (MariaDB works too): a sink doing batched
//! `INSERT … ON DUPLICATE KEY UPDATE` on the table's primary key, so re-running a job
//! never duplicates rows; and a scannable table for ad-hoc queries.

mod schema;
mod sink;
mod values;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::Session;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use mysql_async::prelude::Queryable;
use mysql_async::{Opts, OptsBuilder, Pool};
use serde::Deserialize;

pub use sink::MySqlSink;

use super::options::some_duration;
use super::retry::{Failure, RetryPolicy};
use super::table::{ConnectorTable, TableBase};
use super::{ConnectorEnv, Options};
use crate::catalog::TableDef;
use crate::connectors::sink::{Overwrite, sink_exec};
use crate::error::{Retry, SluiceError};

/// The table's options (see the README's connector table).
#[derive(Debug, Deserialize)]
#[serde(default)]
struct MySqlOptions {
    url: Option<String>,
    /// The table's name in MySQL (default: the catalog name).
    table: Option<String>,
    batch_size: usize,
    create_table: bool,
    partition_by: Vec<String>,
    #[serde(rename = "retry.max_elapsed", deserialize_with = "some_duration")]
    retry_max_elapsed: Option<Duration>,
    #[serde(rename = "retry.initial_backoff", deserialize_with = "some_duration")]
    retry_initial_backoff: Option<Duration>,
}

impl Default for MySqlOptions {
    fn default() -> Self {
        MySqlOptions {
            url: None,
            table: None,
            batch_size: 1000,
            create_table: true,
            partition_by: Vec::new(),
            retry_max_elapsed: None,
            retry_initial_backoff: None,
        }
    }
}

/// Whether retrying a failed MySQL call can help. Lost connections and a server going away
/// can; so can contention (lock wait timeout, deadlock) and a server shutting down or
/// refusing more connections. What the statement or its values got wrong (an unknown
/// column or table, bad data, bad credentials) fails the same way every time.
fn retry_of(e: &mysql_async::Error) -> Retry {
    use mysql_async::{DriverError as D, Error as E};
    /// ER_CON_COUNT_ERROR, ER_SERVER_SHUTDOWN, ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK,
    /// ER_OPTION_PREVENTS_STATEMENT (read-only during a failover), ER_QUERY_INTERRUPTED,
    /// ER_CONNECTION_KILLED, and the client's CR_SERVER_GONE_ERROR / CR_SERVER_LOST.
    const TRANSIENT_SERVER_CODES: [u16; 9] = [1040, 1053, 1205, 1213, 1290, 1317, 1927, 2006, 2013];
    match e {
        E::Io(_) | E::Other(_) => Retry::Helps,
        E::Driver(
            D::ConnectionClosed
            | D::PoolDisconnected
            | D::PacketOutOfOrder
            | D::UnexpectedPacket { .. }
            | D::BadCompressedPacketHeader,
        ) => Retry::Helps,
        E::Server(s) if TRANSIENT_SERVER_CODES.contains(&s.code) => Retry::Helps,
        E::Driver(_) | E::Server(_) | E::Url(_) => Retry::CannotHelp,
    }
}

/// What the source and the sink share: where the table is and how to reach it.
#[derive(Debug, Clone)]
pub struct MySqlTarget {
    /// Catalog table name, for messages.
    pub name: String,
    pub opts: Opts,
    /// Table name in MySQL.
    pub table: String,
    pub schema: SchemaRef,
    pub primary_key: Vec<String>,
}

impl MySqlTarget {
    /// `host:port/db`, never the password.
    pub fn display_url(&self) -> String {
        format!(
            "mysql://{}:{}/{}",
            self.opts.ip_or_hostname(),
            self.opts.tcp_port(),
            self.opts.db_name().unwrap_or("")
        )
    }

    pub fn error(&self, what: &str, e: impl std::fmt::Display) -> DataFusionError {
        SluiceError::connector(&self.name, self.context(what, e)).into()
    }

    /// A failed MySQL call, and whether trying again can succeed.
    pub fn failure(&self, what: &str, e: mysql_async::Error) -> Failure<String> {
        let retry = retry_of(&e);
        Failure {
            error: self.context(what, e),
            retry,
        }
    }

    fn context(&self, what: &str, e: impl std::fmt::Display) -> String {
        format!("{what} ({}.{}): {e}", self.display_url(), self.table)
    }

    pub fn database(&self) -> Option<&str> {
        self.opts.db_name()
    }

    /// A pool on the table's database, creating the database first if it is missing.
    pub async fn connect(&self, create_database: bool) -> Result<Pool> {
        if create_database && let Some(db) = self.database() {
            let server =
                Pool::new(OptsBuilder::from_opts(self.opts.clone()).db_name(None::<String>));
            let created = async {
                let mut conn = server.get_conn().await?;
                conn.query_drop(format!(
                    "CREATE DATABASE IF NOT EXISTS {} CHARACTER SET utf8mb4",
                    schema::quote_ident(db)
                ))
                .await
            }
            .await;
            let _ = server.disconnect().await;
            created.map_err(|e| self.error("connecting to create the database", e))?;
        }
        Ok(Pool::new(self.opts.clone()))
    }
}

pub const NAME: &str = "mysql";

#[derive(Debug)]
pub struct MySqlTable {
    base: TableBase,
    /// Stream mode: commit each batch as it comes (a closed window's rows), not the run.
    stream: bool,
    target: MySqlTarget,
    batch_size: usize,
    create_table: bool,
    partition_cols: Vec<usize>,
    retry: RetryPolicy,
}

impl MySqlTable {
    pub fn try_new(
        def: &TableDef,
        options: BTreeMap<String, String>,
        env: &ConnectorEnv,
    ) -> crate::error::Result<Self> {
        let opts: MySqlOptions = Options::decode(&def.name, &options)?;
        let url = opts.url.as_deref().ok_or_else(|| {
            SluiceError::connector(&def.name, "connector 'mysql' needs the option 'url'")
        })?;
        let parsed = Opts::from_url(url).map_err(|e| {
            SluiceError::connector(
                &def.name,
                format!("bad url (expected mysql://user[:password]@host:port/database): {e}"),
            )
        })?;
        let schema = def.schema();
        let partition_cols = opts
            .partition_by
            .iter()
            .map(|c| {
                let c = c.to_ascii_lowercase();
                schema.index_of(&c).map_err(|_| {
                    SluiceError::bad_option(
                        &def.name,
                        "partition_by",
                        format!("partition_by column '{c}' is not a column of the table"),
                    )
                })
            })
            .collect::<crate::error::Result<Vec<usize>>>()?;
        if opts.batch_size == 0 {
            return Err(SluiceError::bad_option(
                &def.name,
                "batch_size",
                "batch_size must be at least 1",
            ));
        }
        Ok(MySqlTable {
            target: MySqlTarget {
                name: def.name.clone(),
                opts: parsed,
                table: opts.table.unwrap_or_else(|| def.name.clone()),
                schema: def.schema(),
                primary_key: def.primary_key.clone(),
            },
            batch_size: opts.batch_size,
            create_table: opts.create_table,
            partition_cols,
            retry: RetryPolicy::with(opts.retry_max_elapsed, opts.retry_initial_backoff),
            stream: env.job.mode == crate::job::ExecMode::Stream,
            base: TableBase::new(NAME, def, env),
        })
    }

    async fn read_all(
        &self,
        projection: Option<&Vec<usize>>,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let t = &self.target;
        let schema = match projection {
            Some(p) => Arc::new(t.schema.project(p)?),
            None => Arc::clone(&t.schema),
        };
        let columns: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| schema::quote_ident(f.name()))
            .collect();
        let sql = format!(
            "SELECT {} FROM {}",
            if columns.is_empty() {
                "1".to_string()
            } else {
                columns.join(", ")
            },
            schema::quote_ident(&t.table)
        );
        let pool = t.connect(false).await?;
        let rows = async {
            let mut conn = pool.get_conn().await?;
            conn.query::<mysql_async::Row, _>(sql).await
        }
        .await;
        let _ = pool.disconnect().await;
        let rows = rows.map_err(|e| t.error("reading", e))?;
        let batch =
            values::rows_to_batch(&schema, rows).map_err(|e| t.error("converting rows", e))?;
        Ok((schema, vec![batch]))
    }
}

#[async_trait]
impl ConnectorTable for MySqlTable {
    fn base(&self) -> &TableBase {
        &self.base
    }

    async fn read(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let (schema, batches) = self.read_all(projection).await?;
        Ok(MemorySourceConfig::try_new_exec(&[batches], schema, None)?)
    }

    fn writes(&self) -> Option<Overwrite> {
        Some(Overwrite::Refused(
            "the sink upserts on the primary key (and replaces `partition_by` values)",
        ))
    }

    async fn write(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let sink = MySqlSink::new(
            self.target.clone(),
            self.batch_size,
            self.create_table,
            self.partition_cols.clone(),
            self.base.sink_metrics(),
        )
        .committing_each_batch(self.stream, self.retry);
        Ok(sink_exec(input, sink))
    }
}
