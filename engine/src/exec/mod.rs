//! Running planned jobs: the batch and stream runners, shared (fan-out) relations and progress.

pub mod batch;
pub mod fanout;
pub mod progress;
pub mod stream;

/// What a statement writes to.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// `INSERT INTO table`.
    Table(String),
    /// A bare `SELECT`: its rows are printed.
    Print,
}
