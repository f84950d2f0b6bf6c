//! The parts of `sluice serve`, the job server. So far its persistent job registry: what was
//! submitted, in which state each job is and what happened to it, kept in the server's state
//! directory so a restarted server (even after `kill -9`) knows which jobs to resume.

pub mod registry;

pub use registry::{JobId, JobRecord, JobState, NewJob, Registry, RegistryError, Transition};
