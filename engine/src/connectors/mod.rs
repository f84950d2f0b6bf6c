//! Connectors: where tables live. One folder or file per system; each turns a catalog
//! table into a DataFusion `TableProvider` that can be scanned (source) and/or inserted
//! into (sink).

pub mod file;
pub mod generator;
pub mod kafka;
pub mod memory;
pub mod mysql;
mod options;
pub mod records;
pub mod redis;
pub mod retry;
pub mod sink;
pub mod stdout;
mod tee;

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::catalog::TableProvider;

pub use options::Options;

use crate::catalog::TableDef;
use crate::error::{Result, SluiceError};
use crate::job::metrics::JobMetrics;
use crate::job::{ExecMode, JobEnv};

/// What a connector gets: the job it belongs to, and which of a table's targets it is.
#[derive(Debug, Clone)]
pub struct ConnectorEnv {
    pub job: JobEnv,
    /// Which of a table's targets is built: 0 its own connector, k its k-th `also_write`.
    pub target: usize,
}

impl ConnectorEnv {
    /// A connector of a job of its own (to check options, in tests).
    pub fn new(mode: ExecMode) -> Self {
        ConnectorEnv::of(&JobEnv::new(mode))
    }

    /// A connector of `job`.
    pub fn of(job: &JobEnv) -> Self {
        ConnectorEnv {
            job: job.clone(),
            target: 0,
        }
    }

    /// The name a sink of `table` keeps its checkpoint state under: targets of one table
    /// (`also_write`) must not share it.
    pub fn sink_state_name(&self, table: &str) -> String {
        match self.target {
            0 => table.to_string(),
            k => format!("{table}#also_write{k}"),
        }
    }
}

pub const CONNECTORS: &[&str] = &[
    "file",
    "generator",
    "kafka",
    "memory",
    "mysql",
    "redis",
    "stdout",
];

/// The provider of a catalog table, writing to its `also_write` targets too.
pub fn build_catalog_table(
    def: &TableDef,
    vars: &crate::catalog::Vars,
    env: &ConnectorEnv,
) -> Result<Arc<dyn TableProvider>> {
    let main = build_table(def, def.resolved_options(vars)?, env)?;
    if def.also_write.is_empty() {
        return Ok(main);
    }
    let mut targets = vec![main];
    // The run summary counts a table's rows once: its other targets count apart.
    for (k, (target, options)) in def.also_write_targets(vars)?.into_iter().enumerate() {
        let apart = ConnectorEnv {
            job: JobEnv {
                metrics: Arc::new(JobMetrics::default()),
                ..env.job.clone()
            },
            target: k + 1,
        };
        targets.push(build_table(&target, options, &apart)?);
    }
    Ok(Arc::new(tee::TeeTable::new(&def.name, targets)))
}

/// Builds the provider for a catalog table; `options` are already interpolated.
pub fn build_table(
    def: &TableDef,
    options: BTreeMap<String, String>,
    env: &ConnectorEnv,
) -> Result<Arc<dyn TableProvider>> {
    match def.connector() {
        "file" => file::FileTable::try_new(def, options, env).map(|t| Arc::new(t) as _),
        "generator" => {
            generator::GeneratorTable::try_new(def, options, env).map(|t| Arc::new(t) as _)
        }
        "kafka" => kafka::KafkaTable::try_new(def, options, env).map(|t| Arc::new(t) as _),
        "memory" => memory::MemoryTable::try_new(def, options, env).map(|t| Arc::new(t) as _),
        "mysql" => mysql::MySqlTable::try_new(def, options, env).map(|t| Arc::new(t) as _),
        "redis" => redis::RedisTable::try_new(def, options, env).map(|t| Arc::new(t) as _),
        "stdout" => stdout::StdoutTable::try_new(def, options, env).map(|t| Arc::new(t) as _),
        other => Err(SluiceError::connector(
            &def.name,
            format!(
                "unknown connector '{other}'; available: {}",
                CONNECTORS.join(", ")
            ),
        )),
    }
}
