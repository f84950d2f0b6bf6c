//! Connectors: where tables live. One folder or file per system; each makes a catalog
//! table into a `ConnectorTable` (the shape every table shares, `table`), which DataFusion
//! scans (source) and/or inserts into (sink) as a `Table`.

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
mod table;
mod tee;

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::catalog::TableProvider;

pub use options::Options;
pub use table::{ConnectorTable, Table, TableBase};

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

/// A kind of table: what `connector = '<name>'` in a table's options makes.
pub trait Connector: Send + Sync {
    /// The value of the `connector` option.
    fn name(&self) -> &'static str;

    /// The provider of table `def`, from its (interpolated) options.
    fn table(
        &self,
        def: &TableDef,
        options: BTreeMap<String, String>,
        env: &ConnectorEnv,
    ) -> Result<Arc<dyn TableProvider>>;

    /// Checks `def`'s options without keeping the table (planning a job's DDL).
    fn check(
        &self,
        def: &TableDef,
        options: BTreeMap<String, String>,
        env: &ConnectorEnv,
    ) -> Result<()> {
        self.table(def, options, env).map(|_| ())
    }
}

/// A connector whose tables are one provider type, made by its constructor.
struct Provides<T> {
    name: &'static str,
    new: fn(&TableDef, BTreeMap<String, String>, &ConnectorEnv) -> Result<T>,
}

impl<T: ConnectorTable> Connector for Provides<T> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn table(
        &self,
        def: &TableDef,
        options: BTreeMap<String, String>,
        env: &ConnectorEnv,
    ) -> Result<Arc<dyn TableProvider>> {
        (self.new)(def, options, env).map(|t| Arc::new(Table(t)) as _)
    }
}

/// Every connector, by name.
static REGISTRY: [&dyn Connector; 7] = [
    &Provides {
        name: file::NAME,
        new: file::FileTable::try_new,
    },
    &Provides {
        name: generator::NAME,
        new: generator::GeneratorTable::try_new,
    },
    &Provides {
        name: kafka::NAME,
        new: kafka::KafkaTable::try_new,
    },
    &Provides {
        name: memory::NAME,
        new: memory::MemoryTable::try_new,
    },
    &Provides {
        name: mysql::NAME,
        new: mysql::MySqlTable::try_new,
    },
    &Provides {
        name: redis::NAME,
        new: redis::RedisTable::try_new,
    },
    &Provides {
        name: stdout::NAME,
        new: stdout::StdoutTable::try_new,
    },
];

/// The connector called `name`.
pub fn connector(name: &str) -> Option<&'static dyn Connector> {
    REGISTRY.iter().copied().find(|c| c.name() == name)
}

/// The names of every connector.
pub fn connector_names() -> Vec<&'static str> {
    REGISTRY.iter().map(|c| c.name()).collect()
}

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
    table_connector(def)?.table(def, options, env)
}

/// The connector `def` names, or an error listing the ones there are.
pub fn table_connector(def: &TableDef) -> Result<&'static dyn Connector> {
    let name = def.connector();
    connector(name).ok_or_else(|| {
        SluiceError::connector(
            &def.name,
            format!(
                "unknown connector '{name}'; available: {}",
                connector_names().join(", ")
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::DataType;

    fn def(connector: &str, options: &[(&str, &str)]) -> TableDef {
        TableDef::of_connector("t", connector, &[("line", DataType::Utf8)], options)
    }

    #[test]
    fn tables_are_made_by_the_connector_they_name() {
        let names = connector_names();
        assert_eq!(
            names,
            [
                "file",
                "generator",
                "kafka",
                "memory",
                "mysql",
                "redis",
                "stdout"
            ]
        );
        let env = ConnectorEnv::new(ExecMode::Batch);
        let memory = def("memory", &[]);
        assert!(build_table(&memory, memory.options.clone(), &env).is_ok());
        let generator = def("generator", &[("rows", "10")]);
        let c = table_connector(&generator).unwrap();
        assert_eq!(c.name(), "generator");
        assert!(c.check(&generator, generator.options.clone(), &env).is_ok());
        let bad = def("generator", &[("rows", "ten")]);
        let err = c.check(&bad, bad.options.clone(), &env).unwrap_err();
        assert!(err.to_string().contains("option 'rows' = 'ten'"), "{err}");
        let unknown = table_connector(&def("ftp", &[]))
            .err()
            .expect("no ftp connector");
        assert_eq!(
            unknown.to_string(),
            "table 't': unknown connector 'ftp'; available: file, generator, kafka, memory, mysql, redis, stdout"
        );
    }
}
