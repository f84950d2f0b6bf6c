//! `sluice run <job.sql>`

use std::path::Path;

use anyhow::Context;

use super::Cli;
use super::output::print_batches;
use crate::checkpoint::{CheckpointConfig, CheckpointStore, FromCheckpoint};
use crate::exec::ExecMode;
use crate::exec::progress::summary_line;
use crate::exec::stream::JobCheckpoints;
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
            let job_name = session
                .catalog()
                .vars
                .lookup("job")?
                .unwrap_or_else(|| "adhoc".into());
            let checkpoints = resume_point(&session, &job_name, &script, from)?;
            let job = plan_stream_job(&session, script).await?;
            tracing::info!(
                statements = job.statements.len(),
                sources = job.sources.len(),
                "planned {} for streaming",
                file.display()
            );
            stream::run(&session, job, progress, checkpoints).await?
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

/// The job's checkpointing, and the checkpoint it resumes from (whose source positions the
/// connectors start at). `None`: `checkpoint.dir` is not set.
fn resume_point(
    session: &Session,
    job: &str,
    script: &Script,
    from: FromCheckpoint,
) -> anyhow::Result<Option<JobCheckpoints>> {
    let Some(config) = CheckpointConfig::from_vars(&session.catalog().vars, job, from)? else {
        if from != FromCheckpoint::Latest {
            anyhow::bail!("--from-checkpoint needs checkpoints: set the variable checkpoint.dir");
        }
        return Ok(None);
    };
    let store = CheckpointStore::new(&config.dir);
    let restored = match from {
        FromCheckpoint::None => None,
        FromCheckpoint::Latest => store.latest()?,
        FromCheckpoint::Id(id) => Some(store.load(id)?),
    };
    let fingerprint = format!(
        "{:08x}-{}",
        crc32fast::hash(script.source.as_bytes()),
        script.source.len()
    );
    if let Some(m) = &restored {
        if m.fingerprint != fingerprint {
            anyhow::bail!(
                "checkpoint {} in {} was taken by another version of {} (its SQL changed): \
                 its state does not fit. Run the old version to its end, or start afresh \
                 with --from-checkpoint none",
                m.id,
                store.dir().display(),
                script.file
            );
        }
        tracing::info!(
            "resuming from checkpoint {} ({} bytes of state) in {}",
            m.id,
            m.state_bytes(),
            store.dir().display()
        );
        for source in &m.sources {
            session
                .env
                .positions
                .restore(&source.name, crate::exec::stream::split_positions(source));
        }
        for sink in &m.sinks {
            session.env.positions.restore_sink(sink.clone());
        }
    }
    session.env.positions.set_checkpointing(true);
    Ok(Some(JobCheckpoints {
        config,
        store,
        job: job.to_string(),
        fingerprint,
        restored,
    }))
}
