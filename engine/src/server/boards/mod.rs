//! Boards: pages of panels declared in YAML (`spec`), each panel a SQL query over the same
//! catalog and profile as the server's jobs (local Parquet tables with no servers, MySQL on
//! the stack), so a user adds a panel by writing SQL.
//!
//! Each board has one refresher, shared by every page that shows it: while a page listens
//! it runs each panel's query every panel's `refresh`, and when a result changes it pushes
//! the new snapshot to every listener (`watch`), so ten open pages cost the server what one
//! does. `GET /api/v1/boards/{name}` runs the queries at once
//! and answers their rows, leaving the pages' snapshot alone.

mod provinces;
pub use provinces::map_name;
mod rows;
pub mod spec;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use datafusion::execution::context::SQLOptions;
use serde::Serialize;
use tokio::sync::{Notify, watch};

use super::jobs::ServerSettings;
use super::registry::now;
use crate::catalog::{Catalog, Vars};
use crate::job::ExecMode;
use crate::plan::Session;
use crate::sync::lock;
use rows::Rows;
use spec::{BoardSpec, PanelKind, PanelSpec};

/// What the page draws: every panel's latest rows.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub name: String,
    pub title: String,
    /// When a panel's rows last changed (RFC 3339, UTC).
    pub updated_at: String,
    pub panels: Vec<PanelSnapshot>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PanelSnapshot {
    pub id: String,
    pub title: String,
    pub kind: PanelKind,
    pub refresh_ms: u64,
    #[serde(flatten)]
    pub rows: Rows,
    /// The query failed this time; `rows` are the last ones it gave.
    pub error: Option<String>,
}

/// A board's snapshot as sent: JSON text, made once for every listener.
pub type SnapshotJson = Arc<str>;

/// One board, its session and its listeners.
pub struct Board {
    spec: BoardSpec,
    session: Session,
    state: Mutex<Snapshot>,
    live: watch::Sender<Option<SnapshotJson>>,
    /// A page started listening: wakes the refresher.
    listener_came: Notify,
}

/// The boards of a server.
pub struct Boards {
    boards: BTreeMap<String, Arc<Board>>,
    /// Queries run on the jobs' runtime (API calls come on another).
    runtime: tokio::runtime::Handle,
}

impl Boards {
    /// The boards of `files`, each planned over the catalog of `settings` (its profile and
    /// `--set` variables). A board whose file or queries are wrong stops the server before
    /// it listens, with the board and panel named. Call on the jobs' runtime.
    pub async fn open(files: &[PathBuf], settings: &ServerSettings) -> Result<Boards, String> {
        let mut boards = BTreeMap::new();
        for file in files {
            let spec = BoardSpec::load(file)?;
            if boards.contains_key(&spec.name) {
                return Err(format!(
                    "board {}: another board is named '{}' (set `name:` in one of them)",
                    file.display(),
                    spec.name
                ));
            }
            let board = Board::open(spec, settings)
                .await
                .map_err(|e| format!("board {}: {e}", file.display()))?;
            boards.insert(board.spec.name.clone(), Arc::new(board));
        }
        Ok(Boards {
            boards,
            runtime: tokio::runtime::Handle::current(),
        })
    }

    pub fn get(&self, name: &str) -> Option<Arc<Board>> {
        self.boards.get(name).cloned()
    }

    pub fn names(&self) -> Vec<String> {
        self.boards.keys().cloned().collect()
    }

    /// Every board, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Board>> {
        self.boards.values()
    }

    /// Starts every board's refresher.
    pub fn start(&self) {
        for board in self.boards.values() {
            self.runtime
                .spawn(Arc::clone(board).refresh_while_watched());
        }
    }

    /// Runs `board`'s queries now, on the jobs' runtime.
    pub async fn query_now(&self, board: Arc<Board>) -> Result<Snapshot, String> {
        self.runtime
            .spawn(async move { board.query_now().await })
            .await
            .map_err(|e| format!("the board's queries failed: {e}"))
    }
}

/// What a panel's query is allowed to be: a query, nothing that changes the catalog.
fn query_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

impl Board {
    async fn open(mut spec: BoardSpec, settings: &ServerSettings) -> Result<Board, String> {
        let catalog = Catalog::load(
            &settings.catalog_dir,
            &settings.profile,
            Vars::new(settings.sets.clone()),
        )
        .map_err(|e| e.to_string())?;
        for panel in &mut spec.panels {
            panel.sql = catalog
                .vars
                .expand_sql(&panel.sql)
                .map_err(|e| format!("panel {}: {e}", panel.id))?;
        }
        let session = Session::new(catalog, ExecMode::Batch).map_err(|e| e.to_string())?;
        // DataFusion keeps each table's file listing for the life of the session (no TTL
        // by default): the board's session lives as long as the server, and must see the
        // files the jobs commit after it started.
        session
            .ctx
            .sql("SET datafusion.runtime.list_files_cache_limit = '0'")
            .await
            .map_err(|e| e.to_string())?;
        // Planned once now so that a typo stops the server; planning reads no data, so a
        // table its job has not written yet is fine (the panel says so until it has).
        for panel in &spec.panels {
            session
                .ctx
                .sql_with_options(&panel.sql, query_only())
                .await
                .map_err(|e| format!("panel {}: {e}", panel.id))?;
        }
        let state = Snapshot {
            name: spec.name.clone(),
            title: spec.title.clone(),
            updated_at: now(),
            panels: spec
                .panels
                .iter()
                .map(|p| PanelSnapshot {
                    id: p.id.clone(),
                    title: p.title.clone(),
                    kind: p.kind,
                    refresh_ms: p.refresh.as_millis() as u64,
                    rows: Rows::default(),
                    error: None,
                })
                .collect(),
        };
        Ok(Board {
            spec,
            session,
            state: Mutex::new(state),
            live: watch::channel(None).0,
            listener_came: Notify::new(),
        })
    }

    pub fn snapshot(&self) -> Snapshot {
        lock(&self.state).clone()
    }

    /// A listener of the board's snapshots: the latest at once (when there is one), each
    /// new one as it comes.
    pub fn listen(&self) -> watch::Receiver<Option<SnapshotJson>> {
        let listener = self.live.subscribe();
        self.listener_came.notify_one();
        listener
    }

    /// Every panel's query run now, apart from what the pages are shown.
    pub async fn query_now(&self) -> Snapshot {
        let results = self.run_all(|_| true).await;
        let mut snapshot = self.snapshot();
        snapshot.updated_at = now();
        for (panel, result) in snapshot.panels.iter_mut().zip(results) {
            match result {
                Some(Ok(rows)) => (panel.rows, panel.error) = (rows, None),
                Some(Err(e)) => (panel.rows, panel.error) = (Rows::default(), Some(e)),
                None => {}
            }
        }
        snapshot
    }

    /// The queries of the panels `due` picks, side by side.
    async fn run_all(&self, due: impl Fn(usize) -> bool) -> Vec<Option<Result<Rows, String>>> {
        let runs = self.spec.panels.iter().enumerate().map(|(i, panel)| {
            let due = due(i);
            async move {
                match due {
                    true => Some(self.run(panel).await),
                    false => None,
                }
            }
        });
        futures::future::join_all(runs).await
    }

    /// Runs the queries of the panels `due` picks and, if any result changed, publishes the
    /// new snapshot to the pages.
    async fn refresh(&self, due: impl Fn(usize) -> bool) {
        let results = self.run_all(due).await;
        let json = {
            let mut state = lock(&self.state);
            let mut changed = false;
            for (shown, result) in state.panels.iter_mut().zip(results) {
                match result {
                    Some(Ok(rows)) if rows != shown.rows || shown.error.is_some() => {
                        shown.rows = rows;
                        shown.error = None;
                        changed = true;
                    }
                    // A failed query keeps the last rows on the page, with the error.
                    Some(Err(e)) if shown.error.as_ref() != Some(&e) => {
                        shown.error = Some(e);
                        changed = true;
                    }
                    _ => {}
                }
            }
            if !changed && self.live.borrow().is_some() {
                return;
            }
            if changed {
                state.updated_at = now();
            }
            serde_json::to_string(&*state).unwrap_or_default()
        };
        self.live.send_replace(Some(json.into()));
    }

    async fn run(&self, panel: &PanelSpec) -> Result<Rows, String> {
        let frame = self
            .session
            .ctx
            .sql_with_options(&panel.sql, query_only())
            .await
            .map_err(|e| e.to_string())?;
        let columns = frame
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let batches = frame.collect().await.map_err(|e| e.to_string())?;
        let rows = Rows::from_batches(columns, &batches)?;
        Ok(match panel.kind {
            PanelKind::Map => rows.on_the_map(),
            _ => rows,
        })
    }

    /// The refresher: while a page listens, each panel's query every its refresh.
    async fn refresh_while_watched(self: Arc<Self>) {
        let panels = self.spec.panels.len();
        let mut next = vec![Instant::now(); panels];
        loop {
            if self.live.receiver_count() == 0 {
                self.listener_came.notified().await;
                // Whatever was shown may be old: every panel now.
                next = vec![Instant::now(); panels];
            }
            let now = Instant::now();
            self.refresh(|i| next[i] <= now).await;
            for (i, panel) in self.spec.panels.iter().enumerate() {
                if next[i] <= now {
                    next[i] = now + panel.refresh;
                }
            }
            let wake = next.iter().min().copied().unwrap_or(now + self.spec.tick());
            tokio::time::sleep_until(wake.into()).await;
        }
    }
}
