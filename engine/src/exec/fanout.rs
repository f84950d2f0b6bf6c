//! A relation computed once and read by several INSERTs of a job (a view the job's INSERTs
//! share, and later unbounded sources). Each `scan` subscribes: it gets its own bounded
//! channel per partition, and the producer sends every batch of partition i to the i-th
//! channel of every subscriber. Bounded channels give back-pressure: the producer runs at
//! the pace of the slowest reader.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{Session, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use futures::StreamExt;
use tokio::sync::mpsc;

/// Batches in flight per subscriber and partition.
const CHANNEL_CAPACITY: usize = 8;

type Sender = mpsc::Sender<Result<RecordBatch>>;
type Receiver = mpsc::Receiver<Result<RecordBatch>>;

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
        self.subscribers.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Runs `plan` (which computes the relation) and feeds every subscriber. Call once, after
    /// all readers were planned.
    pub async fn drive(&self, plan: Arc<dyn ExecutionPlan>, ctx: Arc<TaskContext>) -> Result<()> {
        let subscribers =
            std::mem::take(&mut *self.subscribers.lock().unwrap_or_else(|p| p.into_inner()));
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
            tasks.spawn(feed(stream, senders));
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
                    if tx.send(Ok(batch.clone())).await.is_ok() {
                        open.push(tx);
                    }
                }
                senders = open;
                if senders.is_empty() {
                    return Ok(());
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for tx in &senders {
                    let _ = tx.send(Err(DataFusionError::Execution(msg.clone()))).await;
                }
                return Err(e);
            }
        }
    }
    Ok(())
}

#[derive(Debug)]
struct ChannelPartition {
    schema: SchemaRef,
    rx: Mutex<Option<Receiver>>,
}

impl PartitionStream for ChannelPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let rx = self.rx.lock().ok().and_then(|mut r| r.take());
        let stream = futures::stream::unfold(rx, |rx| async move {
            match rx {
                Some(mut rx) => rx.recv().await.map(|item| (item, Some(rx))),
                None => Some((
                    Err(DataFusionError::Internal(
                        "a shared relation's reader was executed twice".into(),
                    )),
                    None,
                )),
            }
        });
        Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream,
        ))
    }
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
            let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
            senders.push(tx);
            partitions.push(Arc::new(ChannelPartition {
                schema: Arc::clone(&self.schema),
                rx: Mutex::new(Some(rx)),
            }));
        }
        self.subscribers
            .lock()
            .map_err(|_| DataFusionError::Internal("fan-out lock poisoned".into()))?
            .push(senders);
        StreamingTable::try_new(Arc::clone(&self.schema), partitions)?
            .scan(state, projection, filters, limit)
            .await
    }
}
