//! The part of the store that event delivery uses: the doorbell, webhooks with their delivery
//! state and attempts, relay cursors, and retention. A supertrait of [`crate::Store`], so an
//! `Arc<dyn Store>` offers it too; kept apart because it is a concern of its own.
//!
//! Leases: a relay (the webhook sender, the NATS publisher) claims a webhook or a tenant's
//! cursor until a time; only the lease holder's progress is saved, and a lease that expires
//! (its node died) is claimed by another node. Changing a webhook takes its lease away.

use crate::doorbell::Doorbell;
use crate::error::StoreResult;
use crate::webhooks::{DeliveryAttempt, NewWebhook, Webhook, WebhookChange};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait EventDelivery: Send + Sync {
    /// Rung after every commit that appended events (on PostgreSQL, also for other nodes').
    fn doorbell(&self) -> &Doorbell;
    /// The tenant's newest event seq (0 before its first event).
    async fn latest_event_seq(&self, tenant_id: &str) -> StoreResult<i64>;

    /// Creates a webhook whose cursor is the tenant's newest seq: it receives later events.
    async fn create_webhook(
        &self,
        tenant_id: &str,
        webhook_id: String,
        webhook: NewWebhook,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook>;
    async fn list_webhooks(&self, tenant_id: &str) -> StoreResult<Vec<Webhook>>;
    async fn get_webhook(&self, tenant_id: &str, webhook_id: &str) -> StoreResult<Option<Webhook>>;
    /// Applies a change; `None` when there is no such webhook.
    async fn change_webhook(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        change: WebhookChange,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Webhook>>;
    /// Deletes a webhook and its attempts; whether it existed.
    async fn delete_webhook(&self, tenant_id: &str, webhook_id: &str) -> StoreResult<bool>;
    /// The most recent attempts, newest first.
    async fn webhook_deliveries(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryAttempt>>;

    /// Whether any tenant has an enabled webhook. (Creating or changing one rings
    /// `Doorbell::ring_webhooks` on this node.)
    async fn any_webhook_enabled(&self) -> StoreResult<bool>;
    /// Leases to `owner`, until `until`, up to `limit` webhooks that are enabled, past their
    /// backoff, not leased, and behind their tenant's log.
    async fn claim_webhooks(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Webhook>>;
    /// Saves `webhook.state` and `webhook.enabled` with the attempts that led there, and moves
    /// the lease's end to `lease_until` (a time already past releases it), if `owner` still
    /// holds the lease. Returns whether it did; if not, nothing is saved.
    async fn advance_webhook(
        &self,
        webhook: &Webhook,
        owner: &str,
        attempts: Vec<DeliveryAttempt>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Leases to `owner` the cursors of `relay` of up to `limit` tenants whose log is ahead of
    /// them: (tenant, cursor). A tenant new to the relay starts at 0.
    async fn claim_relay(
        &self,
        relay: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<(String, i64)>>;
    /// Moves a relay's cursor and lease end, if `owner` still holds it; whether it did.
    async fn advance_relay(
        &self,
        tenant_id: &str,
        relay: &str,
        owner: &str,
        cursor: i64,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Deletes events that occurred before `before`, except those an enabled webhook (or a
    /// relay active since `before`) has not yet passed, and attempts older than `before`.
    /// Returns how many events.
    async fn prune_events(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}
