//! The engine's error type. Every variant names what failed and where, so the CLI can print it as-is.

use datafusion::error::DataFusionError;

/// Where in a SQL file something is (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    pub line: u64,
    pub column: u64,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SluiceError {
    /// A problem in a SQL file, already rendered with file:line:col, the source line and a hint.
    #[error("{0}")]
    Sql(String),
    #[error("catalog: {0}")]
    Catalog(String),
    /// A job failed while running; the message names the statement or view.
    #[error("{0}")]
    Run(String),
    #[error("variable: {0}")]
    Variable(String),
    #[error("table '{table}': {message}")]
    Connector { table: String, message: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
}

pub type Result<T, E = SluiceError> = std::result::Result<T, E>;

impl SluiceError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        SluiceError::Io {
            context: context.into(),
            source,
        }
    }

    pub fn connector(table: impl Into<String>, message: impl Into<String>) -> Self {
        SluiceError::Connector {
            table: table.into(),
            message: message.into(),
        }
    }
}

/// Connectors run inside DataFusion plans, whose error type is `DataFusionError`;
/// this keeps our message intact when it crosses that boundary.
impl From<SluiceError> for DataFusionError {
    fn from(e: SluiceError) -> Self {
        match e {
            SluiceError::DataFusion(e) => e,
            other => DataFusionError::External(Box::new(other)),
        }
    }
}
