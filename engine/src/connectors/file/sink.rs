//! Writes a table's rows as files, Hive-partitioned (`day=20161110/part-….parquet`) when the
//! table has `partition_by`.
//!
//! A batch run replaces what it writes, like Spark's `partitionBy(..).mode(Overwrite)` with
//! dynamic partition overwrite: files go to a staging directory first and each partition
//! directory written is swapped in when the write succeeds, so a rerun never duplicates rows
//! and a failed run leaves the previous data in place. (DataFusion's own listing-table insert
//! only appends, hence our own sink.)
//!
//! A stream run appends files. In a job that checkpoints, a file is closed at each
//! checkpoint's marker under a pending name carrying the checkpoint's id and committed when
//! the checkpoint is complete (`checkpoint::pending`); a resumed job commits what its
//! checkpoint left pending and removes files written after it, so a replay writes no row
//! twice. Without checkpoints, files are committed every rollover interval.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray, UInt32Array};
use datafusion::arrow::compute::{cast, take_record_batch};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::FileFormat;
use crate::checkpoint::{SourcePositions, pending};
use crate::connectors::sink::TableSink;
use crate::job::metrics::SinkMetrics;
use crate::wire::{Message, SinkInput, SinkState};

/// Hive's name for a NULL partition value.
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

#[derive(Debug)]
pub struct FileSink {
    pub table: String,
    pub dir: PathBuf,
    pub format: FileFormat,
    /// The table's full schema (what INSERT produces).
    pub schema: SchemaRef,
    /// Indices of partition columns in `schema`.
    pub partition_cols: Vec<usize>,
    /// Schema of the files: `schema` without the partition columns.
    pub file_schema: SchemaRef,
    pub csv_header: bool,
    /// Stream mode: append files, committing the open ones this often (and at the end).
    pub rollover: Option<Duration>,
    pub metrics: Arc<SinkMetrics>,
    /// Whether the job checkpoints, and what this sink had pending at the one it resumes
    /// from.
    pub positions: Arc<SourcePositions>,
    /// What its checkpoint state is called.
    pub state_name: String,
}

#[async_trait]
impl TableSink for FileSink {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn describe(&self) -> String {
        format!(
            "FileSink: table={} format={:?} dir={}",
            self.table,
            self.format,
            self.dir.display()
        )
    }

    async fn write(&self, mut data: SinkInput, _ctx: &Arc<TaskContext>) -> Result<u64> {
        if let Some(every) = self.rollover {
            return self.write_rolling(data, every).await;
        }
        let staging = StagingDir(staging_dir(&self.dir));
        let staging = &staging.0;
        async {
            let mut writers: HashMap<String, PartWriter> = HashMap::new();
            let mut rows = 0u64;
            while let Some(batch) = data.next_rows().await {
                let batch = batch?;
                for (part, sub) in self.split(&batch)? {
                    let writer = match writers.get_mut(&part) {
                        Some(w) => w,
                        None => {
                            let w = self.open_writer(&staging.join(&part), writers.len())?;
                            writers.entry(part).or_insert(w)
                        }
                    };
                    writer.write(&sub)?;
                }
                rows += batch.num_rows() as u64;
                self.metrics
                    .rows
                    .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
            }
            if writers.is_empty() && self.partition_cols.is_empty() {
                // An empty unpartitioned result still replaces the table: with an empty file.
                let w = self.open_writer(staging, 0)?;
                writers.insert(String::new(), w);
            }
            let parts: Vec<String> = writers.keys().cloned().collect();
            for (_, w) in writers {
                w.close()?;
            }
            self.commit(staging, &parts)?;
            Ok(rows)
        }
        .await
    }
}

impl FileSink {
    /// Splits a batch by partition values: (relative dir like `day=20161110`, rows without
    /// the partition columns).
    fn split(&self, batch: &RecordBatch) -> Result<Vec<(String, RecordBatch)>> {
        let data_cols: Vec<usize> = (0..batch.num_columns())
            .filter(|i| !self.partition_cols.contains(i))
            .collect();
        let data = batch.project(&data_cols)?;
        let data = RecordBatch::try_new(Arc::clone(&self.file_schema), data.columns().to_vec())?;
        if self.partition_cols.is_empty() {
            return Ok(vec![(String::new(), data)]);
        }
        let keys: Vec<ArrayRef> = self
            .partition_cols
            .iter()
            .map(|&i| cast(batch.column(i), &DataType::Utf8))
            .collect::<std::result::Result<_, _>>()?;
        let keys: Vec<&StringArray> = keys
            .iter()
            .map(|k| {
                k.as_any().downcast_ref::<StringArray>().ok_or_else(|| {
                    DataFusionError::Internal("partition key cast to Utf8 failed".into())
                })
            })
            .collect::<Result<_>>()?;
        let path_of = |row: usize| -> Result<String> {
            let mut parts = Vec::with_capacity(keys.len());
            for (k, &col) in keys.iter().zip(&self.partition_cols) {
                let name = self.schema.field(col).name();
                let value = if k.is_null(row) {
                    NULL_PARTITION
                } else {
                    k.value(row)
                };
                check_partition_value(name, value)?;
                parts.push(format!("{name}={value}"));
            }
            Ok(parts.join("/"))
        };
        // Fast path: the usual batch holds one day.
        let first = path_of(0)?;
        let mut groups: Vec<(String, Vec<u32>)> = vec![];
        let mut index: HashMap<String, usize> = HashMap::new();
        for row in 0..batch.num_rows() {
            let p = if row == 0 {
                first.clone()
            } else {
                path_of(row)?
            };
            let slot = *index.entry(p.clone()).or_insert_with(|| {
                groups.push((p, Vec::new()));
                groups.len() - 1
            });
            groups[slot].1.push(row as u32);
        }
        if groups.len() == 1 {
            return Ok(vec![(first, data)]);
        }
        groups
            .into_iter()
            .map(|(p, rows)| Ok((p, take_record_batch(&data, &UInt32Array::from(rows))?)))
            .collect()
    }

    /// Stream mode: rows go to open files per partition, and every `every` (or at the end
    /// of the input) the open files are committed: a file is written under a hidden name and
    /// renamed into place, so readers see whole files only. Rows already written stay. In a
    /// job that checkpoints, files are closed at each checkpoint instead and committed when
    /// it is complete (also the last one, when the job stops).
    async fn write_rolling(&self, mut data: SinkInput, every: Duration) -> Result<u64> {
        // Readers of a table that has no rows yet still find its directory.
        std::fs::create_dir_all(&self.dir).map_err(|e| io_err(&self.dir, e))?;
        let mut on_checkpoints = self.positions.checkpointing();
        if on_checkpoints {
            self.recover(self.positions.restored_sink(&self.state_name).as_ref())?;
        }
        let mut open: HashMap<String, RollingFile> = HashMap::new();
        let mut pending_files: Vec<PathBuf> = Vec::new();
        let mut due: Option<tokio::time::Instant> = None;
        let mut rows = 0u64;
        let mut files = 0u64;
        // After the barrier of the checkpoint the job stops at, the input ends.
        let mut stopping = false;
        loop {
            let next = match due {
                Some(at) => match tokio::time::timeout_at(at, data.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        self.roll(&mut open)?;
                        due = None;
                        continue;
                    }
                },
                None => data.next().await,
            };
            let Some(message) = next else { break };
            let batch = match message? {
                Message::Data(batch) => batch,
                Message::Barrier(barrier) if on_checkpoints => {
                    stopping = barrier.last;
                    for (_, f) in open.drain() {
                        pending_files.push(f.close_pending(barrier.id)?);
                    }
                    // Committed ones are gone; those of an abandoned checkpoint are still here.
                    pending_files.retain(|p| p.exists());
                    barrier.attach(SinkState {
                        name: self.state_name.clone(),
                        pending_files: pending_files
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect(),
                        ..SinkState::default()
                    });
                    continue;
                }
                _ => continue,
            };
            if on_checkpoints && !self.positions.checkpointing() {
                // Checkpoints are off after all (a source cannot say how far it has read):
                // what waited for one is final, and files roll on the interval.
                on_checkpoints = false;
                for f in pending_files.drain(..) {
                    pending::commit(&f).map_err(|e| io_err(&f, e))?;
                }
            }
            for (part, sub) in self.split(&batch)? {
                if !open.contains_key(&part) {
                    let dir = self.dir.join(&part);
                    let name = format!(
                        "part-{}-{}-{files:05}.{}",
                        std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map(|d| d.as_millis())
                            .unwrap_or(0),
                        std::process::id(),
                        self.format.extension()
                    );
                    files += 1;
                    let hidden = dir.join(format!(".{name}{IN_PROGRESS}"));
                    std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
                    let writer = self.open_writer_at(&hidden)?;
                    open.insert(
                        part.clone(),
                        RollingFile {
                            writer,
                            hidden,
                            path: dir.join(name),
                        },
                    );
                }
                if let Some(f) = open.get_mut(&part) {
                    f.writer.write(&sub)?;
                }
            }
            if !on_checkpoints {
                due.get_or_insert_with(|| tokio::time::Instant::now() + every);
            }
            rows += batch.num_rows() as u64;
            self.metrics
                .rows
                .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        }
        // The input ended: every row is final, pending or not. Unless the job stopped at a
        // checkpoint: its pending files are the checkpoint's to commit, once it is complete.
        self.roll(&mut open)?;
        if !stopping {
            for f in &pending_files {
                pending::commit(f).map_err(|e| io_err(f, e))?;
            }
        }
        Ok(rows)
    }

    /// A resumed job: commits the files its checkpoint left pending and removes the files
    /// written after it (in progress or pending), whose rows the replay writes again.
    fn recover(&self, restored: Option<&SinkState>) -> Result<()> {
        let mut kept = Vec::new();
        for f in restored
            .map(|s| s.pending_files.as_slice())
            .unwrap_or_default()
        {
            let path = PathBuf::from(f);
            if let Err(e) = pending::commit(&path) {
                tracing::warn!("{}: committing {f} of the checkpoint: {e}", self.table);
            }
            kept.push(path);
        }
        let mut removed = 0;
        let mut dirs = vec![self.dir.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir)
                .map_err(|e| io_err(&dir, e))?
                .flatten()
            {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if path.is_dir() && !name.starts_with('.') {
                    dirs.push(path);
                } else if name.starts_with(".part-")
                    && (name.ends_with(IN_PROGRESS) || pending::is_pending(&path))
                    && !kept.contains(&path)
                {
                    std::fs::remove_file(&path).map_err(|e| io_err(&path, e))?;
                    removed += 1;
                }
            }
        }
        if removed > 0 {
            tracing::info!(
                "{}: removed {removed} files written after the checkpoint (the replay writes \
                 their rows again)",
                self.table
            );
        }
        Ok(())
    }

    /// Commits every open file of a rolling write.
    fn roll(&self, open: &mut HashMap<String, RollingFile>) -> Result<()> {
        for (_, f) in open.drain() {
            f.writer.close()?;
            std::fs::rename(&f.hidden, &f.path).map_err(|e| io_err(&f.path, e))?;
        }
        Ok(())
    }

    fn open_writer(&self, dir: &Path, n: usize) -> Result<PartWriter> {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        self.open_writer_at(&dir.join(format!("part-{n:05}.{}", self.format.extension())))
    }

    fn open_writer_at(&self, path: &Path) -> Result<PartWriter> {
        let file =
            BufWriter::with_capacity(1 << 20, File::create(path).map_err(|e| io_err(path, e))?);
        Ok(match self.format {
            FileFormat::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .build();
                PartWriter::Parquet(Box::new(ArrowWriter::try_new(
                    file,
                    Arc::clone(&self.file_schema),
                    Some(props),
                )?))
            }
            FileFormat::Csv => PartWriter::Csv(Box::new(
                datafusion::arrow::csv::WriterBuilder::new()
                    .with_header(self.csv_header)
                    .build(file),
            )),
            FileFormat::Json => {
                PartWriter::Json(datafusion::arrow::json::LineDelimitedWriter::new(file))
            }
            FileFormat::Lines => PartWriter::Lines(file),
        })
    }

    /// Moves each written partition (or the whole table, when unpartitioned) into place.
    fn commit(&self, staging: &Path, parts: &[String]) -> Result<()> {
        if self.partition_cols.is_empty() {
            return replace_dir(staging, &self.dir);
        }
        for part in parts {
            replace_dir(&staging.join(part), &self.dir.join(part))?;
        }
        Ok(())
    }
}

/// The end of the hidden name of a file being written.
const IN_PROGRESS: &str = ".inprogress";

/// A file a rolling write has open: written under `hidden`, renamed to `path` on commit.
struct RollingFile {
    writer: PartWriter,
    hidden: PathBuf,
    path: PathBuf,
}

impl RollingFile {
    /// Closes the file under the pending name of its final name with `checkpoint` in it
    /// (`part-…-chk000012.parquet`); returns the pending path.
    fn close_pending(self, checkpoint: u64) -> Result<PathBuf> {
        self.writer.close()?;
        let stem = self.path.file_stem().unwrap_or_default().to_string_lossy();
        let ext = self.path.extension().unwrap_or_default().to_string_lossy();
        let target = self
            .path
            .with_file_name(format!("{stem}-chk{checkpoint:06}.{ext}"));
        let pending = pending::pending_path(&target);
        std::fs::rename(&self.hidden, &pending).map_err(|e| io_err(&pending, e))?;
        Ok(pending)
    }
}

/// Puts `new` where `target` is: the old directory is renamed aside first and deleted only
/// once the new one is in place, so a crash leaves either the old or the new data (plus a
/// hidden `.trash` directory), never neither. Refuses to replace a directory holding files
/// Sluice did not write, so a mistyped path cannot wipe someone's data.
fn replace_dir(new: &Path, target: &Path) -> Result<()> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
    }
    if !target.exists() {
        return std::fs::rename(new, target).map_err(|e| io_err(target, e));
    }
    if let Some(foreign) = foreign_file(target) {
        return Err(DataFusionError::Execution(format!(
            "refusing to replace {}: it holds {}, which Sluice did not write; point the table's path at a directory of its own",
            target.display(),
            foreign.display()
        )));
    }
    let trash = staging_dir(target).with_extension("trash");
    std::fs::rename(target, &trash).map_err(|e| io_err(target, e))?;
    if let Err(e) = std::fs::rename(new, target) {
        // Put the old data back rather than leave nothing.
        let _ = std::fs::rename(&trash, target);
        return Err(io_err(target, e));
    }
    std::fs::remove_dir_all(&trash).map_err(|e| io_err(&trash, e))
}

/// A file under `dir` that is not one of ours (`part-*` data files, `key=value` partition
/// directories, hidden staging entries).
fn foreign_file(dir: &Path) -> Option<PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            return Some(d);
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() && name.contains('=') {
                stack.push(path);
            } else if !(path.is_file() && name.starts_with("part-")) {
                return Some(path);
            }
        }
    }
    None
}

/// Removes the staging directory however the write ends: committed (what is left is empty
/// parents), failed, or cancelled because another statement of the job failed.
struct StagingDir(PathBuf);

impl Drop for StagingDir {
    fn drop(&mut self) {
        if self.0.exists() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn io_err(path: &Path, e: std::io::Error) -> DataFusionError {
    DataFusionError::Execution(format!("{}: {e}", path.display()))
}

/// A sibling of the table directory, so the final rename stays on one filesystem and
/// readers of the table never see half-written files.
fn staging_dir(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "table".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    dir.with_file_name(format!(".{name}.staging-{}-{nanos}", std::process::id()))
}

fn check_partition_value(column: &str, value: &str) -> Result<()> {
    if value.is_empty() || value == "." || value == ".." || value.contains(['/', '\\', '\0']) {
        return Err(DataFusionError::Execution(format!(
            "partition column '{column}' has the value '{value}', which cannot be a directory name"
        )));
    }
    Ok(())
}

enum PartWriter {
    Parquet(Box<ArrowWriter<BufWriter<File>>>),
    Csv(Box<datafusion::arrow::csv::Writer<BufWriter<File>>>),
    Json(datafusion::arrow::json::LineDelimitedWriter<BufWriter<File>>),
    /// One string column, written as raw lines (the table was checked to have exactly that).
    Lines(BufWriter<File>),
}

impl PartWriter {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match self {
            PartWriter::Parquet(w) => w.write(batch)?,
            PartWriter::Csv(w) => w.write(batch)?,
            PartWriter::Json(w) => w.write(batch)?,
            PartWriter::Lines(w) => {
                use std::io::Write;
                let col = cast(batch.column(0), &DataType::Utf8)?;
                let lines = col.as_any().downcast_ref::<StringArray>().ok_or_else(|| {
                    DataFusionError::Internal("lines column cast to Utf8 failed".into())
                })?;
                for line in lines.iter().flatten() {
                    w.write_all(line.as_bytes())?;
                    w.write_all(b"\n")?;
                }
            }
        }
        Ok(())
    }

    fn close(self) -> Result<()> {
        use std::io::Write;
        match self {
            PartWriter::Parquet(w) => {
                w.close()?;
            }
            PartWriter::Csv(w) => {
                (*w).into_inner().flush()?;
            }
            PartWriter::Json(mut w) => {
                w.finish()?;
                w.into_inner().flush()?;
            }
            PartWriter::Lines(mut w) => w.flush()?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_our_own_directories_only() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t");
        let new = dir.path().join(".t.staging");
        std::fs::create_dir_all(target.join("day=1")).unwrap();
        std::fs::write(target.join("day=1/part-00000.parquet"), b"old").unwrap();
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(new.join("part-00000.parquet"), b"new").unwrap();
        replace_dir(&new, &target).unwrap();
        assert_eq!(
            std::fs::read(target.join("part-00000.parquet")).unwrap(),
            b"new"
        );
        assert!(!target.join("day=1").exists());
        // No trash or staging left behind.
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("t")]);

        std::fs::write(target.join("notes.txt"), b"mine").unwrap();
        std::fs::create_dir_all(&new).unwrap();
        let err = replace_dir(&new, &target).unwrap_err().to_string();
        assert!(
            err.contains("refusing to replace") && err.contains("notes.txt"),
            "{err}"
        );
        assert_eq!(std::fs::read(target.join("notes.txt")).unwrap(), b"mine");
    }
}
