//! A job from its SQL to its end: planned in a session of its own, resumed from its newest
//! checkpoint when it takes them, and run. `sluice run` runs one; a server runs many side
//! by side, each with its own state (`JobEnv`).

use datafusion::physical_plan::displayable;

use crate::catalog::Catalog;
use crate::checkpoint::{CheckpointConfig, CheckpointStore, FromCheckpoint};
use crate::error::{Result, SluiceError};
use crate::exec::batch::{JobPlan, RunReport};
use crate::exec::stream::JobCheckpoints;
use crate::exec::stream::graph::StreamJob;
use crate::exec::{Output, batch, stream};
use crate::job::{ExecMode, JobEnv};
use crate::plan::stream::explain_stream;
use crate::plan::{Session, plan_job, plan_stream_job};
use crate::sql::Script;

/// A job file's text, its `${..}` variables expanded from `catalog`, cut into statements.
/// `file` names it in messages (`file:line:col`).
pub fn script_from_text(file: &str, text: &str, catalog: &Catalog) -> Result<Script> {
    let text = if text.contains("${") {
        catalog.vars.expand_sql(text).map_err(|e| match e {
            SluiceError::Variable(m) => SluiceError::Variable(format!("{file}: {m}")),
            e => e,
        })?
    } else {
        text.to_string()
    };
    Script::parse(file, &text)
}

enum Planned {
    Batch(JobPlan),
    Stream(Box<StreamJob>, Option<JobCheckpoints>),
}

/// A planned job, ready to run.
pub struct Job {
    session: Session,
    planned: Planned,
}

impl Job {
    /// Plans `script` over `catalog` for `mode`. A stream job that checkpoints resumes from
    /// the checkpoint `from` names (its sources' positions are set before planning).
    pub async fn plan(
        catalog: Catalog,
        script: Script,
        mode: ExecMode,
        from: FromCheckpoint,
    ) -> Result<Job> {
        let session = Session::new(catalog, mode)?;
        let planned = match mode {
            ExecMode::Batch => {
                let job = plan_job(&session, script).await?;
                tracing::info!(
                    statements = job.statements.len(),
                    shared = job.shared.len(),
                    "planned {}",
                    job.script.file
                );
                Planned::Batch(job)
            }
            ExecMode::Stream => {
                let name = session
                    .catalog()
                    .vars
                    .lookup("job")?
                    .unwrap_or_else(|| "adhoc".into());
                let checkpoints = resume_point(&session, &name, &script, from)?;
                let job = plan_stream_job(&session, script).await?;
                tracing::info!(
                    statements = job.statements.len(),
                    sources = job.sources.len(),
                    "planned {} for streaming",
                    job.script.file
                );
                Planned::Stream(Box::new(job), checkpoints)
            }
        };
        Ok(Job { session, planned })
    }

    /// How the job was planned: every statement's plan, with shared relations (batch) or the
    /// stream operator graph and its stateful operators (stream) marked.
    pub fn explain(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        match &self.planned {
            Planned::Stream(job, _) => out.push_str(&explain_stream(job)),
            Planned::Batch(job) => {
                for s in &job.shared {
                    let _ = writeln!(
                        out,
                        "\nshared relation '{}': computed once, read by {} statements",
                        s.name,
                        s.table.subscriber_count()
                    );
                    let _ = write!(out, "{}", displayable(s.plan.as_ref()).indent(true));
                }
                for p in &job.statements {
                    let target = match &p.output {
                        Output::Table(t) => format!("INSERT INTO {t}"),
                        Output::Print => "SELECT (printed)".to_string(),
                    };
                    let _ = writeln!(out, "\n{}:{}: {target}", job.script.file, p.statement.start);
                    let _ = write!(out, "{}", displayable(p.plan.as_ref()).indent(true));
                }
            }
        }
        out
    }

    /// What the job owns: its metrics, positions and memory tables.
    pub fn env(&self) -> &JobEnv {
        &self.session.env
    }

    /// Runs the job to its end (a stream job over unbounded sources: until it fails or the
    /// future is dropped).
    pub async fn run(self, show_progress: bool) -> Result<RunReport> {
        let ctx = self.session.ctx.task_ctx();
        let env: &JobEnv = &self.session.env;
        match self.planned {
            Planned::Batch(job) => batch::run(ctx, env, job, show_progress).await,
            Planned::Stream(job, checkpoints) => {
                stream::run(ctx, env, *job, show_progress, checkpoints).await
            }
        }
    }
}

/// The job's checkpointing, and the checkpoint it resumes from (whose source positions the
/// connectors start at). `None`: `checkpoint.dir` is not set.
fn resume_point(
    session: &Session,
    job: &str,
    script: &Script,
    from: FromCheckpoint,
) -> Result<Option<JobCheckpoints>> {
    let Some(config) = CheckpointConfig::from_vars(&session.catalog().vars, job, from)? else {
        if let FromCheckpoint::Id(id) = from {
            return Err(SluiceError::Variable(format!(
                "resuming from checkpoint {id} needs checkpoints: set the variable \
                 checkpoint.dir"
            )));
        }
        return Ok(None);
    };
    let store = CheckpointStore::new(&config.dir);
    let checkpoint_error = |e: crate::checkpoint::CheckpointError| SluiceError::Run(e.to_string());
    let restored = match from {
        FromCheckpoint::None => None,
        FromCheckpoint::Latest => store.latest().map_err(checkpoint_error)?,
        FromCheckpoint::Id(id) => Some(store.load(id).map_err(checkpoint_error)?),
    };
    let fingerprint = format!(
        "{:08x}-{}",
        crc32fast::hash(script.source.as_bytes()),
        script.source.len()
    );
    if let Some(m) = &restored {
        if m.fingerprint != fingerprint {
            return Err(SluiceError::Run(format!(
                "checkpoint {} in {} was taken by another version of {} (its SQL changed): \
                 its state does not fit. Run the old version to its end, or start afresh \
                 with --from-checkpoint none",
                m.id,
                store.dir().display(),
                script.file
            )));
        }
        tracing::info!(
            "resuming from checkpoint {} ({} bytes of state) in {}",
            m.id,
            m.state_bytes(),
            store.dir().display()
        );
        let positions = &session.env.positions;
        for source in &m.sources {
            positions.restore(&source.name, crate::exec::stream::split_positions(source));
        }
        for sink in &m.sinks {
            positions.restore_sink(sink.clone());
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
