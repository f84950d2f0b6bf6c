//! From SQL text to executable plans: the session (catalog + UDFs) and job planning.

pub mod job;
mod schema;
pub mod session;
pub mod stream;
mod window_marker;

pub use job::plan_job;
pub use session::Session;
pub use stream::plan_stream_job;
