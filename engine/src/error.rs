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

/// An error at a place in a SQL file: what went wrong and what to do. DDL parsing, query
/// planning and the stream planner all report this one shape; [`Located::render`] prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// `Location::default()` (line 0) until the place is known: the caller then puts it at
    /// the statement ([`Located::or_at`]).
    pub location: Location,
    pub message: String,
    pub hint: Option<String>,
}

impl Located {
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        Located {
            location,
            message: message.into(),
            hint: None,
        }
    }

    /// An error whose place the caller knows better (e.g. "this statement").
    pub fn unplaced(message: impl Into<String>) -> Self {
        Located::new(Location::default(), message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Puts an unplaced error at `location`.
    pub fn or_at(mut self, location: Location) -> Self {
        if self.location.line == 0 {
            self.location = location;
        }
        self
    }

    /// `file:line:col: error: message`, the line itself with a caret under the column, and
    /// the hint, as rustc prints errors.
    pub fn render(&self, file: &str, source: &str) -> String {
        let loc = self.location;
        let mut out = format!(
            "{file}:{}:{}: error: {}",
            loc.line, loc.column, self.message
        );
        if let Some(line) = source.lines().nth(loc.line.saturating_sub(1) as usize) {
            let gutter = loc.line.to_string().len();
            let caret_pad: String = line
                .chars()
                .take(loc.column.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!(
                "\n{:gutter$} |\n{} | {line}\n{:gutter$} | {caret_pad}^",
                "", loc.line, ""
            ));
        }
        if let Some(h) = &self.hint {
            out.push_str(&format!("\n  = hint: {h}"));
        }
        out
    }

    /// The error a command reports for this place in `file`.
    pub fn in_file(&self, file: &str, source: &str) -> SluiceError {
        SluiceError::Sql(self.render(file, source))
    }
}

/// Whether trying the same thing again can succeed: a lost connection can, a bad column
/// cannot. Writers to external systems say which, so retries (and a job supervisor) only
/// wait where waiting helps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    Helps,
    CannotHelp,
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
    /// A connector option is wrong: `option` names it, so a DDL error can point at it.
    #[error("table '{table}': {message}")]
    BadOption {
        table: String,
        option: String,
        message: String,
    },
    /// Writing to an external system failed for good, after retries or because a retry
    /// cannot help; `retry` says which.
    #[error("table '{table}': {message}")]
    Write {
        table: String,
        message: String,
        retry: Retry,
    },
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

    pub fn bad_option(
        table: impl Into<String>,
        option: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        SluiceError::BadOption {
            table: table.into(),
            option: option.into(),
            message: message.into(),
        }
    }

    /// The connector option the error is about, if it is about one.
    pub fn option(&self) -> Option<&str> {
        match self {
            SluiceError::BadOption { option, .. } => Some(option),
            _ => None,
        }
    }

    /// Whether running again can succeed, where the error knows (failed writes).
    pub fn retry(&self) -> Option<Retry> {
        match self {
            SluiceError::Write { retry, .. } => Some(*retry),
            _ => None,
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
