//! Delivery of the queue: oldest update first, one `profileupdate` per update, and a retry
//! with backoff while the server cannot take it.

use crate::engine::backoff;
use crate::error::SdkError;
use crate::queue::PendingUpdate;
use crate::shared::Shared;
use std::sync::Arc;

pub(crate) async fn run(shared: Arc<Shared>) {
    let mut failures: u32 = 0;
    loop {
        let Some(next) = shared.start_next() else {
            // Notify keeps a wake-up sent while nobody waited, so none is lost here.
            shared.queued.notified().await;
            continue;
        };
        let id = next.id;
        match deliver(&shared, next).await {
            Ok(()) => failures = 0,
            Err(SdkError::NotRegistered) => {
                shared.forget_registration();
                return;
            }
            Err(error) if !error.is_retryable() => {
                // Sending it again cannot succeed (the server refused a value): drop it
                // rather than block every later update behind it.
                tracing::warn!(%error, "the server refused an update; dropped");
                if let Err(error) = shared.discard(id) {
                    tracing::warn!(%error, "could not save the queue");
                }
            }
            Err(error) => {
                shared.release();
                failures = failures.saturating_add(1);
                let config = &shared.config;
                let wait = backoff(failures, config.retry_initial, config.retry_max);
                tracing::info!(%error, retry_in = ?wait, "update not delivered; kept in the queue");
                let deadline =
                    shared.clock.now() + chrono::Duration::from_std(wait).unwrap_or_default();
                tokio::select! {
                    _ = shared.clock.sleep_until(deadline) => {}
                    _ = shared.flush.notified() => {}
                }
            }
        }
    }
}

async fn deliver(shared: &Shared, sent: PendingUpdate) -> Result<(), SdkError> {
    let _call = shared.calls.lock().await;
    let device = shared.install()?;
    let ignored = shared
        .api
        .profile_update(
            &device.client_id,
            &device.user_id,
            &sent.event,
            &sent.update,
        )
        .await?;
    if !ignored.is_empty() {
        // The server's policy no longer enables what ours did: fetch it again.
        shared.refresh.notify_one();
    }
    let event = shared.acknowledge(sent, ignored)?;
    // Nobody subscribed is fine: events are a courtesy to the app.
    let _ = shared.events.send(event);
    Ok(())
}
