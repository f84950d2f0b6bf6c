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
use datafusion::logical_expr::dml::InsertOp;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan};

use crate::error::SluiceError;
use crate::wire::SinkInput;

/// What `INSERT OVERWRITE` does to a table. The meaning of an insert is the same for every
/// connector: `INSERT INTO` writes the rows the table's own way, which a rerun repeats
/// without doubling anything where the system allows it (a file table replaces the
/// partitions it writes in batch mode, MySQL upserts on the primary key, Redis sets keys;
/// Kafka appends, memory and stdout collect). `INSERT OVERWRITE` asks for the table's rows
/// to be replaced: only a table whose writes replace can honour it, and there it means the
/// same as `INSERT INTO`; the others refuse it and say why. `REPLACE INTO` is refused.
#[derive(Debug, Clone, Copy)]
pub enum Overwrite {
    /// The table replaces what it writes.
    Replaces,
    /// Why this table cannot replace its rows.
    Refused(&'static str),
}

/// Checks `op` against what table `table` can do (see [`Overwrite`]).
pub fn check_insert(table: &str, op: InsertOp, overwrite: Overwrite) -> Result<()> {
    let why = match (op, overwrite) {
        (InsertOp::Append, _) | (InsertOp::Overwrite, Overwrite::Replaces) => return Ok(()),
        (InsertOp::Overwrite, Overwrite::Refused(why)) => why,
        (InsertOp::Replace, _) => "use INSERT INTO",
    };
    Err(SluiceError::connector(table, format!("{op} is not supported: {why}")).into())
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_mean_the_same_for_every_connector() {
        let refused = Overwrite::Refused("a topic can only be appended to");
        for overwrite in [Overwrite::Replaces, refused] {
            assert!(check_insert("t", InsertOp::Append, overwrite).is_ok());
            let replace = check_insert("t", InsertOp::Replace, overwrite).unwrap_err();
            assert!(
                replace
                    .to_string()
                    .contains("Replace Into is not supported"),
                "{replace}"
            );
        }
        assert!(check_insert("t", InsertOp::Overwrite, Overwrite::Replaces).is_ok());
        let e = check_insert("events", InsertOp::Overwrite, refused).unwrap_err();
        assert_eq!(
            e.to_string(),
            "External error: table 'events': Insert Overwrite is not supported: a topic can only be appended to"
        );
    }
}
