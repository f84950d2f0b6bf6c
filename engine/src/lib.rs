//! Sluice: a SQL-first stream and batch engine on Apache DataFusion.
//!
//! Layers, lowest first. A module may use its own layer's modules that are listed before
//! it and every lower layer, never a higher one; `tests/layers.rs` reads the `crate::`
//! paths of every source file, checks them against this list and finds no import cycle
//! between files.
//!
//! 1. `error`, `sync`, `units`, `durable` — the error type, lock helpers, the one duration
//!    and size grammar, crash-safe file writes. (The imooc log generator is a crate of its
//!    own, `sluice-loggen`.)
//! 2. `catalog` — what tables exist: YAML, profiles, variables, table definitions.
//! 3. `sql` — job files cut into located statements, Flink-style DDL, diagnostics.
//! 4. `wire` — the stream wire protocol: data and control signals as one message type, and
//!    where they cross DataFusion plans.
//! 5. `checkpoint` — manifests, stores, source positions, checkpoint configuration.
//! 6. `job` — what one running job owns: mode, metrics, positions, memory tables.
//! 7. `connectors`, `exec` — where tables live; running a planned job (they do not use
//!    each other).
//! 8. `plan` — from SQL to the operator graph the runners execute.
//! 9. `launch`, `server`, `cli` — a job from its SQL to its end, the job server's parts (its
//!    job registry), and the `sluice` command.

pub mod catalog;
pub mod checkpoint;
pub mod cli;
pub mod connectors;
pub mod durable;
pub mod error;
pub mod exec;
pub mod job;
pub mod launch;
pub mod plan;
pub mod server;
pub mod sql;
mod sync;
pub mod units;
pub mod wire;

pub use error::{Result, SluiceError};
