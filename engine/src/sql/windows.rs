//! Flink group windows in `GROUP BY` — `TUMBLE(ts, size)` and `HOP(ts, slide, size)` with
//! `TUMBLE_START/_END/_ROWTIME`, `HOP_START/_END/_ROWTIME` or `window_start`/`window_end` in the
//! select list — rewritten into ordinary DataFusion SQL for bounded (batch) runs:
//!
//! - `TUMBLE(ts, size)` groups by `date_bin(size, ts)` (windows aligned to the epoch, as Flink's);
//! - `HOP(ts, slide, size)` first expands each row into the `size / slide` windows holding it
//!   (`unnest(make_array(..))` in a subquery that keeps the relation's name), then groups by
//!   the window start;
//! - `SESSION(ts, gap)` numbers each key's sessions with window functions (a row more than
//!   `gap` after the previous row of its key starts a new one) and groups by that number;
//!   the session spans its first event to its last event plus the gap, as in Flink.
//!
//! The rewrite works on sqlparser's AST; new expressions are built by parsing small SQL
//! snippets, so the rest of the statement keeps its source locations.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, Query, Select, SelectItem,
    SetExpr, Statement, TableFactor, VisitMut, VisitorMut, visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// Name of the column holding a hopping window's start after the expansion.
const HOP_START_COLUMN: &str = "__window_start";
/// Name of the column numbering each key's sessions.
const SESSION_ID_COLUMN: &str = "__session_id";
/// Most windows one row may fall in (HOP size / slide).
const MAX_WINDOWS_PER_ROW: i64 = 1000;

/// Whether a statement calls TUMBLE, HOP or SESSION (a cheap check before parsing it).
pub fn mentions_group_window(stmt: &crate::sql::Statement) -> bool {
    ["TUMBLE", "HOP", "SESSION"]
        .iter()
        .any(|w| crate::sql::diagnostics::find_word(stmt, w, true).is_some())
}

/// The marker a stream-mode rewrite groups by: `sluice_window(ts, slide_ms, size_ms)`. The
/// stream planner turns the aggregate grouped by it into a window operator; it is never
/// evaluated (see `plan::stream`).
pub const STREAM_WINDOW_FUNCTION: &str = "sluice_window";

/// Rewrites every SELECT of `stmt` that groups by a window. In batch mode windows become
/// plain grouping expressions; in stream mode the window key becomes the
/// [`STREAM_WINDOW_FUNCTION`] marker. Errors say what to write instead.
pub fn rewrite_group_windows(stmt: &mut Statement, stream: bool) -> Result<(), String> {
    let mut rewriter = Rewriter {
        stream,
        ..Default::default()
    };
    let _ = stmt.visit(&mut rewriter);
    match rewriter.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[derive(Default)]
struct Rewriter {
    stream: bool,
    error: Option<String>,
}

impl VisitorMut for Rewriter {
    type Break = ();

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let Err(e) = rewrite_set_expr(&mut query.body, self.stream) {
            self.error = Some(e);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

fn rewrite_set_expr(body: &mut SetExpr, stream: bool) -> Result<(), String> {
    match body {
        SetExpr::Select(select) => rewrite_select(select, stream),
        SetExpr::SetOperation { left, right, .. } => {
            rewrite_set_expr(left, stream)?;
            rewrite_set_expr(right, stream)
        }
        _ => Ok(()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Tumble,
    Hop,
    Session,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Tumble => "TUMBLE",
            Kind::Hop => "HOP",
            Kind::Session => "SESSION",
        }
    }
}

fn function_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Function(f) => Some(f.name.to_string().to_ascii_uppercase()),
        _ => None,
    }
}

fn function_args(expr: &Expr) -> Vec<Expr> {
    let Expr::Function(f) = expr else {
        return vec![];
    };
    let FunctionArguments::List(list) = &f.args else {
        return vec![];
    };
    list.args
        .iter()
        .filter_map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn parse_expr(sql: &str) -> Result<Expr, String> {
    Parser::new(&GenericDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| format!("internal error rewriting a window ({sql}): {e}"))
}

fn rewrite_select(select: &mut Select, stream: bool) -> Result<(), String> {
    let GroupByExpr::Expressions(keys, _) = &select.group_by else {
        return Ok(());
    };
    let Some((index, kind)) = window_key(keys) else {
        return Ok(());
    };
    let args = function_args(&keys[index]);
    let other_keys: Vec<String> = keys
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != index)
        .map(|(_, k)| k.to_string())
        .collect();
    let (group_sql, start_sql, end_sql) = window_sql(select, kind, &args, stream, &other_keys)?;
    let start = parse_expr(&start_sql)?;
    let end = parse_expr(&end_sql)?;
    let rowtime = parse_expr(&format!("{end_sql} - INTERVAL '1' MILLISECOND"))?;
    if let GroupByExpr::Expressions(keys, _) = &mut select.group_by {
        keys[index] = parse_expr(&group_sql)?;
    }
    name_bare_window_columns(select);
    let prefix = kind.prefix();
    let replace = |e: &mut Expr| {
        let replacement = match e {
            Expr::Function(_) => match function_name(e).as_deref() {
                Some(n) if n == format!("{prefix}_START") => Some(start.clone()),
                Some(n) if n == format!("{prefix}_END") => Some(end.clone()),
                Some(n) if n == format!("{prefix}_ROWTIME") => Some(rowtime.clone()),
                _ => None,
            },
            Expr::Identifier(id) if id.quote_style.is_none() => {
                match id.value.to_ascii_lowercase().as_str() {
                    "window_start" => Some(start.clone()),
                    "window_end" => Some(end.clone()),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(r) = replacement {
            *e = r;
        }
        ControlFlow::<()>::Continue(())
    };
    let _ = visit_expressions_mut(&mut select.projection, replace);
    let _ = visit_expressions_mut(&mut select.having, replace);
    let _ = visit_expressions_mut(&mut select.qualify, replace);
    Ok(())
}

/// The first group window call among the GROUP BY `keys`, and its kind.
fn window_key(keys: &[Expr]) -> Option<(usize, Kind)> {
    keys.iter()
        .enumerate()
        .find_map(|(i, key)| match function_name(key).as_deref() {
            Some("TUMBLE") => Some((i, Kind::Tumble)),
            Some("HOP") => Some((i, Kind::Hop)),
            Some("SESSION") => Some((i, Kind::Session)),
            _ => None,
        })
}

/// What to group by, the window start and the window end, as SQL, for a window of `kind`
/// called with `args`. In batch mode HOP and SESSION add to `select` what they group by.
fn window_sql(
    select: &mut Select,
    kind: Kind,
    args: &[Expr],
    stream: bool,
    other_keys: &[String],
) -> Result<(String, String, String), String> {
    Ok(match (kind, args) {
        (Kind::Tumble, [ts, size]) if stream => {
            let size_ms = interval_millis(&size.to_string())?;
            let start = format!("{STREAM_WINDOW_FUNCTION}({ts}, {size_ms}, {size_ms})");
            (start.clone(), start.clone(), format!("{start} + {size}"))
        }
        (Kind::Hop, [ts, slide, size]) if stream => {
            let (slide_ms, size_ms) = hop_millis(slide, size)?;
            let start = format!("{STREAM_WINDOW_FUNCTION}({ts}, {slide_ms}, {size_ms})");
            (start.clone(), start.clone(), format!("{start} + {size}"))
        }
        (Kind::Session, [ts, gap]) if stream => {
            // Slide 0 marks a session; its start and end are the first and last event (+ gap).
            let gap_ms = interval_millis(&gap.to_string())?;
            (
                format!("{STREAM_WINDOW_FUNCTION}({ts}, 0, {gap_ms})"),
                format!("MIN({ts})"),
                format!("MAX({ts}) + {gap}"),
            )
        }
        (Kind::Tumble, [ts, size]) => {
            interval_millis(&size.to_string())?;
            let start = format!("date_bin({size}, {ts})");
            (start.clone(), start.clone(), format!("{start} + {size}"))
        }
        (Kind::Hop, [ts, slide, size]) => {
            let (slide_ms, size_ms) = hop_millis(slide, size)?;
            expand_hop_windows(
                select,
                &ts.to_string(),
                &slide.to_string(),
                slide_ms,
                size_ms / slide_ms,
            )?;
            let start = HOP_START_COLUMN.to_string();
            (start.clone(), start.clone(), format!("{start} + {size}"))
        }
        (Kind::Session, [ts, gap]) => {
            interval_millis(&gap.to_string())?;
            number_sessions(select, &ts.to_string(), &gap.to_string(), other_keys)?;
            (
                SESSION_ID_COLUMN.to_string(),
                format!("MIN({ts})"),
                format!("MAX({ts}) + {gap}"),
            )
        }
        (Kind::Tumble, _) => {
            return Err(
                "TUMBLE takes (time_attr, size), e.g. TUMBLE(event_time, INTERVAL '1' MINUTE)"
                    .into(),
            );
        }
        (Kind::Hop, _) => {
            return Err("HOP takes (time_attr, slide, size), e.g. HOP(event_time, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)".into());
        }
        (Kind::Session, _) => {
            return Err(
                "SESSION takes (time_attr, gap), e.g. SESSION(event_time, INTERVAL '30' MINUTE)"
                    .into(),
            );
        }
    })
}

/// A bare `window_start` / `window_end` in the select list keeps its name as the column name.
fn name_bare_window_columns(select: &mut Select) {
    for item in select.projection.iter_mut() {
        if let SelectItem::UnnamedExpr(Expr::Identifier(id)) = item
            && id.quote_style.is_none()
            && matches!(
                id.value.to_ascii_lowercase().as_str(),
                "window_start" | "window_end"
            )
        {
            let alias = id.clone();
            *item = SelectItem::ExprWithAlias {
                expr: Expr::Identifier(alias.clone()),
                alias,
            };
        }
    }
}

/// HOP's slide and size in milliseconds; the size must be a whole multiple of the slide.
fn hop_millis(slide: &Expr, size: &Expr) -> Result<(i64, i64), String> {
    let (slide_ms, size_ms) = (
        interval_millis(&slide.to_string())?,
        interval_millis(&size.to_string())?,
    );
    if size_ms % slide_ms != 0 || size_ms / slide_ms > MAX_WINDOWS_PER_ROW {
        return Err(format!(
            "HOP size {size} must be a whole multiple of the slide {slide} (at most {MAX_WINDOWS_PER_ROW} windows per row)"
        ));
    }
    Ok((slide_ms, size_ms))
}

/// Replaces the FROM relation by `(SELECT <columns> FROM (<relation> WHERE ..)) AS <name>`:
/// the relation keeps its name, so qualified column references still resolve, and the
/// query's WHERE moves inside, so filtered-out rows neither multiply (HOP) nor join
/// sessions (SESSION).
fn wrap_from(select: &mut Select, window: &str, columns: &str) -> Result<(), String> {
    let [from] = select.from.as_slice() else {
        return Err(format!(
            "{window} over several relations: put the join in a view and group the view by {window}"
        ));
    };
    if !from.joins.is_empty() {
        return Err(format!(
            "{window} over a join: put the join in a view and group the view by {window}"
        ));
    }
    let alias = match &from.relation {
        TableFactor::Table { alias: Some(a), .. } | TableFactor::Derived { alias: Some(a), .. } => {
            a.name.to_string()
        }
        TableFactor::Table { name, .. } => name.0.last().map(|p| p.to_string()).unwrap_or_default(),
        _ => {
            return Err(format!(
                "{window} needs a table, a view or an aliased subquery in FROM"
            ));
        }
    };
    let filter = match select.selection.take() {
        Some(w) => format!(" WHERE {w}"),
        None => String::new(),
    };
    let sql = format!(
        "SELECT 1 FROM (SELECT {columns} FROM (SELECT * FROM {}{filter}) AS {alias}) AS {alias}",
        from.relation
    );
    let parsed = Parser::new(&GenericDialect {})
        .try_with_sql(&sql)
        .and_then(|mut p| p.parse_query())
        .map_err(|e| format!("internal error planning {window} windows ({sql}): {e}"))?;
    match *parsed.body {
        SetExpr::Select(s) => {
            select.from = s.from;
            Ok(())
        }
        _ => Err(format!("internal error planning {window} windows")),
    }
}

/// Each row once per hopping window that holds it, the window's start in `__window_start`.
fn expand_hop_windows(
    select: &mut Select,
    ts: &str,
    slide: &str,
    slide_ms: i64,
    windows: i64,
) -> Result<(), String> {
    let starts: Vec<String> = (0..windows)
        .map(|k| match k {
            0 => format!("date_bin({slide}, {ts})"),
            k => format!(
                "date_bin({slide}, {ts}) - INTERVAL '{}' MILLISECOND",
                k * slide_ms
            ),
        })
        .collect();
    wrap_from(
        select,
        "HOP",
        &format!(
            "*, unnest(make_array({})) AS {HOP_START_COLUMN}",
            starts.join(", ")
        ),
    )
}

/// Numbers the sessions of each key (the other GROUP BY expressions) in `__session_id`: a
/// row starts a new session when the previous row of its key is `gap` or more before it.
fn number_sessions(
    select: &mut Select,
    ts: &str,
    gap: &str,
    keys: &[String],
) -> Result<(), String> {
    let partition = if keys.is_empty() {
        String::new()
    } else {
        format!("PARTITION BY {} ", keys.join(", "))
    };
    let previous = format!("LAG({ts}) OVER ({partition}ORDER BY {ts})");
    let new_session =
        format!("CASE WHEN {previous} IS NULL OR {ts} - {previous} >= {gap} THEN 1 ELSE 0 END");
    // Window functions cannot nest: mark session starts first, then count them.
    let columns = format!("*, {new_session} AS __session_start");
    wrap_from(select, "SESSION", &columns)?;
    let count = format!(
        "*, SUM(__session_start) OVER ({partition}ORDER BY {ts} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS {SESSION_ID_COLUMN}"
    );
    wrap_from(select, "SESSION", &count)
}

/// Milliseconds of an interval literal: `INTERVAL '5' MINUTE`, `INTERVAL '90' SECOND`,
/// `INTERVAL '1 hour'`. Months and years have no fixed length and are refused.
pub fn interval_millis(sql: &str) -> Result<i64, String> {
    let bad = || format!("window size {sql} must be an interval literal like INTERVAL '1' MINUTE");
    let text = sql.trim();
    let upper = text.to_ascii_uppercase();
    let rest = upper.strip_prefix("INTERVAL").ok_or_else(bad)?.trim();
    let open = rest.find('\'').ok_or_else(bad)?;
    let close = rest[open + 1..].find('\'').ok_or_else(bad)? + open + 1;
    let quoted = rest[open + 1..close].trim();
    let unit_after = rest[close + 1..].trim();
    let (number, unit) = match quoted.split_once(char::is_whitespace) {
        Some((n, u)) if unit_after.is_empty() => (n.trim(), u.trim()),
        None => (quoted, unit_after),
        _ => return Err(bad()),
    };
    let n: i64 = number.parse().map_err(|_| bad())?;
    let unit_ms = match unit.trim_end_matches('S') {
        "MILLISECOND" => 1,
        "SECOND" => 1_000,
        "MINUTE" => 60_000,
        "HOUR" => 3_600_000,
        "DAY" => 86_400_000,
        _ => {
            return Err(format!(
                "window size {sql}: use SECOND, MINUTE, HOUR or DAY"
            ));
        }
    };
    match n.checked_mul(unit_ms) {
        Some(ms) if ms > 0 => Ok(ms),
        _ => Err(format!("window size {sql} must be positive")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::{DFParser, Statement as DFStatement};

    fn rewrite(sql: &str) -> Result<String, String> {
        let mut stmts = DFParser::parse_sql(sql).unwrap();
        let DFStatement::Statement(mut s) = stmts.pop_front().unwrap() else {
            panic!()
        };
        rewrite_group_windows(&mut s, false)?;
        Ok(s.to_string())
    }

    #[test]
    fn reads_interval_literals() {
        assert_eq!(interval_millis("INTERVAL '1' MINUTE").unwrap(), 60_000);
        assert_eq!(interval_millis("INTERVAL '90' SECOND").unwrap(), 90_000);
        assert_eq!(interval_millis("INTERVAL '2 hours'").unwrap(), 7_200_000);
        assert!(interval_millis("INTERVAL '1' MONTH").is_err());
        assert!(interval_millis("5").is_err());
    }

    #[test]
    fn tumble_groups_by_the_window_start() {
        let out = rewrite(
            "SELECT TUMBLE_START(ts, INTERVAL '1' MINUTE) AS s, TUMBLE_END(ts, INTERVAL '1' MINUTE) AS e, k, COUNT(*) \
             FROM t GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), k",
        )
        .unwrap();
        assert!(
            out.contains("GROUP BY date_bin(INTERVAL '1' MINUTE, ts), k"),
            "{out}"
        );
        assert!(
            out.contains("date_bin(INTERVAL '1' MINUTE, ts) + INTERVAL '1' MINUTE AS e"),
            "{out}"
        );
    }

    #[test]
    fn hop_expands_rows_and_keeps_the_relation_name() {
        let out = rewrite(
            "SELECT HOP_END(d.ts, INTERVAL '1' MINUTE, INTERVAL '3' MINUTE) AS window_end, COUNT(*) FROM events d \
             GROUP BY HOP(d.ts, INTERVAL '1' MINUTE, INTERVAL '3' MINUTE)",
        )
        .unwrap();
        assert!(out.contains("unnest(make_array(date_bin(INTERVAL '1' MINUTE, d.ts), date_bin(INTERVAL '1' MINUTE, d.ts) - INTERVAL '60000' MILLISECOND, date_bin(INTERVAL '1' MINUTE, d.ts) - INTERVAL '120000' MILLISECOND)) AS __window_start FROM (SELECT * FROM events d) AS d) AS d"), "{out}");
        assert!(out.contains("GROUP BY __window_start"), "{out}");
        let bare = rewrite("SELECT window_end, COUNT(*) FROM t GROUP BY HOP(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)").unwrap();
        assert!(
            bare.starts_with("SELECT __window_start + INTERVAL '5' MINUTE AS window_end"),
            "{bare}"
        );
        assert!(
            out.contains("__window_start + INTERVAL '3' MINUTE AS window_end"),
            "{out}"
        );
    }

    #[test]
    fn refuses_what_it_cannot_plan() {
        assert!(
            rewrite("SELECT 1 FROM t GROUP BY HOP(ts, INTERVAL '2' MINUTE, INTERVAL '5' MINUTE)")
                .unwrap_err()
                .contains("whole multiple")
        );
        assert!(rewrite("SELECT 1 FROM a JOIN b ON a.x = b.x GROUP BY HOP(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)").unwrap_err().contains("join"));
        assert_eq!(
            rewrite("SELECT k FROM t GROUP BY k").unwrap(),
            "SELECT k FROM t GROUP BY k"
        );
    }
}
