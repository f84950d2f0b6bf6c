//! The DataFusion scalar UDFs: one module per function family, registered by [`all_udfs`].

/// Declares a one-argument string function whose work is an array kernel
/// `fn(&ArrayRef) -> Result<ArrayRef>`. The struct, its constructor and the `ScalarUDFImpl`
/// plumbing are the same for every such function; only name, type and kernel differ.
/// `strict` says NULL in gives NULL out (DataFusion may then skip the call).
macro_rules! string_udf {
    ($(#[$doc:meta])* $ty:ident, $name:literal, returns $ret:expr, strict $strict:literal, $kernel:expr) => {
        $(#[$doc])*
        #[derive(Debug, PartialEq, Eq, Hash)]
        pub struct $ty {
            signature: datafusion::logical_expr::Signature,
        }

        impl $ty {
            pub fn new() -> Self {
                $ty {
                    signature: datafusion::logical_expr::Signature::string(
                        1,
                        datafusion::logical_expr::Volatility::Immutable,
                    ),
                }
            }
        }

        impl Default for $ty {
            fn default() -> Self {
                Self::new()
            }
        }

        impl datafusion::logical_expr::ScalarUDFImpl for $ty {
            fn name(&self) -> &str {
                $name
            }

            fn signature(&self) -> &datafusion::logical_expr::Signature {
                &self.signature
            }

            fn return_type(
                &self,
                _arg_types: &[datafusion::arrow::datatypes::DataType],
            ) -> datafusion::common::Result<datafusion::arrow::datatypes::DataType> {
                Ok($ret)
            }

            fn is_strict(&self) -> bool {
                $strict
            }

            fn invoke_with_args(
                &self,
                args: datafusion::logical_expr::ScalarFunctionArgs,
            ) -> datafusion::common::Result<datafusion::logical_expr::ColumnarValue> {
                super::args::unary($name, args, $kernel)
            }
        }
    };
}

mod access_log;
mod args;
mod cms;
mod internal_ip;
mod ip;
mod nginx_time;

use datafusion::logical_expr::ScalarUDF;

pub use access_log::{
    AccessLogError, ParseAccessLog, access_log_fields, access_log_struct, parse_access_log_array,
};
pub use cms::{CmsIdUdf, CmsTypeUdf};
pub use internal_ip::IsInternalIpUdf;
pub use ip::{IpLocationUdf, IpPartUdf, ip_location_fields, ip_part_array};
pub use nginx_time::NginxTimeUdf;

use crate::UdfConfig;

/// Every UDF of the crate, configured. The order matches [`crate::function_names`].
pub fn all_udfs(cfg: &UdfConfig) -> Vec<ScalarUDF> {
    let db = || cfg.ip2region_path.clone();
    vec![
        ScalarUDF::new_from_impl(ParseAccessLog::new()),
        ScalarUDF::new_from_impl(AccessLogError::new()),
        ScalarUDF::new_from_impl(NginxTimeUdf::new()),
        ScalarUDF::new_from_impl(CmsTypeUdf::new()),
        ScalarUDF::new_from_impl(CmsIdUdf::new()),
        ScalarUDF::new_from_impl(IpLocationUdf::new(db())),
        ScalarUDF::new_from_impl(IpPartUdf::country(db())),
        ScalarUDF::new_from_impl(IpPartUdf::region(db())),
        ScalarUDF::new_from_impl(IpPartUdf::city(db())),
        ScalarUDF::new_from_impl(IpPartUdf::isp(db())),
        ScalarUDF::new_from_impl(IsInternalIpUdf::new()),
    ]
}
