//! A stream job's files, read one after another so that a checkpoint can say how far. Each
//! file is a split of its own (see `exec::stream::tag_split`), tagged with its device, inode
//! and how far it is read: for `lines` and `json` the byte after the last line, for `parquet`
//! and `csv` the rows. A file read to its end says so (an ended split holds no watermark
//! back). A job resumed from a checkpoint skips what it had read: a file read to its end is
//! not read again, one read partly goes on from there, and a file that is new or was
//! replaced (another inode at that path) is read from its start. (The parallel byte ranges of
//! `lines` and DataFusion's listing scans cannot say that: they read out of order.) The files
//! are those matched when the job starts and the source then ends, unless it watches for new
//! ones (`source.monitor-interval`).

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, new_null_array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::csv::ReaderBuilder;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::physical_plan::streaming::PartitionStream;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::follow::{FileBatches, FilePosition, Follower, Sent};
use super::lines::{FileRange, read_range};
use super::sink::NULL_PARTITION;
use crate::connectors::records::RecordFormat;
use crate::job::metrics::SourceMetrics;

/// How far each file is read: path (the split) → position.
pub type FilesRead = BTreeMap<String, FilePosition>;

/// Lists a table's files (again, when watching for new ones).
#[derive(Debug, Clone)]
pub struct FileLister {
    /// A file, a folder or a glob.
    pub path: String,
    /// Only files with this extension (a folder of Parquet or CSV files).
    pub extension: Option<&'static str>,
}

impl FileLister {
    /// The files now, sorted.
    pub fn list(&self) -> Result<Vec<PathBuf>, String> {
        let mut files = super::matching_paths(&self.path)?;
        if let Some(ext) = self.extension {
            files.retain(|p| p.extension().is_some_and(|e| e == ext));
        }
        Ok(files)
    }
}

/// What the files hold.
#[derive(Debug, Clone)]
pub enum FilesFormat {
    /// One row per line: the line, or a JSON object of the columns.
    Lines { json: bool },
    /// Parquet or CSV files under `root`, Hive-partitioned by the table's columns
    /// `partition_cols` (indices; their values come from the `col=value` directories).
    Rows {
        root: PathBuf,
        partition_cols: Vec<usize>,
        kind: RowFiles,
    },
}

#[derive(Debug, Clone)]
pub enum RowFiles {
    Parquet,
    /// The files' columns: the table's but the partition columns.
    Csv {
        file_schema: SchemaRef,
        header: bool,
        delimiter: u8,
    },
}

/// The single partition of a stream job's files read in order.
#[derive(Debug)]
pub struct FilesPartition {
    pub schema: SchemaRef,
    /// In the order they are read.
    pub files: Vec<PathBuf>,
    pub metrics: Arc<SourceMetrics>,
    pub format: FilesFormat,
    /// What a checkpoint had read, when the job resumes from one.
    pub restored: FilesRead,
    /// `source.monitor-interval`: after the files, look for new ones (and, of `lines` and
    /// `json` files, for lines appended) this often, forever.
    pub monitor: Option<(Duration, FileLister)>,
}

impl PartitionStream for FilesPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batch_size = ctx.session_config().batch_size().max(1);
        let mut builder = RecordBatchReceiverStream::builder(Arc::clone(&self.schema), 2);
        let json = matches!(self.format, FilesFormat::Lines { json: true });
        let mut out = FileBatches::new(
            Arc::clone(&self.schema),
            if json {
                RecordFormat::Json
            } else {
                RecordFormat::Raw
            },
            batch_size,
            Arc::clone(&self.metrics),
            String::new(),
            builder.tx(),
        );
        let files = self.files.clone();
        let reader = FileReader {
            format: self.format.clone(),
            schema: Arc::clone(&self.schema),
            batch_size,
        };
        let mut read = self.restored.clone();
        let monitor = self.monitor.clone();
        // Reads block; keep them off the async workers.
        builder.spawn_blocking(move || {
            // Files the checkpoint read that are gone hold nothing back either.
            let present: std::collections::HashSet<String> =
                files.iter().map(|f| f.display().to_string()).collect();
            for (key, at) in &read {
                if !present.contains(key) {
                    out.set_split(key.clone());
                    if !out.ended(&at.to_string()) {
                        return Ok(());
                    }
                }
            }
            for file in &files {
                if !reader.read(&mut out, file, &mut read)? {
                    return Ok(());
                }
            }
            let Some((every, lister)) = monitor else {
                return Ok(());
            };
            loop {
                std::thread::sleep(every);
                if out.closed() {
                    return Ok(());
                }
                let files = match lister.list() {
                    Ok(files) => files,
                    Err(e) => {
                        tracing::warn!("looking for new files: {e}");
                        continue;
                    }
                };
                for file in &files {
                    if !reader.has_more(file, read.get(&file.display().to_string())) {
                        continue;
                    }
                    match reader.read(&mut out, file, &mut read) {
                        Ok(true) => {}
                        Ok(false) => return Ok(()),
                        // Listed, then removed (retention): nothing to read.
                        Err(e) if !file.exists() => tracing::warn!("{e}; it is gone"),
                        Err(e) => return Err(e),
                    }
                }
            }
        });
        builder.build()
    }
}

/// Reads files in a format, each as its own split.
struct FileReader {
    format: FilesFormat,
    schema: SchemaRef,
    batch_size: usize,
}

impl FileReader {
    /// Reads `file` on from what `read` says was read of it, to its end as it is now, and
    /// records how far. false: the receiver is gone.
    fn read(
        &self,
        out: &mut FileBatches,
        file: &Path,
        read: &mut FilesRead,
    ) -> Result<bool, DataFusionError> {
        let key = file.display().to_string();
        out.set_split(key.clone());
        let from = read.get(&key);
        let end = match &self.format {
            FilesFormat::Lines { json } => read_lines(out, file, *json, self.batch_size, from)?,
            FilesFormat::Rows {
                root,
                partition_cols,
                kind,
            } => {
                let shape = Shape {
                    schema: &self.schema,
                    partition_cols,
                    values: partition_values(root, file),
                };
                read_rows(out, file, kind, &shape, self.batch_size, from)?
            }
        };
        match end {
            Some(at) => {
                read.insert(key, at);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Whether a watched file has rows not read yet: a new file, or lines appended to one
    /// (Parquet and CSV files are read once, as Flink's filesystem source does).
    fn has_more(&self, file: &Path, read: Option<&FilePosition>) -> bool {
        let Some(at) = read else {
            return true;
        };
        matches!(self.format, FilesFormat::Lines { .. })
            && std::fs::metadata(file)
                .is_ok_and(|m| (m.dev(), m.ino()) != at.id || m.len() > at.offset)
    }
}

/// Reads the lines of `file` (the current split) after `from`, what a checkpoint read of it,
/// to its end as it is now (the last line even without a newline). Returns where it ended;
/// `None`: the receiver is gone.
fn read_lines(
    out: &mut FileBatches,
    file: &Path,
    json: bool,
    batch_size: usize,
    from: Option<&FilePosition>,
) -> Result<Option<FilePosition>, DataFusionError> {
    let fail = |e: &dyn std::fmt::Display| {
        DataFusionError::Execution(format!("reading {}: {e}", file.display()))
    };
    let meta = std::fs::metadata(file).map_err(|e| fail(&e))?;
    let id = (meta.dev(), meta.ino());
    let start = resume_at(file, id, from);
    let position = |offset| FilePosition { id, offset };
    if start >= meta.len() {
        return Ok(ended(out, position(start)));
    }
    if !out.start(&position(start).to_string()) {
        return Ok(None);
    }
    let mut at = start;
    if json {
        let mut follower = Follower::resume(file, FilePosition { id, offset: start });
        loop {
            let idle = out.poll(&mut follower)?.idle;
            if idle {
                out.finish(&mut follower);
            }
            let sent = out.send(idle, |p| {
                at = p.offset;
                p.to_string()
            })?;
            if sent == Sent::Closed {
                return Ok(None);
            }
            if idle {
                break;
            }
        }
    } else {
        // Plain lines: the range reader, which fills the column without a String per line.
        let range = FileRange {
            path: file.to_path_buf(),
            start,
            end: meta.len(),
        };
        let mut open = true;
        read_range(
            &range,
            out.schema(),
            batch_size,
            out.metrics(),
            &mut |batch, bytes| {
                at += bytes;
                open = out.put_rows(batch, &position(at).to_string());
                open
            },
        )
        .map_err(|e| fail(&e))?;
        if !open {
            return Ok(None);
        }
    }
    Ok(ended(out, position(at)))
}

/// Says the current split is read to `at`; `None`: the receiver is gone.
fn ended(out: &FileBatches, at: FilePosition) -> Option<FilePosition> {
    out.ended(&at.to_string()).then_some(at)
}

/// Where to go on reading file `id` at `file`: the checkpoint's position if it read this
/// file; from the start if it is new, or another file now has its path.
fn resume_at(file: &Path, id: (u64, u64), read: Option<&FilePosition>) -> u64 {
    match read {
        Some(at) if at.id == id => at.offset,
        Some(_) => {
            tracing::warn!(
                path = %file.display(),
                "not the file the checkpoint read (another inode): reading it from the start"
            );
            0
        }
        None => 0,
    }
}

/// How a Parquet or CSV file's rows become the table's: the partition columns' values from its
/// directories, the others from the file.
struct Shape<'a> {
    schema: &'a SchemaRef,
    partition_cols: &'a [usize],
    /// Partition column name → value (`None`: Hive's NULL).
    values: HashMap<String, Option<String>>,
}

impl Shape<'_> {
    fn rows(&self, batch: &RecordBatch) -> Result<RecordBatch, DataFusionError> {
        let n = batch.num_rows();
        let columns = self
            .schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, field)| {
                let column: ArrayRef = if self.partition_cols.contains(&i) {
                    match self.values.get(field.name()).cloned().flatten() {
                        Some(v) => Arc::new(StringArray::from(vec![v; n])),
                        None => new_null_array(field.data_type(), n),
                    }
                } else {
                    Arc::clone(batch.column_by_name(field.name()).ok_or_else(|| {
                        DataFusionError::Execution(format!(
                            "the file has no column '{}'",
                            field.name()
                        ))
                    })?)
                };
                Ok(cast(&column, field.data_type())?)
            })
            .collect::<Result<Vec<_>, DataFusionError>>()?;
        Ok(RecordBatch::try_new(Arc::clone(self.schema), columns)?)
    }
}

/// The `col=value` directories between `root` and `file`.
fn partition_values(root: &Path, file: &Path) -> HashMap<String, Option<String>> {
    let dirs = file.parent().and_then(|p| p.strip_prefix(root).ok());
    dirs.into_iter()
        .flat_map(|d| d.components())
        .filter_map(|c| {
            let (name, value) = c.as_os_str().to_str()?.split_once('=')?;
            let value = (value != NULL_PARTITION).then(|| value.to_string());
            Some((name.to_string(), value))
        })
        .collect()
}

/// Batches of a file's rows from the `skip`-th on.
type RowReader<'a> = Box<dyn Iterator<Item = Result<RecordBatch, DataFusionError>> + 'a>;

/// Reads the rows of Parquet or CSV `file` (the current split) after the `from` rows a
/// checkpoint read. false: the receiver is gone.
fn read_rows(
    out: &FileBatches,
    file: &Path,
    kind: &RowFiles,
    shape: &Shape,
    batch_size: usize,
    from: Option<&FilePosition>,
) -> Result<Option<FilePosition>, DataFusionError> {
    let fail = |e: &dyn std::fmt::Display| {
        DataFusionError::Execution(format!("reading {}: {e}", file.display()))
    };
    let handle = std::fs::File::open(file).map_err(|e| fail(&e))?;
    let meta = handle.metadata().map_err(|e| fail(&e))?;
    let id = (meta.dev(), meta.ino());
    let skip = resume_at(file, id, from);
    let position = |offset| FilePosition { id, offset };
    let batches: RowReader<'_> = match kind {
        RowFiles::Parquet => {
            let builder = ParquetRecordBatchReaderBuilder::try_new(handle).map_err(|e| fail(&e))?;
            let total = builder.metadata().file_metadata().num_rows().max(0) as u64;
            if skip >= total {
                return Ok(ended(out, position(skip)));
            }
            let reader = builder
                .with_batch_size(batch_size)
                .with_offset(skip as usize)
                .build()
                .map_err(|e| fail(&e))?;
            Box::new(reader.map(move |b| b.map_err(|e| fail(&e))))
        }
        RowFiles::Csv {
            file_schema,
            header,
            delimiter,
        } => {
            let reader = ReaderBuilder::new(Arc::clone(file_schema))
                .with_header(*header)
                .with_delimiter(*delimiter)
                .with_batch_size(batch_size)
                .build(std::io::BufReader::new(handle))
                .map_err(|e| fail(&e))?;
            // CSV has no row index: the rows read are read again and dropped.
            let mut left = skip as usize;
            Box::new(reader.filter_map(move |b| {
                let b = match b {
                    Ok(b) => b,
                    Err(e) => return Some(Err(fail(&e))),
                };
                let dropped = left.min(b.num_rows());
                left -= dropped;
                (dropped < b.num_rows()).then(|| Ok(b.slice(dropped, b.num_rows() - dropped)))
            }))
        }
    };
    if !out.start(&position(skip).to_string()) {
        return Ok(None);
    }
    let mut rows = skip;
    for batch in batches {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        out.metrics()
            .rows
            .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        if !out.put_rows(shape.rows(&batch)?, &position(rows).to_string()) {
            return Ok(None);
        }
    }
    out.metrics().bytes.fetch_add(meta.len(), Ordering::Relaxed);
    Ok(ended(out, position(rows)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, Int64Array};
    use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
    use futures::StreamExt;
    use std::io::Write;

    /// Writes a Parquet file of column `n` with `values`.
    fn parquet(path: &Path, values: Vec<i64>) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![Arc::new(Int64Array::from(values))],
        )
        .unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(path).unwrap(),
            schema,
            None,
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    #[tokio::test]
    async fn parquet_files_resume_after_the_rows_read_with_their_partition_values() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("t");
        let a = root.join("day=1/part-a.parquet");
        let gone = root.join("day=0/part-gone.parquet");
        let b = root.join(format!("day={NULL_PARTITION}/part-b.parquet"));
        let c = root.join("day=3/part-c.parquet");
        parquet(&a, vec![1, 2]);
        parquet(&b, vec![3, 4, 5]);
        parquet(&c, vec![6]);
        let id = |p: &Path| {
            let m = std::fs::metadata(p).unwrap();
            (m.dev(), m.ino())
        };
        // A checkpoint read all of `a` and one row of `b`; `c` is new.
        // ... and a file since deleted.
        let restored = FilesRead::from([
            (
                gone.display().to_string(),
                FilePosition {
                    id: (1, 1),
                    offset: 9,
                },
            ),
            (
                a.display().to_string(),
                FilePosition {
                    id: id(&a),
                    offset: 2,
                },
            ),
            (
                b.display().to_string(),
                FilePosition {
                    id: id(&b),
                    offset: 1,
                },
            ),
        ]);
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("day", DataType::Utf8, true),
        ]));
        let partition = FilesPartition {
            schema,
            files: vec![a.clone(), b.clone(), c.clone()],
            metrics: Arc::default(),
            format: FilesFormat::Rows {
                root: root.clone(),
                partition_cols: vec![1],
                kind: RowFiles::Parquet,
            },
            restored,
            monitor: None,
        };
        let mut stream = partition.execute(Arc::new(TaskContext::default()));
        let mut rows = Vec::new();
        // Split → (its last position, whether it ended).
        let mut splits = BTreeMap::new();
        while let Some(batch) = stream.next().await {
            let (batch, tag) = crate::wire::untag_split(batch.unwrap(), &partition.schema).unwrap();
            let tag = tag.unwrap();
            splits.insert(tag.split, (tag.position.unwrap(), tag.ended));
            let n = batch.column(0).as_primitive::<Int64Type>();
            let day = batch.column(1).as_string::<i32>();
            for i in 0..batch.num_rows() {
                rows.push((
                    n.value(i),
                    day.is_valid(i).then(|| day.value(i).to_string()),
                ));
            }
        }
        assert_eq!(rows, vec![(4, None), (5, None), (6, Some("3".to_string()))]);
        let at = |p: &Path| {
            let (position, ended) = &splits[&p.display().to_string()];
            assert!(ended, "{} did not end", p.display());
            position.parse::<FilePosition>().unwrap().offset
        };
        assert_eq!((at(&a), at(&b), at(&c), at(&gone)), (2, 3, 1, 9));
    }

    #[tokio::test]
    async fn lines_go_on_after_the_byte_read_to_and_end_at_the_file_length() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.log");
        std::fs::write(&file, "one\r\ntwo\nthree").unwrap();
        let m = std::fs::metadata(&file).unwrap();
        let id = (m.dev(), m.ino());
        let key = file.display().to_string();
        let partition = FilesPartition {
            schema: Arc::new(Schema::new(vec![Field::new("line", DataType::Utf8, true)])),
            files: vec![file],
            metrics: Arc::default(),
            format: FilesFormat::Lines { json: false },
            restored: FilesRead::from([(key.clone(), FilePosition { id, offset: 5 })]),
            monitor: None,
        };
        let mut stream = partition.execute(Arc::new(TaskContext::default()));
        let (mut lines, mut last) = (Vec::new(), None);
        while let Some(batch) = stream.next().await {
            let (batch, tag) = crate::wire::untag_split(batch.unwrap(), &partition.schema).unwrap();
            let tag = tag.unwrap();
            assert_eq!(tag.split, key);
            last = tag.position.map(|p| (p, tag.ended));
            let a = batch.column(0).as_string::<i32>();
            lines.extend((0..a.len()).map(|i| a.value(i).to_string()));
        }
        assert_eq!(lines, vec!["two", "three"]);
        let (position, ended) = last.unwrap();
        assert!(ended);
        assert_eq!(position, FilePosition { id, offset: 14 }.to_string());
    }

    #[tokio::test]
    async fn a_watched_folder_gives_new_files_and_appended_lines() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a.log");
        std::fs::write(&first, "1\n").unwrap();
        let partition = FilesPartition {
            schema: Arc::new(Schema::new(vec![Field::new("line", DataType::Utf8, true)])),
            files: vec![first.clone()],
            metrics: Arc::default(),
            format: FilesFormat::Lines { json: false },
            restored: FilesRead::new(),
            monitor: Some((
                std::time::Duration::from_millis(20),
                FileLister {
                    path: dir.path().display().to_string(),
                    extension: None,
                },
            )),
        };
        let mut stream = partition.execute(Arc::new(TaskContext::default()));
        let mut lines = Vec::new();
        let mut next_lines = async |want: usize, lines: &mut Vec<String>| {
            while lines.len() < want {
                let batch = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
                    .await
                    .expect("lines within 10 s")
                    .unwrap()
                    .unwrap();
                let a = batch.column(0).as_string::<i32>();
                lines.extend((0..a.len()).map(|i| a.value(i).to_string()));
            }
        };
        next_lines(1, &mut lines).await;
        // A new file, and lines appended to the one read.
        std::fs::write(dir.path().join("b.log"), "2\n").unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&first)
            .unwrap()
            .write_all(b"3\n")
            .unwrap();
        next_lines(3, &mut lines).await;
        lines.sort();
        assert_eq!(lines, vec!["1", "2", "3"]);
    }

    #[tokio::test]
    async fn csv_files_skip_the_rows_read_before() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("t");
        let file = root.join("day=7/part-1.csv");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "n\n10\n20\n30\n").unwrap();
        let m = std::fs::metadata(&file).unwrap();
        let restored = FilesRead::from([(
            file.display().to_string(),
            FilePosition {
                id: (m.dev(), m.ino()),
                offset: 2,
            },
        )]);
        let file_schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
        let partition = FilesPartition {
            schema: Arc::new(Schema::new(vec![
                Field::new("n", DataType::Int64, true),
                Field::new("day", DataType::Int64, true),
            ])),
            files: vec![file],
            metrics: Arc::default(),
            format: FilesFormat::Rows {
                root: root.clone(),
                partition_cols: vec![1],
                kind: RowFiles::Csv {
                    file_schema,
                    header: true,
                    delimiter: b',',
                },
            },
            restored,
            monitor: None,
        };
        let mut stream = partition.execute(Arc::new(TaskContext::default()));
        let mut rows = Vec::new();
        while let Some(batch) = stream.next().await {
            let (batch, _) = crate::wire::untag_split(batch.unwrap(), &partition.schema).unwrap();
            let n = batch.column(0).as_primitive::<Int64Type>();
            let day = batch.column(1).as_primitive::<Int64Type>();
            rows.extend((0..batch.num_rows()).map(|i| (n.value(i), day.value(i))));
        }
        assert_eq!(rows, vec![(30, 7)]);
    }
}
