//! Batched upserts into MySQL. Values are always bound as parameters, never spliced into SQL.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params, Pool, TxOpts};

use super::MySqlTarget;
use super::schema::{create_table_sql, delete_partition_sql, upsert_sql};
use super::values::{bindable_columns, params};
use crate::connectors::retry::{Failure, RetryPolicy};
use crate::connectors::sink::TableSink;
use crate::job::metrics::SinkMetrics;
use crate::wire::SinkInput;

/// MySQL allows at most 65,535 placeholders in one statement.
const MAX_PLACEHOLDERS: usize = 65_535;

#[derive(Debug)]
pub struct MySqlSink {
    target: MySqlTarget,
    batch_size: usize,
    create_table: bool,
    /// Indices of the `partition_by` columns: each value written is replaced as a whole.
    partition_cols: Vec<usize>,
    metrics: Arc<SinkMetrics>,
    /// Stream mode: one transaction per incoming batch, so rows land as windows close.
    commit_each_batch: bool,
    retry: RetryPolicy,
}

impl MySqlSink {
    pub fn new(
        target: MySqlTarget,
        batch_size: usize,
        create_table: bool,
        partition_cols: Vec<usize>,
        metrics: Arc<SinkMetrics>,
    ) -> Self {
        MySqlSink {
            target,
            batch_size,
            create_table,
            partition_cols,
            metrics,
            commit_each_batch: false,
            retry: RetryPolicy::default(),
        }
    }

    /// Stream mode: commit each batch, retrying failed ones with `retry`.
    pub fn committing_each_batch(mut self, yes: bool, retry: RetryPolicy) -> Self {
        self.commit_each_batch = yes;
        self.retry = retry;
        self
    }

    async fn prepare(&self, conn: &mut Conn) -> Result<()> {
        if self.create_table {
            let ddl = create_table_sql(
                &self.target.table,
                &self.target.schema,
                &self.target.primary_key,
            )
            .map_err(|e| self.target.error("creating the table", e))?;
            conn.query_drop(ddl)
                .await
                .map_err(|e| self.target.error("creating the table", e))?;
        }
        Ok(())
    }

    async fn write<Q: Queryable>(&self, conn: &mut Q, mut data: SinkInput) -> Result<u64> {
        let mut written = 0u64;
        let mut replaced: HashSet<Vec<u8>> = HashSet::new();
        while let Some(batch) = data.next_rows().await {
            let rows = self
                .write_batch(conn, &batch?, &mut replaced)
                .await
                .map_err(|f| f.into_error(&self.target.name))?;
            self.metrics.rows.fetch_add(rows, Ordering::Relaxed);
            written += rows;
        }
        Ok(written)
    }

    /// Stream mode: each batch in a transaction of its own, retried with backoff on a fresh
    /// connection when it fails (a MySQL restart must not lose a closed window; the upsert
    /// makes a retried batch land once). A partition (day) is still replaced only the first
    /// time this run writes it, so later windows of the day add to it.
    async fn write_committing_each_batch(&self, pool: &Pool, mut data: SinkInput) -> Result<u64> {
        let mut written = 0u64;
        let mut replaced: HashSet<Vec<u8>> = HashSet::new();
        while let Some(batch) = data.next_rows().await {
            let batch = batch?;
            let what = format!(
                "table '{}': writing {} rows to {}",
                self.target.name,
                batch.num_rows(),
                self.target.display_url()
            );
            let t = &self.target;
            let (rows, now_replaced) = self
                .retry
                .run(&what, &self.metrics, || async {
                    let mut replaced = replaced.clone();
                    let mut conn = pool
                        .get_conn()
                        .await
                        .map_err(|e| t.failure("connecting", e))?;
                    let mut tx = conn
                        .start_transaction(TxOpts::default())
                        .await
                        .map_err(|e| t.failure("starting a transaction", e))?;
                    let rows = self.write_batch(&mut tx, &batch, &mut replaced).await?;
                    tx.commit().await.map_err(|e| t.failure("committing", e))?;
                    Ok((rows, replaced))
                })
                .await
                .map_err(|gave_up| gave_up.into_error(&t.name))?;
            replaced = now_replaced;
            written += rows;
            self.metrics.rows.fetch_add(rows, Ordering::Relaxed);
        }
        Ok(written)
    }

    async fn write_batch<Q: Queryable>(
        &self,
        conn: &mut Q,
        batch: &RecordBatch,
        replaced: &mut HashSet<Vec<u8>>,
    ) -> std::result::Result<u64, Failure<String>> {
        let t = &self.target;
        let n_cols = t.schema.fields().len().max(1);
        let rows_per_statement = self.batch_size.min(MAX_PLACEHOLDERS / n_cols).max(1);
        let columns = bindable_columns(batch)?;
        self.delete_new_partitions(conn, &columns, batch.num_rows(), replaced)
            .await?;
        let mut written = 0u64;
        let mut start = 0;
        while start < batch.num_rows() {
            let end = (start + rows_per_statement).min(batch.num_rows());
            let sql = upsert_sql(&t.table, &t.schema, &t.primary_key, end - start);
            let values = params(&columns, start..end)?;
            conn.exec_drop(sql, Params::Positional(values))
                .await
                .map_err(|e| t.failure("upserting rows", e))?;
            written += (end - start) as u64;
            start = end;
        }
        Ok(written)
    }
}

impl MySqlSink {
    /// With `partition_by`, the first time a partition value (e.g. a day) shows up, the rows
    /// already stored for it are deleted: a batch rerun replaces the day, as the original
    /// Spark job did, instead of leaving yesterday's ranks 11.. next to today's top 10.
    async fn delete_new_partitions<Q: Queryable>(
        &self,
        conn: &mut Q,
        columns: &[ArrayRef],
        rows: usize,
        replaced: &mut HashSet<Vec<u8>>,
    ) -> std::result::Result<(), Failure<String>> {
        if self.partition_cols.is_empty() {
            return Ok(());
        }
        let key_columns: Vec<ArrayRef> = self
            .partition_cols
            .iter()
            .map(|&i| Arc::clone(&columns[i]))
            .collect();
        for row in 0..rows {
            let values = params(&key_columns, row..row + 1)?;
            let key = format!("{values:?}").into_bytes();
            if !replaced.insert(key) {
                continue;
            }
            let t = &self.target;
            let sql = delete_partition_sql(&t.table, &t.schema, &self.partition_cols);
            conn.exec_drop(sql, Params::Positional(values))
                .await
                .map_err(|e| t.failure("replacing a partition", e))?;
        }
        Ok(())
    }
}

#[async_trait]
impl TableSink for MySqlSink {
    fn schema(&self) -> &SchemaRef {
        &self.target.schema
    }

    fn describe(&self) -> String {
        format!(
            "MySqlSink: table={} at {} (upsert on {:?})",
            self.target.table,
            self.target.display_url(),
            self.target.primary_key
        )
    }

    async fn write(&self, data: SinkInput, _ctx: &Arc<TaskContext>) -> Result<u64> {
        if self.target.primary_key.is_empty() {
            tracing::warn!(table = %self.target.name, "no primary key declared: rows are appended, a rerun duplicates them");
        }
        let pool = self.target.connect(self.create_table).await?;
        let result = async {
            let mut conn = pool
                .get_conn()
                .await
                .map_err(|e| self.target.error("connecting", e))?;
            self.prepare(&mut conn).await?;
            if self.commit_each_batch {
                drop(conn);
                return self.write_committing_each_batch(&pool, data).await;
            }
            // One transaction: readers see the old rows or all the new ones.
            let mut tx = conn
                .start_transaction(TxOpts::default())
                .await
                .map_err(|e| self.target.error("starting a transaction", e))?;
            let written = self.write(&mut tx, data).await?;
            tx.commit()
                .await
                .map_err(|e| self.target.error("committing", e))?;
            Ok(written)
        }
        .await;
        let _ = pool.disconnect().await;
        result
    }
}
