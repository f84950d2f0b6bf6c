//! From SQL text to executable plans: the session (catalog + UDFs) and job planning.

pub mod job;
pub mod session;
pub mod stream;

pub use job::{JobPlan, Output, plan_job};
pub use session::Session;
pub use stream::{StreamJob, plan_stream_job};
