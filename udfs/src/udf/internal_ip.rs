//! `is_internal_ip(ip)` → Boolean. Never NULL: a NULL address is not a usable public IP either.

use std::sync::Arc;

use datafusion::arrow::array::BooleanBuilder;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::args::{for_each_str, unary};
use crate::ip::is_internal_ip;

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IsInternalIpUdf {
    signature: Signature,
}

impl IsInternalIpUdf {
    pub fn new() -> Self {
        IsInternalIpUdf {
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

impl Default for IsInternalIpUdf {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for IsInternalIpUdf {
    fn name(&self) -> &str {
        "is_internal_ip"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        unary(self.name(), args, |ips| {
            let mut out = BooleanBuilder::with_capacity(ips.len());
            for_each_str(ips, |ip| out.append_value(ip.is_none_or(is_internal_ip)))?;
            Ok(Arc::new(out.finish()))
        })
    }
}
