//! A relation computed once and read by several INSERTs of a job (a view the job's INSERTs
//! share, and later unbounded sources). Each `scan` subscribes: it gets its own bounded
//! channel per partition, and the producer sends every batch of partition i to the i-th
//! channel of every subscriber, then `Message::End`: a channel closed without it is an
//! error, never a short table. Bounded channels give back-pressure: the producer runs at
//! the pace of the slowest reader.

use std::sync::{Arc, Mutex};
use tracing::Instrument;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{Session, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use futures::StreamExt;
use tokio::sync::mpsc;

/// Batches in flight per subscriber and partition. Deeper than a stream job's channels
/// (`wire::CHANNEL_CAPACITY`): no checkpoint barrier waits behind them, and a batch job's
/// readers of one relation run at different paces.
const FANOUT_CAPACITY: usize = 8;

use crate::sync::lock;
use crate::wire::{ChannelPartition, Closing, Message};

type Sender = mpsc::Sender<Message>;

#[derive(Debug)]
pub struct FanOutTable {
    name: String,
    schema: SchemaRef,
    partitions: usize,
    /// Per subscriber, one sender per partition.
    subscribers: Mutex<Vec<Vec<Sender>>>,
}

impl FanOutTable {
    pub fn new(name: &str, schema: SchemaRef, partitions: usize) -> Self {
        FanOutTable {
            name: name.to_string(),
            schema,
            partitions: partitions.max(1),
            subscribers: Mutex::default(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn subscriber_count(&self) -> usize {
        lock(&self.subscribers).len()
    }

    /// Runs `plan` (which computes the relation) and feeds every subscriber. Call once, after
    /// all readers were planned.
    pub async fn drive(&self, plan: Arc<dyn ExecutionPlan>, ctx: Arc<TaskContext>) -> Result<()> {
        let subscribers = std::mem::take(&mut *lock(&self.subscribers));
        let n = plan.output_partitioning().partition_count();
        if n != self.partitions {
            return Err(DataFusionError::Internal(format!(
                "shared relation '{}' planned with {} partitions, produced {n}",
                self.name, self.partitions
            )));
        }
        let mut tasks = tokio::task::JoinSet::new();
        for partition in 0..n {
            let senders: Vec<Sender> = subscribers.iter().map(|s| s[partition].clone()).collect();
            let stream = plan.execute(partition, Arc::clone(&ctx))?;
            tasks.spawn(feed(stream, senders).in_current_span());
        }
        drop(subscribers);
        while let Some(done) = tasks.join_next().await {
            done.map_err(|e| DataFusionError::External(Box::new(e)))??;
        }
        Ok(())
    }
}

/// Copies one partition to its subscribers. A subscriber that hung up is skipped; an error
/// upstream reaches every subscriber.
async fn feed(mut stream: SendableRecordBatchStream, mut senders: Vec<Sender>) -> Result<()> {
    while let Some(item) = stream.next().await {
        match item {
            Ok(batch) => {
                let mut open = Vec::with_capacity(senders.len());
                for tx in senders {
                    if tx.send(Message::Data(batch.clone())).await.is_ok() {
                        open.push(tx);
                    }
                }
                senders = open;
                if senders.is_empty() {
                    return Ok(());
                }
            }
            Err(e) => {
                let msg = format!("the shared relation failed: {e}");
                for tx in &senders {
                    let _ = tx.send(Message::Failed(msg.clone())).await;
                }
                return Err(e);
            }
        }
    }
    for tx in &senders {
        let _ = tx.send(Message::End).await;
    }
    Ok(())
}

#[async_trait]
impl TableProvider for FanOutTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut senders = Vec::with_capacity(self.partitions);
        let mut partitions: Vec<Arc<dyn PartitionStream>> = Vec::with_capacity(self.partitions);
        for _ in 0..self.partitions {
            let (tx, rx) = mpsc::channel(FANOUT_CAPACITY);
            senders.push(tx);
            partitions.push(Arc::new(ChannelPartition::new(
                Arc::clone(&self.schema),
                rx,
                Closing::Fails("the shared relation"),
            )));
        }
        lock(&self.subscribers).push(senders);
        StreamingTable::try_new(Arc::clone(&self.schema), partitions)?
            .scan(state, projection, filters, limit)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::array::RecordBatch;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::physical_plan::collect;
    use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
    use datafusion::physical_plan::streaming::StreamingTableExec;
    use datafusion::prelude::SessionContext;

    #[derive(Debug)]
    struct Source {
        schema: SchemaRef,
        fail: bool,
    }

    impl PartitionStream for Source {
        fn schema(&self) -> &SchemaRef {
            &self.schema
        }

        fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
            let batch = RecordBatch::try_new(
                Arc::clone(&self.schema),
                vec![Arc::new(Int64Array::from(vec![1, 2, 3]))],
            );
            let mut items = vec![batch.map_err(Into::into)];
            if self.fail {
                items.push(Err(DataFusionError::Execution("disk on fire".into())));
            }
            Box::pin(RecordBatchStreamAdapter::new(
                Arc::clone(&self.schema),
                futures::stream::iter(items),
            ))
        }
    }

    async fn run(fail: bool) -> Vec<Result<usize>> {
        let ctx = SessionContext::new();
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let source: Arc<dyn PartitionStream> = Arc::new(Source {
            schema: Arc::clone(&schema),
            fail,
        });
        let producer: Arc<dyn ExecutionPlan> = Arc::new(
            StreamingTableExec::try_new(
                Arc::clone(&schema),
                vec![source],
                None,
                vec![],
                false,
                None,
            )
            .unwrap(),
        );
        let table = Arc::new(FanOutTable::new("v", schema, 1));
        let state = ctx.state();
        let readers = [
            table.scan(&state, None, &[], None).await.unwrap(),
            table.scan(&state, None, &[], None).await.unwrap(),
        ];
        assert_eq!(table.subscriber_count(), 2);
        let task_ctx = ctx.task_ctx();
        let drive = {
            let (table, task_ctx) = (Arc::clone(&table), Arc::clone(&task_ctx));
            tokio::spawn(async move { table.drive(producer, task_ctx).await })
        };
        let mut out = Vec::new();
        for r in readers {
            out.push(
                collect(r, Arc::clone(&task_ctx))
                    .await
                    .map(|b| b.iter().map(|b| b.num_rows()).sum()),
            );
        }
        let _ = drive.await;
        out
    }

    #[tokio::test]
    async fn every_reader_gets_every_row() {
        for r in run(false).await {
            assert_eq!(r.unwrap(), 3);
        }
    }

    #[tokio::test]
    async fn a_failed_producer_fails_every_reader() {
        for r in run(true).await {
            let err = r.unwrap_err().to_string();
            assert!(err.contains("disk on fire"), "{err}");
        }
    }
}
