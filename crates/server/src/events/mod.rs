//! Event delivery: the outbox each write fills, carried to the systems that act on it.
//!
//! # Layout
//! - [`filter`]: which events a reader wants (types, changed attributes); one rule for all.
//! - [`log`]: pages of a tenant's log through a filter (the API and the SSE stream).
//! - [`signing`]: Standard Webhooks secrets and signatures.
//! - [`webhook_relay`]: leased, ordered, at-least-once webhook deliveries with backoff.
//! - [`nats_relay`]: publishing to NATS JetStream with a cursor per tenant.
//! - [`retention`]: removing old events that every enabled webhook has passed.
//!
//! Every channel reads the log in the store; the store's doorbell wakes them after commits
//! and a poll covers a lost ring. Nothing is buffered in memory between a write and a reader.

pub mod filter;
pub mod log;
pub mod nats_relay;
pub mod retention;
pub mod signing;
pub mod stream_slots;
pub mod webhook_relay;

use std::time::Duration;

/// Turns true when the server shuts down.
pub type Stopped = tokio::sync::watch::Receiver<bool>;

pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
pub const DEFAULT_WEBHOOK_RETRY_INITIAL: Duration = Duration::from_secs(1);
pub const DEFAULT_WEBHOOK_GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_WEBHOOK_LEASE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct NatsSettings {
    pub url: String,
    pub stream: String,
    pub subject_prefix: String,
}

#[derive(Debug, Clone)]
pub struct DeliverySettings {
    pub retention: Duration,
    pub webhook_retry_initial: Duration,
    pub webhook_give_up_after: Duration,
    pub webhook_timeout: Duration,
    /// How long a node's claim on a webhook lasts unless renewed: how soon another node takes
    /// over the deliveries of a node that died.
    pub webhook_lease: Duration,
    pub nats: Option<NatsSettings>,
    /// Event streams one tenant may have open on one node.
    pub max_streams_per_tenant: usize,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            retention: DEFAULT_RETENTION,
            webhook_retry_initial: DEFAULT_WEBHOOK_RETRY_INITIAL,
            webhook_give_up_after: DEFAULT_WEBHOOK_GIVE_UP_AFTER,
            webhook_timeout: WEBHOOK_TIMEOUT,
            webhook_lease: DEFAULT_WEBHOOK_LEASE,
            nats: None,
            max_streams_per_tenant: stream_slots::MAX_STREAMS_PER_TENANT,
        }
    }
}
