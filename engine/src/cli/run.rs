//! `sluice run <job.sql>`

use std::path::Path;

use anyhow::Context;

use super::Cli;
use super::output::print_batches;
use crate::checkpoint::FromCheckpoint;
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
    let report = Job::plan(catalog, script, mode, from)
        .await?
        .run(progress)
        .await?;
    let mut stdout = std::io::stdout().lock();
    for rows in report.printed.iter().filter(|r| !r.is_empty()) {
        print_batches(rows, super::Format::Table, &mut stdout)?;
    }
    use std::io::Write;
    writeln!(stdout, "{}", summary_line(&report.metrics, report.started))?;
    Ok(0)
}
