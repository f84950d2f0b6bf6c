//! Why a line did not parse. Messages name the field and the byte offset so an operator can
//! find the problem in a multi-kilobyte line without counting quotes by hand.

use crate::time::TimeError;

/// Number of fields in the imooc nginx format (`[$time_local]` counts as one field).
pub const FIELD_COUNT: usize = 16;

/// Longest excerpt of offending text quoted in an error; lines can be hundreds of KB.
const MAX_EXCERPT: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty line")]
    Empty,
    #[error("line ends after field '{after}' (expected {n} fields)", n = FIELD_COUNT)]
    Truncated { after: &'static str },
    #[error("expected a space after field '{after}' at byte {at}")]
    MissingSeparator { after: &'static str, at: usize },
    #[error("expected '{open}' to start field '{field}' at byte {at}")]
    ExpectedOpen {
        field: &'static str,
        open: char,
        at: usize,
    },
    #[error("unterminated quote in field '{field}' starting at byte {start}")]
    UnterminatedQuote { field: &'static str, start: usize },
    #[error("unterminated '[' in field '{field}' starting at byte {start}")]
    UnterminatedBracket { field: &'static str, start: usize },
    #[error("empty field '{field}' at byte {at}")]
    EmptyField { field: &'static str, at: usize },
    #[error("bad {field} '{text}' at byte {at}: not a number")]
    BadNumber {
        field: &'static str,
        text: String,
        at: usize,
    },
    #[error("bad time '{text}': {reason}")]
    BadTime { text: String, reason: TimeError },
    #[error("unexpected text after field 'request_time' at byte {at}")]
    TrailingText { at: usize },
}

/// Copies at most [`MAX_EXCERPT`] bytes of `text` (on a char boundary) for an error message.
pub(crate) fn excerpt(text: &str) -> String {
    if text.len() <= MAX_EXCERPT {
        return text.to_owned();
    }
    let mut end = MAX_EXCERPT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_is_bounded_and_char_safe() {
        assert_eq!(excerpt("abc"), "abc");
        let long = "é".repeat(100);
        let e = excerpt(&long);
        assert!(e.len() <= MAX_EXCERPT + 3);
        assert!(e.ends_with("..."));
    }
}
