//! The seams between DataFusion plans and the stream operators.
//!
//! A stream statement keeps its stateless parts as DataFusion physical plans, planned once
//! and executed again for every input batch (or every set of closed windows). Their leaves
//! are *slots*: tables whose next scan yields exactly the batches put in the slot since the
//! last scan. (The sink side is a channel: `wire::channel_exec`.)

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNode;
use datafusion::datasource::source_as_provider;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, LogicalPlan, TableSource, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};

use crate::sync::lock;

/// Batches waiting for the next execution of the plan that reads the slot.
#[derive(Debug, Clone, Default)]
pub struct Slot(Arc<Mutex<Vec<RecordBatch>>>);

impl Slot {
    pub fn put(&self, batch: RecordBatch) {
        lock(&self.0).push(batch);
    }

    fn take(&self) -> Vec<RecordBatch> {
        std::mem::take(&mut *lock(&self.0))
    }

    pub fn clear(&self) {
        lock(&self.0).clear();
    }
}

/// A table standing for a stream's rows at one point of a statement: a source's batches, or
/// a window aggregate's closed windows.
#[derive(Debug)]
pub struct SlotTable {
    /// What feeds the slot: a source table's name, or `window aggregate #n`.
    pub feeder: String,
    pub schema: SchemaRef,
    pub slot: Slot,
}

impl SlotTable {
    pub fn new(feeder: impl Into<String>, schema: SchemaRef) -> Self {
        SlotTable {
            feeder: feeder.into(),
            schema,
            slot: Slot::default(),
        }
    }

    /// Whether a logical scan reads a slot.
    pub fn is_slot(source: &Arc<dyn TableSource>) -> bool {
        source_as_provider(source).is_ok_and(|p| p.downcast_ref::<SlotTable>().is_some())
    }

    /// Every slot table scanned in `plan`.
    pub fn all_in(plan: &LogicalPlan) -> Vec<(String, Slot)> {
        let mut found = Vec::new();
        let _ = plan.apply(|node| {
            if let LogicalPlan::TableScan(scan) = node
                && let Ok(provider) = source_as_provider(&scan.source)
                && let Some(t) = provider.downcast_ref::<SlotTable>()
            {
                found.push((t.feeder.clone(), t.slot.clone()));
            }
            Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
        });
        found
    }
}

#[derive(Debug)]
struct SlotPartition {
    schema: SchemaRef,
    slot: Slot,
}

impl PartitionStream for SlotPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batches = self.slot.take();
        match MemoryStream::try_new(batches, Arc::clone(&self.schema), None) {
            Ok(s) => Box::pin(s),
            Err(e) => error_stream(Arc::clone(&self.schema), e),
        }
    }
}

#[async_trait]
impl TableProvider for SlotTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let partition = SlotPartition {
            schema: Arc::clone(&self.schema),
            slot: self.slot.clone(),
        };
        Ok(Arc::new(StreamingTableExec::try_new(
            Arc::clone(&self.schema),
            vec![Arc::new(partition)],
            projection,
            vec![],
            false,
            None,
        )?))
    }
}

fn error_stream(schema: SchemaRef, e: DataFusionError) -> SendableRecordBatchStream {
    Box::pin(RecordBatchStreamAdapter::new(
        schema,
        futures::stream::once(async move { Err(e) }),
    ))
}
