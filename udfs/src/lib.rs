//! Log parsing, URL and IP functions for Sluice, registered into DataFusion.
//!
//! The pure-Rust pieces ([`access_log`], [`cms`], [`ip`], [`time`]) do the work; [`udf`] wraps
//! them as vectorized DataFusion scalar functions, and [`register_all`] installs those into a
//! session. Batch and streaming jobs call the same functions, so cleaning rules agree.

pub mod access_log;
pub mod cms;
mod config;
pub mod ip;
#[cfg(test)]
mod testdata;
pub mod time;
pub mod udf;

use datafusion::prelude::{SessionConfig, SessionContext};

pub use config::{IP2REGION_PATH_ENV, UdfConfig};

/// Registers every function of [`function_names`] into `ctx`.
///
/// The ip2region database is not read here: it loads on the first lookup, so sessions that
/// never call an IP function do not need the file.
pub fn register_all(ctx: &SessionContext, cfg: &UdfConfig) {
    for udf in udf::all_udfs(cfg) {
        ctx.register_udf(udf);
    }
}

/// `config` planning each of these functions once per row. DataFusion's leaf-expression
/// pushdown moves `get_field` next to the scan by repeating the expression that makes the
/// struct: `parse_access_log(line)['ip']` and `['referer']` would each parse the line again,
/// and `ip_location(ip)['province']`, `['city']`, ... would each look the address up, before
/// the filter. Our struct-returning functions are expensive: every session that runs them
/// turns that rule off.
pub fn planned_once(config: SessionConfig) -> SessionConfig {
    config.set_bool(
        "datafusion.optimizer.enable_leaf_expression_pushdown",
        false,
    )
}

/// The SQL names of the functions [`register_all`] installs.
pub fn function_names() -> Vec<&'static str> {
    vec![
        "parse_access_log",
        "access_log_error",
        "nginx_time",
        "cms_type",
        "cms_id",
        "ip_location",
        "ip_country",
        "ip_region",
        "ip_city",
        "ip_isp",
        "is_internal_ip",
    ]
}
