//! A byte cursor over one log line that knows the nginx field shapes: bare tokens, quoted
//! strings with backslash escapes, bracketed time, and upstream lists.
//!
//! Every slice it hands out starts and ends next to an ASCII delimiter, so it always falls on a
//! UTF-8 char boundary; `str::get` is still used so that a logic slip can never panic.

use memchr::{memchr, memchr2};

use super::error::ParseError;

pub(crate) struct Cursor<'a> {
    line: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

type Result<T> = std::result::Result<T, ParseError>;

impl<'a> Cursor<'a> {
    pub(crate) fn new(line: &'a str) -> Self {
        Cursor {
            line,
            bytes: line.as_bytes(),
            pos: 0,
        }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn slice(&self, start: usize, end: usize) -> &'a str {
        self.line.get(start..end).unwrap_or("")
    }

    /// End of the space-free token starting at `from`.
    fn token_end(&self, from: usize) -> usize {
        let rest = self.bytes.get(from..).unwrap_or(&[]);
        memchr(b' ', rest).map_or(self.bytes.len(), |i| from + i)
    }

    pub(crate) fn skip_spaces(&mut self) {
        while self.bytes.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
    }

    /// Skips the space(s) that separate field `after` from the next one.
    pub(crate) fn separator(&mut self, after: &'static str) -> Result<()> {
        match self.bytes.get(self.pos) {
            None => Err(ParseError::Truncated { after }),
            Some(b' ') => {
                self.skip_spaces();
                if self.at_end() {
                    Err(ParseError::Truncated { after })
                } else {
                    Ok(())
                }
            }
            Some(_) => Err(ParseError::MissingSeparator {
                after,
                at: self.pos,
            }),
        }
    }

    /// A token up to the next space, e.g. `$remote_addr` or `$status`. Must be non-empty.
    pub(crate) fn bare(&mut self, field: &'static str) -> Result<&'a str> {
        let start = self.pos;
        let end = self.token_end(start);
        if end == start {
            return Err(ParseError::EmptyField { field, at: start });
        }
        self.pos = end;
        Ok(self.slice(start, end))
    }

    /// A `"..."` field; `\"` (or any backslash escape) does not end it. Returns the raw text
    /// between the quotes, escapes kept, so no allocation is needed.
    pub(crate) fn quoted(&mut self, field: &'static str) -> Result<&'a str> {
        let start = self.pos;
        if self.bytes.get(start) != Some(&b'"') {
            return Err(ParseError::ExpectedOpen {
                field,
                open: '"',
                at: start,
            });
        }
        let mut i = start + 1;
        loop {
            let rest = self.bytes.get(i..).unwrap_or(&[]);
            let Some(off) = memchr2(b'"', b'\\', rest) else {
                return Err(ParseError::UnterminatedQuote { field, start });
            };
            let j = i + off;
            if self.bytes[j] == b'"' {
                self.pos = j + 1;
                return Ok(self.slice(start + 1, j));
            }
            // Backslash: the next byte is escaped, whatever it is.
            i = j + 2;
            if i > self.bytes.len() {
                return Err(ParseError::UnterminatedQuote { field, start });
            }
        }
    }

    /// A `[...]` field. Returns `(with_brackets, inner)`; the former is quoted in errors.
    pub(crate) fn bracketed(&mut self, field: &'static str) -> Result<(&'a str, &'a str)> {
        let start = self.pos;
        if self.bytes.get(start) != Some(&b'[') {
            return Err(ParseError::ExpectedOpen {
                field,
                open: '[',
                at: start,
            });
        }
        let rest = self.bytes.get(start + 1..).unwrap_or(&[]);
        let Some(off) = memchr(b']', rest) else {
            return Err(ParseError::UnterminatedBracket { field, start });
        };
        let close = start + 1 + off;
        self.pos = close + 1;
        Ok((self.slice(start, close + 1), self.slice(start + 1, close)))
    }

    /// An unquoted field that may contain spaces because nginx does not escape them — `$args`
    /// holds whole multipart bodies here. It ends before the `"` that opens the next (quoted)
    /// field; nginx escapes `"` inside variables as `\x22`, so that quote is unambiguous.
    pub(crate) fn until_quote(&mut self, field: &'static str) -> Result<&'a str> {
        let start = self.pos;
        let rest = self.bytes.get(start..).unwrap_or(&[]);
        let Some(off) = memchr(b'"', rest) else {
            return Err(ParseError::Truncated { after: field });
        };
        let quote = start + off;
        let text = self.slice(start, quote).trim_end_matches(' ');
        if text.is_empty() {
            return Err(ParseError::EmptyField { field, at: start });
        }
        self.pos = start + text.len();
        Ok(text)
    }

    /// A token that may be an nginx upstream list: `a:80, b:80` (several upstreams tried) or
    /// `a : b` (internal redirect). Joining these keeps the following fields aligned.
    pub(crate) fn list(&mut self, field: &'static str) -> Result<&'a str> {
        let start = self.pos;
        let mut end = self.token_end(start);
        if end == start {
            return Err(ParseError::EmptyField { field, at: start });
        }
        loop {
            let b = self.bytes;
            let next_is_token = |i: usize| b.get(i).is_some_and(|c| *c != b' ');
            if b[end - 1] == b',' && b.get(end) == Some(&b' ') && next_is_token(end + 1) {
                end = self.token_end(end + 1);
            } else if b.get(end..end + 3) == Some(b" : ") && next_is_token(end + 3) {
                end = self.token_end(end + 3);
            } else {
                break;
            }
        }
        self.pos = end;
        Ok(self.slice(start, end))
    }
}
