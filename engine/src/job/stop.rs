//! Asking a running job to stop, and how. The request is the job's own (a `sluice run`'s
//! signal handler or a server's stop call makes it); its sources, checkpoint coordinator and
//! runner watch it.

use std::sync::Arc;

use tokio::sync::watch;

/// How a job stops (Flink's `stop`, `stop --drain` and `cancel`), softest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StopMode {
    /// Sources stop reading, what they sent drains through the sinks, and a final checkpoint
    /// keeps the open windows for a restart (without checkpoints they are lost).
    Checkpoint,
    /// The input ends here: every open window closes and is written, as at the end of a
    /// bounded input.
    Drain,
    /// At once: nothing more is written, nothing committed (a restart resumes from the last
    /// checkpoint).
    Immediate,
}

/// A job's stop request: none until one is made. A later request may only be harder
/// (`Checkpoint` → `Drain` → `Immediate`): a second Ctrl-C stops at once.
#[derive(Debug, Clone)]
pub struct StopSignal(Arc<watch::Sender<Option<StopMode>>>);

impl Default for StopSignal {
    fn default() -> Self {
        StopSignal(Arc::new(watch::Sender::new(None)))
    }
}

impl StopSignal {
    /// Asks the job to stop in `mode` (or harder, if asked so before).
    pub fn request(&self, mode: StopMode) {
        self.0.send_if_modified(|now| match *now {
            Some(before) if before >= mode => false,
            _ => {
                *now = Some(mode);
                true
            }
        });
    }

    /// The stop asked for so far.
    pub fn requested(&self) -> Option<StopMode> {
        *self.0.borrow()
    }

    /// Resolves once a stop in one of `modes` is asked for, with that mode.
    pub async fn wait_for(&self, modes: &[StopMode]) -> StopMode {
        self.watch().wait_for(modes).await
    }

    /// A watcher of the request, for a loop that waits for it again and again.
    pub fn watch(&self) -> StopWatch {
        StopWatch(self.0.subscribe())
    }
}

/// Watches one job's stop request.
#[derive(Debug)]
pub struct StopWatch(watch::Receiver<Option<StopMode>>);

impl StopWatch {
    /// The stop asked for so far.
    pub fn requested(&self) -> Option<StopMode> {
        *self.0.borrow()
    }

    /// Resolves once a stop in one of `modes` is asked for (or was), with that mode.
    pub async fn wait_for(&mut self, modes: &[StopMode]) -> StopMode {
        // The guard `wait_for` returns is not `Send`: copy the mode out before any await.
        let asked = self
            .0
            .wait_for(|m| m.is_some_and(|m| modes.contains(&m)))
            .await
            .map(|m| *m);
        match asked {
            Ok(m) => m.unwrap_or(StopMode::Immediate),
            // The sender lives as long as the job's `StopSignal`s: a job whose signal is gone
            // is not asked to stop.
            Err(_) => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_later_request_only_hardens_the_stop() {
        let stop = StopSignal::default();
        assert_eq!(stop.requested(), None);
        stop.request(StopMode::Drain);
        stop.request(StopMode::Checkpoint);
        assert_eq!(stop.requested(), Some(StopMode::Drain));
        stop.request(StopMode::Immediate);
        assert_eq!(stop.requested(), Some(StopMode::Immediate));
    }

    #[tokio::test]
    async fn waiters_wake_for_their_modes_only() {
        let stop = StopSignal::default();
        let waiter = {
            let stop = stop.clone();
            tokio::spawn(async move { stop.wait_for(&[StopMode::Immediate]).await })
        };
        stop.request(StopMode::Checkpoint);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        stop.request(StopMode::Immediate);
        assert_eq!(waiter.await.unwrap(), StopMode::Immediate);
        // A request made before the wait began counts.
        assert_eq!(
            stop.wait_for(&[StopMode::Immediate]).await,
            StopMode::Immediate
        );
    }
}
