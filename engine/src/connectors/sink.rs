//! The one shape of our sinks. Each connector's sink says what it is and writes its input
//! (rows and checkpoint barriers, `wire::SinkInput`); `sink_exec` gives it DataFusion's
//! face, the insert plan of its table. (DataFusion's `DataSink` hands a sink raw batches;
//! the adapter turns them into the wire's messages in this one place.)

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::sink::{DataSink, DataSinkExec};
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan};

use crate::wire::SinkInput;

/// A connector's sink.
#[async_trait]
pub trait TableSink: std::fmt::Debug + Send + Sync + 'static {
    /// The rows it takes.
    fn schema(&self) -> &SchemaRef;

    /// One line for `explain`, e.g. `MemorySink: counts`.
    fn describe(&self) -> String;

    /// Writes everything of `input` (a sink that keeps nothing in checkpoints reads it with
    /// `next_rows`); returns the rows written.
    async fn write(&self, input: SinkInput, ctx: &Arc<TaskContext>) -> Result<u64>;
}

/// The insert plan writing `input` with `sink`.
pub fn sink_exec(input: Arc<dyn ExecutionPlan>, sink: impl TableSink) -> Arc<dyn ExecutionPlan> {
    Arc::new(DataSinkExec::new(input, Arc::new(Adapter(sink)), None))
}

#[derive(Debug)]
struct Adapter<S>(S);

impl<S: TableSink> DisplayAs for Adapter<S> {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.describe())
    }
}

#[async_trait]
impl<S: TableSink> DataSink for Adapter<S> {
    fn schema(&self) -> &SchemaRef {
        self.0.schema()
    }

    async fn write_all(
        &self,
        data: SendableRecordBatchStream,
        ctx: &Arc<TaskContext>,
    ) -> Result<u64> {
        self.0.write(SinkInput::new(data, ctx), ctx).await
    }
}
