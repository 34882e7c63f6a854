//! Event retention: every hour, events older than `--event-retention` are deleted, except those
//! an enabled webhook (or an active relay) has not delivered yet.

use super::Stopped;
use profilestore_store::Store;
use std::sync::Arc;
use std::time::Duration;

const EVERY: Duration = Duration::from_secs(3600);

pub fn spawn(store: Arc<dyn Store>, retention: Duration, mut stopped: Stopped) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    let before = chrono::Utc::now() - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
                    match store.prune_events(before).await {
                        Ok(0) => {}
                        Ok(pruned) => tracing::info!(pruned, "events past retention removed"),
                        Err(error) => tracing::warn!(%error, "could not remove old events"),
                    }
                }
                _ = stopped.changed() => break,
            }
        }
    });
}
