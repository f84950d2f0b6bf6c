//! A panel's query result as the page reads it: column names and rows of JSON values
//! (numbers as numbers, timestamps as RFC 3339 text), written by arrow-json.

use std::collections::BTreeMap;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::json::{ArrayWriter, WriterBuilder};
use serde_json::Value;

use super::provinces::map_name;

/// Rows of a panel.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    /// The rows of `batches`, in their order.
    pub fn from_batches(columns: Vec<String>, batches: &[RecordBatch]) -> Result<Rows, String> {
        let mut rows = Vec::new();
        for batch in batches.iter().filter(|b| b.num_rows() > 0) {
            let mut writer: ArrayWriter<Vec<u8>> = WriterBuilder::new()
                .with_explicit_nulls(true)
                .build(Vec::new());
            writer.write(batch).map_err(|e| e.to_string())?;
            writer.finish().map_err(|e| e.to_string())?;
            let objects: Vec<serde_json::Map<String, Value>> =
                serde_json::from_slice(&writer.into_inner()).map_err(|e| e.to_string())?;
            rows.extend(objects.into_iter().map(|mut object| {
                columns
                    .iter()
                    .map(|c| object.remove(c).unwrap_or(Value::Null))
                    .collect()
            }));
        }
        Ok(Rows { columns, rows })
    }

    /// A map panel's rows: the first column's province names as the map names them, rows
    /// of one province summed, what is not a province of the map left out.
    pub fn on_the_map(self) -> Rows {
        let mut by_province: BTreeMap<&'static str, f64> = BTreeMap::new();
        for row in &self.rows {
            let (Some(Value::String(name)), Some(value)) = (row.first(), row.get(1)) else {
                continue;
            };
            if let (Some(province), Some(v)) = (map_name(name), value.as_f64()) {
                *by_province.entry(province).or_default() += v;
            }
        }
        let rows = by_province
            .into_iter()
            .map(|(province, v)| vec![Value::from(province), number(v)])
            .collect();
        Rows {
            columns: self.columns.into_iter().take(2).collect(),
            rows,
        }
    }
}

/// A whole sum stays an integer in JSON.
fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        Value::from(v as i64)
    } else {
        Value::from(v)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, StringArray, TimestampMillisecondArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use serde_json::json;

    use super::*;

    #[test]
    fn rows_keep_their_order_numbers_nulls_and_utc_times() {
        let schema = Arc::new(Schema::new(vec![
            Field::new(
                "t",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                false,
            ),
            Field::new("n", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(
                    TimestampMillisecondArray::from(vec![1_478_736_060_000, 1_478_736_000_000])
                        .with_timezone("UTC"),
                ),
                Arc::new(Int64Array::from(vec![Some(7), None])),
            ],
        )
        .unwrap();
        let rows = Rows::from_batches(vec!["t".into(), "n".into()], &[batch]).unwrap();
        assert_eq!(
            rows.rows,
            vec![
                vec![json!("2016-11-10T00:01:00Z"), json!(7)],
                vec![json!("2016-11-10T00:00:00Z"), json!(null)],
            ]
        );
    }

    #[test]
    fn map_rows_are_the_maps_provinces_summed() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("province", DataType::Utf8, false),
            Field::new("pv", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![
                    "广东省",
                    "",
                    "北京",
                    "广东",
                    "美国",
                ])),
                Arc::new(Int64Array::from(vec![3, 9, 2, 1, 5])),
            ],
        )
        .unwrap();
        let rows = Rows::from_batches(vec!["province".into(), "pv".into()], &[batch])
            .unwrap()
            .on_the_map();
        assert_eq!(
            rows.rows,
            vec![vec![json!("北京"), json!(2)], vec![json!("广东"), json!(4)]]
        );
    }
}
