//! Turns DataFusion's errors about a statement into [`Located`] errors: the place, the
//! message and a hint that says what to do.
//!
//! DataFusion attaches a [`Diagnostic`] with the span of what it could not resolve (a table,
//! a function, a column, an ambiguous name, a token its parser did not expect); its message,
//! notes and helps are used as they are, and what sits at that span (a call, a name that is
//! no table, a column) picks our hint. sqlparser's own errors carry their place only in their
//! text ("at Line: 3, Column: 14"), so for those alone the text is read.

use datafusion::common::{Diagnostic, SchemaError};
use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::tokenizer::Token;

use super::script::{Statement, tokens};
use crate::error::{Located, Location};

const SQL_REFERENCE_HINT: &str =
    "see the SQL reference in README.md (DataFusion SQL plus Flink-style DDL and windows)";
const COLUMN_HINT: &str = "check the column name against `sluice catalog describe <table>`";
const FUNCTIONS_HINT: &str = "list the functions with: sluice query \"SHOW FUNCTIONS\"";

/// Locates a planning error inside `stmt`. `known_tables` feeds the hint for a missing table.
pub fn diagnose(stmt: &Statement, err: &DataFusionError, known_tables: &[String]) -> Located {
    if let Some(d) = err.diagnostic()
        && let Some(span) = d.span.filter(|s| s.start.line > 0)
    {
        let location = Location {
            line: span.start.line,
            column: span.start.column,
        };
        let located = Located::new(location, d.message.clone());
        return match hint_for(stmt, err, d, location, known_tables) {
            Some(hint) => located.with_hint(hint),
            None => located,
        };
    }
    let message = clean_message(err);
    if matches!(err.find_root(), DataFusionError::SQL(..))
        && let Some(location) = parser_location(&message)
    {
        return Located::new(location, message).with_hint(SQL_REFERENCE_HINT);
    }
    if let Some(field) = missing_column(err) {
        let at = find_word(stmt, field, false).unwrap_or(stmt.start);
        return Located::new(at, message).with_hint(COLUMN_HINT);
    }
    Located::new(stmt.start, message)
}

/// What to do about the error DataFusion located at `at`, from what is there.
fn hint_for(
    stmt: &Statement,
    err: &DataFusionError,
    d: &Diagnostic,
    at: Location,
    known_tables: &[String],
) -> Option<String> {
    let advice: Vec<&str> = d
        .notes
        .iter()
        .map(|n| n.message.as_str())
        .chain(d.helps.iter().map(|h| h.message.as_str()))
        .collect();
    let with_advice = |ours: &str| {
        if advice.is_empty() {
            ours.to_string()
        } else {
            format!("{}; {ours}", advice.join("; "))
        }
    };
    if matches!(err.find_root(), DataFusionError::SQL(..)) {
        return Some(SQL_REFERENCE_HINT.into());
    }
    if missing_column(err).is_some() || ambiguous_column(err) {
        return Some(with_advice(COLUMN_HINT));
    }
    let (word, is_call) = word_at(stmt, at)?;
    if is_call {
        return Some(with_advice(FUNCTIONS_HINT));
    }
    if !advice.is_empty() {
        return Some(advice.join("; "));
    }
    let short = word.rsplit('.').next().unwrap_or(&word);
    let known = |t: &String| t.eq_ignore_ascii_case(short);
    (!known_tables.iter().any(known)).then(|| {
        format!(
            "declare it with CREATE TABLE {short} (...) WITH (...) in the job, or in catalog/*.yaml; known tables: {}",
            if known_tables.is_empty() {
                "none".into()
            } else {
                known_tables.join(", ")
            }
        )
    })
}

/// `err` and the errors it wraps (context, diagnostics, shared), outermost first.
fn chain(err: &DataFusionError) -> impl Iterator<Item = &DataFusionError> {
    std::iter::successors(Some(err), |e| match e {
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            Some(inner.as_ref())
        }
        DataFusionError::Shared(inner) => Some(inner.as_ref()),
        _ => None,
    })
}

/// The column a schema error could not find.
fn missing_column(err: &DataFusionError) -> Option<&str> {
    chain(err).find_map(|e| match e {
        DataFusionError::SchemaError(e, _) => match e.as_ref() {
            SchemaError::FieldNotFound { field, .. } => Some(field.name.as_str()),
            _ => None,
        },
        _ => None,
    })
}

fn ambiguous_column(err: &DataFusionError) -> bool {
    chain(err).any(|e| {
        matches!(e, DataFusionError::SchemaError(e, _)
            if matches!(e.as_ref(), SchemaError::AmbiguousReference { .. }))
    })
}

/// The word (a dotted name, as written) starting at `at`, and whether a `(` follows it.
fn word_at(stmt: &Statement, at: Location) -> Option<(String, bool)> {
    let toks = tokens(&stmt.padded).ok()?;
    let i = toks
        .iter()
        .position(|t| t.span.start.line == at.line && t.span.start.column == at.column)?;
    let mut word = String::new();
    let mut j = i;
    loop {
        match toks.get(j).map(|t| &t.token) {
            Some(Token::Word(w)) => word.push_str(&w.value),
            _ => return None,
        }
        if matches!(toks.get(j + 1).map(|t| &t.token), Some(Token::Period)) {
            word.push('.');
            j += 2;
        } else {
            break;
        }
    }
    let is_call = matches!(toks.get(j + 1).map(|t| &t.token), Some(Token::LParen));
    Some((word, is_call))
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
    use datafusion::prelude::{SessionConfig, SessionContext};

    #[test]
    fn renders_with_caret_and_hint() {
        let out = Located::new(Location { line: 2, column: 6 }, "table 'nope' not found")
            .with_hint("declare it")
            .render("a.sql", "SELECT 1\nFROM nope");
        assert_eq!(
            out,
            "a.sql:2:6: error: table 'nope' not found\n  |\n2 | FROM nope\n  |      ^\n  = hint: declare it"
        );
    }

    /// The error DataFusion gives when planning the one statement of `sql`, as a job plans it
    /// (spans collected, a table `t(x)`).
    async fn planning_error(sql: &str) -> (Statement, DataFusionError) {
        let config = SessionConfig::new().set_bool("datafusion.sql_parser.collect_spans", true);
        let ctx = SessionContext::new_with_config(config);
        ctx.sql("CREATE TABLE t (x INT)").await.unwrap();
        let script = Script::parse("j.sql", sql).unwrap();
        let stmt = script.statements[0].clone();
        let Err(err) = ctx.sql(&stmt.padded).await else {
            panic!("planning {sql} fails");
        };
        (stmt, err)
    }

    #[tokio::test]
    async fn points_at_the_missing_table_and_lists_the_known_ones() {
        let (stmt, err) = planning_error("\nINSERT INTO t\nSELECT x FROM nope").await;
        let d = diagnose(&stmt, &err, &["t".into()]);
        assert_eq!(
            d.location,
            Location {
                line: 3,
                column: 15
            }
        );
        assert_eq!(d.message, "table 'nope' not found");
        assert!(d.hint.unwrap().contains("known tables: t"));
    }

    #[tokio::test]
    async fn points_at_the_unknown_function_and_suggests_one() {
        let (stmt, err) = planning_error("\nINSERT INTO t\nSELECT floro(x) FROM t").await;
        let d = diagnose(&stmt, &err, &["t".into()]);
        assert_eq!(d.location, Location { line: 3, column: 8 });
        assert_eq!(d.message, "Invalid function 'floro'");
        let hint = d.hint.unwrap();
        assert!(hint.contains("floor"), "{hint}");
        assert!(hint.contains("SHOW FUNCTIONS"), "{hint}");
    }

    #[tokio::test]
    async fn points_at_the_unknown_column() {
        let (stmt, err) = planning_error("SELECT x,\n  y FROM t").await;
        let d = diagnose(&stmt, &err, &["t".into()]);
        assert_eq!(d.location, Location { line: 2, column: 3 });
        assert!(d.hint.unwrap().contains("sluice catalog describe"));
    }

    #[tokio::test]
    async fn points_at_the_unexpected_token() {
        let (stmt, err) = planning_error("SELECT x,,\n FROM t").await;
        let d = diagnose(&stmt, &err, &[]);
        assert_eq!(d.location.line, 1, "{}", d.message);
        assert!(d.hint.unwrap().contains("SQL reference"));
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
