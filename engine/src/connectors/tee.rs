//! A table written to several places (`also_write` in the catalog): the board tables go to
//! Redis and MySQL from one job. Reads use the first; every row written goes to each, each
//! sink running its own insert plan fed from a bounded channel (a slow sink slows the job).

use std::sync::{Arc, Mutex};
use tracing::Instrument;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::{ExecutionPlan, collect};
use tokio::sync::mpsc;

use crate::connectors::sink::{TableSink, sink_exec};
use crate::sync::lock;
use crate::wire::{CHANNEL_CAPACITY, Closing, Message, SinkInput, channel_exec};

#[derive(Debug)]
pub struct TeeTable {
    name: String,
    targets: Vec<Arc<dyn TableProvider>>,
}

impl TeeTable {
    /// `targets[0]` is the table as read; all of them are written.
    pub fn new(name: &str, targets: Vec<Arc<dyn TableProvider>>) -> Self {
        assert!(!targets.is_empty(), "a tee needs at least one target");
        TeeTable {
            name: name.to_string(),
            targets,
        }
    }
}

#[async_trait]
impl TableProvider for TeeTable {
    fn schema(&self) -> SchemaRef {
        self.targets[0].schema()
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
        self.targets[0]
            .scan(state, projection, filters, limit)
            .await
    }

    async fn insert_into(
        &self,
        state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let schema = self.schema();
        let mut senders = Vec::with_capacity(self.targets.len());
        let mut plans = Vec::with_capacity(self.targets.len());
        for target in &self.targets {
            let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
            let feed = channel_exec(Arc::clone(&schema), rx, Closing::Ends)?;
            plans.push(target.insert_into(state, feed, insert_op).await?);
            senders.push(tx);
        }
        let sink = TeeSink {
            name: self.name.clone(),
            schema,
            running: Mutex::new(Some((senders, plans))),
        };
        Ok(sink_exec(input, sink))
    }
}

type Outputs = (Vec<mpsc::Sender<Message>>, Vec<Arc<dyn ExecutionPlan>>);

struct TeeSink {
    name: String,
    schema: SchemaRef,
    /// Taken by the one `write_all` call.
    running: Mutex<Option<Outputs>>,
}

impl std::fmt::Debug for TeeSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TeeSink({})", self.name)
    }
}

#[async_trait]
impl TableSink for TeeSink {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn describe(&self) -> String {
        let guard = lock(&self.running);
        let targets: Vec<String> = guard
            .as_ref()
            .map(|(_, plans)| {
                plans
                    .iter()
                    .map(|p| {
                        datafusion::physical_plan::displayable(p.as_ref())
                            .one_line()
                            .to_string()
                            .trim()
                            .to_string()
                    })
                    .collect()
            })
            .unwrap_or_default();
        format!("TeeSink: {} -> [{}]", self.name, targets.join("; "))
    }

    async fn write(&self, mut data: SinkInput, ctx: &Arc<TaskContext>) -> Result<u64> {
        let Some((senders, plans)) = lock(&self.running).take() else {
            return Err(DataFusionError::Internal(format!(
                "the sink of '{}' ran twice",
                self.name
            )));
        };
        let mut writers = tokio::task::JoinSet::new();
        for plan in plans {
            let ctx = Arc::clone(ctx);
            writers.spawn(async move { collect(plan, ctx).await.map(|_| ()) }.in_current_span());
        }
        let mut rows = 0u64;
        let mut failed = None;
        while let Some(message) = data.next().await {
            let batch = match message {
                Ok(Message::Data(b)) => b,
                Ok(Message::Barrier(barrier)) => {
                    // Every target must have written what came before the barrier before
                    // this sink asks for more (which acknowledges it).
                    let mut acks = Vec::with_capacity(senders.len());
                    for tx in &senders {
                        let (own, ack) = barrier.for_sink();
                        if tx.send(Message::Barrier(own)).await.is_err() {
                            break;
                        }
                        acks.push(ack);
                    }
                    if acks.len() < senders.len() {
                        break;
                    }
                    // A target that fails never acknowledges: stop waiting and report its error.
                    let all = futures::future::join_all(acks.into_iter().map(|a| a.wait()));
                    tokio::select! {
                        states = all => {
                            for state in states.into_iter().flatten() {
                                barrier.attach(state);
                            }
                            continue;
                        }
                        Some(joined) = writers.join_next() => {
                            if let Ok(Err(e)) = joined {
                                failed = Some(e);
                            }
                            break;
                        }
                    }
                }
                Ok(_) => continue,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            };
            rows += batch.num_rows() as u64;
            for tx in &senders {
                // A sink that stopped has failed; its error comes from the join below.
                if tx.send(Message::Data(batch.clone())).await.is_err() {
                    break;
                }
            }
            if senders.iter().any(|tx| tx.is_closed()) {
                break;
            }
        }
        drop(senders);
        while let Some(joined) = writers.join_next().await {
            let result = joined.map_err(|e| DataFusionError::External(Box::new(e)))?;
            if let Err(e) = result {
                failed.get_or_insert(e);
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(rows),
        }
    }
}
