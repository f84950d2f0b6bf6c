//! A job file cut into statements, each remembering where it starts, so every later error
//! can point at file:line:col.

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use crate::error::{Located, Location, Result, SluiceError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    CreateTable,
    CreateView,
    Insert,
    Set,
    Query,
    Other,
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub kind: StatementKind,
    /// The statement's text as written (no trailing `;`).
    pub text: String,
    /// `text` preceded by whitespace that puts it at its place in the file, so locations a
    /// parser reports on `padded` are file locations.
    pub padded: String,
    pub start: Location,
}

#[derive(Debug, Clone)]
pub struct Script {
    pub file: String,
    pub source: String,
    pub statements: Vec<Statement>,
}

/// Tokens of `sql` without whitespace and comments, with their spans.
pub fn tokens(sql: &str) -> std::result::Result<Vec<TokenWithSpan>, (Location, String)> {
    let dialect = GenericDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| {
            (
                Location {
                    line: e.location.line,
                    column: e.location.column,
                },
                e.message,
            )
        })?;
    Ok(tokens
        .into_iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
        .collect())
}

impl Script {
    /// `e`, rendered against this file.
    pub fn error(&self, e: Located) -> SluiceError {
        e.in_file(&self.file, &self.source)
    }

    pub fn parse(file: &str, source: &str) -> Result<Script> {
        let dialect = GenericDialect {};
        let all = Tokenizer::new(&dialect, source)
            .tokenize_with_location()
            .map_err(|e| {
                let loc = Location {
                    line: e.location.line,
                    column: e.location.column,
                };
                Located::new(loc, e.message)
                    .with_hint("check quotes and comments")
                    .in_file(file, source)
            })?;
        let index = LineIndex::new(source);
        let mut statements = Vec::new();
        let mut current: Vec<&TokenWithSpan> = Vec::new();
        for t in all.iter().chain(std::iter::once(&TokenWithSpan::new_eof())) {
            let is_end = matches!(t.token, Token::SemiColon | Token::EOF);
            if !is_end {
                if !matches!(t.token, Token::Whitespace(_)) {
                    current.push(t);
                }
                continue;
            }
            if let (Some(first), Some(last)) = (current.first(), current.last()) {
                let start = index.offset(first.span.start);
                let end = index.offset(last.span.end).max(start);
                let text = source[start..end].to_string();
                let padded = index.padding(first.span.start) + &text;
                statements.push(Statement {
                    kind: classify(&current),
                    text,
                    padded,
                    start: Location {
                        line: first.span.start.line,
                        column: first.span.start.column,
                    },
                });
            }
            current.clear();
        }
        Ok(Script {
            file: file.to_string(),
            source: source.to_string(),
            statements,
        })
    }
}

fn classify(tokens: &[&TokenWithSpan]) -> StatementKind {
    let words: Vec<Keyword> = tokens
        .iter()
        .take(6)
        .map(|t| match &t.token {
            Token::Word(w) => w.keyword,
            _ => Keyword::NoKeyword,
        })
        .collect();
    let has = |k: Keyword| words.contains(&k);
    match words.first() {
        Some(Keyword::CREATE) if has(Keyword::TABLE) => StatementKind::CreateTable,
        Some(Keyword::CREATE) if has(Keyword::VIEW) => StatementKind::CreateView,
        Some(Keyword::INSERT) => StatementKind::Insert,
        Some(Keyword::SET) => StatementKind::Set,
        Some(Keyword::SELECT | Keyword::WITH | Keyword::VALUES) => StatementKind::Query,
        _ if matches!(tokens.first().map(|t| &t.token), Some(Token::LParen)) => {
            StatementKind::Query
        }
        _ => StatementKind::Other,
    }
}

/// Converts sqlparser's (line, column-in-characters) into byte offsets and back.
struct LineIndex<'a> {
    source: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(source: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            source,
            line_starts,
        }
    }

    /// Byte offset of a location (columns count characters, 1-based). The end location of a
    /// token is exclusive in sqlparser, so it maps to the byte after the token.
    fn offset(&self, loc: datafusion::sql::sqlparser::tokenizer::Location) -> usize {
        let Some(&line_start) = self.line_starts.get(loc.line.saturating_sub(1) as usize) else {
            return self.source.len();
        };
        let line = &self.source[line_start..];
        let col = loc.column.saturating_sub(1) as usize;
        line_start
            + line
                .char_indices()
                .nth(col)
                .map(|(i, _)| i)
                .unwrap_or(line.len())
    }

    fn padding(&self, loc: datafusion::sql::sqlparser::tokenizer::Location) -> String {
        let newlines = loc.line.saturating_sub(1) as usize;
        let spaces = loc.column.saturating_sub(1) as usize;
        format!("{}{}", "\n".repeat(newlines), " ".repeat(spaces))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_statements_with_locations() {
        let src = "-- a job\nCREATE VIEW v AS SELECT 1;\n\n  INSERT INTO t\n  SELECT ';' FROM v ;\nSELECT 2";
        let s = Script::parse("j.sql", src).unwrap();
        let kinds: Vec<_> = s.statements.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            vec![
                StatementKind::CreateView,
                StatementKind::Insert,
                StatementKind::Query
            ]
        );
        assert_eq!(s.statements[1].text, "INSERT INTO t\n  SELECT ';' FROM v");
        assert_eq!(s.statements[1].start, Location { line: 4, column: 3 });
        assert!(s.statements[1].padded.starts_with("\n\n\n  INSERT"));
        assert_eq!(s.statements[2].text, "SELECT 2");
    }

    #[test]
    fn unterminated_string_points_at_it() {
        let err = Script::parse("j.sql", "SELECT 1;\nSELECT 'oops")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("j.sql:2:"), "{err}");
    }

    #[test]
    fn handles_multibyte_text() {
        let s = Script::parse("j.sql", "SELECT '北京' AS c; SELECT 2").unwrap();
        assert_eq!(s.statements[0].text, "SELECT '北京' AS c");
        assert_eq!(s.statements[1].text, "SELECT 2");
    }
}
