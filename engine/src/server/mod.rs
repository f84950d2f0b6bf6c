//! `sluice serve`, the job server: a REST API (`api`) over the jobs it runs (`jobs`), kept in
//! a persistent registry (`registry`) so a restarted server (even after `kill -9`) resumes
//! every job that was running from its newest checkpoint; per-job logs (`logs`), Prometheus
//! metrics and rate history (`metrics`), and the token rules (`auth`).
//!
//! Jobs run as tasks of the server's one tokio runtime, not as child processes. Each job
//! owns all of its state (`JobEnv`: metrics, positions, memory tables, stop request; its
//! DataFusion session and checkpoint barriers), so jobs share nothing but the runtime's
//! threads; a job that fails returns an error, and one that panics is caught at its task's
//! edge (`JoinError`), so either is restarted or marked FAILED while the server and the other
//! jobs run on. In-process tasks let the server read each job's live counters, watermark
//! and checkpoints without an IPC protocol, stop it through its `StopSignal` with a final
//! checkpoint, and keep one copy of the catalog, UDFs and connector clients' code in
//! memory. What they cannot contain is a job that exhausts the process's memory: state is
//! bounded per job (`state.max_bytes`), which stops such a job with a message first.
//!
//! The API is served from a thread and a small runtime of its own (`API_THREADS` workers),
//! as Flink keeps its JobManager apart from the TaskManagers: jobs keep the main runtime's
//! workers busy, and a request queued behind them waited seconds (`bench/server.sh`, four
//! jobs on two cores). Jobs are planned and run on the main runtime only (`Jobs` holds its
//! handle), so the connections they open live with them.

pub mod api;
pub mod auth;
pub mod boards;
pub mod jobs;
pub mod logs;
pub mod metrics;
pub mod registry;
pub mod restart;
pub mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use jobs::{Jobs, ServerSettings};
pub use registry::{JobId, JobRecord, JobState, NewJob, Registry, RegistryError, Transition};

use crate::job::StopMode;
use api::AppState;
use auth::Token;
use boards::Boards;
use logs::JobLogs;
use metrics::{JobsView, RATE_EVERY, RateHistory};

/// How long a server going down waits for its jobs' final checkpoints.
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Refused(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Board(String),
    #[error("job registry: {0}")]
    Registry(#[from] RegistryError),
    #[error("serving HTTP: {0}")]
    Http(std::io::Error),
}

/// What `sluice serve` is started with.
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub state_dir: PathBuf,
    pub settings: ServerSettings,
    pub token: Option<Token>,
    /// Where the jobs' log lines go (the tracing layer must be installed by the caller).
    pub logs: JobLogs,
    /// Board files (`--board`), served at `/board/{name}`.
    pub boards: Vec<PathBuf>,
}

/// Worker threads of the API's runtime.
const API_THREADS: usize = 1;

/// A server bound to its address, its registry read.
pub struct Server {
    listener: std::net::TcpListener,
    state: AppState,
}

impl Server {
    /// Checks the address rules, reads the registry and binds the address.
    pub async fn bind(config: ServeConfig) -> Result<Server, ServeError> {
        auth::check_listen(&config.listen, config.token.as_ref()).map_err(ServeError::Refused)?;
        logs::carry_spans_into_datafusion_tasks();
        let registry = Registry::open(&config.state_dir)?;
        let listen_error = |source| ServeError::Listen {
            addr: config.listen,
            source,
        };
        // A std listener: it is served from the API's own runtime (see the module doc).
        let listener = std::net::TcpListener::bind(config.listen).map_err(listen_error)?;
        listener.set_nonblocking(true).map_err(listen_error)?;
        let boards = Boards::open(&config.boards, &config.settings)
            .await
            .map_err(ServeError::Board)?;
        let jobs = Jobs::new(config.settings, registry, config.logs);
        Ok(Server {
            listener,
            state: AppState {
                jobs,
                boards: Arc::new(boards),
                rates: Arc::new(RateHistory::default()),
                ready: Arc::new(AtomicBool::new(false)),
                started: Instant::now(),
                token: config.token.map(Arc::new),
            },
        })
    }

    pub fn board_names(&self) -> Vec<String> {
        self.state.boards.names()
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Resumes the registry's running jobs and serves until `stop` resolves with the first
    /// stop (then every job stops with a final checkpoint, staying RUNNING in the registry)
    /// and, if it resolves again during that, at once.
    pub async fn run(
        self,
        mut stop: tokio::sync::mpsc::Receiver<StopMode>,
    ) -> Result<(), ServeError> {
        let Server { listener, state } = self;
        let jobs = Arc::clone(&state.jobs);
        let sampler = {
            let (jobs, rates) = (Arc::clone(&jobs), Arc::clone(&state.rates));
            tokio::spawn(async move {
                let mut every = tokio::time::interval(RATE_EVERY);
                loop {
                    every.tick().await;
                    let now = chrono::Utc::now().timestamp_millis();
                    rates.sample(&jobs.figures(), now);
                }
            })
        };
        jobs.resume_all();
        state.boards.start();
        state.ready.store(true, Ordering::Relaxed);
        let app = api::router(state);
        let (api_done, api_stop) = tokio::sync::oneshot::channel::<()>();
        let (ended_tx, ended) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("sluice-api".into())
            .spawn(move || {
                let _ = ended_tx.send(serve_api(listener, app, api_stop));
            })
            .map_err(ServeError::Http)?;
        let first = tokio::select! {
            first = stop.recv() => first.unwrap_or(StopMode::Checkpoint),
            // The API stopped by itself: the server cannot be reached, it stops too.
            served = ended => {
                let served = served.unwrap_or(Ok(()));
                jobs.shut_down(StopMode::Checkpoint, SHUTDOWN_WAIT).await;
                sampler.abort();
                return served;
            }
        };
        tracing::info!("stopping every job ({first:?}) before the server stops");
        tokio::select! {
            _ = jobs.shut_down(first, SHUTDOWN_WAIT) => {}
            Some(harder) = stop.recv() => jobs.shut_down(harder, SHUTDOWN_WAIT).await,
        }
        // Once the jobs have stopped the API goes, open connections (live log tails) with it.
        let _ = api_done.send(());
        sampler.abort();
        Ok(())
    }
}

/// Serves the API on a runtime of its own until `stop` resolves.
fn serve_api(
    listener: std::net::TcpListener,
    app: axum::Router,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(API_THREADS)
        .thread_name("sluice-api")
        .enable_all()
        .build()
        .map_err(ServeError::Http)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).map_err(ServeError::Http)?;
        tokio::select! {
            served = axum::serve(listener, app).into_future() => served.map_err(ServeError::Http),
            _ = stop => Ok(()),
        }
    })
}

/// Serves `GET /metrics` for `view` alone (a `sluice run --metrics-listen`); returns the
/// bound address and the serving task.
pub async fn serve_metrics(
    addr: SocketAddr,
    view: Arc<dyn JobsView>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })?;
    let bound = listener.local_addr().map_err(ServeError::Http)?;
    let app = api::metrics_router(view);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!("the metrics endpoint stopped: {e}");
        }
    });
    Ok((bound, task))
}
