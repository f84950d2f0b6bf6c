//! `cms_type(url)` → Utf8 and `cms_id(url)` → Int64.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Builder, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::args::{for_each_str, unary};
use crate::cms::{cms_id, cms_type};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CmsTypeUdf {
    signature: Signature,
}

impl CmsTypeUdf {
    pub fn new() -> Self {
        CmsTypeUdf {
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

impl Default for CmsTypeUdf {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for CmsTypeUdf {
    fn name(&self) -> &str {
        "cms_type"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn is_strict(&self) -> bool {
        true
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        unary(self.name(), args, |urls| {
            let mut out = StringBuilder::with_capacity(urls.len(), urls.len() * 6);
            for_each_str(urls, |url| out.append_option(url.map(cms_type)))?;
            Ok(Arc::new(out.finish()))
        })
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CmsIdUdf {
    signature: Signature,
}

impl CmsIdUdf {
    pub fn new() -> Self {
        CmsIdUdf {
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

impl Default for CmsIdUdf {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for CmsIdUdf {
    fn name(&self) -> &str {
        "cms_id"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn is_strict(&self) -> bool {
        true
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        unary(self.name(), args, |urls| {
            let mut out = Int64Builder::with_capacity(urls.len());
            for_each_str(urls, |url| out.append_option(url.map(cms_id)))?;
            Ok(Arc::new(out.finish()))
        })
    }
}
