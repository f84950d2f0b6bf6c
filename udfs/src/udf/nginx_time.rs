//! `nginx_time(text)` → `Timestamp(ms, UTC)`, NULL when the text is not an nginx time.

use std::sync::Arc;

use datafusion::arrow::array::TimestampMillisecondBuilder;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::access_log::{UTC, timestamp_type};
use super::args::{for_each_str, unary};
use crate::time::parse_nginx_time;

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NginxTimeUdf {
    signature: Signature,
}

impl NginxTimeUdf {
    pub fn new() -> Self {
        NginxTimeUdf {
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

impl Default for NginxTimeUdf {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for NginxTimeUdf {
    fn name(&self) -> &str {
        "nginx_time"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(timestamp_type())
    }

    fn is_strict(&self) -> bool {
        true
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        unary(self.name(), args, |texts| {
            let mut out =
                TimestampMillisecondBuilder::with_capacity(texts.len()).with_timezone(UTC);
            for_each_str(texts, |text| {
                out.append_option(
                    text.and_then(|t| parse_nginx_time(t).ok())
                        .map(|t| t.epoch_millis),
                );
            })?;
            Ok(Arc::new(out.finish()))
        })
    }
}
