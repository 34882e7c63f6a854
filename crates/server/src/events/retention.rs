//! Event retention: every hour, events older than `--event-retention` are deleted, except those
//! an enabled webhook (or an active relay) has not delivered yet.

use super::Stopped;
use profilestore_store::Store;
use std::sync::Arc;
use std::time::Duration;

const EVERY: Duration = Duration::from_secs(3600);

pub fn spawn(store: Arc<dyn Store>, retention: Duration, stopped: Stopped) {
    crate::periodic::spawn_every(EVERY, stopped, move || {
        let store = store.clone();
        async move {
            // A retention longer than the calendar goes back keeps everything.
            let Some(before) = chrono::Duration::from_std(retention)
                .ok()
                .and_then(|retention| chrono::Utc::now().checked_sub_signed(retention))
            else {
                return;
            };
            match store.prune_events(before).await {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(pruned, "events past retention removed"),
                Err(error) => tracing::warn!(%error, "could not remove old events"),
            }
        }
    });
}
