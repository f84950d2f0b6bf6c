//! Configuration the engine passes to [`crate::register_all`].

use std::path::{Path, PathBuf};

/// Environment variable that overrides where the ip2region database is read from.
pub const IP2REGION_PATH_ENV: &str = "SLUICE_IP2REGION_PATH";

/// Where the UDFs find their external data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UdfConfig {
    /// ip2region xdb v2 file (`scripts/fetch-ip2region.sh` puts it at `data/ip2region.xdb`).
    pub ip2region_path: PathBuf,
}

impl Default for UdfConfig {
    /// `$SLUICE_IP2REGION_PATH`, else `data/ip2region.xdb` under the working directory if it
    /// exists, else the workspace's `data/ip2region.xdb` (so tests and benches find it from any
    /// directory).
    fn default() -> Self {
        let ip2region_path = match std::env::var_os(IP2REGION_PATH_ENV) {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => {
                let local = Path::new("data/ip2region.xdb");
                if local.exists() {
                    local.to_path_buf()
                } else {
                    PathBuf::from(concat!(
                        env!("CARGO_MANIFEST_DIR"),
                        "/../data/ip2region.xdb"
                    ))
                }
            }
        };
        UdfConfig { ip2region_path }
    }
}
