//! The streaming executor: sources emit Arrow batches and watermarks over bounded channels
//! (`wire::Message`); each statement runs its stateless plans per batch, feeds its window
//! aggregates, and when the watermark closes windows runs the plan above them and hands the
//! rows to its sink. The planner (`plan::stream`) builds the graph it runs (`graph`).

pub mod aggregate;
mod checkpointing;
pub mod graph;
pub mod late;
mod runner;
mod source;
mod split;
pub mod window;

pub use checkpointing::{JobCheckpoints, split_positions};
pub use runner::run;
