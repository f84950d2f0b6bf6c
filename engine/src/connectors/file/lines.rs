//! The `lines` format: every line of the matched files is one row of a single STRING column.
//!
//! DataFusion has no line-oriented reader (its CSV reader would split on delimiters and
//! choke on quotes), so we read the bytes ourselves: files are cut into byte ranges on
//! line boundaries, one set of ranges per partition, so parsing runs on every core.
//! Invalid UTF-8 is replaced (U+FFFD) rather than dropped: the job decides what a bad line is.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use datafusion::arrow::array::{RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::physical_plan::streaming::PartitionStream;
use memchr::memchr;

use crate::job::metrics::SourceMetrics;

/// Bytes read from disk at a time.
const CHUNK: usize = 4 << 20;
/// Ranges smaller than this are not split further (the per-range overhead would dominate).
const MIN_RANGE: u64 = 1 << 20;

#[derive(Debug, Clone, PartialEq)]
pub struct FileRange {
    pub path: PathBuf,
    /// A line belongs to the range that holds its first byte.
    pub start: u64,
    pub end: u64,
}

/// Cuts `files` (path, size) into at most `partitions` lists of ranges of about equal size.
pub fn plan_ranges(files: &[(PathBuf, u64)], partitions: usize) -> Vec<Vec<FileRange>> {
    let partitions = partitions.max(1);
    let total: u64 = files.iter().map(|f| f.1).sum();
    let target = total.div_ceil(partitions as u64).max(MIN_RANGE);
    let mut out: Vec<Vec<FileRange>> = vec![Vec::new()];
    let mut filled = 0u64;
    for (path, size) in files.iter().filter(|f| f.1 > 0) {
        let mut start = 0;
        while start < *size {
            if filled >= target && out.len() < partitions {
                out.push(Vec::new());
                filled = 0;
            }
            // The last partition takes whatever is left.
            let room = if out.len() == partitions {
                u64::MAX
            } else {
                target - filled
            };
            let end = start + room.min(size - start);
            if let Some(last) = out.last_mut() {
                last.push(FileRange {
                    path: path.clone(),
                    start,
                    end,
                });
            }
            filled += end - start;
            start = end;
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

/// One partition of a lines scan.
#[derive(Debug)]
pub struct LinesPartition {
    pub schema: SchemaRef,
    pub ranges: Vec<FileRange>,
    pub metrics: Arc<SourceMetrics>,
}

impl PartitionStream for LinesPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batch_size = ctx.session_config().batch_size();
        // DataFusion's receiver stream ends only when the reader task has finished, and turns
        // its error or panic into an error of the stream: a failed read never looks like the
        // end of the input.
        let mut builder = RecordBatchReceiverStream::builder(Arc::clone(&self.schema), 2);
        let tx = builder.tx();
        let schema = Arc::clone(&self.schema);
        let ranges = self.ranges.clone();
        let metrics = Arc::clone(&self.metrics);
        // File reads block; keep them off the async workers.
        builder.spawn_blocking(move || {
            for range in &ranges {
                let mut send = |batch: RecordBatch, _| tx.blocking_send(Ok(batch)).is_ok();
                read_range(range, &schema, batch_size, &metrics, &mut send).map_err(|e| {
                    DataFusionError::Execution(format!(
                        "reading {} (bytes {}..{}): {e}",
                        range.path.display(),
                        range.start,
                        range.end
                    ))
                })?;
                if tx.is_closed() {
                    break;
                }
            }
            Ok(())
        });
        builder.build()
    }
}

/// Reads the lines that start in `range`, handing batches of up to `batch_size` rows to
/// `emit` with the bytes they took (line ends included); stops early when `emit` returns
/// false (the consumer went away).
pub fn read_range(
    range: &FileRange,
    schema: &SchemaRef,
    batch_size: usize,
    metrics: &SourceMetrics,
    emit: &mut dyn FnMut(RecordBatch, u64) -> bool,
) -> std::io::Result<()> {
    let mut file = File::open(&range.path)?;
    let size = file.metadata()?.len();
    if size < range.end {
        // Planned from a larger file: it was truncated or replaced while we read it.
        return Err(std::io::Error::other(format!(
            "the file shrank to {size} bytes while being read (rotated or truncated?)"
        )));
    }
    // Start one byte early: if that byte is '\n', a line starts exactly at `start`.
    let mut skip_partial = range.start > 0;
    let mut pos = range.start.saturating_sub(1);
    file.seek(SeekFrom::Start(pos))?;

    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK * 2);
    let mut batch = LineBatch::new(batch_size);
    let mut eof = false;
    let mut done = false;
    while !done {
        let old_len = buf.len();
        buf.resize(old_len + CHUNK, 0);
        let n = read_full(&mut file, &mut buf[old_len..])?;
        buf.truncate(old_len + n);
        eof = n == 0 || eof;

        let mut consumed = 0;
        if skip_partial {
            match memchr(b'\n', &buf) {
                Some(i) => {
                    consumed = i + 1;
                    skip_partial = false;
                }
                None if eof => return Ok(()),
                None => {
                    consumed = buf.len();
                }
            }
        }
        // Still looking for the end of a partial line: read the next chunk.
        if skip_partial {
            buf.drain(..consumed);
            pos += consumed as u64;
            continue;
        }
        loop {
            if pos + consumed as u64 >= range.end {
                done = true;
                break;
            }
            match memchr(b'\n', &buf[consumed..]) {
                Some(i) => {
                    batch.push(&buf[consumed..consumed + i], i as u64 + 1);
                    consumed += i + 1;
                }
                None => {
                    if eof {
                        if consumed < buf.len() {
                            batch.push(&buf[consumed..], (buf.len() - consumed) as u64);
                            consumed = buf.len();
                        }
                        done = true;
                    }
                    break;
                }
            }
            if batch.len() >= batch_size && !batch.flush(schema, metrics, emit) {
                return Ok(());
            }
        }
        buf.drain(..consumed);
        pos += consumed as u64;
        done |= eof;
    }
    batch.flush(schema, metrics, emit);
    Ok(())
}

fn read_full(file: &mut File, mut out: &mut [u8]) -> std::io::Result<usize> {
    let mut total = 0;
    while !out.is_empty() {
        match file.read(out) {
            Ok(0) => break,
            Ok(n) => {
                total += n;
                out = &mut out[n..];
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(total)
}

/// Lines gathered into one Arrow string column.
struct LineBatch {
    builder: StringBuilder,
    rows: usize,
    bytes: u64,
    capacity: usize,
}

impl LineBatch {
    fn new(capacity: usize) -> Self {
        LineBatch {
            builder: StringBuilder::with_capacity(capacity, capacity * 256),
            rows: 0,
            bytes: 0,
            capacity,
        }
    }

    fn len(&self) -> usize {
        self.rows
    }

    /// `raw_len` counts the newline too, for the bytes-read metric.
    fn push(&mut self, line: &[u8], raw_len: u64) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match std::str::from_utf8(line) {
            Ok(s) => self.builder.append_value(s),
            Err(_) => self.builder.append_value(String::from_utf8_lossy(line)),
        }
        self.rows += 1;
        self.bytes += raw_len;
    }

    fn flush(
        &mut self,
        schema: &SchemaRef,
        metrics: &SourceMetrics,
        emit: &mut dyn FnMut(RecordBatch, u64) -> bool,
    ) -> bool {
        if self.rows == 0 {
            return true;
        }
        let mut full = std::mem::replace(
            &mut self.builder,
            StringBuilder::with_capacity(self.capacity, self.capacity * 256),
        );
        let array = Arc::new(full.finish());
        metrics.rows.fetch_add(self.rows as u64, Ordering::Relaxed);
        metrics.bytes.fetch_add(self.bytes, Ordering::Relaxed);
        let bytes = std::mem::take(&mut self.bytes);
        self.rows = 0;
        // One Utf8 column matching the one-column schema: this cannot fail.
        RecordBatch::try_new(Arc::clone(schema), vec![array]).is_ok_and(|b| emit(b, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::io::Write;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("line", DataType::Utf8, true)]))
    }

    fn read_all(ranges: &[FileRange], batch_size: usize) -> Vec<String> {
        let metrics = SourceMetrics::default();
        let mut out = Vec::new();
        for r in ranges {
            read_range(r, &schema(), batch_size, &metrics, &mut |b, _| {
                let a = b
                    .column(0)
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .unwrap()
                    .clone();
                out.extend((0..a.len()).map(|i| a.value(i).to_string()));
                true
            })
            .unwrap();
        }
        out
    }

    #[test]
    fn every_line_once_whatever_the_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let lines: Vec<String> = (0..500)
            .map(|i| format!("line {i} {}", "x".repeat(i % 37)))
            .collect();
        let mut f = File::create(&path).unwrap();
        for l in &lines {
            writeln!(f, "{l}").unwrap();
        }
        f.write_all(b"last line without newline\r").unwrap();
        drop(f);
        let size = std::fs::metadata(&path).unwrap().len();
        let mut expected = lines.clone();
        expected.push("last line without newline".into());
        for cut in [1, 2, 7, 100, size / 3, size - 1] {
            let mut ranges = vec![];
            let mut s = 0;
            while s < size {
                let e = (s + cut).min(size);
                ranges.push(FileRange {
                    path: path.clone(),
                    start: s,
                    end: e,
                });
                s = e;
            }
            assert_eq!(read_all(&ranges, 64), expected, "cut {cut}");
        }
    }

    #[test]
    fn keeps_empty_and_invalid_utf8_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.log");
        std::fs::write(&path, b"a\n\n\xff\xfeb\nc\n").unwrap();
        let r = FileRange {
            path,
            start: 0,
            end: 9,
        };
        assert_eq!(read_all(&[r], 2), vec!["a", "", "\u{fffd}\u{fffd}b", "c"]);
    }

    #[test]
    fn plans_balanced_ranges() {
        let files = vec![
            (PathBuf::from("a"), 5 << 20),
            (PathBuf::from("b"), 3 << 20),
            (PathBuf::from("c"), 0),
        ];
        let parts = plan_ranges(&files, 2);
        assert_eq!(parts.len(), 2);
        let sizes: Vec<u64> = parts
            .iter()
            .map(|p| p.iter().map(|r| r.end - r.start).sum())
            .collect();
        assert_eq!(sizes, vec![4 << 20, 4 << 20]);
        let covered: u64 = sizes.iter().sum();
        assert_eq!(covered, 8 << 20);
    }
}
