//! Running planned jobs: the batch runner, shared (fan-out) relations, metrics and progress.

pub mod batch;
pub mod fanout;
pub mod metrics;
pub mod progress;
pub mod stream;

/// How a job runs. Batch reads bounded inputs to their end and stops; stream runs window by
/// window as event time advances, over bounded or unbounded inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExecMode {
    #[default]
    Batch,
    Stream,
}

impl std::fmt::Display for ExecMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecMode::Batch => write!(f, "batch"),
            ExecMode::Stream => write!(f, "stream"),
        }
    }
}
