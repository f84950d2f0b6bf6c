//! `sluice serve`: the job server in the foreground. SIGINT or SIGTERM (`docker stop`)
//! stops every job with a final checkpoint and then the server; the jobs stay RUNNING in
//! the registry and resume when it starts again. A second signal stops them at once.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use tokio::signal::unix::{SignalKind, signal};

use super::Cli;
use crate::catalog::Vars;
use crate::job::StopMode;
use crate::server::auth::Token;
use crate::server::logs::JobLogs;
use crate::server::{ServeConfig, Server, ServerSettings};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on. Off loopback it needs --auth-token.
    #[arg(long, default_value = "127.0.0.1:8088")]
    listen: SocketAddr,
    /// Where the job registry and the jobs' checkpoints live (default:
    /// ${warehouse}/_server).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// A token every API call must carry (`Authorization: Bearer …`).
    #[arg(long, env = "SLUICE_AUTH_TOKEN", hide_env_values = true)]
    auth_token: Option<String>,
    /// A board file (YAML: panels of SQL over the catalog), shown at /board/{name}; may be
    /// given more than once.
    #[arg(long = "board", value_name = "FILE")]
    boards: Vec<PathBuf>,
}

pub async fn serve(cli: &Cli, args: &ServeArgs, logs: JobLogs) -> anyhow::Result<i32> {
    // The catalog is read now so that a broken one stops the server before it listens;
    // each job reads it again with its own settings.
    let catalog = cli.load_catalog()?;
    let state_dir = match &args.state_dir {
        Some(dir) => dir.clone(),
        None => {
            let warehouse = catalog
                .vars
                .lookup("warehouse")?
                .context("no --state-dir, and the variable `warehouse` is not set")?;
            PathBuf::from(warehouse).join("_server")
        }
    };
    let mut sets = std::collections::BTreeMap::new();
    for s in &cli.set {
        let (k, v) = Vars::parse_assignment(s)?;
        sets.insert(k, v);
    }
    let config = ServeConfig {
        listen: args.listen,
        state_dir: state_dir.clone(),
        settings: ServerSettings {
            catalog_dir: cli.catalog.clone(),
            profile: cli.profile().to_string(),
            sets,
        },
        token: args.auth_token.as_deref().and_then(Token::new),
        logs,
        boards: args.boards.clone(),
    };
    let server = Server::bind(config).await?;
    let addr = server.local_addr()?;
    eprintln!(
        "sluice serve: listening on http://{addr} (profile {}, state in {}); the console is \
         at http://{addr}/",
        cli.profile(),
        state_dir.display()
    );
    for name in server.board_names() {
        eprintln!("sluice serve: board {name} at http://{addr}/board/{name}");
    }
    let (stop_tx, stop_rx) = tokio::sync::mpsc::channel(2);
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        for mode in [StopMode::Checkpoint, StopMode::Immediate] {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            match mode {
                StopMode::Immediate => eprintln!("sluice serve: {name}: stopping the jobs at once"),
                _ => eprintln!(
                    "sluice serve: {name}: stopping the jobs with a final checkpoint (again to \
                     stop at once); they resume when the server starts again"
                ),
            }
            if stop_tx.send(mode).await.is_err() {
                return;
            }
        }
    });
    server.run(stop_rx).await?;
    eprintln!("sluice serve: stopped");
    Ok(0)
}
