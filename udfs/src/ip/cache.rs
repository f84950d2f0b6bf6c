//! One loaded database per path per process, shared by every UDF instance and query.
//!
//! Loading reads ~11 MB and validates ~720k records, so it happens once, lazily, on the first
//! lookup; the lock is held while loading so concurrent first queries do not load it twice.
//! Failures are not cached: fetching the file and re-running the query just works.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::xdb::{Xdb, XdbError};

static DATABASES: OnceLock<Mutex<HashMap<PathBuf, Arc<Xdb>>>> = OnceLock::new();

/// The shared database for `path`, loading it on first use.
pub fn shared_xdb(path: &Path) -> Result<Arc<Xdb>, XdbError> {
    let map = DATABASES.get_or_init(|| Mutex::new(HashMap::new()));
    // A panic elsewhere while holding the lock cannot leave the map half-updated (inserts are
    // atomic), so a poisoned lock is safe to reuse.
    let mut map = map.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(db) = map.get(path) {
        return Ok(Arc::clone(db));
    }
    let db = Arc::new(Xdb::load(path)?);
    map.insert(path.to_path_buf(), Arc::clone(&db));
    Ok(db)
}
