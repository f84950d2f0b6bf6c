//! Sluice: a SQL-first stream and batch engine on Apache DataFusion.
//!
//! Layout: `sql` (job files, DDL, diagnostics) → `plan` (session, job planning) → `exec`
//! (running, fan-out, metrics) with `connectors` for where tables live and `catalog` for
//! what tables exist. `cli` is the `sluice` command.

pub mod catalog;
pub mod checkpoint;
pub mod cli;
pub mod connectors;
pub mod error;
pub mod exec;
pub mod generator;
pub mod plan;
pub mod sql;
mod sync;

pub use error::{Result, SluiceError};
