//! Turns errors about a statement into `file:line:col: error: …` with the source line, a
//! caret and a hint that says what to do.

use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::tokenizer::Token;

use super::script::{Statement, tokens};
use crate::error::Location;

pub use super::render::render;

/// What a DataFusion error says, where in the statement it points, and what to do.
pub struct Diagnosis {
    pub location: Location,
    pub message: String,
    pub hint: Option<String>,
}

/// Locates a planning error inside `stmt`. `known_tables` feeds the hint for a missing table.
pub fn diagnose(stmt: &Statement, err: &DataFusionError, known_tables: &[String]) -> Diagnosis {
    let message = clean_message(err);
    let at =
        |name: &str, before_paren: bool| find_word(stmt, name, before_paren).unwrap_or(stmt.start);

    if let Some(loc) = parser_location(&message) {
        return Diagnosis {
            location: loc,
            message,
            hint: Some("see the SQL reference in README.md (DataFusion SQL plus Flink-style DDL and windows)".into()),
        };
    }
    if let Some(name) = quoted_after(&message, "table '") {
        let short = name.rsplit('.').next().unwrap_or(&name).to_string();
        if message.contains("not found") {
            return Diagnosis {
                location: at(&short, false),
                message: format!("table '{short}' not found"),
                hint: Some(format!(
                    "declare it with CREATE TABLE {short} (...) WITH (...) in the job, or in catalog/*.yaml; known tables: {}",
                    if known_tables.is_empty() {
                        "none".into()
                    } else {
                        known_tables.join(", ")
                    }
                )),
            };
        }
    }
    if let Some(name) = quoted_after(&message, "Invalid function '") {
        return Diagnosis {
            location: at(&name, true),
            message: message.replace('\n', " "),
            hint: Some("list the functions with: sluice query \"SHOW FUNCTIONS\"".into()),
        };
    }
    for marker in ["No field named ", "no field named "] {
        if let Some(rest) = message.split(marker).nth(1) {
            let name: String = rest
                .trim_start_matches(['"', '\''])
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
                .collect();
            let short = name.rsplit('.').next().unwrap_or(&name).to_string();
            return Diagnosis {
                location: at(&short, false),
                message,
                hint: Some(
                    "check the column name against `sluice catalog describe <table>`".into(),
                ),
            };
        }
    }
    Diagnosis {
        location: stmt.start,
        message,
        hint: None,
    }
}

/// DataFusion's message without its wrapping ("Error during planning: ", backtraces).
pub fn clean_message(err: &DataFusionError) -> String {
    let mut e = err;
    while let DataFusionError::Context(_, inner) = e {
        e = inner;
    }
    let text = match e {
        DataFusionError::Plan(m) | DataFusionError::Execution(m) => m.clone(),
        DataFusionError::SQL(p, _) => p.to_string(),
        other => other.to_string(),
    };
    for prefix in [
        "Error during planning: ",
        "Execution error: ",
        "sql parser error: ",
    ] {
        if let Some(rest) = text.strip_prefix(prefix) {
            return rest.trim().to_string();
        }
    }
    text.trim().to_string()
}

/// sqlparser errors end in "at Line: 3, Column: 14".
fn parser_location(message: &str) -> Option<Location> {
    let rest = message.rsplit("Line: ").next()?;
    if !message.contains("Line: ") {
        return None;
    }
    let (line, col) = rest.split_once(", Column: ")?;
    let col: String = col.chars().take_while(|c| c.is_ascii_digit()).collect();
    Some(Location {
        line: line.trim().parse().ok()?,
        column: col.parse().ok()?,
    })
}

/// The text between `prefix` and the next quote in `message`.
pub fn quoted_after(message: &str, prefix: &str) -> Option<String> {
    let start = message.find(prefix)? + prefix.len();
    let len = message[start..].find('\'')?;
    Some(message[start..start + len].to_string())
}

/// Location of the first word `name` in the statement (optionally only where a `(` follows,
/// for function calls).
pub fn find_word(stmt: &Statement, name: &str, before_paren: bool) -> Option<Location> {
    let toks = tokens(&stmt.padded).ok()?;
    toks.iter().enumerate().find_map(|(i, t)| match &t.token {
        Token::Word(w) if w.value.eq_ignore_ascii_case(name) => {
            let next_is_paren = matches!(toks.get(i + 1).map(|n| &n.token), Some(Token::LParen));
            (!before_paren || next_is_paren).then_some(Location {
                line: t.span.start.line,
                column: t.span.start.column,
            })
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::script::Script;

    #[test]
    fn renders_with_caret_and_hint() {
        let out = render(
            "a.sql",
            "SELECT 1\nFROM nope",
            Location { line: 2, column: 6 },
            "table 'nope' not found",
            Some("declare it"),
        );
        assert_eq!(
            out,
            "a.sql:2:6: error: table 'nope' not found\n  |\n2 | FROM nope\n  |      ^\n  = hint: declare it"
        );
    }

    #[test]
    fn finds_missing_table_and_function() {
        let script = Script::parse("j.sql", "\nINSERT INTO t\nSELECT frob(x) FROM nope").unwrap();
        let stmt = &script.statements[0];
        let d = diagnose(
            stmt,
            &DataFusionError::Plan("table 'datafusion.public.nope' not found".into()),
            &["t".into()],
        );
        assert_eq!(
            d.location,
            Location {
                line: 3,
                column: 21
            }
        );
        assert!(d.hint.unwrap().contains("known tables: t"));
        let d = diagnose(
            stmt,
            &DataFusionError::Plan("Invalid function 'frob'.\nDid you mean 'floor'?".into()),
            &[],
        );
        assert_eq!(d.location, Location { line: 3, column: 8 });
    }

    #[test]
    fn reads_parser_locations() {
        assert_eq!(
            parser_location("Expected: an expression, found: FROM at Line: 3, Column: 14"),
            Some(Location {
                line: 3,
                column: 14
            })
        );
        assert_eq!(parser_location("nothing here"), None);
    }
}
