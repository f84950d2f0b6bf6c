//! `follow = true`: tail one growing `lines` file like `tail -F`.
//!
//! The file is read from its beginning and then watched forever. [`Follower`] is the
//! filesystem part (reads, rotation, truncation, a file that is not there yet) and knows
//! nothing about Arrow, so it is tested by driving [`Follower::poll`] directly;
//! [`FollowPartition`] runs it on a blocking thread and turns its lines into batches.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::physical_plan::streaming::PartitionStream;
use memchr::memchr;

use crate::connectors::records::{RecordBuffer, RecordFormat};
use crate::exec::metrics::SourceMetrics;

/// Bytes read per call of [`Follower::poll`]: bounds the lines one call hands out, so a big
/// backlog (the file's existing content) still becomes batches as it is read.
const CHUNK: usize = 256 << 10;

/// What one [`Follower::poll`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Polled {
    /// Bytes of the lines handed out by this call, line ends included (the bytes-read metric).
    pub bytes: u64,
    /// Nothing more to read right now: emit what is gathered and wait before the next poll.
    pub idle: bool,
}

/// The open file being tailed.
#[derive(Debug)]
struct Open {
    file: File,
    /// (device, inode) of the open file: a different pair at the path means rotation.
    id: (u64, u64),
    /// Bytes read from `file` so far (complete lines plus the held partial line).
    pos: u64,
}

/// Tails the file at `path`, following it across rotation (rename + create) and truncation.
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    file: Option<Open>,
    /// Bytes after the last newline read: a line still being written.
    partial: Vec<u8>,
    /// Set once the missing path has been logged; cleared when it exists again.
    warned_missing: bool,
}

impl Follower {
    /// Nothing is opened yet: the first [`poll`](Self::poll) opens the file (or waits for it).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Follower {
            path: path.into(),
            file: None,
            partial: Vec::new(),
            warned_missing: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the complete lines that are available now to `out` (at most about [`CHUNK`]
    /// bytes of them), without their "\n" or "\r\n". Call again at once unless the result
    /// says `idle`.
    pub fn poll(&mut self, out: &mut Vec<String>) -> io::Result<Polled> {
        if self.file.is_none() {
            self.file = self.open_path()?;
        }
        let Some(open) = self.file.as_mut() else {
            return Ok(Polled {
                bytes: 0,
                idle: true,
            });
        };
        let (read, bytes) = read_chunk(open, &mut self.partial, out)?;
        if read > 0 {
            return Ok(Polled { bytes, idle: false });
        }

        // At the end of the open file: has the path moved on to another file?
        match std::fs::metadata(&self.path) {
            Ok(meta) if (meta.dev(), meta.ino()) != open.id => {
                // Rotated. The writer may have appended to the old file between our last
                // read and the rename (or after it, until it reopened the path): read the old
                // handle to its end before switching, so no line is lost. Writes to the old
                // file after this point are lost, as with `tail -F`. (The inode cannot be
                // reused by the new file while we hold the old one open.)
                let mut bytes = 0;
                loop {
                    let (read, b) = read_chunk(open, &mut self.partial, out)?;
                    bytes += b;
                    if read == 0 {
                        break;
                    }
                }
                // The old file will not grow any more: its unterminated last line is complete.
                bytes += self.flush_partial(out);
                tracing::info!(path = %self.path.display(), "file rotated; reading the new one");
                self.file = self.open_path()?;
                Ok(Polled { bytes, idle: false })
            }
            Ok(meta) if meta.len() < open.pos => {
                // Same file, now shorter than what we read: truncated (e.g. logrotate's
                // copytruncate). Start over from the beginning. A file truncated and rewritten
                // past our position before we look is indistinguishable from growth.
                let bytes = self.flush_partial(out);
                tracing::info!(path = %self.path.display(), "file truncated; reading it from the start");
                if let Some(open) = self.file.as_mut() {
                    open.file.seek(SeekFrom::Start(0))?;
                    open.pos = 0;
                }
                Ok(Polled { bytes, idle: false })
            }
            Ok(_) => {
                self.warned_missing = false;
                Ok(Polled {
                    bytes: 0,
                    idle: true,
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Renamed away and not created again yet: keep the old handle, the writer may
                // still be appending to it until it reopens the path.
                if !self.warned_missing {
                    tracing::warn!(
                        path = %self.path.display(),
                        "followed file is gone (rotated?); reading the old one until it reappears"
                    );
                    self.warned_missing = true;
                }
                Ok(Polled {
                    bytes: 0,
                    idle: true,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Opens the file at the path from its start; `None` while there is no such file.
    fn open_path(&mut self) -> io::Result<Option<Open>> {
        match File::open(&self.path) {
            Ok(file) => {
                // The identity of the file we opened (fstat), not of whatever the path names
                // a moment later.
                let meta = file.metadata()?;
                self.warned_missing = false;
                Ok(Some(Open {
                    file,
                    id: (meta.dev(), meta.ino()),
                    pos: 0,
                }))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if !self.warned_missing {
                    tracing::warn!(
                        path = %self.path.display(),
                        "followed file does not exist (yet); waiting for it"
                    );
                    self.warned_missing = true;
                }
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Hands out the held partial line as a line of its own; returns its bytes.
    fn flush_partial(&mut self, out: &mut Vec<String>) -> u64 {
        if self.partial.is_empty() {
            return 0;
        }
        let bytes = self.partial.len() as u64;
        out.push(to_line(&self.partial));
        self.partial.clear();
        bytes
    }
}

/// Reads up to [`CHUNK`] bytes from `open` after the held `partial` line and moves the
/// complete lines to `out`. Returns (bytes read from disk, bytes of the lines handed out).
fn read_chunk(
    open: &mut Open,
    partial: &mut Vec<u8>,
    out: &mut Vec<String>,
) -> io::Result<(usize, u64)> {
    let held = partial.len();
    partial.resize(held + CHUNK, 0);
    let read = loop {
        match open.file.read(&mut partial[held..]) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                partial.truncate(held);
                return Err(e);
            }
        }
    };
    partial.truncate(held + read);
    open.pos += read as u64;

    // The held bytes have no newline: search only the new ones.
    let mut start = 0;
    let mut from = held;
    while let Some(i) = memchr(b'\n', &partial[from..]) {
        let end = from + i;
        out.push(to_line(&partial[start..end]));
        start = end + 1;
        from = start;
    }
    partial.drain(..start);
    Ok((read, start as u64))
}

/// One line without its "\r" (of a "\r\n" end); invalid UTF-8 is replaced (U+FFFD) so the
/// job, not the source, decides what a bad line is.
fn to_line(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8_lossy(line).into_owned()
}

/// The single partition of a followed `lines` or `json` table: never ends on its own.
#[derive(Debug)]
pub struct FollowPartition {
    pub schema: SchemaRef,
    pub path: PathBuf,
    pub poll_interval: Duration,
    pub metrics: Arc<SourceMetrics>,
    /// Each line is a JSON object of the table's columns (else the line is the one column).
    pub json: bool,
}

impl PartitionStream for FollowPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batch_size = ctx.session_config().batch_size().max(1);
        let mut builder = RecordBatchReceiverStream::builder(Arc::clone(&self.schema), 2);
        let tx = builder.tx();
        let schema = Arc::clone(&self.schema);
        let metrics = Arc::clone(&self.metrics);
        let interval = self.poll_interval;
        let mut follower = Follower::new(self.path.clone());
        let format = if self.json {
            RecordFormat::Json
        } else {
            RecordFormat::Raw
        };
        // Reads and sleeps block; keep them off the async workers.
        builder.spawn_blocking(move || {
            let mut lines: Vec<String> = Vec::with_capacity(batch_size);
            let mut bytes = 0u64;
            loop {
                let polled = follower.poll(&mut lines).map_err(|e| {
                    DataFusionError::Execution(format!(
                        "following {}: {e}",
                        follower.path().display()
                    ))
                })?;
                bytes += polled.bytes;
                // Full batches as they fill; and when the file has nothing more right now,
                // whatever is gathered: a line never waits for more lines to be written.
                while lines.len() >= batch_size || (polled.idle && !lines.is_empty()) {
                    let rest = lines.split_off(lines.len().min(batch_size));
                    let batch = std::mem::replace(&mut lines, rest);
                    let rows = batch.len() as u64;
                    let mut records = RecordBuffer::new(Arc::clone(&schema), format);
                    for line in &batch {
                        records.push(line.as_bytes());
                    }
                    let (batch, _skipped) = records.finish(&follower.path().display())?;
                    metrics.rows.fetch_add(rows, Ordering::Relaxed);
                    // A poll's bytes are counted with the batch that empties its lines.
                    if lines.is_empty() {
                        metrics.bytes.fetch_add(bytes, Ordering::Relaxed);
                        bytes = 0;
                    }
                    if tx.blocking_send(Ok(batch)).is_err() {
                        return Ok(());
                    }
                }
                if polled.idle {
                    // Nothing to send for a while: notice a consumer that went away here.
                    if tx.is_closed() {
                        return Ok(());
                    }
                    std::thread::sleep(interval);
                }
            }
        });
        builder.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;
    use std::io::Write;

    /// Polls until idle (bounded, so a bug cannot hang the test); returns the lines and bytes.
    fn drain(f: &mut Follower) -> (Vec<String>, u64) {
        let mut out = Vec::new();
        let mut bytes = 0;
        for _ in 0..1000 {
            let p = f.poll(&mut out).unwrap();
            bytes += p.bytes;
            if p.idle {
                return (out, bytes);
            }
        }
        panic!("follower never became idle");
    }

    fn lines(f: &mut Follower) -> Vec<String> {
        drain(f).0
    }

    fn append(path: &Path, data: &[u8]) {
        OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap()
            .write_all(data)
            .unwrap();
    }

    #[test]
    fn follow_append_produces_new_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, "one\ntwo\r\n").unwrap();
        let mut f = Follower::new(&path);
        assert_eq!(drain(&mut f), (vec!["one".into(), "two".into()], 9));
        assert!(lines(&mut f).is_empty());
        append(&path, b"three\n\nfour\n");
        assert_eq!(
            drain(&mut f),
            (vec!["three".into(), "".into(), "four".into()], 12)
        );
        assert!(lines(&mut f).is_empty());
    }

    #[test]
    fn follow_holds_partial_line_until_completed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, "abc").unwrap();
        let mut f = Follower::new(&path);
        assert_eq!(drain(&mut f), (vec![], 0));
        append(&path, b"def\nx\r");
        assert_eq!(drain(&mut f), (vec!["abcdef".into()], 7));
        append(&path, b"\ny\n");
        assert_eq!(lines(&mut f), vec!["x", "y"]);
    }

    #[test]
    fn follow_rotation_loses_no_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let old = dir.path().join("app.log.1");
        std::fs::write(&path, "1\n").unwrap();
        let mut f = Follower::new(&path);
        assert_eq!(lines(&mut f), vec!["1"]);

        // Renamed, and the writer still appends to the old file before the new one exists.
        std::fs::rename(&path, &old).unwrap();
        append(&old, b"2\n");
        assert_eq!(lines(&mut f), vec!["2"]);
        // More for the old file (ending mid-line), written before we notice the new one.
        append(&old, b"3\n4");
        std::fs::write(&path, "5\n").unwrap();
        assert_eq!(lines(&mut f), vec!["3", "4", "5"]);

        // The old file is no longer read; the new one is.
        append(&old, b"lost\n");
        append(&path, b"6\n");
        assert_eq!(lines(&mut f), vec!["6"]);

        // Rotated again with the new file already in place when we look.
        std::fs::rename(&path, &old).unwrap();
        append(&old, b"7\n");
        std::fs::write(&path, "8\n").unwrap();
        assert_eq!(lines(&mut f), vec!["7", "8"]);
    }

    #[test]
    fn follow_truncation_restarts_from_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, "first line\nsecond line\n").unwrap();
        let mut f = Follower::new(&path);
        assert_eq!(lines(&mut f).len(), 2);
        // Truncated in place (same inode) and rewritten shorter.
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(0).unwrap();
        drop(file);
        append(&path, b"again\n");
        assert_eq!(lines(&mut f), vec!["again"]);
        append(&path, b"more\n");
        assert_eq!(lines(&mut f), vec!["more"]);
    }

    #[test]
    fn follow_file_created_after_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("later.log");
        let mut f = Follower::new(&path);
        assert_eq!(drain(&mut f), (vec![], 0));
        assert_eq!(drain(&mut f), (vec![], 0));
        std::fs::write(&path, "hello\n").unwrap();
        assert_eq!(lines(&mut f), vec!["hello"]);
    }

    #[test]
    fn follow_invalid_utf8_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, b"ok\n\xff\xfeb\n").unwrap();
        let mut f = Follower::new(&path);
        assert_eq!(lines(&mut f), vec!["ok", "\u{fffd}\u{fffd}b"]);
    }

    #[test]
    fn follow_large_backlog_comes_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.log");
        let line = "x".repeat(99);
        let n = 3 * CHUNK / 100 + 7;
        std::fs::write(&path, format!("{line}\n").repeat(n)).unwrap();
        let mut f = Follower::new(&path);
        let mut out = Vec::new();
        let first = f.poll(&mut out).unwrap();
        assert!(!first.idle);
        assert!(out.len() < n, "one poll read everything");
        let (rest, _) = drain(&mut f);
        assert_eq!(out.len() + rest.len(), n);
        assert!(rest.iter().all(|l| *l == line));
    }
}
