//! The `sluice` command line.

mod catalog_cmd;
mod client;
mod explain;
mod output;
mod produce;
mod query;
mod run;
mod serve;
mod signals;

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::catalog::{Catalog, DEFAULT_PROFILE, Vars};
use crate::error::Result;

#[derive(Debug, Parser)]
#[command(
    name = "sluice",
    version,
    about = "SQL-first stream and batch engine on Apache DataFusion"
)]
pub struct Cli {
    /// Catalog directory (table YAML files and profiles/).
    #[arg(long, global = true, env = "SLUICE_CATALOG", default_value = "catalog")]
    pub catalog: PathBuf,
    /// Environment profile: `local` (files only, the default) or `stack` (Kafka, Redis and
    /// MySQL). For `sluice submit`: the job's profile (default: the server's).
    #[arg(long, global = true, env = "SLUICE_PROFILE")]
    pub profile: Option<String>,
    /// Set a variable used by the catalog and job files, e.g. --set warehouse=/data/wh
    #[arg(long = "set", value_name = "NAME=VALUE", global = true)]
    pub set: Vec<String>,
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum Mode {
    /// Read bounded inputs to their end, then stop.
    #[default]
    Batch,
    /// Emit each window once the watermark passes its end; runs until unbounded inputs stop.
    Stream,
}

impl From<Mode> for crate::job::ExecMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Batch => crate::job::ExecMode::Batch,
            Mode::Stream => crate::job::ExecMode::Stream,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum Format {
    #[default]
    Table,
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a job file (.sql).
    Run {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Mode::Batch)]
        mode: Mode,
        /// Do not draw the progress bar.
        #[arg(long)]
        no_progress: bool,
        /// Stream mode: resume from the newest complete checkpoint (latest), a given one
        /// (its id), or start afresh (none). Checkpoints are taken when the variable
        /// `checkpoint.dir` is set (the shipped profiles set it).
        #[arg(long, default_value = "latest", value_name = "latest|ID|none")]
        from_checkpoint: crate::checkpoint::FromCheckpoint,
        /// Serve the job's metrics at http://ADDR/metrics (Prometheus text format).
        #[arg(long, value_name = "ADDR")]
        metrics_listen: Option<std::net::SocketAddr>,
    },
    /// Run the job server: a REST API to submit, list, stop and restart jobs, which it keeps
    /// in a registry and resumes after a restart.
    Serve(serve::ServeArgs),
    /// Submit a job file to a server; prints the job's id.
    Submit(client::SubmitArgs),
    /// List a server's jobs.
    Jobs(client::JobsArgs),
    /// Stop a server's job (by default with a final checkpoint) and wait until it has.
    Stop(client::StopArgs),
    /// Run a server's job again, from its newest checkpoint (or --from ID).
    Restart(client::RestartArgs),
    /// Print a server's job's log (-f: and follow it).
    Logs(client::LogsArgs),
    /// Run one SQL query against the catalog and print the rows.
    Query {
        sql: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// List or describe catalog tables.
    Catalog {
        #[command(subcommand)]
        action: CatalogAction,
    },
    /// Show how a job file is planned.
    Explain {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Mode::Batch)]
        mode: Mode,
    },
    /// Write imooc access-log lines (the built-in generator or the test lines).
    Produce(produce::ProduceArgs),
}

#[derive(Debug, Subcommand)]
pub enum CatalogAction {
    /// Every table with its connector.
    List,
    /// Columns, keys and options of one table.
    Describe { table: String },
}

impl Cli {
    /// Parses the process's arguments. `--set` may come before and after the subcommand
    /// (`sluice --set a=1 run --set b=2 …`); clap keeps only one side's values of a global
    /// list (clap-rs/clap#3959), so they are gathered from the arguments themselves.
    pub fn parse_args() -> Self {
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        let mut cli = <Cli as clap::Parser>::parse_from(&args);
        cli.set = set_arguments(&args);
        cli
    }

    pub fn vars(&self) -> Result<Vars> {
        let mut overrides = BTreeMap::new();
        for s in &self.set {
            let (k, v) = Vars::parse_assignment(s)?;
            overrides.insert(k, v);
        }
        Ok(Vars::new(overrides))
    }

    /// The profile named (`--profile`, `SLUICE_PROFILE`), else the default.
    pub fn profile(&self) -> &str {
        self.profile.as_deref().unwrap_or(DEFAULT_PROFILE)
    }

    pub fn load_catalog(&self) -> Result<Catalog> {
        Catalog::load(&self.catalog, self.profile(), self.vars()?)
    }
}

/// Every `--set` value of a command line, in order (a later one wins), up to a `--`.
fn set_arguments(args: &[std::ffi::OsString]) -> Vec<String> {
    let mut sets = Vec::new();
    let mut args = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        if arg == "--set" {
            sets.extend(args.next().map(|v| v.into_owned()));
        } else if let Some(v) = arg.strip_prefix("--set=") {
            sets.push(v.to_string());
        }
    }
    sets
}

/// Runs a parsed command line; returns the process exit code. `logs` receives the log
/// lines of a server's jobs (its tracing layer is installed by `main`).
pub async fn execute(cli: Cli, logs: crate::server::logs::JobLogs) -> anyhow::Result<i32> {
    match &cli.command {
        Command::Run {
            file,
            mode,
            no_progress,
            from_checkpoint,
            metrics_listen,
        } => {
            let options = run::RunOptions {
                mode: (*mode).into(),
                progress: !no_progress,
                from: *from_checkpoint,
                metrics_listen: *metrics_listen,
            };
            run::run(&cli, file, options).await
        }
        Command::Query { sql, format } => query::query(&cli, sql, *format).await,
        Command::Catalog { action } => catalog_cmd::catalog(&cli, action),
        Command::Explain { file, mode } => explain::explain(&cli, file, (*mode).into()).await,
        Command::Produce(args) => produce::produce(args).await,
        Command::Serve(args) => serve::serve(&cli, args, logs).await,
        Command::Submit(args) => client::submit(&cli, args).await,
        Command::Jobs(args) => client::jobs(args).await,
        Command::Stop(args) => client::stop(args).await,
        Command::Restart(args) => client::restart(args).await,
        Command::Logs(args) => client::logs(args).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_before_and_after_the_subcommand_all_count() {
        let args: Vec<std::ffi::OsString> = [
            "sluice",
            "--set",
            "a=1",
            "run",
            "--set=b=2",
            "job.sql",
            "--set",
            "a=3",
            "--",
            "--set",
            "c=4",
        ]
        .iter()
        .map(Into::into)
        .collect();
        assert_eq!(set_arguments(&args), vec!["a=1", "b=2", "a=3"]);
    }
}
