//! The function the stream rewrite puts in a GROUP BY in place of a group window
//! (`sql::windows`): registered so the rewritten SQL plans; the stream planner replaces the
//! aggregate that groups by it with a window operator, so it is never evaluated.

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::sql::windows::STREAM_WINDOW_FUNCTION;

/// The stream rewrite's window marker; registered so the rewritten SQL plans. The window
/// operator replaces the aggregate that groups by it, so it is never evaluated.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct WindowMarker {
    signature: Signature,
}

impl WindowMarker {
    pub fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(WindowMarker {
            signature: Signature::any(3, Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for WindowMarker {
    fn name(&self) -> &str {
        STREAM_WINDOW_FUNCTION
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Timestamp(
            datafusion::arrow::datatypes::TimeUnit::Millisecond,
            None,
        )))
    }

    fn invoke_with_args(
        &self,
        _args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        datafusion::common::plan_err!(
            "{STREAM_WINDOW_FUNCTION} marks a group window in stream mode; use TUMBLE or HOP in GROUP BY"
        )
    }
}
