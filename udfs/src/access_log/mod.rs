//! Parsing the imooc nginx access-log format, byte by byte (no regex, no blind split).

mod cursor;
mod error;
mod numbers;
mod parser;
mod request;
#[cfg(test)]
mod tests;

pub use error::{FIELD_COUNT, ParseError};
pub use parser::{ParsedLine, parse_line};
pub use request::{RequestParts, split_request};
