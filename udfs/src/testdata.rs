//! Paths of the shared reference data used by the tests (a copy of `shared/data/imooc` in the repo, `testdata/imooc`).

use std::path::PathBuf;

/// `testdata/imooc`, overridable with `SLUICE_SHARED_DATA` for unusual checkouts.
pub(crate) fn imooc_dir() -> PathBuf {
    match std::env::var_os("SLUICE_SHARED_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/imooc")),
    }
}

/// The 10,000 real lines of `10000_access.log`, as text.
pub(crate) fn access_log() -> String {
    let path = imooc_dir().join("10000_access.log");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}
