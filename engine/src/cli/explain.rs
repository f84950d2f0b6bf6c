//! `sluice explain <job.sql> [--mode stream]`: the plan of every statement, with shared
//! relations (batch) or the stream operator graph and its stateful operators (stream) marked.

use std::io::Write;
use std::path::Path;

use super::Cli;
use super::run::load_script;
use crate::checkpoint::FromCheckpoint;
use crate::job::ExecMode;
use crate::launch::Job;

pub async fn explain(cli: &Cli, file: &Path, mode: ExecMode) -> anyhow::Result<i32> {
    let catalog = cli.load_catalog()?;
    let script = load_script(file, &catalog)?;
    // Planned afresh: what a checkpoint holds does not change the plan.
    let job = Job::plan(catalog, script, mode, FromCheckpoint::None).await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "job {} (mode {mode}, profile {})",
        file.display(),
        cli.profile()
    )?;
    write!(out, "{}", job.explain())?;
    Ok(0)
}
