//! A board file: panels, each a SQL query over the catalog's tables, a chart kind and a
//! refresh interval. Read with serde, unknown keys refused (serde names the expected ones).
//!
//! ```yaml
//! name: imooc                # default: the file's stem
//! title: imooc 实时看板
//! refresh: 1s                # every panel's, unless it sets its own
//! panels:
//!   - id: online-users       # also the page element's data-testid
//!     title: 在线用户
//!     kind: number           # line | bar | number | map | table
//!     sql: SELECT window_end, online_users FROM realtime_online_user_stat ...
//! ```

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::units::parse_duration;

/// The shortest refresh: a query round per board costs the server a scan of each table.
pub const MIN_REFRESH: Duration = Duration::from_millis(200);
const DEFAULT_REFRESH: &str = "1s";

/// How a panel draws its rows (see the page for the column conventions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PanelKind {
    /// A time series: column 1 the time, every further column one series.
    Line,
    /// A ranking: column 1 the key, column 2 the value, rank 1 first.
    Bar,
    /// A big number with a sparkline: column 1 the time, column 2 the value.
    Number,
    /// A map of China's provinces: column 1 the province, column 2 the value.
    Map,
    /// The rows as they come.
    Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BoardFile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    refresh: Option<String>,
    panels: Vec<PanelFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PanelFile {
    id: String,
    #[serde(default)]
    title: Option<String>,
    kind: PanelKind,
    sql: String,
    #[serde(default)]
    refresh: Option<String>,
}

/// A board as its file declares it, checked.
#[derive(Debug, Clone)]
pub struct BoardSpec {
    pub name: String,
    pub title: String,
    pub panels: Vec<PanelSpec>,
}

#[derive(Debug, Clone)]
pub struct PanelSpec {
    pub id: String,
    pub title: String,
    pub kind: PanelKind,
    /// As written: `${..}` variables are expanded when the board's session is made.
    pub sql: String,
    pub refresh: Duration,
}

impl BoardSpec {
    /// Reads and checks the board file at `path`.
    pub fn load(path: &Path) -> Result<BoardSpec, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("board {}: cannot read it: {e}", path.display()))?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        BoardSpec::parse(&text, &stem).map_err(|e| format!("board {}: {e}", path.display()))
    }

    /// A board from its YAML `text`; `stem` names it when the file does not.
    pub fn parse(text: &str, stem: &str) -> Result<BoardSpec, String> {
        let file: BoardFile = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
        let name = file.name.unwrap_or_else(|| stem.to_string());
        check_id("board name", &name)?;
        let default_refresh = refresh_of(file.refresh.as_deref().unwrap_or(DEFAULT_REFRESH))?;
        if file.panels.is_empty() {
            return Err("it has no panels".into());
        }
        let mut panels: Vec<PanelSpec> = Vec::with_capacity(file.panels.len());
        for p in file.panels {
            check_id("panel id", &p.id)?;
            if panels.iter().any(|q| q.id == p.id) {
                return Err(format!("two panels have the id '{}'", p.id));
            }
            let refresh = match &p.refresh {
                Some(r) => refresh_of(r).map_err(|e| format!("panel {}: {e}", p.id))?,
                None => default_refresh,
            };
            if p.sql.trim().is_empty() {
                return Err(format!("panel {}: its sql is empty", p.id));
            }
            panels.push(PanelSpec {
                title: p.title.unwrap_or_else(|| p.id.clone()),
                id: p.id,
                kind: p.kind,
                sql: p.sql,
                refresh,
            });
        }
        Ok(BoardSpec {
            title: file.title.unwrap_or_else(|| name.clone()),
            name,
            panels,
        })
    }

    /// The shortest refresh of its panels: how often the board's refresher wakes.
    pub fn tick(&self) -> Duration {
        self.panels
            .iter()
            .map(|p| p.refresh)
            .min()
            .unwrap_or(MIN_REFRESH)
    }
}

fn refresh_of(text: &str) -> Result<Duration, String> {
    let every = parse_duration(text).map_err(|e| format!("refresh: {e}"))?;
    if every < MIN_REFRESH {
        return Err(format!(
            "refresh: '{text}' is shorter than the shortest allowed, {}ms",
            MIN_REFRESH.as_millis()
        ));
    }
    Ok(every)
}

/// Names and ids go into URLs and element attributes: lowercase letters, digits, `-`, `_`.
fn check_id(what: &str, id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} '{id}' must be lowercase letters, digits, '-' or '_'"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOARD: &str = "
title: Test
refresh: 2s
panels:
  - id: users
    kind: number
    sql: SELECT 1
  - id: trend
    kind: line
    refresh: 500ms
    sql: SELECT 2
";

    #[test]
    fn reads_panels_with_their_own_or_the_boards_refresh() {
        let board = BoardSpec::parse(BOARD, "stem").unwrap();
        assert_eq!(board.name, "stem");
        assert_eq!(board.title, "Test");
        assert_eq!(board.panels.len(), 2);
        assert_eq!(board.panels[0].refresh, Duration::from_secs(2));
        assert_eq!(board.panels[0].title, "users");
        assert_eq!(board.panels[1].kind, PanelKind::Line);
        assert_eq!(board.tick(), Duration::from_millis(500));
    }

    #[test]
    fn refuses_unknown_keys_kinds_and_bad_ids() {
        let typo = BOARD.replace("refresh: 2s", "refrsh: 2s");
        let e = BoardSpec::parse(&typo, "b").unwrap_err();
        assert!(e.contains("unknown field `refrsh`"), "{e}");
        let kind = BOARD.replace("kind: line", "kind: pie");
        let e = BoardSpec::parse(&kind, "b").unwrap_err();
        assert!(e.contains("unknown variant `pie`"), "{e}");
        let id = BOARD.replace("id: users", "id: Users Now");
        let e = BoardSpec::parse(&id, "b").unwrap_err();
        assert!(e.contains("panel id 'Users Now'"), "{e}");
        let twice = BOARD.replace("id: trend", "id: users");
        let e = BoardSpec::parse(&twice, "b").unwrap_err();
        assert!(e.contains("two panels have the id 'users'"), "{e}");
    }

    #[test]
    fn refuses_a_refresh_too_short_or_unreadable() {
        let fast = BOARD.replace("500ms", "10ms");
        let e = BoardSpec::parse(&fast, "b").unwrap_err();
        assert!(e.contains("panel trend: refresh: '10ms' is shorter"), "{e}");
        let bad = BOARD.replace("refresh: 2s", "refresh: soon");
        let e = BoardSpec::parse(&bad, "b").unwrap_err();
        assert!(e.contains("'soon' is not a duration"), "{e}");
    }
}
