//! Webhooks as the store keeps them: the tenant's configuration, and the delivery state the
//! relay advances (a cursor, the run of failed attempts, the lease of the node delivering).
//! What the state means and how it moves is the server relay's business; the store only
//! keeps it, and changes it only for the node that holds the lease.

use crate::model::SealedSecret;
use chrono::{DateTime, Utc};

/// A webhook and its delivery state.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub tenant_id: String,
    pub webhook_id: String,
    pub url: String,
    /// Only events of these types; empty: every type.
    pub event_types: Vec<String>,
    /// Only events that change one of these attributes; empty: every event.
    pub attributes: Vec<String>,
    pub enabled: bool,
    /// The signing secret (`whsec_...`), sealed with the server secret.
    pub secret: SealedSecret,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub state: DeliveryState,
}

/// Where a webhook's deliveries stand.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryState {
    /// The last seq delivered or passed over (not matching the filters).
    pub cursor: i64,
    /// Failed attempts in a row at the event after `cursor`.
    pub attempts: u32,
    /// When the current run of failures began.
    pub failing_since: Option<DateTime<Utc>>,
    /// No attempt before this time (the backoff).
    pub next_attempt_at: DateTime<Utc>,
    /// Why the relay disabled the webhook (failing for too long), if it did.
    pub disabled_reason: Option<String>,
}

/// A webhook to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhook {
    pub url: String,
    pub event_types: Vec<String>,
    pub attributes: Vec<String>,
    pub enabled: bool,
    pub secret: SealedSecret,
}

/// A change to a webhook's configuration; `None` keeps the field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookChange {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub attributes: Option<Vec<String>>,
    /// Enabling a webhook clears its failures, so the relay tries again at once.
    pub enabled: Option<bool>,
    /// Moves the cursor so that delivery starts again at this seq (replay).
    pub replay_from: Option<i64>,
}

/// One delivery attempt, for `GET /v1/webhooks/{id}/deliveries`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryAttempt {
    pub attempted_at: DateTime<Utc>,
    pub seq: i64,
    pub event_id: String,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why the attempt failed (timeout, refused, a non-2xx status...).
    pub error: Option<String>,
    pub duration_ms: u32,
    pub succeeded: bool,
}
