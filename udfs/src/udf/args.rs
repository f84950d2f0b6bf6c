//! Plumbing shared by the one-string-argument UDFs: argument unpacking, the scalar/array split,
//! and iteration over any string array type without copying it to `Utf8` first.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs};

/// Runs an array kernel on the single argument of `name`. A scalar argument becomes a one-row
/// array and the result a scalar again, so constant folding (`cms_type('http://...')`) works.
pub(crate) fn unary(
    name: &str,
    args: ScalarFunctionArgs,
    kernel: impl FnOnce(&ArrayRef) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    let mut values = args.args;
    if values.len() != 1 {
        return exec_err!("{name} takes 1 argument, got {}", values.len());
    }
    match values.pop() {
        Some(ColumnarValue::Array(array)) => Ok(ColumnarValue::Array(kernel(&array)?)),
        Some(ColumnarValue::Scalar(scalar)) => {
            let out = kernel(&scalar.to_array_of_size(1)?)?;
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        }
        None => exec_err!("{name} takes 1 argument, got none"),
    }
}

/// Calls `f` with every row of a string column (`None` for NULL), whatever its string type.
pub(crate) fn for_each_str(array: &ArrayRef, mut f: impl FnMut(Option<&str>)) -> Result<()> {
    match array.data_type() {
        DataType::Utf8 => {
            if let Some(a) = array.as_string_opt::<i32>() {
                a.iter().for_each(&mut f);
            }
        }
        DataType::LargeUtf8 => {
            if let Some(a) = array.as_string_opt::<i64>() {
                a.iter().for_each(&mut f);
            }
        }
        DataType::Utf8View => {
            if let Some(a) = array.as_string_view_opt() {
                a.iter().for_each(&mut f);
            }
        }
        DataType::Null => (0..array.len()).for_each(|_| f(None)),
        // Signature coercion normally delivers one of the above; a dictionary can slip
        // through `Signature::string`, and decoding it once is simpler than special-casing it.
        DataType::Dictionary(_, value) if value.is_string() => {
            let plain = cast(array, &DataType::Utf8)?;
            if let Some(a) = plain.as_string_opt::<i32>() {
                a.iter().for_each(&mut f);
            }
        }
        other => return exec_err!("expected a string argument, got {other}"),
    }
    Ok(())
}

/// Total bytes of string data in a column, to size output builders once. Views only report
/// what they can cheaply; the builders still grow if this underestimates.
pub(crate) fn string_bytes(array: &ArrayRef) -> usize {
    match array.data_type() {
        DataType::Utf8 => array
            .as_string_opt::<i32>()
            .map_or(0, |a| a.value_data().len()),
        DataType::LargeUtf8 => array
            .as_string_opt::<i64>()
            .map_or(0, |a| a.value_data().len()),
        _ => array.get_buffer_memory_size(),
    }
}
