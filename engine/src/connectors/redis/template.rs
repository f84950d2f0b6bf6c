//! Turning rows into Redis text: key templates like `realtime:pv:{cms_id}:{window_end}`,
//! and the rendering of cell values (timestamps in the configured time format).

use std::fmt::Write as _;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, TimeZone, Utc};
use datafusion::arrow::array::timezone::Tz;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{
    DataType, Float32Type, Float64Type, Schema, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// How timestamps render in keys and values (`key.time_format`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeFormat {
    EpochMillis,
    EpochSeconds,
    /// A chrono strftime pattern, rendered in the column's time zone (UTC if it has none).
    Pattern(String),
}

impl TimeFormat {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "epoch_millis" => return Ok(TimeFormat::EpochMillis),
            "epoch_seconds" => return Ok(TimeFormat::EpochSeconds),
            _ => {}
        }
        let items: Vec<Item> = StrftimeItems::new(text).collect();
        if items.iter().any(|i| matches!(i, Item::Error)) {
            return Err(format!("'{text}' is not a valid strftime pattern"));
        }
        // A pattern without a single specifier (a typo such as `epoch_milis`) would give every
        // window the same key, so later windows would silently overwrite earlier ones.
        let has_field = items
            .iter()
            .any(|i| matches!(i, Item::Numeric(..) | Item::Fixed(_)));
        if !has_field {
            return Err(format!(
                "'{text}' is not epoch_millis, epoch_seconds or a strftime pattern such as %Y%m%d%H%M"
            ));
        }
        Ok(TimeFormat::Pattern(text.to_string()))
    }
}

/// The column `name` in `schema`: an exact match, else the only case-insensitive one.
pub fn resolve_column(schema: &Schema, name: &str) -> Result<usize, String> {
    if let Ok(i) = schema.index_of(name) {
        return Ok(i);
    }
    let matches: Vec<usize> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| f.name().eq_ignore_ascii_case(name))
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [i] => Ok(*i),
        _ => Err(format!(
            "'{name}' is not a column of the table; columns: {}",
            column_list(schema)
        )),
    }
}

pub fn column_list(schema: &Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Column(usize),
}

/// A parsed `key` option: literal text and `{column}` placeholders; `{{` and `}}` are braces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTemplate {
    text: String,
    segments: Vec<Segment>,
}

impl KeyTemplate {
    pub fn parse(text: &str, schema: &Schema) -> Result<Self, String> {
        let bad = |why: String| Err(format!("key template '{text}': {why}"));
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for c in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        name.push(c);
                    }
                    if !closed {
                        return bad("a '{' is not closed (write '{{' for a literal brace)".into());
                    }
                    let name = name.trim();
                    if name.is_empty() {
                        return bad("'{}' names no column".into());
                    }
                    let col = match resolve_column(schema, name) {
                        Ok(i) => i,
                        Err(e) => return bad(e),
                    };
                    if !literal.is_empty() {
                        segments.push(Segment::Text(std::mem::take(&mut literal)));
                    }
                    segments.push(Segment::Column(col));
                }
                '}' => return bad("a '}' has no '{' (write '}}' for a literal brace)".into()),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            segments.push(Segment::Text(literal));
        }
        if segments.is_empty() {
            return bad("it is empty".into());
        }
        Ok(KeyTemplate {
            text: text.to_string(),
            segments,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The columns the template uses, in order of appearance (repeats included).
    pub fn columns(&self) -> impl Iterator<Item = usize> + '_ {
        self.segments.iter().filter_map(|s| match s {
            Segment::Column(i) => Some(*i),
            Segment::Text(_) => None,
        })
    }

    /// The key of `row`, or `None` when one of its columns is NULL there.
    pub fn render(&self, cells: &Cells<'_>, row: usize) -> Result<Option<String>, String> {
        let mut key = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(t) => key.push_str(t),
                Segment::Column(i) => {
                    if !cells.write(*i, row, &mut key)? {
                        return Ok(None);
                    }
                }
            }
        }
        Ok(Some(key))
    }
}

/// How one column's values become text.
enum Cell<'a> {
    Timestamp {
        array: &'a ArrayRef,
        unit: TimeUnit,
        tz: Option<Tz>,
    },
    /// Shortest text that reads back as the same number (`1` for 1.0, not `1.0`).
    Float64(&'a ArrayRef),
    Float32(&'a ArrayRef),
    /// Strings as they are, integers and decimals as their decimal text, dates as ISO dates.
    Display(&'a ArrayRef, ArrayFormatter<'a>),
}

/// The columns of one batch, ready to render; built per batch, used for its rows.
pub struct Cells<'a> {
    cells: Vec<Option<Cell<'a>>>,
    time_format: &'a TimeFormat,
}

impl<'a> Cells<'a> {
    /// Prepares the columns `used` of `batch` (others are never rendered).
    pub fn new(
        batch: &'a RecordBatch,
        used: &[usize],
        time_format: &'a TimeFormat,
    ) -> Result<Self, String> {
        let mut cells: Vec<Option<Cell<'a>>> = (0..batch.num_columns()).map(|_| None).collect();
        for &i in used {
            if cells[i].is_some() {
                continue;
            }
            let array = batch.column(i);
            let cell = match array.data_type() {
                DataType::Timestamp(unit, tz) => Cell::Timestamp {
                    array,
                    unit: *unit,
                    tz: tz
                        .as_deref()
                        .map(|t| {
                            t.parse::<Tz>()
                                .map_err(|e| format!("time zone '{t}' of a timestamp column: {e}"))
                        })
                        .transpose()?,
                },
                DataType::Float64 => Cell::Float64(array),
                DataType::Float32 => Cell::Float32(array),
                _ => Cell::Display(
                    array,
                    ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default())
                        .map_err(|e| e.to_string())?,
                ),
            };
            cells[i] = Some(cell);
        }
        Ok(Cells { cells, time_format })
    }

    /// Whether column `col` is NULL at `row`.
    pub fn is_null(&self, col: usize, row: usize) -> bool {
        match &self.cells[col] {
            Some(
                Cell::Timestamp { array, .. }
                | Cell::Float64(array)
                | Cell::Float32(array)
                | Cell::Display(array, _),
            ) => array.is_null(row),
            None => true,
        }
    }

    /// The text of column `col` at `row`, or `None` if it is NULL.
    pub fn text(&self, col: usize, row: usize) -> Result<Option<String>, String> {
        let mut out = String::new();
        Ok(self.write(col, row, &mut out)?.then_some(out))
    }

    /// Appends the text of column `col` at `row` to `out`; false (nothing appended) if NULL.
    pub fn write(&self, col: usize, row: usize, out: &mut String) -> Result<bool, String> {
        if self.is_null(col, row) {
            return Ok(false);
        }
        let Some(cell) = &self.cells[col] else {
            return Ok(false);
        };
        match cell {
            Cell::Timestamp { array, unit, tz } => {
                let v = timestamp_value(array, *unit, row);
                write_time(v, *unit, tz.as_ref(), self.time_format, out)?;
            }
            Cell::Float64(array) => {
                let _ = write!(out, "{}", array.as_primitive::<Float64Type>().value(row));
            }
            Cell::Float32(array) => {
                let _ = write!(out, "{}", array.as_primitive::<Float32Type>().value(row));
            }
            Cell::Display(_, f) => {
                let _ = write!(out, "{}", f.value(row));
            }
        }
        Ok(true)
    }
}

fn timestamp_value(array: &ArrayRef, unit: TimeUnit, row: usize) -> i64 {
    match unit {
        TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(row),
        TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().value(row),
        TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(row),
        TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row),
    }
}

/// Ticks of `unit` in one second.
fn per_second(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    }
}

fn write_time(
    value: i64,
    unit: TimeUnit,
    tz: Option<&Tz>,
    format: &TimeFormat,
    out: &mut String,
) -> Result<(), String> {
    let ticks = per_second(unit);
    match format {
        TimeFormat::EpochMillis => {
            let millis = if ticks >= 1_000 {
                value.div_euclid(ticks / 1_000)
            } else {
                value * 1_000
            };
            let _ = write!(out, "{millis}");
        }
        TimeFormat::EpochSeconds => {
            let _ = write!(out, "{}", value.div_euclid(ticks));
        }
        TimeFormat::Pattern(pattern) => {
            let secs = value.div_euclid(ticks);
            let nanos = value.rem_euclid(ticks) * (1_000_000_000 / ticks);
            let utc = DateTime::<Utc>::from_timestamp(secs, nanos as u32)
                .ok_or_else(|| format!("timestamp {value} is out of range"))?;
            let _ = match tz {
                Some(tz) => write!(
                    out,
                    "{}",
                    tz.from_utc_datetime(&utc.naive_utc()).format(pattern)
                ),
                None => write!(out, "{}", utc.format(pattern)),
            };
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{
        Date32Array, Float32Array, Float64Array, Int64Array, StringArray,
        TimestampMillisecondArray, TimestampSecondArray, UInt8Array,
    };
    use datafusion::arrow::datatypes::Field;

    use super::*;

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("window_size", DataType::Utf8, true),
            Field::new("cms_id", DataType::Int64, true),
            Field::new(
                "window_end",
                DataType::Timestamp(TimeUnit::Millisecond, None),
                true,
            ),
            Field::new("PV", DataType::Int64, true),
        ])
    }

    #[test]
    fn template_parses_columns_literals_and_escaped_braces() {
        let t =
            KeyTemplate::parse("rt:{{x}}:{window_size}:{ cms_id }{window_end}", &schema()).unwrap();
        assert_eq!(
            t.segments,
            vec![
                Segment::Text("rt:{x}:".into()),
                Segment::Column(0),
                Segment::Text(":".into()),
                Segment::Column(1),
                Segment::Column(2),
            ]
        );
        assert_eq!(t.columns().collect::<Vec<_>>(), vec![0, 1, 2]);
        // Case-insensitive when there is no exact match.
        let t = KeyTemplate::parse("{pv}", &schema()).unwrap();
        assert_eq!(t.columns().collect::<Vec<_>>(), vec![3]);
    }

    #[test]
    fn template_errors_name_the_template_and_the_columns() {
        let err = KeyTemplate::parse("rt:{window}:{cms_id}", &schema()).unwrap_err();
        assert!(err.contains("key template 'rt:{window}:{cms_id}'"), "{err}");
        assert!(err.contains("'window' is not a column"), "{err}");
        assert!(err.contains("window_size, cms_id, window_end, PV"), "{err}");
        for (bad, why) in [
            ("rt:{cms_id", "not closed"),
            ("rt:cms_id}", "has no '{'"),
            ("rt:{}", "names no column"),
            ("", "empty"),
        ] {
            let err = KeyTemplate::parse(bad, &schema()).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    fn batch() -> RecordBatch {
        RecordBatch::try_new(
            Arc::new(schema()),
            vec![
                Arc::new(StringArray::from(vec![Some("1m"), Some("5m"), None])),
                Arc::new(Int64Array::from(vec![Some(7), Some(-3), Some(9)])),
                Arc::new(TimestampMillisecondArray::from(vec![
                    Some(1_700_000_060_000),
                    Some(1_700_000_300_123),
                    None,
                ])),
                Arc::new(Int64Array::from(vec![Some(1), None, Some(3)])),
            ],
        )
        .unwrap()
    }

    #[test]
    fn keys_render_and_null_columns_give_none() {
        let b = batch();
        let t = KeyTemplate::parse("pv:{window_size}:{cms_id}:{window_end}", &schema()).unwrap();
        let used: Vec<usize> = t.columns().collect();
        let fmt = TimeFormat::EpochMillis;
        let cells = Cells::new(&b, &used, &fmt).unwrap();
        assert_eq!(
            t.render(&cells, 0).unwrap().as_deref(),
            Some("pv:1m:7:1700000060000")
        );
        assert_eq!(
            t.render(&cells, 1).unwrap().as_deref(),
            Some("pv:5m:-3:1700000300123")
        );
        assert_eq!(t.render(&cells, 2).unwrap(), None);
    }

    #[test]
    fn time_formats() {
        assert_eq!(
            TimeFormat::parse("epoch_millis"),
            Ok(TimeFormat::EpochMillis)
        );
        assert_eq!(
            TimeFormat::parse("epoch_seconds"),
            Ok(TimeFormat::EpochSeconds)
        );
        assert_eq!(
            TimeFormat::parse("%Y%m%d%H%M"),
            Ok(TimeFormat::Pattern("%Y%m%d%H%M".into()))
        );
        assert!(
            TimeFormat::parse("epoch_milis")
                .unwrap_err()
                .contains("not epoch_millis")
        );
        assert!(
            TimeFormat::parse("%Y%Q")
                .unwrap_err()
                .contains("not a valid strftime")
        );

        let render = |array: ArrayRef, fmt: &str| {
            let schema = Schema::new(vec![Field::new("t", array.data_type().clone(), true)]);
            let b = RecordBatch::try_new(Arc::new(schema), vec![array]).unwrap();
            let fmt = TimeFormat::parse(fmt).unwrap();
            let cells = Cells::new(&b, &[0], &fmt).unwrap();
            cells.text(0, 0).unwrap().unwrap()
        };
        // 2023-11-14 22:14:20.999 UTC
        let ms = || Arc::new(TimestampMillisecondArray::from(vec![1_700_000_060_999])) as ArrayRef;
        assert_eq!(render(ms(), "epoch_millis"), "1700000060999");
        assert_eq!(render(ms(), "epoch_seconds"), "1700000060");
        assert_eq!(render(ms(), "%Y%m%d%H%M"), "202311142214");
        assert_eq!(
            render(ms(), "%Y-%m-%d %H:%M:%S%.3f"),
            "2023-11-14 22:14:20.999"
        );
        let ltz = || {
            Arc::new(TimestampMillisecondArray::from(vec![1_700_000_060_999]).with_timezone("UTC"))
                as ArrayRef
        };
        assert_eq!(render(ltz(), "%Y%m%d%H%M"), "202311142214");
        let shanghai = Arc::new(
            TimestampMillisecondArray::from(vec![1_700_000_060_999]).with_timezone("Asia/Shanghai"),
        ) as ArrayRef;
        assert_eq!(render(shanghai, "%Y%m%d%H%M"), "202311150614");
        let offset = Arc::new(
            TimestampMillisecondArray::from(vec![1_700_000_060_999]).with_timezone("+08:00"),
        ) as ArrayRef;
        assert_eq!(render(offset, "%H:%M"), "06:14");
        // Seconds scale up; before-1970 values round down, not toward zero.
        let secs = Arc::new(TimestampSecondArray::from(vec![1_700_000_060])) as ArrayRef;
        assert_eq!(render(secs, "epoch_millis"), "1700000060000");
        let before = Arc::new(TimestampMillisecondArray::from(vec![-1])) as ArrayRef;
        assert_eq!(render(before, "epoch_seconds"), "-1");
    }

    #[test]
    fn values_render_as_plain_text() {
        let schema = Schema::new(vec![
            Field::new("f64", DataType::Float64, true),
            Field::new("f32", DataType::Float32, true),
            Field::new("u8", DataType::UInt8, true),
            Field::new("d", DataType::Date32, true),
        ]);
        let b = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Float64Array::from(vec![Some(42.0), Some(0.1)])),
                Arc::new(Float32Array::from(vec![Some(0.1), None])),
                Arc::new(UInt8Array::from(vec![Some(255), Some(0)])),
                Arc::new(Date32Array::from(vec![Some(19_675), Some(0)])),
            ],
        )
        .unwrap();
        let fmt = TimeFormat::EpochMillis;
        let cells = Cells::new(&b, &[0, 1, 2, 3], &fmt).unwrap();
        let text = |c, r| cells.text(c, r).unwrap();
        assert_eq!(text(0, 0).as_deref(), Some("42"));
        assert_eq!(text(0, 1).as_deref(), Some("0.1"));
        assert_eq!(text(1, 0).as_deref(), Some("0.1"));
        assert_eq!(text(1, 1), None);
        assert_eq!(text(2, 0).as_deref(), Some("255"));
        assert_eq!(text(3, 0).as_deref(), Some("2023-11-14"));
        assert_eq!(text(3, 1).as_deref(), Some("1970-01-01"));
    }
}
