//! `is_internal_ip(ip)` → Boolean. Never NULL: a NULL address is not a usable public IP either.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;

use super::args::for_each_str;
use crate::ip::is_internal_ip;

string_udf!(IsInternalIpUdf, "is_internal_ip", returns DataType::Boolean, strict false, is_internal_ip_array);

fn is_internal_ip_array(ips: &ArrayRef) -> Result<ArrayRef> {
    let mut out = BooleanBuilder::with_capacity(ips.len());
    for_each_str(ips, |ip| out.append_value(ip.is_none_or(is_internal_ip)))?;
    Ok(Arc::new(out.finish()))
}
