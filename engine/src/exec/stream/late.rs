//! The side output for late rows: rows that reached a window aggregate after every window
//! they belong to had closed. They are counted always, and written here when the job names
//! a table in the `late_output` variable — one row per late row: the statement, its event
//! time, and the row itself as JSON (statements aggregate different columns).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::json::LineDelimitedWriter;
use datafusion::error::{DataFusionError, Result};
use datafusion::physical_expr::PhysicalExpr;
use tokio::sync::mpsc;

use crate::wire::Message;

/// The columns a late-output table must have.
pub const LATE_COLUMNS: &str = "statement STRING, event_time TIMESTAMP_LTZ(3), row STRING";

#[derive(Clone)]
pub struct LateOutput {
    pub schema: SchemaRef,
    pub tx: mpsc::Sender<Message>,
}

impl LateOutput {
    /// Checks that `schema` has the late-output columns.
    pub fn check(schema: &SchemaRef, table: &str) -> std::result::Result<(), String> {
        let ok = schema.fields().len() == 3
            && ["statement", "event_time", "row"]
                .iter()
                .zip(schema.fields())
                .all(|(n, f)| f.name() == n);
        if ok && matches!(schema.field(1).data_type(), DataType::Timestamp(_, _)) {
            Ok(())
        } else {
            Err(format!(
                "late_output table '{table}' must have the columns ({LATE_COLUMNS})"
            ))
        }
    }

    /// Sends `rows` (late rows of `statement`, with event time from `time`).
    pub async fn send(
        &self,
        statement: &str,
        rows: &RecordBatch,
        time: Option<&Arc<dyn PhysicalExpr>>,
    ) -> Result<()> {
        let n = rows.num_rows();
        if n == 0 {
            return Ok(());
        }
        let mut json = Vec::with_capacity(n * 128);
        {
            let mut w = LineDelimitedWriter::new(&mut json);
            w.write(rows)?;
            w.finish()?;
        }
        let text = String::from_utf8_lossy(&json);
        let lines: StringArray = text.lines().map(Some).collect();
        let time_type = self.schema.field(1).data_type();
        let times: ArrayRef = match time {
            Some(t) => cast(&t.evaluate(rows)?.into_array(n)?, time_type)?,
            None => datafusion::arrow::array::new_null_array(time_type, n),
        };
        let statements: StringArray = std::iter::repeat_n(Some(statement), n).collect();
        let batch = RecordBatch::try_new(
            Arc::clone(&self.schema),
            vec![Arc::new(statements), times, Arc::new(lines)],
        )?;
        self.tx
            .send(Message::Data(batch))
            .await
            .map_err(|_| DataFusionError::Execution("the late-output sink stopped".into()))
    }
}
