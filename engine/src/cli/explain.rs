//! `sluice explain <job.sql> [--mode stream]`: the plan of every statement, with shared
//! relations (batch) or the stream operator graph and its stateful operators (stream) marked.

use std::io::Write;
use std::path::Path;

use datafusion::physical_plan::displayable;

use super::Cli;
use super::run::load_script;
use crate::exec::Output;
use crate::job::ExecMode;
use crate::plan::stream::explain_stream;
use crate::plan::{Session, plan_job, plan_stream_job};

pub async fn explain(cli: &Cli, file: &Path, mode: ExecMode) -> anyhow::Result<i32> {
    let catalog = cli.load_catalog()?;
    let script = load_script(file, &catalog)?;
    let session = Session::new(catalog, mode)?;
    if mode == ExecMode::Stream {
        let job = plan_stream_job(&session, script).await?;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "job {} (mode stream, profile {})",
            file.display(),
            cli.profile
        )?;
        write!(out, "{}", explain_stream(&job))?;
        return Ok(0);
    }
    let job = plan_job(&session, script).await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "job {} (mode batch, profile {})",
        file.display(),
        cli.profile
    )?;
    for s in &job.shared {
        writeln!(
            out,
            "\nshared relation '{}': computed once, read by {} statements",
            s.name,
            s.table.subscriber_count()
        )?;
        write!(out, "{}", displayable(s.plan.as_ref()).indent(true))?;
    }
    for p in &job.statements {
        let target = match &p.output {
            Output::Table(t) => format!("INSERT INTO {t}"),
            Output::Print => "SELECT (printed)".to_string(),
        };
        writeln!(out, "\n{}:{}: {target}", job.script.file, p.statement.start)?;
        write!(out, "{}", displayable(p.plan.as_ref()).indent(true))?;
    }
    Ok(0)
}
