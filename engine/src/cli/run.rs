//! `sluice run <job.sql>`

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use super::Cli;
use super::output::print_batches;
use super::signals::stop_on_signals;
use crate::checkpoint::FromCheckpoint;
use crate::exec::batch::Stopped;
use crate::exec::progress::summary_line;
use crate::job::ExecMode;
use crate::job::JobEnv;
use crate::launch::{Job, script_from_text};
use crate::server::metrics::{JobFigures, JobsView};
use crate::server::serve_metrics;
use crate::sql::Script;

/// Reads a job file and expands `${..}` variables in it.
pub fn load_script(file: &Path, catalog: &crate::catalog::Catalog) -> anyhow::Result<Script> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading job file {}", file.display()))?;
    Ok(script_from_text(
        &file.display().to_string(),
        &text,
        catalog,
    )?)
}

/// How `sluice run` runs its job.
pub struct RunOptions {
    pub mode: ExecMode,
    pub progress: bool,
    pub from: FromCheckpoint,
    /// Serve the job's metrics here.
    pub metrics_listen: Option<SocketAddr>,
}

pub async fn run(cli: &Cli, file: &Path, options: RunOptions) -> anyhow::Result<i32> {
    let RunOptions {
        mode,
        progress,
        from,
        metrics_listen,
    } = options;
    let mut catalog = cli.load_catalog()?;
    // `${job}`: the job file's name, e.g. for a Kafka consumer group per job.
    if catalog.vars.lookup("job")?.is_none()
        && let Some(stem) = file.file_stem()
    {
        catalog.vars.set("job", stem.to_string_lossy());
    }
    let script = load_script(file, &catalog)?;
    let job = Job::plan(catalog, script, mode, from).await?;
    let metrics = match metrics_listen {
        Some(addr) => {
            let name = file
                .file_stem()
                .map_or_else(|| "job".into(), |s| s.to_string_lossy().into_owned());
            let view = Arc::new(OneJob {
                name,
                env: job.env().clone(),
            });
            let (addr, task) = serve_metrics(addr, view).await?;
            eprintln!("sluice: metrics at http://{addr}/metrics");
            Some(task)
        }
        None => None,
    };
    let signals = (mode == ExecMode::Stream)
        .then(|| stop_on_signals(job.env().stop.clone(), file.display().to_string()));
    let report = job.run(progress).await;
    if let Some(s) = signals {
        s.abort();
    }
    if let Some(m) = metrics {
        m.abort();
    }
    let report = report?;
    let mut stdout = std::io::stdout().lock();
    for rows in report.printed.iter().filter(|r| !r.is_empty()) {
        print_batches(rows, super::Format::Table, &mut stdout)?;
    }
    use std::io::Write;
    writeln!(stdout, "{}", summary_line(&report.metrics, report.started))?;
    Ok(report.stopped.map_or(0, |s| say_stopped(file, &s)))
}

/// Says how a job that was asked to stop stopped; returns the exit code.
fn say_stopped(file: &Path, stopped: &Stopped) -> i32 {
    let file = file.display();
    match stopped {
        Stopped::AtCheckpoint(id) => {
            eprintln!("sluice: {file} stopped at checkpoint {id}; `sluice run` resumes from it");
            0
        }
        Stopped::Drained => {
            eprintln!("sluice: {file} stopped: its input ended, every window was written");
            0
        }
        Stopped::WithoutCheckpoint => {
            eprintln!(
                "sluice: {file} stopped; it takes no checkpoints (checkpoint.dir), so windows \
                 still open were not kept"
            );
            0
        }
        Stopped::CheckpointFailed(why) => {
            eprintln!(
                "sluice: {file} stopped, but its final checkpoint failed: {why}; a restart \
                 resumes from the checkpoint before"
            );
            1
        }
        Stopped::AtOnce => {
            eprintln!("sluice: {file} stopped at once; a restart resumes from its last checkpoint");
            130
        }
    }
}

/// The one job of a `sluice run`, for its metrics endpoint.
struct OneJob {
    name: String,
    env: JobEnv,
}

impl JobsView for OneJob {
    fn figures(&self) -> Vec<JobFigures> {
        vec![JobFigures {
            id: self.name.clone(),
            name: self.name.clone(),
            state: "RUNNING",
            restarts: 0,
            env: Some(self.env.clone()),
        }]
    }
}
