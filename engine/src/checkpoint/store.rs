//! Checkpoints on disk: one directory per checkpoint, `chk-<id>/`, holding the operators'
//! state files and, written last and atomically (temp file, fsync, rename, fsync of the
//! directory), `_manifest.json`. A checkpoint counts only once its manifest is there and
//! every file it lists has the recorded length and CRC-32; anything else (a crash halfway
//! through, a truncated or corrupted file) is skipped with a warning in favour of the one
//! before it.

use std::fs;
use std::path::{Path, PathBuf};

use super::{CheckpointError, Manifest, StateFile};
use crate::durable;

const MANIFEST: &str = "_manifest.json";
const PREFIX: &str = "chk-";

/// The checkpoints of one job.
#[derive(Debug, Clone)]
pub struct CheckpointStore {
    dir: PathBuf,
}

type Result<T> = std::result::Result<T, CheckpointError>;

fn io(what: impl Into<String>, path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError {
    let what = what.into();
    let path = path.to_path_buf();
    move |source| CheckpointError::Io { what, path, source }
}

impl CheckpointStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        CheckpointStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of checkpoint `id` (it may not exist).
    pub fn checkpoint_dir(&self, id: u64) -> PathBuf {
        self.dir.join(format!("{PREFIX}{id}"))
    }

    /// Makes an empty directory for checkpoint `id`'s files (a leftover of an earlier,
    /// unfinished attempt at the same id is cleared first).
    pub fn begin(&self, id: u64) -> Result<PathBuf> {
        let dir = self.checkpoint_dir(id);
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(io("clearing an unfinished checkpoint", &dir))?;
        }
        fs::create_dir_all(&dir).map_err(io("creating the checkpoint directory", &dir))?;
        Ok(dir)
    }

    /// Writes a state file of checkpoint `id` durably and says what it holds.
    pub fn write_file(&self, id: u64, name: &str, bytes: &[u8]) -> Result<StateFile> {
        let path = self.checkpoint_dir(id).join(name);
        durable::write_synced(&path, bytes).map_err(io("writing", &path))?;
        Ok(StateFile {
            name: name.to_string(),
            bytes: bytes.len() as u64,
            crc32: crc32fast::hash(bytes),
        })
    }

    /// Completes checkpoint `id`: its manifest is written atomically. From here on it is the
    /// one a restart resumes from.
    pub fn commit(&self, manifest: &Manifest) -> Result<()> {
        let dir = self.checkpoint_dir(manifest.id);
        let text = serde_json::to_vec_pretty(manifest).map_err(|e| CheckpointError::Corrupt {
            id: manifest.id,
            reason: format!("cannot encode the manifest: {e}"),
        })?;
        let path = dir.join(MANIFEST);
        durable::replace_atomically(&path, &text).map_err(io("publishing the manifest", &path))
    }

    /// Ids of the checkpoint directories present, newest first (complete or not).
    pub fn ids(&self) -> Result<Vec<u64>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(io("listing checkpoints", &self.dir)(e)),
        };
        let mut ids: Vec<u64> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_prefix(PREFIX))
                    .and_then(|n| n.parse().ok())
            })
            .collect();
        ids.sort_unstable_by(|a, b| b.cmp(a));
        Ok(ids)
    }

    /// Reads and verifies checkpoint `id`: its manifest and every state file it lists.
    pub fn load(&self, id: u64) -> Result<Manifest> {
        let dir = self.checkpoint_dir(id);
        let corrupt = |reason: String| CheckpointError::Corrupt { id, reason };
        let path = dir.join(MANIFEST);
        let text = match fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(corrupt(
                    "it has no manifest (it was never completed)".into(),
                ));
            }
            Err(e) => return Err(io("reading the manifest", &path)(e)),
        };
        let manifest: Manifest = serde_json::from_slice(&text)
            .map_err(|e| corrupt(format!("its manifest is unreadable: {e}")))?;
        if manifest.format != super::MANIFEST_FORMAT {
            return Err(CheckpointError::Format {
                id,
                dir: self.dir.clone(),
                found: manifest.format,
            });
        }
        if manifest.id != id {
            return Err(corrupt(format!(
                "its manifest names checkpoint {}",
                manifest.id
            )));
        }
        for file in manifest.files() {
            let path = dir.join(&file.name);
            let bytes =
                fs::read(&path).map_err(|e| corrupt(format!("state file {}: {e}", file.name)))?;
            if bytes.len() as u64 != file.bytes || crc32fast::hash(&bytes) != file.crc32 {
                return Err(corrupt(format!(
                    "state file {} does not match its manifest ({} bytes, expected {})",
                    file.name,
                    bytes.len(),
                    file.bytes
                )));
            }
        }
        Ok(manifest)
    }

    /// The newest checkpoint that is complete and intact; broken ones are skipped with a
    /// warning.
    pub fn latest(&self) -> Result<Option<Manifest>> {
        for id in self.ids()? {
            match self.load(id) {
                Ok(m) => return Ok(Some(m)),
                Err(CheckpointError::Corrupt { id, reason }) => {
                    tracing::warn!(
                        "skipping checkpoint {id} in {}: {reason}",
                        self.dir.display()
                    );
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Reads one file of a verified checkpoint.
    pub fn read_file(&self, id: u64, name: &str) -> Result<Vec<u8>> {
        let path = self.checkpoint_dir(id).join(name);
        fs::read(&path).map_err(io("reading a state file", &path))
    }

    /// Deletes every checkpoint older than the newest `keep` complete ones, and unfinished
    /// ones older than the newest complete one.
    pub fn prune(&self, keep: usize) -> Result<()> {
        let mut complete = 0;
        for id in self.ids()? {
            let dir = self.checkpoint_dir(id);
            let done = dir.join(MANIFEST).exists();
            if done && complete < keep {
                complete += 1;
                continue;
            }
            if !done && complete == 0 {
                // Possibly the one being written now.
                continue;
            }
            fs::remove_dir_all(&dir).map_err(io("pruning an old checkpoint", &dir))?;
        }
        Ok(())
    }

    /// Deletes every checkpoint of the job (it finished: there is nothing to resume).
    pub fn clear(&self) -> Result<()> {
        for id in self.ids()? {
            let dir = self.checkpoint_dir(id);
            fs::remove_dir_all(&dir).map_err(io("removing a checkpoint", &dir))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(id: u64, files: Vec<StateFile>) -> Manifest {
        Manifest {
            format: super::super::MANIFEST_FORMAT,
            id,
            job: "job".into(),
            fingerprint: "f".into(),
            created_ms: 0,
            sources: vec![],
            statements: vec![super::super::StatementState {
                inputs: vec![],
                stages: vec![super::super::StageState {
                    watermark: 0,
                    files,
                    state_bytes: 0,
                }],
            }],
            sinks: vec![super::super::SinkState {
                name: "events".into(),
                pending_files: vec!["/wh/t/.part-1.parquet.pending".into()],
                state: serde_json::json!({"positions": {"0": "42"}, "unmatched": {"0": [40, 41]}}),
            }],
        }
    }

    fn checkpoint(store: &CheckpointStore, id: u64, content: &[u8]) {
        store.begin(id).unwrap();
        let f = store.write_file(id, "a.arrow", content).unwrap();
        store.commit(&manifest(id, vec![f])).unwrap();
    }

    #[test]
    fn the_newest_intact_checkpoint_wins_and_broken_ones_are_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let store = CheckpointStore::new(tmp.path());
        assert!(store.latest().unwrap().is_none());
        checkpoint(&store, 1, b"one");
        checkpoint(&store, 2, b"two");
        let latest = store.latest().unwrap().unwrap();
        assert_eq!(latest.id, 2);
        // Everything written comes back, sink states too.
        let f = latest.files().next().unwrap().clone();
        assert_eq!(latest, manifest(2, vec![f]));

        // Half-written: files but no manifest.
        store.begin(3).unwrap();
        store.write_file(3, "a.arrow", b"three").unwrap();
        assert_eq!(store.latest().unwrap().unwrap().id, 2);

        // Corrupted state file: same length, other bytes.
        fs::write(store.checkpoint_dir(2).join("a.arrow"), b"tw0").unwrap();
        assert!(matches!(
            store.load(2),
            Err(CheckpointError::Corrupt { id: 2, .. })
        ));
        assert_eq!(store.latest().unwrap().unwrap().id, 1);

        // Garbage manifest.
        fs::write(store.checkpoint_dir(1).join(MANIFEST), b"{ not json").unwrap();
        assert!(store.latest().unwrap().is_none());
    }

    #[test]
    fn a_checkpoint_of_the_first_format_is_refused_with_what_to_do() {
        let tmp = tempfile::tempdir().unwrap();
        let store = CheckpointStore::new(tmp.path());
        store.begin(4).unwrap();
        let old = r#"{"id":4,"job":"j","fingerprint":"f","created_ms":0,"sources":[],
            "statements":[],"sinks":[{"name":"events","positions":{"0":"42"}}]}"#;
        fs::write(store.checkpoint_dir(4).join(MANIFEST), old).unwrap();
        let err = store.latest().unwrap_err();
        assert!(matches!(
            err,
            CheckpointError::Format {
                id: 4,
                found: 1,
                ..
            }
        ));
        assert!(err.to_string().contains("--from-checkpoint none"), "{err}");
    }

    #[test]
    fn pruning_keeps_the_newest_complete_checkpoints_and_the_one_in_progress() {
        let tmp = tempfile::tempdir().unwrap();
        let store = CheckpointStore::new(tmp.path());
        for id in 1..=4 {
            checkpoint(&store, id, b"x");
        }
        store.begin(5).unwrap();
        store.prune(2).unwrap();
        assert_eq!(store.ids().unwrap(), vec![5, 4, 3]);
        store.clear().unwrap();
        assert!(store.ids().unwrap().is_empty());
    }
}
