//! Converting between Arrow columns and MySQL protocol values.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use mysql_async::Value;

/// A batch's columns in the few types we bind (see `normalize`); done once per batch.
pub fn bindable_columns(batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
    batch.columns().iter().map(normalize).collect()
}

/// Row-major parameter values of `rows`, ready to bind to `upsert_sql`.
pub fn params(columns: &[ArrayRef], rows: std::ops::Range<usize>) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(rows.len() * columns.len());
    for row in rows {
        for col in columns {
            out.push(cell(col, row)?);
        }
    }
    Ok(out)
}

/// Casts the few types we bind through another one: strings to Utf8, timestamps to µs UTC.
fn normalize(col: &ArrayRef) -> Result<ArrayRef> {
    Ok(match col.data_type() {
        DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(_, _) => {
            cast(col, &DataType::Utf8)?
        }
        DataType::Timestamp(TimeUnit::Microsecond, None) => Arc::clone(col),
        DataType::Timestamp(_, _) => cast(col, &DataType::Timestamp(TimeUnit::Microsecond, None))?,
        _ => Arc::clone(col),
    })
}

fn cell(col: &ArrayRef, row: usize) -> Result<Value> {
    if col.is_null(row) {
        return Ok(Value::NULL);
    }
    Ok(match ScalarValue::try_from_array(col, row)? {
        ScalarValue::Utf8(Some(s)) => Value::Bytes(s.into_bytes()),
        ScalarValue::Boolean(Some(b)) => Value::Int(b as i64),
        ScalarValue::Int8(Some(v)) => Value::Int(v.into()),
        ScalarValue::Int16(Some(v)) => Value::Int(v.into()),
        ScalarValue::Int32(Some(v)) => Value::Int(v.into()),
        ScalarValue::Int64(Some(v)) => Value::Int(v),
        ScalarValue::UInt8(Some(v)) => Value::UInt(v.into()),
        ScalarValue::UInt16(Some(v)) => Value::UInt(v.into()),
        ScalarValue::UInt32(Some(v)) => Value::UInt(v.into()),
        ScalarValue::UInt64(Some(v)) => Value::UInt(v),
        ScalarValue::Float32(Some(v)) => Value::Float(v),
        ScalarValue::Float64(Some(v)) => Value::Double(v),
        ScalarValue::Binary(Some(b)) | ScalarValue::LargeBinary(Some(b)) => Value::Bytes(b),
        ScalarValue::Date32(Some(days)) => {
            let d = chrono::DateTime::from_timestamp(i64::from(days) * 86_400, 0)
                .ok_or_else(|| {
                    DataFusionError::Execution(format!("date out of range: {days} days"))
                })?
                .date_naive();
            use chrono::Datelike;
            Value::Date(d.year() as u16, d.month() as u8, d.day() as u8, 0, 0, 0, 0)
        }
        ScalarValue::TimestampMicrosecond(Some(us), _) => {
            let t = chrono::DateTime::from_timestamp_micros(us)
                .ok_or_else(|| {
                    DataFusionError::Execution(format!("timestamp out of range: {us} µs"))
                })?
                .naive_utc();
            use chrono::{Datelike, Timelike};
            Value::Date(
                t.year() as u16,
                t.month() as u8,
                t.day() as u8,
                t.hour() as u8,
                t.minute() as u8,
                t.second() as u8,
                t.nanosecond() / 1000,
            )
        }
        // Decimals and anything else: their text form, which MySQL parses.
        other => Value::Bytes(other.to_string().into_bytes()),
    })
}

/// Builds a batch of `schema` from rows read from MySQL, converting each value to the
/// declared column type.
pub fn rows_to_batch(schema: &SchemaRef, rows: Vec<mysql_async::Row>) -> Result<RecordBatch> {
    let n_cols = schema.fields().len();
    let n_rows = rows.len();
    let mut columns: Vec<Vec<ScalarValue>> = vec![Vec::with_capacity(rows.len()); n_cols];
    for row in rows {
        let values = row.unwrap();
        for (i, v) in values.into_iter().take(n_cols).enumerate() {
            columns[i].push(to_scalar(v, schema.field(i).data_type())?);
        }
    }
    let arrays = columns
        .into_iter()
        .zip(schema.fields())
        .map(|(values, f)| {
            if values.is_empty() {
                Ok(datafusion::arrow::array::new_empty_array(f.data_type()))
            } else {
                ScalarValue::iter_to_array(values)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    if n_cols == 0 {
        // `SELECT count(*)` projects no column: the batch must still carry the row count.
        let options = RecordBatchOptions::new().with_row_count(Some(n_rows));
        return Ok(RecordBatch::try_new_with_options(
            Arc::clone(schema),
            vec![],
            &options,
        )?);
    }
    Ok(RecordBatch::try_new(Arc::clone(schema), arrays)?)
}

fn to_scalar(v: Value, dt: &DataType) -> Result<ScalarValue> {
    let raw = match v {
        Value::NULL => return ScalarValue::try_from(dt),
        Value::Bytes(b) => ScalarValue::Utf8(Some(String::from_utf8_lossy(&b).into_owned())),
        Value::Int(i) => ScalarValue::Int64(Some(i)),
        Value::UInt(u) => ScalarValue::UInt64(Some(u)),
        Value::Float(f) => ScalarValue::Float32(Some(f)),
        Value::Double(d) => ScalarValue::Float64(Some(d)),
        Value::Date(y, mo, d, h, mi, s, us) => ScalarValue::Utf8(Some(format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}"
        ))),
        Value::Time(neg, days, h, mi, s, us) => ScalarValue::Utf8(Some(format!(
            "{}{}:{mi:02}:{s:02}.{us:06}",
            if neg { "-" } else { "" },
            u64::from(days) * 24 + u64::from(h)
        ))),
    };
    raw.cast_to(dt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray, TimestampMillisecondArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    #[test]
    fn binds_rows_in_row_major_order() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("s", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
            Field::new(
                "t",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true,
            ),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("北京"), None])),
                Arc::new(Int64Array::from(vec![Some(7), Some(-1)])),
                Arc::new(
                    TimestampMillisecondArray::from(vec![Some(1_478_707_262_000), None])
                        .with_timezone("UTC"),
                ),
            ],
        )
        .unwrap();
        let p = params(&bindable_columns(&batch).unwrap(), 0..2).unwrap();
        assert_eq!(p.len(), 6);
        assert_eq!(p[0], Value::Bytes("北京".as_bytes().to_vec()));
        assert_eq!(p[1], Value::Int(7));
        assert_eq!(p[2], Value::Date(2016, 11, 9, 16, 1, 2, 0));
        assert_eq!(p[3], Value::NULL);
        assert_eq!(p[5], Value::NULL);
    }

    #[test]
    fn converts_values_to_declared_types() {
        assert_eq!(
            to_scalar(Value::Bytes(b"42".to_vec()), &DataType::Int64).unwrap(),
            ScalarValue::Int64(Some(42))
        );
        assert_eq!(
            to_scalar(Value::Int(3), &DataType::Utf8).unwrap(),
            ScalarValue::Utf8(Some("3".into()))
        );
        assert_eq!(
            to_scalar(Value::NULL, &DataType::Int32).unwrap(),
            ScalarValue::Int32(None)
        );
    }
}
