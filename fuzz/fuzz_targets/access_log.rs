//! Fuzzes the imooc nginx access-log parser of `sluice-udfs`.
//!
//! The input is taken as UTF-8 (lossily: invalid bytes become U+FFFD, as a reader that
//! replaces them would hand over) and cut into lines at `\n`. Every line goes through
//! `parse_line` and what `clean.sql` does with its fields (`cms_type`, `cms_id`,
//! `is_internal_ip`, `split_request`), then the whole batch goes through the vectorized UDF
//! kernels `parse_access_log` and `access_log_error`, as `Utf8` and as `Utf8View` arrays.
//! Besides "no panic", the target checks that the kernels agree with `parse_line`: a row is
//! NULL in `parse_access_log` exactly when `parse_line` fails, and `access_log_error` is the
//! error's message exactly then.
#![no_main]

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray, StringViewArray};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::config::ConfigOptions;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl};
use libfuzzer_sys::fuzz_target;
use sluice_udfs::access_log::{parse_line, split_request};
use sluice_udfs::cms::{cms_id, cms_type};
use sluice_udfs::ip::is_internal_ip;
use sluice_udfs::time::parse_nginx_time;
use sluice_udfs::udf::{AccessLogError, parse_access_log_array};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.split('\n').collect();

    let mut expected: Vec<Option<String>> = Vec::with_capacity(lines.len());
    for line in &lines {
        match parse_line(line) {
            Ok(p) => {
                // Every borrowed field is a slice of the line.
                for field in [
                    p.ip,
                    p.ident,
                    p.remote_user,
                    p.request,
                    p.method,
                    p.host,
                    p.referer,
                    p.query,
                    p.user_agent,
                    p.forwarded_for,
                    p.upstream_addr,
                ] {
                    assert!(is_within(field, line), "field {field:?} not in line");
                }
                assert_eq!(p.time.day().len(), 8, "day of {line:?}");
                let parts = split_request(p.request);
                assert_eq!(parts.method, p.method);
                let _ = cms_type(p.referer);
                let _ = cms_id(p.referer);
                let _ = is_internal_ip(p.ip);
                expected.push(None);
            }
            Err(e) => expected.push(Some(e.to_string())),
        }
        // The time parser on its own, on text it was not meant for.
        let _ = parse_nginx_time(line);
        let _ = cms_type(line);
        let _ = cms_id(line);
        let _ = is_internal_ip(line);
    }

    let utf8: ArrayRef = Arc::new(StringArray::from(lines.clone()));
    let view: ArrayRef = Arc::new(StringViewArray::from(lines.clone()));
    for input in [&utf8, &view] {
        let parsed = parse_access_log_array(input).expect("parse_access_log kernel failed");
        assert_eq!(parsed.len(), lines.len());
        let parsed = parsed.as_struct();
        for (i, want) in expected.iter().enumerate() {
            assert_eq!(parsed.is_null(i), want.is_some(), "row {i}: {:?}", lines[i]);
        }

        let errors = access_log_error(input);
        assert_eq!(errors.len(), lines.len());
        for (i, want) in expected.iter().enumerate() {
            let got = (!errors.is_null(i)).then(|| errors.value(i).to_string());
            assert_eq!(&got, want, "row {i}: {:?}", lines[i]);
        }
    }
});

/// `access_log_error` through its `ScalarUDFImpl`, as DataFusion calls it.
fn access_log_error(input: &ArrayRef) -> StringArray {
    let udf = AccessLogError::new();
    let args = ScalarFunctionArgs {
        args: vec![ColumnarValue::Array(Arc::clone(input))],
        arg_fields: vec![Arc::new(Field::new("line", input.data_type().clone(), true))],
        number_rows: input.len(),
        return_field: Arc::new(Field::new("reason", DataType::Utf8, true)),
        config_options: Arc::new(ConfigOptions::default()),
    };
    match udf.invoke_with_args(args).expect("access_log_error failed") {
        ColumnarValue::Array(a) => a.as_string::<i32>().clone(),
        ColumnarValue::Scalar(s) => panic!("access_log_error returned a scalar: {s:?}"),
    }
}

fn is_within(part: &str, whole: &str) -> bool {
    let (p, w) = (part.as_ptr() as usize, whole.as_ptr() as usize);
    p >= w && p + part.len() <= w + whole.len()
}
