//! The DataFusion scalar UDFs: one module per function family, registered by [`all_udfs`].

mod access_log;
mod args;
mod cms;
mod internal_ip;
mod ip;
mod nginx_time;

use datafusion::logical_expr::ScalarUDF;

pub use access_log::{AccessLogError, ParseAccessLog, access_log_fields, parse_access_log_array};
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
