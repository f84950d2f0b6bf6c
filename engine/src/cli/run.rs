//! `sluice run <job.sql>`

use std::path::Path;

use anyhow::Context;

use super::Cli;
use super::output::print_batches;
use crate::exec::ExecMode;
use crate::exec::progress::summary_line;
use crate::exec::{batch, stream};
use crate::plan::{Session, plan_job, plan_stream_job};
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

pub async fn run(cli: &Cli, file: &Path, mode: ExecMode, progress: bool) -> anyhow::Result<i32> {
    let mut catalog = cli.load_catalog()?;
    // `${job}`: the job file's name, e.g. for a Kafka consumer group per job.
    if catalog.vars.lookup("job")?.is_none()
        && let Some(stem) = file.file_stem()
    {
        catalog.vars.set("job", stem.to_string_lossy());
    }
    let script = load_script(file, &catalog)?;
    let session = Session::new(catalog, mode)?;
    let report = match mode {
        ExecMode::Batch => {
            let job = plan_job(&session, script).await?;
            tracing::info!(
                statements = job.statements.len(),
                shared = job.shared.len(),
                "planned {}",
                file.display()
            );
            batch::run(&session, job, progress).await?
        }
        ExecMode::Stream => {
            let job = plan_stream_job(&session, script).await?;
            tracing::info!(
                statements = job.statements.len(),
                sources = job.sources.len(),
                "planned {} for streaming",
                file.display()
            );
            stream::run(&session, job, progress).await?
        }
    };
    let mut stdout = std::io::stdout().lock();
    for rows in report.printed.iter().filter(|r| !r.is_empty()) {
        print_batches(rows, super::Format::Table, &mut stdout)?;
    }
    use std::io::Write;
    writeln!(stdout, "{}", summary_line(&report.metrics, report.started))?;
    Ok(0)
}
