//! The webhook relay: on every node, one task claims webhooks that are behind their tenant's
//! log (a lease, so that two nodes never deliver the same webhook at once) and delivers their
//! events one at a time, in seq order, signed, at least once.
//!
//! A failed attempt is retried with exponential backoff and jitter: short waits inside the
//! run, longer ones by releasing the lease with `next_attempt_at` set, so a waiting webhook
//! holds no task. After `give_up_after` of failures the webhook is disabled with the reason.
//! Progress (cursor and attempts) is saved after every page and every failure; a node that
//! dies mid-run loses its lease, and the next holder starts after the last saved cursor (an
//! event may then arrive twice, never zero times).
//!
//! The relay looks for due webhooks whenever a write rings the doorbell (every group commit)
//! and every POLL, but only while some tenant has an enabled webhook, which it checks every
//! POLL and whenever a webhook is created or changed on this node (measured: the claim query
//! on every commit was ~7 % of the request threads' time under write load with no webhook at
//! all). A webhook created on another node is first looked at here within POLL.

use super::filter::EventFilter;
use super::log::read_page;
use super::signing::{sign, signing_key};
use super::{DeliverySettings, Stopped};
use crate::secrets::ServerSecret;
use chrono::{DateTime, Utc};
use profilestore_store::Store;
use profilestore_store::webhooks::{DeliveryAttempt, Webhook};
use rand::Rng;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Webhooks a node delivers at once.
const PARALLEL: usize = 32;
/// Events read per page.
const PAGE: usize = 100;
/// Retry waits up to this long (and half the lease) happen inside the run; longer ones
/// release the webhook.
const WAIT_IN_RUN: Duration = Duration::from_secs(5);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// How often the relay looks for due webhooks when no write rings.
const POLL: Duration = Duration::from_secs(1);

pub struct WebhookRelay {
    store: Arc<dyn Store>,
    secret: Arc<ServerSecret>,
    client: reqwest::Client,
    /// This node's name in leases.
    owner: String,
    settings: DeliverySettings,
}

impl WebhookRelay {
    pub fn new(
        store: Arc<dyn Store>,
        secret: Arc<ServerSecret>,
        owner: String,
        settings: DeliverySettings,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(settings.webhook_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("profilestore/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(WebhookRelay {
            store,
            secret,
            client,
            owner,
            settings,
        })
    }

    /// The end of a lease taken or renewed now.
    fn lease_from_now(&self) -> DateTime<Utc> {
        Utc::now() + self.settings.webhook_lease
    }

    /// Runs until `stopped`.
    pub fn spawn(self, stopped: Stopped) {
        let relay = Arc::new(self);
        tokio::spawn(async move {
            let mut runs = JoinSet::new();
            let mut bell = relay.store.doorbell().any();
            let mut webhooks_changed = relay.store.doorbell().webhooks();
            // Whether a webhook can be due (any is enabled), as last seen at `seen_at`.
            let (mut any_enabled, mut seen_at) = (true, None::<Instant>);
            loop {
                while runs.try_join_next().is_some() {}
                if seen_at.is_none_or(|at| at.elapsed() >= POLL) {
                    any_enabled = relay.store.any_webhook_enabled().await.unwrap_or(true);
                    seen_at = Some(Instant::now());
                }
                let free = PARALLEL.saturating_sub(runs.len()) as u32;
                if free > 0 && any_enabled {
                    let now = Utc::now();
                    match relay
                        .store
                        .claim_webhooks(&relay.owner, now, now + relay.settings.webhook_lease, free)
                        .await
                    {
                        Ok(claimed) => {
                            for webhook in claimed {
                                let relay = relay.clone();
                                let stopped = stopped.clone();
                                runs.spawn(async move { relay.run(webhook, stopped).await });
                            }
                        }
                        Err(error) => tracing::warn!(%error, "could not claim webhooks"),
                    }
                }
                let mut stop = stopped.clone();
                tokio::select! {
                    _ = bell.changed() => {}
                    _ = webhooks_changed.changed() => seen_at = None,
                    _ = tokio::time::sleep(POLL) => {}
                    Some(_) = runs.join_next() => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
            }
            runs.shutdown().await;
        });
    }

    /// Delivers what `webhook` is behind on, then releases it.
    async fn run(&self, webhook: Webhook, stopped: Stopped) {
        let key = match self
            .secret
            .unseal(&webhook.secret)
            .map_err(|e| e.to_string())
            .and_then(|secret| signing_key(&secret))
        {
            Ok(key) => key,
            Err(error) => {
                tracing::error!(webhook = %webhook.webhook_id, %error, "webhook secret unusable");
                return;
            }
        };
        let mut run = Run {
            relay: self,
            filter: EventFilter {
                types: webhook.event_types.clone(),
                attributes: webhook.attributes.clone(),
            },
            webhook,
            key,
            attempts: Vec::new(),
            renew_at: Instant::now() + self.settings.webhook_lease / 2,
            stopped,
        };
        if run.deliver_backlog().await {
            run.save(Utc::now()).await;
        }
    }

    /// One signed POST of one event.
    async fn attempt(
        &self,
        webhook: &Webhook,
        key: &[u8],
        event_id: &str,
        seq: i64,
        body: &str,
    ) -> DeliveryAttempt {
        let attempted_at = Utc::now();
        let timestamp = attempted_at.timestamp();
        let started = Instant::now();
        let sent = self
            .client
            .post(&webhook.url)
            .header("content-type", "application/json")
            .header("webhook-id", event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                sign(key, event_id, timestamp, body.as_bytes()),
            )
            .body(body.to_owned())
            .send()
            .await;
        let (status, error) = match sent {
            Ok(response) if response.status().is_success() => (Some(response.status()), None),
            Ok(response) => (
                Some(response.status()),
                Some(format!("the receiver answered {}", response.status())),
            ),
            Err(error) if error.is_timeout() => (None, Some("timed out".to_owned())),
            Err(error) if error.is_connect() => (None, Some("could not connect".to_owned())),
            Err(error) => (None, Some(format!("request failed: {error}"))),
        };
        DeliveryAttempt {
            attempted_at,
            seq,
            event_id: event_id.to_owned(),
            status: status.map(|s| s.as_u16()),
            succeeded: error.is_none(),
            error,
            duration_ms: started.elapsed().as_millis().try_into().unwrap_or(u32::MAX),
        }
    }

    /// Counts a failure at `at`; disables the webhook when it has failed for too long, else
    /// sets the next attempt. Returns the wait before that attempt.
    fn after_failure(&self, webhook: &mut Webhook, at: DateTime<Utc>) -> Duration {
        let state = &mut webhook.state;
        state.attempts += 1;
        let since = *state.failing_since.get_or_insert(at);
        let failing_for = (at - since).to_std().unwrap_or_default();
        if failing_for >= self.settings.webhook_give_up_after {
            webhook.enabled = false;
            state.disabled_reason = Some(format!(
                "deliveries failed for {} ({} attempts); enable the webhook to resume from seq {}",
                humantime::format_duration(Duration::from_secs(failing_for.as_secs())),
                state.attempts,
                state.cursor + 1
            ));
            return Duration::MAX;
        }
        let wait = backoff(self.settings.webhook_retry_initial, state.attempts);
        state.next_attempt_at = at + chrono::Duration::from_std(wait).unwrap_or_default();
        wait
    }

    /// Saves progress and sets the lease's end; whether this node still held the webhook.
    async fn save(
        &self,
        webhook: &Webhook,
        attempts: Vec<DeliveryAttempt>,
        lease_until: DateTime<Utc>,
    ) -> bool {
        match self
            .store
            .advance_webhook(webhook, &self.owner, attempts, lease_until)
            .await
        {
            Ok(held) => held,
            Err(error) => {
                tracing::warn!(%error, webhook = %webhook.webhook_id, "could not save webhook progress");
                false
            }
        }
    }
}

/// One claimed webhook being delivered: its state as this node moves it, the attempts not yet
/// saved, and when the lease is next renewed.
struct Run<'r> {
    relay: &'r WebhookRelay,
    webhook: Webhook,
    filter: EventFilter,
    key: Vec<u8>,
    attempts: Vec<DeliveryAttempt>,
    renew_at: Instant,
    stopped: Stopped,
}

impl Run<'_> {
    /// Delivers page after page until a read finds nothing to deliver (true: the caller releases
    /// the webhook) or the run must stop (false: already saved and released, or lost).
    async fn deliver_backlog(&mut self) -> bool {
        let tenant_id = self.webhook.tenant_id.clone();
        loop {
            let read = read_page(
                &*self.relay.store,
                &tenant_id,
                self.webhook.state.cursor,
                PAGE,
                &self.filter,
            )
            .await;
            let page = match read {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(%error, "could not read events for a webhook");
                    return true;
                }
            };
            for event in &page.events {
                if !self.deliver(event).await {
                    return false;
                }
            }
            // Past the events the filters passed over, too.
            self.webhook.state.cursor = page.next_after;
            // Read again until nothing is left: events written meanwhile go out in this run,
            // rather than after a release and a new claim (two more commits).
            if page.events.is_empty() && !page.more {
                return true;
            }
            if !self.save_and_renew().await {
                return false;
            }
        }
    }

    /// Delivers one event, retrying in the run while the backoff is short. False: the run
    /// must stop (saved and released, or the lease is lost).
    async fn deliver(&mut self, event: &Value) -> bool {
        let seq = event["seq"].as_i64().unwrap_or_default();
        let event_id = event["id"].as_str().unwrap_or_default();
        let body = event.to_string();
        let relay = self.relay;
        let in_run = WAIT_IN_RUN.min(relay.settings.webhook_lease / 2);
        loop {
            if *self.stopped.borrow() {
                self.save(Utc::now()).await;
                return false;
            }
            let attempt = relay
                .attempt(&self.webhook, &self.key, event_id, seq, &body)
                .await;
            let (succeeded, at) = (attempt.succeeded, attempt.attempted_at);
            self.attempts.push(attempt);
            if succeeded {
                let state = &mut self.webhook.state;
                state.cursor = seq;
                state.attempts = 0;
                state.failing_since = None;
                // Renewed (with the progress so far) once half of it is spent.
                return Instant::now() < self.renew_at || self.save_and_renew().await;
            }
            let wait = relay.after_failure(&mut self.webhook, at);
            if !self.webhook.enabled || wait > in_run {
                // Released: the next claim comes after the backoff (or never).
                self.save(Utc::now()).await;
                return false;
            }
            if !self.save_and_renew().await {
                return false;
            }
            let stopping = tokio::select! {
                _ = tokio::time::sleep(wait) => false,
                _ = self.stopped.wait_for(|s| *s) => true,
            };
            if stopping {
                self.save(Utc::now()).await;
                return false;
            }
        }
    }

    /// Saves progress and extends the lease; whether this node still holds the webhook.
    async fn save_and_renew(&mut self) -> bool {
        let held = self.save(self.relay.lease_from_now()).await;
        self.renew_at = Instant::now() + self.relay.settings.webhook_lease / 2;
        held
    }

    /// Saves progress and the unsaved attempts, with the lease ending at `lease_until` (now:
    /// released); whether this node still held the webhook.
    async fn save(&mut self, lease_until: DateTime<Utc>) -> bool {
        let attempts = std::mem::take(&mut self.attempts);
        self.relay.save(&self.webhook, attempts, lease_until).await
    }
}

/// The wait before attempt `attempts + 1`: `initial` doubled per failure, capped, then
/// jittered to 50–100 % so that receivers coming back are not hit by every sender at once.
fn backoff(initial: Duration, attempts: u32) -> Duration {
    let doubled = initial.saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    let capped = doubled.min(MAX_BACKOFF);
    capped.mul_f64(rand::rng().random_range(0.5..=1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let initial = Duration::from_secs(1);
        for attempts in 1..40 {
            let wait = backoff(initial, attempts);
            let ceiling = initial
                .saturating_mul(1u32 << (attempts - 1).min(20))
                .min(MAX_BACKOFF);
            assert!(
                wait <= ceiling && wait >= ceiling / 2,
                "{attempts}: {wait:?}"
            );
        }
    }
}
