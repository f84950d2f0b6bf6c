//! Files that belong to a checkpoint: a sink that writes files closes them at its marker
//! under a hidden *pending* name (`.NAME.pending`, which readers skip) and lists them in
//! its `SinkState`; once the checkpoint is complete they are renamed to NAME (Flink's
//! FileSink does the same two steps). A crash in between leaves them pending: the resumed
//! job commits the pending files of the checkpoint it resumes from and removes any other,
//! whose rows the replay writes again.

use std::io;
use std::path::{Path, PathBuf};

const SUFFIX: &str = ".pending";

/// The pending name of a file that is to become `path`.
pub fn pending_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}{SUFFIX}"))
}

/// The name a pending file gets when committed; `None` if `path` is no pending name.
pub fn committed_path(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let name = name.strip_prefix('.')?.strip_suffix(SUFFIX)?;
    (!name.is_empty()).then(|| path.with_file_name(name))
}

pub fn is_pending(path: &Path) -> bool {
    committed_path(path).is_some()
}

/// Commits a pending file; one committed already (it is not there, its final name is) is
/// fine, so committing twice does no harm.
pub fn commit(path: &Path) -> io::Result<()> {
    let Some(target) = committed_path(path) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a pending file", path.display()),
        ));
    };
    match std::fs::rename(path, &target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound && target.exists() => Ok(()),
        other => other,
    }
}

/// Commits the pending files of the sinks of a complete checkpoint. A failure is logged:
/// the file stays pending, and the sink lists it again in its next checkpoint.
pub fn commit_all<'a>(files: impl IntoIterator<Item = &'a String>) {
    for file in files {
        if let Err(e) = commit(Path::new(file)) {
            tracing::warn!("committing {file}: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_files_commit_once_and_twice_is_harmless() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("part-1.parquet");
        let pending = pending_path(&target);
        assert_eq!(pending.file_name().unwrap(), ".part-1.parquet.pending");
        assert!(is_pending(&pending));
        assert!(!is_pending(&target));
        assert!(!is_pending(&dir.path().join(".pending")));
        std::fs::write(&pending, b"rows").unwrap();
        commit(&pending).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"rows");
        commit(&pending).unwrap();
        assert!(commit(&dir.path().join(".gone.pending")).is_err());
        assert!(commit(&target).is_err());
    }
}
