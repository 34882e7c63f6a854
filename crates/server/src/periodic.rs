//! The server's periodic jobs (tenant settings refresh, inactive-install sweep, write-outcome
//! and event pruning) share one loop: run at once, then once a period, until stopped.

use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;

/// Runs `job` at once and then every `every` until `stopped` turns true, on a task of its own.
/// A run that overruns its period delays the next by a whole period instead of making up for
/// the missed ones with a burst of runs.
pub fn spawn_every<F, Fut>(every: Duration, mut stopped: watch::Receiver<bool>, mut job: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => job().await,
                _ = stopped.changed() => break,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn runs_at_once_then_every_period_until_stopped() {
        let runs = Arc::new(AtomicUsize::new(0));
        let (stop, stopped) = watch::channel(false);
        let counted = Arc::clone(&runs);
        spawn_every(Duration::from_secs(60), stopped, move || {
            let counted = Arc::clone(&counted);
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1, "at once");
        tokio::time::sleep(Duration::from_secs(120)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3, "then once a minute");
        stop.send(true).unwrap();
        tokio::time::sleep(Duration::from_secs(600)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3, "not after it is stopped");
    }
}
