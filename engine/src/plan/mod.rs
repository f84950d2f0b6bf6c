//! From SQL text to executable plans: the session (catalog + UDFs) and job planning.

pub mod job;
pub mod session;

pub use job::{JobPlan, Output, plan_job};
pub use session::Session;
