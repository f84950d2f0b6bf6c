//! A stream job's `lines` or `json` files, read one after another so that a checkpoint can
//! say how far: every batch carries, for each file started, its device, inode and the byte
//! after the last line read (a JSON object by path). A job resumed from a checkpoint skips
//! what it had read: a file read to its end is not read again, one read partly goes on from
//! its offset, and a file that is new or was replaced (another inode at that path) is read
//! from its start. (The parallel byte ranges of `lines` cannot say that: they are read out
//! of order.) The files are those matched when the job starts; the source then ends.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::physical_plan::streaming::PartitionStream;

use super::follow::{FilePosition, Follower, LineBatches, Sent};
use crate::connectors::records::RecordFormat;
use crate::exec::metrics::SourceMetrics;

/// How far each file is read: path → position.
pub type FilesRead = BTreeMap<String, FilePosition>;

/// The position notation of a [`FilesRead`]: `{"path": "dev:ino:offset", …}`.
pub fn encode(read: &FilesRead) -> String {
    let text: BTreeMap<&str, String> = read
        .iter()
        .map(|(path, at)| (path.as_str(), at.to_string()))
        .collect();
    serde_json::to_string(&text).unwrap_or_default()
}

pub fn decode(text: &str) -> Result<FilesRead, String> {
    let map: BTreeMap<String, String> = serde_json::from_str(text)
        .map_err(|e| format!("'{text}' is no list of files read: {e}"))?;
    map.into_iter()
        .map(|(path, at)| Ok((path, at.parse()?)))
        .collect()
}

/// The single partition of a stream job's files read in order.
#[derive(Debug)]
pub struct FilesPartition {
    pub schema: SchemaRef,
    /// In the order they are read.
    pub files: Vec<PathBuf>,
    /// The split the batches are tagged with: the table's path.
    pub split: String,
    pub metrics: Arc<SourceMetrics>,
    pub json: bool,
    /// What a checkpoint had read, when the job resumes from one.
    pub restored: FilesRead,
}

impl PartitionStream for FilesPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batch_size = ctx.session_config().batch_size();
        let mut builder = RecordBatchReceiverStream::builder(Arc::clone(&self.schema), 2);
        let mut out = LineBatches::new(
            Arc::clone(&self.schema),
            if self.json {
                RecordFormat::Json
            } else {
                RecordFormat::Raw
            },
            batch_size,
            Arc::clone(&self.metrics),
            self.split.clone(),
            builder.tx(),
        );
        let files = self.files.clone();
        let mut read = self.restored.clone();
        // Reads block; keep them off the async workers.
        builder.spawn_blocking(move || {
            if !out.start(&encode(&read)) {
                return Ok(());
            }
            for file in files {
                let key = file.display().to_string();
                let Some(mut follower) = start(&file, read.get(&key))? else {
                    continue;
                };
                // Read to the end as it is now, then the last line even without a newline.
                loop {
                    let idle = out.poll(&mut follower)?.idle;
                    if idle {
                        out.finish(&mut follower);
                    }
                    let sent = out.send(idle, |at| {
                        read.insert(key.clone(), at);
                        encode(&read)
                    })?;
                    if sent == Sent::Closed {
                        return Ok(());
                    }
                    if idle {
                        break;
                    }
                }
            }
            Ok(())
        });
        builder.build()
    }
}

/// A reader of `file` from where a checkpoint left it; `None`: read to its end already.
fn start(
    file: &std::path::Path,
    read: Option<&FilePosition>,
) -> Result<Option<Follower>, DataFusionError> {
    let Some(&at) = read else {
        return Ok(Some(Follower::new(file)));
    };
    let meta = std::fs::metadata(file)
        .map_err(|e| DataFusionError::Execution(format!("reading {}: {e}", file.display())))?;
    if (meta.dev(), meta.ino()) != at.id {
        tracing::warn!(
            path = %file.display(),
            "not the file the checkpoint read (another inode): reading it from the start"
        );
        return Ok(Some(Follower::new(file)));
    }
    if at.offset >= meta.len() {
        return Ok(None);
    }
    Ok(Some(Follower::resume(file, at)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_read_round_trip_and_bad_text_is_an_error() {
        let read = FilesRead::from([
            (
                "/raw/a.log".to_string(),
                FilePosition {
                    id: (1, 2),
                    offset: 30,
                },
            ),
            ("/raw/b \"x\".log".to_string(), FilePosition::default()),
        ]);
        assert_eq!(decode(&encode(&read)), Ok(read));
        assert!(decode("not json").is_err());
        assert!(decode(r#"{"a": "1:2"}"#).is_err());
    }
}
