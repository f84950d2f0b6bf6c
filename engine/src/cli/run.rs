//! `sluice run <job.sql>`

use std::path::Path;

use anyhow::Context;

use super::Cli;
use super::output::print_batches;
use super::signals::stop_on_signals;
use crate::checkpoint::FromCheckpoint;
use crate::exec::batch::Stopped;
use crate::exec::progress::summary_line;
use crate::job::ExecMode;
use crate::launch::Job;
use crate::sql::Script;

/// Reads a job file and expands `${..}` variables in it.
pub fn load_script(file: &Path, catalog: &crate::catalog::Catalog) -> anyhow::Result<Script> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading job file {}", file.display()))?;
    let text = if text.contains("${") {
        catalog
            .vars
            .expand_sql(&text)
            .with_context(|| format!("{}", file.display()))?
    } else {
        text
    };
    Ok(Script::parse(&file.display().to_string(), &text)?)
}

pub async fn run(
    cli: &Cli,
    file: &Path,
    mode: ExecMode,
    progress: bool,
    from: FromCheckpoint,
) -> anyhow::Result<i32> {
    let mut catalog = cli.load_catalog()?;
    // `${job}`: the job file's name, e.g. for a Kafka consumer group per job.
    if catalog.vars.lookup("job")?.is_none()
        && let Some(stem) = file.file_stem()
    {
        catalog.vars.set("job", stem.to_string_lossy());
    }
    let script = load_script(file, &catalog)?;
    let job = Job::plan(catalog, script, mode, from).await?;
    let signals = (mode == ExecMode::Stream)
        .then(|| stop_on_signals(job.env().stop.clone(), file.display().to_string()));
    let report = job.run(progress).await;
    if let Some(s) = signals {
        s.abort();
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
