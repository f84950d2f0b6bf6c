//! The `file` connector: local files as a source (lines, csv, json, parquet; a path, a
//! directory or a glob) and as a sink (parquet, csv, json, lines; optionally Hive-partitioned).
//! With `follow = true` a `lines` source tails one growing file like `tail -F` (stream mode).
//! A stream job that checkpoints reads its files one after another, so that it can say how
//! far it has read (`files`); a followed file says it too (`follow`).

mod files;
mod follow;
mod lines;
mod sink;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{Session, TableProvider as _};
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::streaming::PartitionStream;
use serde::Deserialize;

pub use follow::{FollowPartition, Follower, Polled};
pub use lines::{FileRange, plan_ranges, read_range};
pub use sink::FileSink;

use super::options::{duration, some_duration};
use super::table::{ConnectorTable, TableBase};
use super::{ConnectorEnv, Options};
use crate::catalog::TableDef;
use crate::connectors::sink::{Overwrite, sink_exec};
use crate::error::SluiceError;
use crate::job::ExecMode;
use crate::job::metrics::SourceMetrics;

/// The table's options.
#[derive(Debug, Deserialize)]
#[serde(default)]
struct FileOptions {
    path: Option<String>,
    format: FileFormat,
    partition_by: Vec<String>,
    #[serde(rename = "csv.header")]
    csv_header: bool,
    #[serde(rename = "csv.delimiter")]
    csv_delimiter: String,
    follow: bool,
    #[serde(rename = "follow.poll_ms")]
    follow_poll_ms: u64,
    /// Read the files there are, then look for new ones this often (stream mode).
    #[serde(rename = "source.monitor-interval", deserialize_with = "some_duration")]
    monitor_interval: Option<Duration>,
    #[serde(
        rename = "sink.rolling-policy.rollover-interval",
        deserialize_with = "duration"
    )]
    rollover_interval: Duration,
}

impl Default for FileOptions {
    fn default() -> Self {
        FileOptions {
            path: None,
            format: FileFormat::Parquet,
            partition_by: Vec::new(),
            csv_header: true,
            csv_delimiter: ",".into(),
            follow: false,
            follow_poll_ms: 100,
            monitor_interval: None,
            // Flink's default is 30 min; a stream job's files should be seen sooner.
            rollover_interval: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Lines,
    Csv,
    Json,
    Parquet,
}

impl FileFormat {
    pub fn extension(&self) -> &'static str {
        match self {
            FileFormat::Lines => "log",
            FileFormat::Csv => "csv",
            FileFormat::Json => "json",
            FileFormat::Parquet => "parquet",
        }
    }
}

pub const NAME: &str = "file";

#[derive(Debug)]
pub struct FileTable {
    base: TableBase,
    path: String,
    format: FileFormat,
    partition_by: Vec<String>,
    csv_header: bool,
    csv_delimiter: u8,
    /// `follow = true`: tail the (single) file forever, polling this often.
    follow: Option<Duration>,
    /// `source.monitor-interval`: read the files there are, then look for new ones this often
    /// (stream mode), as Flink's filesystem source does.
    monitor: Option<Duration>,
    /// Stream mode (`Some`): files are appended, each committed after this long (batch
    /// mode replaces the table's data at the end of the run instead).
    rollover: Option<Duration>,
    /// Where a followed file resumes after a restart.
    positions: Arc<crate::checkpoint::SourcePositions>,
    /// What its sink's checkpoint state is called (see `ConnectorEnv::sink_state_name`).
    sink_state: String,
}

impl FileTable {
    pub fn try_new(
        def: &TableDef,
        options: BTreeMap<String, String>,
        env: &ConnectorEnv,
    ) -> crate::error::Result<Self> {
        let opts: FileOptions = Options::decode(&def.name, &options)?;
        let path = opts.path.clone().ok_or_else(|| {
            SluiceError::connector(&def.name, "connector 'file' needs the option 'path'")
        })?;
        let format = opts.format;
        let partition_by: Vec<String> = opts
            .partition_by
            .iter()
            .map(|c| c.to_ascii_lowercase())
            .collect();
        for p in &partition_by {
            if def.column(p).is_none() {
                return Err(SluiceError::bad_option(
                    &def.name,
                    "partition_by",
                    format!("partition_by column '{p}' is not a column of the table"),
                ));
            }
        }
        if partition_by.len() == def.columns.len() {
            return Err(SluiceError::connector(
                &def.name,
                "partition_by names every column; keep at least one data column",
            ));
        }
        if format == FileFormat::Lines
            && (def.columns.len() != 1 || def.columns[0].data_type != DataType::Utf8)
        {
            return Err(SluiceError::connector(
                &def.name,
                "format 'lines' gives exactly one STRING column (e.g. `line STRING`)",
            ));
        }
        if format == FileFormat::Lines && !partition_by.is_empty() {
            return Err(SluiceError::connector(
                &def.name,
                "format 'lines' cannot be partitioned",
            ));
        }
        let delimiter = opts.csv_delimiter.as_str();
        let csv_delimiter = match delimiter.as_bytes() {
            [b] => *b,
            b"\\t" => b'\t',
            _ => {
                return Err(SluiceError::bad_option(
                    &def.name,
                    "csv.delimiter",
                    format!("csv.delimiter '{delimiter}' must be a single byte"),
                ));
            }
        };
        let follow = follow_option(&def.name, &opts, &path, env.job.mode)?;
        let monitor = monitor_option(&def.name, &opts, env.job.mode)?;
        Ok(FileTable {
            base: TableBase::new(NAME, def, env),
            path,
            format,
            partition_by,
            csv_header: opts.csv_header,
            csv_delimiter,
            follow,
            monitor,
            rollover: match env.job.mode {
                ExecMode::Stream => Some(rollover_option(&def.name, &opts)?),
                ExecMode::Batch => None,
            },
            positions: Arc::clone(&env.job.positions),
            sink_state: env.sink_state_name(&def.name),
        })
    }

    /// `follow = true`: one partition tailing the file; infinite, so DataFusion never
    /// plans anything that waits for its end.
    fn follow_scan(&self, poll_interval: Duration) -> Result<StreamingTable> {
        let partition = follow::FollowPartition {
            schema: Arc::clone(&self.base.schema),
            path: PathBuf::from(&self.path),
            poll_interval,
            // Bytes and rows as the lines reader counts them; the total stays 0 (unknown).
            metrics: self.base.source_metrics(),
            json: self.format == FileFormat::Json,
            resume: self
                .restored_files()?
                .remove(&follow::FollowPartition::split(Path::new(&self.path))),
        };
        Ok(
            StreamingTable::try_new(Arc::clone(&self.base.schema), vec![Arc::new(partition)])?
                .with_infinite_table(true),
        )
    }

    /// A stream job that checkpoints, or watches its folder, reads its files one after
    /// another, so that it can say how far it has read (see `files`).
    fn files_scan(&self) -> Result<StreamingTable> {
        let lister = files::FileLister {
            path: self.path.clone(),
            // A folder of Parquet or CSV files: those with the extension, as a batch scan
            // takes.
            extension: match self.format {
                FileFormat::Parquet | FileFormat::Csv if Path::new(&self.path).is_dir() => {
                    Some(self.format.extension())
                }
                _ => None,
            },
        };
        let files = lister.list().map_err(|e| self.error(e))?;
        // A watched folder may be empty for now.
        if files.is_empty() && self.monitor.is_none() {
            return Err(self.error(format!("no input: nothing matches path '{}'", self.path)));
        }
        let restored = self.restored_files()?;
        let rows = |kind| files::FilesFormat::Rows {
            root: PathBuf::from(&self.path),
            partition_cols: self.partition_indices(),
            kind,
        };
        let format = match self.format {
            FileFormat::Parquet => rows(files::RowFiles::Parquet),
            FileFormat::Csv => rows(files::RowFiles::Csv {
                file_schema: self.file_schema(),
                header: self.csv_header,
                delimiter: self.csv_delimiter,
            }),
            FileFormat::Lines | FileFormat::Json => files::FilesFormat::Lines {
                json: self.format == FileFormat::Json,
            },
        };
        let partition = files::FilesPartition {
            schema: Arc::clone(&self.base.schema),
            files,
            metrics: self.base.source_metrics(),
            format,
            restored,
            monitor: self.monitor.map(|every| (every, lister)),
        };
        Ok(
            StreamingTable::try_new(Arc::clone(&self.base.schema), vec![Arc::new(partition)])?
                .with_infinite_table(self.monitor.is_some()),
        )
    }

    /// How far the checkpoint the job resumes from had read each file (split: its path).
    fn restored_files(&self) -> Result<files::FilesRead> {
        let mut restored = files::FilesRead::new();
        for (path, at) in self.positions.restored(&self.base.name).unwrap_or_default() {
            let at = at
                .parse()
                .map_err(|e| self.error(format!("the checkpoint's position of {path}: {e}")))?;
            restored.insert(path, at);
        }
        Ok(restored)
    }

    fn partition_indices(&self) -> Vec<usize> {
        self.partition_by
            .iter()
            .filter_map(|p| self.base.schema.index_of(p).ok())
            .collect()
    }

    /// Columns stored inside the files (all but the partition columns), in declared order.
    fn file_schema(&self) -> SchemaRef {
        let parts = self.partition_indices();
        Arc::new(Schema::new(
            self.base
                .schema
                .fields()
                .iter()
                .enumerate()
                .filter(|(i, _)| !parts.contains(i))
                .map(|(_, f)| f.as_ref().clone())
                .collect::<Vec<_>>(),
        ))
    }

    /// Files matching `path`: a file, every file of a directory, or a glob; sorted.
    fn matched_files(&self) -> Result<Vec<(PathBuf, u64)>> {
        let paths = matching_paths(&self.path).map_err(|e| self.error(e))?;
        if paths.is_empty() {
            return Err(self.error(format!("no input: nothing matches path '{}'", self.path)));
        }
        paths
            .into_iter()
            .map(|p| {
                let len = std::fs::metadata(&p)
                    .map(|m| m.len())
                    .map_err(|e| self.error(format!("{}: {e}", p.display())))?;
                Ok((p, len))
            })
            .collect()
    }

    fn error(&self, msg: String) -> DataFusionError {
        SluiceError::connector(&self.base.name, msg).into()
    }

    fn lines_scan(&self, state: &dyn Session) -> Result<StreamingTable> {
        let files = self.matched_files()?;
        let total: u64 = files.iter().map(|f| f.1).sum();
        let metrics: Arc<SourceMetrics> = self.base.source_metrics();
        metrics.total_bytes.fetch_add(total, Ordering::Relaxed);
        let partitions = plan_ranges(&files, state.config().target_partitions())
            .into_iter()
            .map(|ranges| {
                Arc::new(lines::LinesPartition {
                    schema: Arc::clone(&self.base.schema),
                    ranges,
                    metrics: Arc::clone(&metrics),
                }) as Arc<dyn PartitionStream>
            })
            .collect();
        StreamingTable::try_new(Arc::clone(&self.base.schema), partitions)
    }

    fn listing_table(&self) -> Result<ListingTable> {
        let p = Path::new(&self.path);
        let has_glob = self.path.contains(['*', '?', '[']);
        if !has_glob && !p.exists() {
            return Err(self.error(format!(
                "no data at '{}' yet: run the job that writes this table first",
                self.path
            )));
        }
        let mut url = self.path.clone();
        if p.is_dir() && !url.ends_with('/') {
            url.push('/');
        }
        let url = ListingTableUrl::parse(&url)?;
        let (format, ext): (
            Arc<dyn datafusion::datasource::file_format::FileFormat>,
            &str,
        ) = match self.format {
            FileFormat::Parquet => (Arc::new(ParquetFormat::default()), ".parquet"),
            FileFormat::Csv => (
                Arc::new(
                    CsvFormat::default()
                        .with_has_header(self.csv_header)
                        .with_delimiter(self.csv_delimiter),
                ),
                ".csv",
            ),
            FileFormat::Json | FileFormat::Lines => (Arc::new(JsonFormat::default()), ".json"),
        };
        let ext = if has_glob || p.is_file() { "" } else { ext };
        let partition_cols = self
            .partition_by
            .iter()
            .filter_map(|c| self.base.schema.field_with_name(c).ok())
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect();
        let options = ListingOptions::new(format)
            .with_file_extension(ext)
            .with_table_partition_cols(partition_cols);
        let config = ListingTableConfig::new(url)
            .with_listing_options(options)
            .with_schema(self.file_schema());
        ListingTable::try_new(config)
    }

    /// Maps a projection over the declared columns to one over the listing table's
    /// columns (file columns first, then partition columns).
    fn to_listing_projection(&self, projection: Option<&Vec<usize>>) -> Vec<usize> {
        let parts = self.partition_indices();
        let n_file = self.base.schema.fields().len() - parts.len();
        let map = |i: usize| match parts.iter().position(|&p| p == i) {
            Some(k) => n_file + k,
            None => i - parts.iter().filter(|&&p| p < i).count(),
        };
        match projection {
            Some(p) => p.iter().map(|&i| map(i)).collect(),
            None => (0..self.base.schema.fields().len()).map(map).collect(),
        }
    }
}

/// Checks `follow` / `follow.poll_ms`; `Some(poll interval)` when following.
fn follow_option(
    table: &str,
    opts: &FileOptions,
    path: &str,
    mode: ExecMode,
) -> crate::error::Result<Option<Duration>> {
    if !opts.follow {
        return Ok(None);
    }
    if !matches!(opts.format, FileFormat::Lines | FileFormat::Json) {
        return Err(SluiceError::connector(
            table,
            "follow = true needs format = 'lines' or 'json' (one row per line)",
        ));
    }
    if path.contains(['*', '?', '[']) || Path::new(path).is_dir() {
        return Err(SluiceError::connector(
            table,
            format!("follow = true tails a single file; path '{path}' is a directory or a glob"),
        ));
    }
    if mode == ExecMode::Batch {
        return Err(SluiceError::connector(
            table,
            "follow = true tails the file forever: run the job with --mode stream",
        ));
    }
    if opts.follow_poll_ms == 0 {
        return Err(SluiceError::bad_option(
            table,
            "follow.poll_ms",
            "option 'follow.poll_ms' must be at least 1",
        ));
    }
    Ok(Some(Duration::from_millis(opts.follow_poll_ms)))
}

/// Checks `source.monitor-interval`; `Some(interval)` when watching for new files.
fn monitor_option(
    table: &str,
    opts: &FileOptions,
    mode: ExecMode,
) -> crate::error::Result<Option<Duration>> {
    const KEY: &str = "source.monitor-interval";
    let Some(every) = opts.monitor_interval else {
        return Ok(None);
    };
    let fail = |m: String| Err(SluiceError::bad_option(table, KEY, m));
    if every.is_zero() {
        return fail(format!("option '{KEY}' must be more than 0"));
    }
    if opts.follow {
        return fail(format!(
            "'{KEY}' watches a folder for new files; follow = true tails one file: choose one"
        ));
    }
    if mode == ExecMode::Batch {
        return fail(format!(
            "'{KEY}' watches for new files forever: run the job with --mode stream"
        ));
    }
    Ok(Some(every))
}

/// How often a stream-mode sink commits its open files (Flink's option name).
fn rollover_option(table: &str, opts: &FileOptions) -> crate::error::Result<Duration> {
    if opts.rollover_interval.is_zero() {
        return Err(SluiceError::bad_option(
            table,
            "sink.rolling-policy.rollover-interval",
            "option 'sink.rolling-policy.rollover-interval' must be more than 0",
        ));
    }
    Ok(opts.rollover_interval)
}

/// The files `path` names, sorted: the file, every file of a directory, or a glob's.
fn matching_paths(path: &str) -> std::result::Result<Vec<PathBuf>, String> {
    let p = Path::new(path);
    let mut paths: Vec<PathBuf> = if p.is_dir() {
        walk_files(p)
    } else if p.is_file() {
        vec![p.to_path_buf()]
    } else {
        glob::glob(path)
            .map_err(|e| format!("bad glob '{path}': {e}"))?
            .filter_map(|r| r.ok())
            .filter(|p| p.is_file())
            .collect()
    };
    paths.sort();
    Ok(paths)
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in rd.flatten() {
            let p = entry.path();
            // Hidden entries are staging directories and editor files, never data.
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[async_trait]
impl ConnectorTable for FileTable {
    fn base(&self) -> &TableBase {
        &self.base
    }

    async fn read(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if let Some(poll_interval) = self.follow {
            return self
                .follow_scan(poll_interval)?
                .scan(state, projection, filters, limit)
                .await;
        }
        let one_by_one =
            self.rollover.is_some() && (self.positions.checkpointing() || self.monitor.is_some());
        if one_by_one {
            return self
                .files_scan()?
                .scan(state, projection, filters, limit)
                .await;
        }
        if self.format == FileFormat::Lines {
            return self
                .lines_scan(state)?
                .scan(state, projection, filters, limit)
                .await;
        }
        let listing = self.listing_table()?;
        let projection = self.to_listing_projection(projection);
        listing.scan(state, Some(&projection), filters, limit).await
    }

    fn filters_applied(&self, filters: &[&Expr]) -> Vec<TableProviderFilterPushDown> {
        // Filters on partition columns prune directories; everything else is re-checked above us.
        filters
            .iter()
            .map(|f| {
                let cols = f.column_refs();
                if !cols.is_empty() && cols.iter().all(|c| self.partition_by.contains(&c.name)) {
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect()
    }

    fn writes(&self) -> Option<Overwrite> {
        Some(Overwrite::Replaces)
    }

    async fn write(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let sink = FileSink {
            table: self.base.name.clone(),
            dir: PathBuf::from(&self.path),
            format: self.format,
            schema: Arc::clone(&self.base.schema),
            partition_cols: self.partition_indices(),
            file_schema: self.file_schema(),
            csv_header: self.csv_header,
            rollover: self.rollover,
            metrics: self.base.sink_metrics(),
            positions: Arc::clone(&self.positions),
            state_name: self.sink_state.clone(),
        };
        if self.path.contains(['*', '?', '[']) {
            return Err(self.error(format!(
                "cannot write to a glob path '{}': give a directory",
                self.path
            )));
        }
        Ok(sink_exec(input, sink))
    }
}
