//! ip2region lookups: `ip_location(ip)` → struct, and `ip_country` / `ip_region` (province) /
//! `ip_city` / `ip_isp` → Utf8. NULL for NULL, non-IPv4 or unknown addresses.

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::array::NullBufferBuilder;
use datafusion::arrow::array::{ArrayRef, StringBuilder, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::args::{for_each_str, unary};
use crate::ip::{Region, RegionPart, Xdb, shared_xdb};

/// The shared database for `path`, with load failures as execution errors for the query.
fn database(path: &std::path::Path) -> Result<Arc<Xdb>> {
    shared_xdb(path).map_err(|e| DataFusionError::Execution(e.to_string()))
}

/// Struct fields of `ip_location`.
pub fn ip_location_fields() -> Fields {
    Fields::from(
        ["country", "area", "province", "city", "isp"]
            .map(|name| Field::new(name, DataType::Utf8, true))
            .to_vec(),
    )
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IpLocationUdf {
    db_path: PathBuf,
    signature: Signature,
}

impl IpLocationUdf {
    pub fn new(db_path: PathBuf) -> Self {
        IpLocationUdf {
            db_path,
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for IpLocationUdf {
    fn name(&self) -> &str {
        "ip_location"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(ip_location_fields()))
    }

    fn is_strict(&self) -> bool {
        true
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let db = database(&self.db_path)?;
        unary(self.name(), args, |ips| ip_location_array(&db, ips))
    }
}

fn ip_location_array(db: &Xdb, ips: &ArrayRef) -> Result<ArrayRef> {
    let rows = ips.len();
    let mut parts: [StringBuilder; 5] =
        std::array::from_fn(|_| StringBuilder::with_capacity(rows, rows * 8));
    let mut valid = NullBufferBuilder::new(rows);
    for_each_str(ips, |ip| {
        let region = ip.and_then(|ip| db.lookup(ip));
        let r = region.unwrap_or_default();
        for (builder, value) in parts
            .iter_mut()
            .zip([r.country, r.area, r.province, r.city, r.isp])
        {
            builder.append_option(value);
        }
        if region.is_some() {
            valid.append_non_null();
        } else {
            valid.append_null();
        }
    })?;
    let arrays: Vec<ArrayRef> = parts
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    Ok(Arc::new(StructArray::new(
        ip_location_fields(),
        arrays,
        valid.finish(),
    )))
}

/// One part of the region as Utf8.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IpPartUdf {
    name: &'static str,
    part: RegionPart,
    db_path: PathBuf,
    signature: Signature,
}

impl IpPartUdf {
    pub fn new(name: &'static str, part: RegionPart, db_path: PathBuf) -> Self {
        IpPartUdf {
            name,
            part,
            db_path,
            signature: Signature::string(1, Volatility::Immutable),
        }
    }

    pub fn country(db_path: PathBuf) -> Self {
        Self::new("ip_country", RegionPart::Country, db_path)
    }

    /// Named `region` after the warehouse column; ip2region calls it the province.
    pub fn region(db_path: PathBuf) -> Self {
        Self::new("ip_region", RegionPart::Province, db_path)
    }

    pub fn city(db_path: PathBuf) -> Self {
        Self::new("ip_city", RegionPart::City, db_path)
    }

    pub fn isp(db_path: PathBuf) -> Self {
        Self::new("ip_isp", RegionPart::Isp, db_path)
    }
}

impl ScalarUDFImpl for IpPartUdf {
    fn name(&self) -> &str {
        self.name
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
        let db = database(&self.db_path)?;
        unary(self.name, args, |ips| ip_part_array(&db, self.part, ips))
    }
}

/// The array kernel of the single-part functions, public for benches.
pub fn ip_part_array(db: &Xdb, part: RegionPart, ips: &ArrayRef) -> Result<ArrayRef> {
    let mut out = StringBuilder::with_capacity(ips.len(), ips.len() * 9);
    for_each_str(ips, |ip| {
        out.append_option(
            ip.and_then(|ip| db.search_str(ip))
                .and_then(|text| Region::parse(text).get(part)),
        );
    })?;
    Ok(Arc::new(out.finish()))
}
