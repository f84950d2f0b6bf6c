//! `parse_access_log(line)` → struct, and `access_log_error(line)` → reason or NULL.

use std::fmt::Write as _;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Float64Builder, Int32Builder, Int64Builder, NullBufferBuilder, StringBuilder,
    StructArray, TimestampMillisecondBuilder, new_null_array,
};
use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};
use datafusion::common::{Result, plan_err};

use super::args::{for_each_str, string_bytes};
use crate::access_log::{ParsedLine, parse_line};

/// Timezone of every timestamp the UDFs produce: instants are stored in UTC.
pub(crate) const UTC: &str = "UTC";

pub(crate) fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some(UTC.into()))
}

/// The struct fields of `parse_access_log`, in output order. All nullable: the whole struct
/// is NULL for a bad line, and numeric parts are NULL where nginx wrote `-`.
pub fn access_log_fields() -> Fields {
    let utf8 = |name| Field::new(name, DataType::Utf8, true);
    Fields::from(vec![
        utf8("ip"),
        utf8("remote_user"),
        Field::new("time", timestamp_type(), true),
        utf8("day"),
        utf8("method"),
        utf8("path"),
        utf8("protocol"),
        Field::new("status", DataType::Int32, true),
        Field::new("bytes", DataType::Int64, true),
        utf8("host"),
        utf8("referer"),
        utf8("query"),
        utf8("user_agent"),
        utf8("forwarded_for"),
        utf8("upstream_addr"),
        Field::new("upstream_status", DataType::Int32, true),
        Field::new("upstream_response_time", DataType::Float64, true),
        Field::new("request_time", DataType::Float64, true),
    ])
}

/// A `parse_access_log` column of `rows` rows from some of its fields, the others NULL: for
/// producers that hold the parts of their lines already (the log generator) and must give
/// what parsing the text would for those fields. Every row is a parsed line (none is NULL).
pub fn access_log_struct(rows: usize, parts: Vec<(&str, ArrayRef)>) -> Result<StructArray> {
    let fields = access_log_fields();
    let mut arrays: Vec<Option<ArrayRef>> = vec![None; fields.len()];
    for (name, array) in parts {
        let Some((i, field)) = fields.find(name) else {
            return plan_err!("parse_access_log has no field '{name}'");
        };
        if array.data_type() != field.data_type() || array.len() != rows {
            return plan_err!(
                "field '{name}' of parse_access_log is {} ({rows} rows), not {} ({} rows)",
                field.data_type(),
                array.data_type(),
                array.len()
            );
        }
        arrays[i] = Some(array);
    }
    let arrays = arrays
        .into_iter()
        .zip(fields.iter())
        .map(|(array, field)| array.unwrap_or_else(|| new_null_array(field.data_type(), rows)))
        .collect();
    Ok(StructArray::try_new(fields, arrays, None)?)
}

string_udf!(ParseAccessLog, "parse_access_log", returns DataType::Struct(access_log_fields()), strict true, parse_access_log_array);

/// The array kernel of `parse_access_log`, public for benches.
pub fn parse_access_log_array(lines: &ArrayRef) -> Result<ArrayRef> {
    let mut columns = LogColumns::with_capacity(lines.len(), string_bytes(lines));
    for_each_str(lines, |line| match line.map(parse_line) {
        Some(Ok(parsed)) => columns.push(&parsed),
        _ => columns.push_null(),
    })?;
    Ok(Arc::new(columns.finish()))
}

/// One typed builder per struct field, filled in a single pass; strings are copied straight
/// from the input line into the builders' buffers.
struct LogColumns {
    ip: StringBuilder,
    remote_user: StringBuilder,
    time: TimestampMillisecondBuilder,
    day: StringBuilder,
    method: StringBuilder,
    path: StringBuilder,
    protocol: StringBuilder,
    status: Int32Builder,
    bytes: Int64Builder,
    host: StringBuilder,
    referer: StringBuilder,
    query: StringBuilder,
    user_agent: StringBuilder,
    forwarded_for: StringBuilder,
    upstream_addr: StringBuilder,
    upstream_status: Int32Builder,
    upstream_response_time: Float64Builder,
    request_time: Float64Builder,
    valid: NullBufferBuilder,
}

impl LogColumns {
    fn with_capacity(rows: usize, input_bytes: usize) -> Self {
        // Rough shares of a typical imooc line; builders grow if a batch differs.
        let strings =
            |bytes_per_row: usize| StringBuilder::with_capacity(rows, rows * bytes_per_row);
        let share =
            |percent: usize| StringBuilder::with_capacity(rows, input_bytes / 100 * percent);
        LogColumns {
            ip: strings(15),
            remote_user: strings(1),
            time: TimestampMillisecondBuilder::with_capacity(rows).with_timezone(UTC),
            day: strings(8),
            method: strings(4),
            path: share(20),
            protocol: strings(8),
            status: Int32Builder::with_capacity(rows),
            bytes: Int64Builder::with_capacity(rows),
            host: strings(14),
            referer: share(15),
            query: share(25),
            user_agent: share(40),
            forwarded_for: strings(1),
            upstream_addr: strings(16),
            upstream_status: Int32Builder::with_capacity(rows),
            upstream_response_time: Float64Builder::with_capacity(rows),
            request_time: Float64Builder::with_capacity(rows),
            valid: NullBufferBuilder::new(rows),
        }
    }

    fn push(&mut self, p: &ParsedLine<'_>) {
        self.ip.append_value(p.ip);
        self.remote_user.append_value(p.remote_user);
        self.time.append_value(p.time.epoch_millis);
        self.day.append_value(p.time.day());
        self.method.append_value(p.method);
        self.path.append_option(p.path);
        self.protocol.append_option(p.protocol);
        self.status.append_option(p.status);
        self.bytes.append_option(p.bytes);
        self.host.append_value(p.host);
        self.referer.append_value(p.referer);
        self.query.append_value(p.query);
        self.user_agent.append_value(p.user_agent);
        self.forwarded_for.append_value(p.forwarded_for);
        self.upstream_addr.append_value(p.upstream_addr);
        self.upstream_status.append_option(p.upstream_status);
        self.upstream_response_time
            .append_option(p.upstream_response_time);
        self.request_time.append_option(p.request_time);
        self.valid.append_non_null();
    }

    fn push_null(&mut self) {
        self.ip.append_null();
        self.remote_user.append_null();
        self.time.append_null();
        self.day.append_null();
        self.method.append_null();
        self.path.append_null();
        self.protocol.append_null();
        self.status.append_null();
        self.bytes.append_null();
        self.host.append_null();
        self.referer.append_null();
        self.query.append_null();
        self.user_agent.append_null();
        self.forwarded_for.append_null();
        self.upstream_addr.append_null();
        self.upstream_status.append_null();
        self.upstream_response_time.append_null();
        self.request_time.append_null();
        self.valid.append_null();
    }

    fn finish(mut self) -> StructArray {
        // Same order as `access_log_fields`.
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(self.ip.finish()),
            Arc::new(self.remote_user.finish()),
            Arc::new(self.time.finish()),
            Arc::new(self.day.finish()),
            Arc::new(self.method.finish()),
            Arc::new(self.path.finish()),
            Arc::new(self.protocol.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.bytes.finish()),
            Arc::new(self.host.finish()),
            Arc::new(self.referer.finish()),
            Arc::new(self.query.finish()),
            Arc::new(self.user_agent.finish()),
            Arc::new(self.forwarded_for.finish()),
            Arc::new(self.upstream_addr.finish()),
            Arc::new(self.upstream_status.finish()),
            Arc::new(self.upstream_response_time.finish()),
            Arc::new(self.request_time.finish()),
        ];
        StructArray::new(access_log_fields(), arrays, self.valid.finish())
    }
}

string_udf!(AccessLogError, "access_log_error", returns DataType::Utf8, strict true, access_log_error_array);

fn access_log_error_array(lines: &ArrayRef) -> Result<ArrayRef> {
    let mut out = StringBuilder::with_capacity(lines.len(), 0);
    let mut message = String::new();
    for_each_str(lines, |line| match line.map(parse_line) {
        Some(Err(e)) => {
            message.clear();
            // Writing to a String cannot fail.
            let _ = write!(message, "{e}");
            out.append_value(&message);
        }
        _ => out.append_null(),
    })?;
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{AsArray, Int64Array, StringArray, TimestampMillisecondArray};

    use super::*;
    use crate::time::NginxTime;

    const LINE: &str = r#"117.35.88.11 - - [10/Nov/2016:00:01:02 +0800] "GET /course/list HTTP/1.1" 200 2345 "www.imooc.com" "http://www.imooc.com/code/1852" - "Mozilla/5.0" "-" 10.100.136.65:80 200 0.616 0.616"#;

    #[test]
    fn a_struct_from_parts_holds_what_parsing_gives_for_them() {
        let parsed =
            parse_access_log_array(&(Arc::new(StringArray::from(vec![LINE])) as ArrayRef)).unwrap();
        let parsed = parsed.as_struct();
        let time = NginxTime::at(1_478_707_262_000, 28_800).unwrap();
        let parts: Vec<(&str, ArrayRef)> = vec![
            ("ip", Arc::new(StringArray::from(vec!["117.35.88.11"]))),
            (
                "time",
                Arc::new(
                    TimestampMillisecondArray::from(vec![time.epoch_millis]).with_timezone(UTC),
                ),
            ),
            ("day", Arc::new(StringArray::from(vec![time.day()]))),
            ("bytes", Arc::new(Int64Array::from(vec![2345]))),
            (
                "referer",
                Arc::new(StringArray::from(vec!["http://www.imooc.com/code/1852"])),
            ),
        ];
        let made = access_log_struct(1, parts).unwrap();
        assert_eq!(made.fields(), parsed.fields());
        assert_eq!(made.null_count(), 0);
        for name in ["ip", "time", "day", "bytes", "referer"] {
            let (made, parsed) = (
                made.column_by_name(name).unwrap(),
                parsed.column_by_name(name).unwrap(),
            );
            assert_eq!(made.as_ref(), parsed.as_ref(), "{name}");
        }
        assert!(made.column_by_name("user_agent").unwrap().is_null(0));
    }

    #[test]
    fn a_struct_from_parts_refuses_unknown_or_mistyped_fields() {
        let text: ArrayRef = Arc::new(StringArray::from(vec!["x"]));
        let err = access_log_struct(1, vec![("referrer", Arc::clone(&text))]).unwrap_err();
        assert!(err.to_string().contains("no field 'referrer'"), "{err}");
        let err = access_log_struct(1, vec![("bytes", Arc::clone(&text))]).unwrap_err();
        assert!(err.to_string().contains("field 'bytes'"), "{err}");
        let err = access_log_struct(2, vec![("ip", text)]).unwrap_err();
        assert!(err.to_string().contains("(2 rows)"), "{err}");
    }
}
