//! Event retention: every hour, events older than `--event-retention` are deleted, except those
//! an enabled webhook (or an active relay) has not delivered yet.

use super::Stopped;
use chrono::{DateTime, Utc};
use profilestore_store::Store;
use std::sync::Arc;
use std::time::Duration;

const EVERY: Duration = Duration::from_secs(3600);

pub fn spawn(store: Arc<dyn Store>, retention: Duration, stopped: Stopped) {
    crate::periodic::spawn_every(EVERY, stopped, move || {
        let store = store.clone();
        async move {
            let Some(before) = cutoff(Utc::now(), retention) else {
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

/// Events that occurred before this are past `retention` at `now`; None when the retention
/// reaches further back than the calendar does (then every event is kept).
fn cutoff(now: DateTime<Utc>, retention: Duration) -> Option<DateTime<Utc>> {
    chrono::Duration::from_std(retention)
        .ok()
        .and_then(|retention| now.checked_sub_signed(retention))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_the_retention_before_now_and_none_past_the_calendar() {
        let now = Utc::now();
        let day = Duration::from_secs(86_400);
        assert_eq!(cutoff(now, day), Some(now - chrono::Duration::days(1)));
        // A million years: chrono's calendar ends ~262,000 years back.
        assert_eq!(cutoff(now, day * 365 * 1_000_000), None);
        assert_eq!(cutoff(now, Duration::MAX), None);
    }
}
