//! Files that survive a crash whole or not at all: written to a temp file next to the
//! target, synced, renamed over it, and the directory synced (a rename is durable only once
//! the directory holding it is). Checkpoint manifests and the server's job records use it.

use std::fs;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` and syncs them (no rename: for files no reader sees until a
/// later atomic step publishes them).
pub fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Replaces `path` by `bytes` atomically: a reader sees the old content or the new, never
/// a part of either, even after a crash.
pub fn replace_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other(format!("{} names no file", path.display())))?;
    let mut temp_name = name.to_os_string();
    temp_name.push(".tmp");
    let temp = path.with_file_name(temp_name);
    write_synced(&temp, bytes)?;
    fs::rename(&temp, path)?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Syncs a directory, so the renames and creations inside it are durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    fs::File::open(dir).and_then(|d| d.sync_all())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_file_holds_the_new_bytes_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.json");
        replace_atomically(&path, b"old").unwrap();
        replace_atomically(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("job.json")]);
    }
}
