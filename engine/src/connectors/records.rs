//! Records to rows: a record (a line of a followed file, a Kafka message) is either one row of
//! a one-column string table (`raw`/`lines`) or a JSON object of the table's columns (`json`).
//! Shared by every connector that reads records one by one.

use std::fmt::Display;
use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::json::ReaderBuilder;
use datafusion::error::Result;

use crate::error::SluiceError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFormat {
    /// The record is the value of the table's single string column.
    Raw,
    /// The record is a JSON object; keys are column names, missing keys are NULL.
    Json,
}

impl RecordFormat {
    /// A raw table has exactly one string column to hold the record.
    pub fn check(self, table: &str, schema: &SchemaRef) -> crate::error::Result<()> {
        if self == RecordFormat::Raw
            && (schema.fields().len() != 1
                || !matches!(
                    schema.field(0).data_type(),
                    DataType::Utf8 | DataType::LargeUtf8
                ))
        {
            return Err(SluiceError::connector(
                table,
                "format 'raw' needs exactly one STRING column (the record); use format 'json' for more columns",
            ));
        }
        Ok(())
    }
}

/// Records gathered for one batch.
#[derive(Debug)]
pub struct RecordBuffer {
    schema: SchemaRef,
    format: RecordFormat,
    data: Vec<u8>,
    /// End offset of each record in `data`.
    ends: Vec<usize>,
}

impl RecordBuffer {
    pub fn new(schema: SchemaRef, format: RecordFormat) -> Self {
        RecordBuffer {
            schema,
            format,
            data: Vec::new(),
            ends: Vec::new(),
        }
    }

    pub fn push(&mut self, record: &[u8]) {
        self.data.extend_from_slice(record);
        if self.format == RecordFormat::Json {
            // Separates objects even when a record is not one; never inside a record.
            self.data.push(b'\n');
        }
        self.ends.push(self.data.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    fn record(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.data[start..self.ends[i]]
    }

    /// The rows of the gathered records, and how many records were skipped because they are
    /// not rows (bad JSON, each logged with `origin`). The buffer is empty afterwards.
    pub fn finish(&mut self, origin: &dyn Display) -> Result<(RecordBatch, usize)> {
        let result = match self.format {
            RecordFormat::Raw => self.raw_batch().map(|b| (b, 0)),
            RecordFormat::Json => self.json_batch(origin),
        };
        self.data.clear();
        self.ends.clear();
        result
    }

    fn raw_batch(&self) -> Result<RecordBatch> {
        let mut values = StringBuilder::with_capacity(self.len(), self.data.len());
        for i in 0..self.len() {
            values.append_value(String::from_utf8_lossy(self.record(i)));
        }
        Ok(RecordBatch::try_new(
            Arc::clone(&self.schema),
            vec![Arc::new(values.finish())],
        )?)
    }

    fn decode(&self, bytes: &[u8], rows: usize) -> Result<RecordBatch> {
        let mut decoder = ReaderBuilder::new(Arc::clone(&self.schema))
            .with_batch_size(rows.max(1))
            .build_decoder()?;
        let mut rest = bytes;
        while !rest.is_empty() {
            let read = decoder.decode(rest)?;
            if read == 0 {
                break;
            }
            rest = &rest[read..];
        }
        Ok(decoder
            .flush()?
            .unwrap_or_else(|| RecordBatch::new_empty(Arc::clone(&self.schema))))
    }

    /// All records at once; only when that fails, one by one to skip the bad ones.
    fn json_batch(&self, origin: &dyn Display) -> Result<(RecordBatch, usize)> {
        if let Ok(batch) = self.decode(&self.data, self.len())
            && batch.num_rows() == self.len()
        {
            return Ok((batch, 0));
        }
        let mut good = Vec::with_capacity(self.len());
        let mut skipped = 0;
        for i in 0..self.len() {
            match self.decode(self.record(i), 1) {
                Ok(b) if b.num_rows() == 1 => good.push(b),
                Ok(_) => {
                    skipped += 1;
                    tracing::warn!("{origin}: skipping a record that is not one JSON object");
                }
                Err(e) => {
                    skipped += 1;
                    tracing::warn!("{origin}: skipping a record that is not a row: {e}");
                }
            }
        }
        let batch = datafusion::arrow::compute::concat_batches(&self.schema, &good)?;
        Ok((batch, skipped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{Field, Int64Type, Schema};

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
        ]))
    }

    #[test]
    fn json_records_become_rows_and_bad_ones_are_skipped() {
        let mut buf = RecordBuffer::new(schema(), RecordFormat::Json);
        buf.push(br#"{"a": 1, "b": "x"}"#);
        buf.push(b"not json");
        buf.push(b"{\n \"a\": 3\n}");
        let (batch, skipped) = buf.finish(&"test").unwrap();
        assert_eq!(skipped, 1);
        assert_eq!(batch.num_rows(), 2);
        let a = batch.column(0).as_primitive::<Int64Type>();
        assert_eq!((a.value(0), a.value(1)), (1, 3));
        assert!(batch.column(1).is_null(1));
        assert!(buf.is_empty());
    }

    #[test]
    fn raw_records_are_the_one_string_column() {
        let one = Arc::new(Schema::new(vec![Field::new("line", DataType::Utf8, true)]));
        RecordFormat::Raw.check("t", &one).unwrap();
        assert!(RecordFormat::Raw.check("t", &schema()).is_err());
        let mut buf = RecordBuffer::new(one, RecordFormat::Raw);
        buf.push(b"first line");
        buf.push(b"second \xff");
        let (batch, skipped) = buf.finish(&"test").unwrap();
        assert_eq!(skipped, 0);
        let lines = batch.column(0).as_string::<i32>();
        assert_eq!(lines.value(0), "first line");
        assert_eq!(lines.value(1), "second \u{fffd}");
    }
}
