//! `cms_type(url)` → Utf8 and `cms_id(url)` → Int64.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Builder, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;

use super::args::for_each_str;
use crate::cms::{cms_id, cms_type};

string_udf!(CmsTypeUdf, "cms_type", returns DataType::Utf8, strict true, cms_type_array);

fn cms_type_array(urls: &ArrayRef) -> Result<ArrayRef> {
    let mut out = StringBuilder::with_capacity(urls.len(), urls.len() * 6);
    for_each_str(urls, |url| out.append_option(url.map(cms_type)))?;
    Ok(Arc::new(out.finish()))
}

string_udf!(CmsIdUdf, "cms_id", returns DataType::Int64, strict true, cms_id_array);

fn cms_id_array(urls: &ArrayRef) -> Result<ArrayRef> {
    let mut out = Int64Builder::with_capacity(urls.len());
    for_each_str(urls, |url| out.append_option(url.map(cms_id)))?;
    Ok(Arc::new(out.finish()))
}
