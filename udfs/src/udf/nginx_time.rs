//! `nginx_time(text)` → `Timestamp(ms, UTC)`, NULL when the text is not an nginx time.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, TimestampMillisecondBuilder};
use datafusion::common::Result;

use super::access_log::{UTC, timestamp_type};
use super::args::for_each_str;
use crate::time::parse_nginx_time;

string_udf!(NginxTimeUdf, "nginx_time", returns timestamp_type(), strict true, nginx_time_array);

fn nginx_time_array(texts: &ArrayRef) -> Result<ArrayRef> {
    let mut out = TimestampMillisecondBuilder::with_capacity(texts.len()).with_timezone(UTC);
    for_each_str(texts, |text| {
        out.append_option(
            text.and_then(|t| parse_nginx_time(t).ok())
                .map(|t| t.epoch_millis),
        );
    })?;
    Ok(Arc::new(out.finish()))
}
