//! IP address functions: IPv4 parsing, internal-address detection, ip2region lookups.

mod addr;
mod cache;
mod region;
mod xdb;
#[cfg(test)]
mod xdb_tests;

pub use addr::{is_internal_addr, is_internal_ip, parse_ipv4};
pub use cache::shared_xdb;
pub use region::{Region, RegionPart};
pub use xdb::{Segment, Xdb, XdbError};
