//! `follow = true`: tail one growing `lines` file like `tail -F`.
//!
//! The file is read from its beginning and then watched forever. [`Follower`] is the
//! filesystem part (reads, rotation, truncation, a file that is not there yet) and knows
//! nothing about Arrow, so it is tested by driving [`Follower::poll`] directly;
//! [`FollowPartition`] runs it on a blocking thread and turns its lines into batches.
//!
//! For checkpoints every batch says where the file is read up to: device, inode and the byte
//! offset after its last line ([`FilePosition`]). A job resumed from a checkpoint reads on
//! from there: in the file at the path if it is the same file, else in the rotated file of
//! that inode in the same folder (finished first, as a rotation while running is), else from
//! the start of the file now at the path, with a warning.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::physical_plan::streaming::PartitionStream;
use memchr::memchr;
use tokio::sync::mpsc::Sender;

use crate::connectors::records::{RecordBuffer, RecordFormat};
use crate::job::metrics::SourceMetrics;
use crate::wire::{caught_up_marker, ended_marker, tag_split};

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

/// How far a followed file is read: the file (device, inode) and the byte offset after the
/// last line handed out. `0:0:0` stands for "from the start of whatever file is at the path".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilePosition {
    pub id: (u64, u64),
    pub offset: u64,
}

impl std::fmt::Display for FilePosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.id.0, self.id.1, self.offset)
    }
}

impl std::str::FromStr for FilePosition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a file position (device:inode:offset)");
        let mut parts = s.split(':').map(|p| p.parse::<u64>().map_err(|_| bad()));
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(dev), Some(ino), Some(offset), None) => Ok(FilePosition {
                id: (dev?, ino?),
                offset: offset?,
            }),
            _ => Err(bad()),
        }
    }
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
    /// Where to read on from when the first file is opened (a checkpoint's position).
    resume: Option<FilePosition>,
}

impl Follower {
    /// Nothing is opened yet: the first [`poll`](Self::poll) opens the file (or waits for it).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Follower {
            path: path.into(),
            file: None,
            partial: Vec::new(),
            warned_missing: false,
            resume: None,
        }
    }

    /// Reads on from `at` (see the module's notes).
    pub fn resume(path: impl Into<PathBuf>, at: FilePosition) -> Self {
        Follower {
            resume: Some(at),
            ..Follower::new(path)
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// [`poll_at`](Self::poll_at) without the positions.
    #[cfg(test)]
    pub fn poll(&mut self, out: &mut Vec<String>) -> io::Result<Polled> {
        self.poll_at(out, &mut Vec::new())
    }

    /// Appends the complete lines that are available now to `out` (at most about [`CHUNK`]
    /// bytes of them), without their "\n" or "\r\n", and to `at` where the file is read up
    /// to after each. Call again at once unless the result says `idle`.
    pub fn poll_at(
        &mut self,
        out: &mut Vec<String>,
        at: &mut Vec<FilePosition>,
    ) -> io::Result<Polled> {
        if self.file.is_none() {
            self.file = match self.resume.take() {
                Some(from) => self.reopen(from)?,
                None => self.open_path()?,
            };
        }
        let Some(open) = self.file.as_mut() else {
            return Ok(Polled {
                bytes: 0,
                idle: true,
            });
        };
        let (read, bytes) = read_chunk(open, &mut self.partial, out, at)?;
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
                    let (read, b) = read_chunk(open, &mut self.partial, out, at)?;
                    bytes += b;
                    if read == 0 {
                        break;
                    }
                }
                // The old file will not grow any more: its unterminated last line is complete.
                bytes += self.flush_partial(out, at);
                tracing::info!(path = %self.path.display(), "file rotated; reading the new one");
                self.file = self.open_path()?;
                Ok(Polled { bytes, idle: false })
            }
            Ok(meta) if meta.len() < open.pos => {
                // Same file, now shorter than what we read: truncated (e.g. logrotate's
                // copytruncate). Start over from the beginning. A file truncated and rewritten
                // past our position before we look is indistinguishable from growth.
                let bytes = self.flush_partial(out, at);
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

    /// Opens the file to read on from `from`: the file at the path if it is that file, else
    /// the file of that inode in the path's folder (rotated away: `poll_at` finishes it and
    /// then moves to the path), else the file at the path from its start.
    fn reopen(&mut self, from: FilePosition) -> io::Result<Option<Open>> {
        let fresh = from == FilePosition::default();
        let path = self.path.clone();
        let rotated = || -> Option<PathBuf> {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty())?;
            std::fs::read_dir(dir)
                .ok()?
                .flatten()
                .map(|e| e.path())
                .find(|p| {
                    std::fs::metadata(p).is_ok_and(|m| m.is_file() && (m.dev(), m.ino()) == from.id)
                })
        };
        let Some(mut open) = self.open_path()? else {
            if !fresh && let Some(old) = rotated() {
                return open_at(&old, from, &path);
            }
            // Not there yet: whatever file appears is read from its start.
            return Ok(None);
        };
        if fresh {
            return Ok(Some(open));
        }
        if open.id == from.id {
            let len = open.file.metadata()?.len();
            if len < from.offset {
                tracing::warn!(
                    path = %self.path.display(),
                    "the file is shorter than where the checkpoint read it to ({} < {} bytes): \
                     truncated since; reading it from the start", len, from.offset
                );
            } else {
                open.file.seek(SeekFrom::Start(from.offset))?;
                open.pos = from.offset;
            }
            return Ok(Some(open));
        }
        if let Some(old) = rotated() {
            return open_at(&old, from, &path);
        }
        tracing::warn!(
            path = %self.path.display(),
            "the file the checkpoint read (device {}, inode {}) is gone: reading the file now \
             at the path from its start; lines written to the old one after the checkpoint \
             are not read", from.id.0, from.id.1
        );
        Ok(Some(open))
    }

    /// Hands out the held partial line as a line of its own; returns its bytes.
    pub fn flush_partial(&mut self, out: &mut Vec<String>, at: &mut Vec<FilePosition>) -> u64 {
        if self.partial.is_empty() {
            return 0;
        }
        let bytes = self.partial.len() as u64;
        out.push(to_line(&self.partial));
        // Every line has its position (a partial line only exists in an open file).
        at.push(
            self.file
                .as_ref()
                .map_or_else(FilePosition::default, |open| FilePosition {
                    id: open.id,
                    offset: open.pos,
                }),
        );
        self.partial.clear();
        bytes
    }
}

/// The rotated-away file `path` of checkpoint position `from`, read on from there.
fn open_at(path: &Path, from: FilePosition, followed: &Path) -> io::Result<Option<Open>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let offset = if len < from.offset { 0 } else { from.offset };
    file.seek(SeekFrom::Start(offset))?;
    tracing::info!(
        path = %followed.display(),
        "rotated since the checkpoint: finishing {} from byte {offset} first", path.display()
    );
    Ok(Some(Open {
        file,
        id: from.id,
        pos: offset,
    }))
}

/// Reads up to [`CHUNK`] bytes from `open` after the held `partial` line and moves the
/// complete lines to `out`, and where each ends to `at`. Returns (bytes read from disk,
/// bytes of the lines handed out).
fn read_chunk(
    open: &mut Open,
    partial: &mut Vec<u8>,
    out: &mut Vec<String>,
    at: &mut Vec<FilePosition>,
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
    // The file offset of `partial[0]`.
    let base = open.pos - partial.len() as u64;

    // The held bytes have no newline: search only the new ones.
    let mut start = 0;
    let mut from = held;
    while let Some(i) = memchr(b'\n', &partial[from..]) {
        let end = from + i;
        out.push(to_line(&partial[start..end]));
        start = end + 1;
        at.push(FilePosition {
            id: open.id,
            offset: base + start as u64,
        });
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
    /// Where a job resumed from a checkpoint reads on.
    pub resume: Option<FilePosition>,
}

impl FollowPartition {
    /// The split a followed file's batches are tagged with: its path.
    pub fn split(path: &Path) -> String {
        path.display().to_string()
    }
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
        let mut follower = match self.resume {
            Some(at) => Follower::resume(self.path.clone(), at),
            None => Follower::new(self.path.clone()),
        };
        let split = Self::split(&self.path);
        let start = self.resume.unwrap_or_default();
        let format = if self.json {
            RecordFormat::Json
        } else {
            RecordFormat::Raw
        };
        // Reads and sleeps block; keep them off the async workers.
        builder.spawn_blocking(move || {
            let mut out = FileBatches::new(schema, format, batch_size, metrics, split, tx);
            if !out.start(&start.to_string()) {
                return Ok(());
            }
            let mut caught_up = false;
            loop {
                let polled = out.poll(&mut follower)?;
                // Full batches as they fill; and when the file has nothing more right now,
                // whatever is gathered: a line never waits for more lines to be written.
                match out.send(polled.idle, |p| p.to_string())? {
                    Sent::Closed => return Ok(()),
                    Sent::Some => caught_up = false,
                    Sent::None => {}
                }
                if polled.idle && !caught_up {
                    caught_up = true;
                    if !out.caught_up() {
                        return Ok(());
                    }
                }
                if polled.idle {
                    // Nothing to send for a while: notice a consumer that went away here.
                    if out.closed() {
                        return Ok(());
                    }
                    std::thread::sleep(interval);
                }
            }
        });
        builder.build()
    }
}

/// What [`FileBatches::send`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    None,
    Some,
    /// The receiver is gone: stop reading.
    Closed,
}

/// Rows read from files going out as batches, each tagged with its split and how far the
/// input is read after its last row (for checkpoints; see `exec::stream::tag_split`): lines
/// gathered with where each ends, or rows read as batches (Parquet). Shared by the followed
/// file and a stream job's files read one after another.
pub struct FileBatches {
    schema: SchemaRef,
    format: RecordFormat,
    batch_size: usize,
    metrics: Arc<SourceMetrics>,
    split: String,
    tx: Sender<Result<RecordBatch, DataFusionError>>,
    lines: Vec<String>,
    at: Vec<FilePosition>,
    /// Bytes of the lines polled and not yet counted in the metrics.
    bytes: u64,
}

impl FileBatches {
    pub fn new(
        schema: SchemaRef,
        format: RecordFormat,
        batch_size: usize,
        metrics: Arc<SourceMetrics>,
        split: String,
        tx: Sender<Result<RecordBatch, DataFusionError>>,
    ) -> Self {
        FileBatches {
            schema,
            format,
            batch_size: batch_size.max(1),
            metrics,
            split,
            tx,
            lines: Vec::with_capacity(batch_size),
            at: Vec::with_capacity(batch_size),
            bytes: 0,
        }
    }

    fn put(&self, batch: Result<RecordBatch, ArrowError>) -> bool {
        self.tx
            .blocking_send(batch.map_err(DataFusionError::from))
            .is_ok()
    }

    /// Sends rows read some other way (whole lines, Parquet), read up to `position`; false:
    /// the receiver is gone.
    pub fn put_rows(&self, batch: RecordBatch, position: &str) -> bool {
        self.put(tag_split(batch, &self.split, Some(position)))
    }

    /// The metrics rows read some other way count in.
    pub fn metrics(&self) -> &SourceMetrics {
        &self.metrics
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// What the next batches are tagged with (a stream job's files: each file).
    pub fn set_split(&mut self, split: String) {
        self.split = split;
    }

    /// Says the split is read to its end for good, at `position`; false: the receiver is
    /// gone.
    pub fn ended(&self, position: &str) -> bool {
        self.put(ended_marker(&self.schema, &self.split, position))
    }

    /// An empty batch saying where reading starts; false: the receiver is gone.
    pub fn start(&self, position: &str) -> bool {
        let empty = RecordBatch::new_empty(Arc::clone(&self.schema));
        self.put(tag_split(empty, &self.split, Some(position)))
    }

    /// Says the input has nothing more for now; false: the receiver is gone.
    pub fn caught_up(&self) -> bool {
        self.put(caught_up_marker(&self.schema, &self.split))
    }

    pub fn closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Polls `follower` for lines.
    pub fn poll(&mut self, follower: &mut Follower) -> Result<Polled, DataFusionError> {
        let polled = follower
            .poll_at(&mut self.lines, &mut self.at)
            .map_err(|e| {
                DataFusionError::Execution(format!("reading {}: {e}", follower.path().display()))
            })?;
        self.bytes += polled.bytes;
        Ok(polled)
    }

    /// The last line of a file that ends without a newline.
    pub fn finish(&mut self, follower: &mut Follower) {
        self.bytes += follower.flush_partial(&mut self.lines, &mut self.at);
    }

    /// Sends the full batches, and with `all` the rest too; `position` writes how far the
    /// input is read after a batch's last line.
    pub fn send(
        &mut self,
        all: bool,
        mut position: impl FnMut(FilePosition) -> String,
    ) -> Result<Sent, DataFusionError> {
        let mut sent = Sent::None;
        while self.lines.len() >= self.batch_size || (all && !self.lines.is_empty()) {
            let n = self.lines.len().min(self.batch_size);
            let rest = self.lines.split_off(n);
            let lines = std::mem::replace(&mut self.lines, rest);
            let rest_at = self.at.split_off(n);
            let read_to = std::mem::replace(&mut self.at, rest_at).last().copied();
            let mut records = RecordBuffer::new(Arc::clone(&self.schema), self.format);
            for line in &lines {
                records.push(line.as_bytes());
            }
            let (batch, _skipped) = records.finish(&self.split)?;
            self.metrics
                .rows
                .fetch_add(lines.len() as u64, Ordering::Relaxed);
            // Polled bytes are counted with the batch that empties the lines.
            if self.lines.is_empty() {
                self.metrics.bytes.fetch_add(self.bytes, Ordering::Relaxed);
                self.bytes = 0;
            }
            let position = read_to.map(&mut position);
            if !self.put(tag_split(batch, &self.split, position.as_deref())) {
                return Ok(Sent::Closed);
            }
            sent = Sent::Some;
        }
        Ok(sent)
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

    /// Polls until idle; returns the lines and where the file is read to after each.
    fn drain_at(f: &mut Follower) -> (Vec<String>, Vec<FilePosition>) {
        let (mut out, mut at) = (Vec::new(), Vec::new());
        for _ in 0..1000 {
            if f.poll_at(&mut out, &mut at).unwrap().idle {
                assert_eq!(out.len(), at.len());
                return (out, at);
            }
        }
        panic!("follower never became idle");
    }

    fn id_of(path: &Path) -> (u64, u64) {
        let m = std::fs::metadata(path).unwrap();
        (m.dev(), m.ino())
    }

    #[test]
    fn positions_are_the_byte_after_each_line_of_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, b"one\ntwo\r\n\xff\nthr").unwrap();
        let id = id_of(&path);
        let mut f = Follower::new(&path);
        let (lines, at) = drain_at(&mut f);
        assert_eq!(lines, vec!["one", "two", "\u{fffd}"]);
        let offsets: Vec<u64> = at.iter().map(|p| p.offset).collect();
        assert_eq!(offsets, vec![4, 9, 11]);
        assert!(at.iter().all(|p| p.id == id));
        append(&path, b"ee\n");
        let (_, at) = drain_at(&mut f);
        assert_eq!(at, vec![FilePosition { id, offset: 17 }]);
        let text = at[0].to_string();
        assert_eq!(text.parse::<FilePosition>(), Ok(at[0]));
        assert!("1:2".parse::<FilePosition>().is_err());
        assert!("1:2:x".parse::<FilePosition>().is_err());
        assert!("1:2:3:4".parse::<FilePosition>().is_err());
    }

    #[test]
    fn a_resumed_follower_reads_on_after_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        std::fs::write(&path, "1\n2\n").unwrap();
        let mut f = Follower::new(&path);
        let (_, at) = drain_at(&mut f);
        let after_1 = at[0];

        // The same file, grown.
        append(&path, b"3\n");
        let mut f = Follower::resume(&path, after_1);
        assert_eq!(lines(&mut f), vec!["2", "3"]);

        // Rotated since: the old file is finished first, then the new one is read.
        let old = dir.path().join("app.log.1");
        std::fs::rename(&path, &old).unwrap();
        std::fs::write(&path, "4\n").unwrap();
        let mut f = Follower::resume(&path, after_1);
        assert_eq!(lines(&mut f), vec!["2", "3", "4"]);
        append(&path, b"5\n");
        assert_eq!(lines(&mut f), vec!["5"]);

        // Rotated and the old file gone: the file at the path from its start.
        std::fs::remove_file(&old).unwrap();
        let mut f = Follower::resume(&path, after_1);
        assert_eq!(lines(&mut f), vec!["4", "5"]);

        // Truncated since (shorter than the position): from the start.
        let (_, at) = drain_at(&mut Follower::new(&path));
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        append(&path, b"6\n");
        let mut f = Follower::resume(&path, at[1]);
        assert_eq!(lines(&mut f), vec!["6"]);

        // A fresh start's position: whatever file is at the path, from its start.
        let mut f = Follower::resume(&path, FilePosition::default());
        assert_eq!(lines(&mut f), vec!["6"]);
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
