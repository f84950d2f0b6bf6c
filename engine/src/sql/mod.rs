//! The SQL front end: job files cut into located statements, Flink-style DDL, and error
//! messages that point at file:line:col.

pub mod ddl;
pub mod diagnostics;
pub mod script;
pub mod windows;

pub use script::{Script, Statement, StatementKind};
