//! Ctrl-C and SIGTERM stop a foreground stream job the way `flink stop` does: the first
//! signal asks for a stop with a final checkpoint, a second one stops at once (`flink
//! cancel`).

use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::job::{StopMode, StopSignal};

/// Turns the process's SIGINT and SIGTERM into stop requests of `stop`, the job `file`'s.
/// Without signal handlers (they could not be installed) the signals keep their default:
/// the process ends at once.
pub fn stop_on_signals(stop: StopSignal, file: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (mut interrupt, mut terminate) = match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(i), Ok(t)) => (i, t),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!("cannot handle SIGINT and SIGTERM: {e}");
                return;
            }
        };
        let first = next(&mut interrupt, &mut terminate).await;
        eprintln!(
            "sluice: {first}: stopping {file} with a final checkpoint (again to stop at once)"
        );
        stop.request(StopMode::Checkpoint);
        let second = next(&mut interrupt, &mut terminate).await;
        eprintln!("sluice: {second}: stopping {file} at once");
        stop.request(StopMode::Immediate);
    })
}

/// The name of the next signal of the two.
async fn next(interrupt: &mut Signal, terminate: &mut Signal) -> &'static str {
    tokio::select! {
        _ = interrupt.recv() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    }
}
