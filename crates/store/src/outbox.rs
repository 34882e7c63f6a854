//! The event document every channel carries, built once here for every backend.

use chrono::{DateTime, SecondsFormat, Utc};
use profilestore_core::change::{AttributeChange, ChangeEvent, Subject};
use serde::Serialize;

/// A new event id: UUID v7, so ids sort by time as seqs do.
pub(crate) fn new_event_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The event document of `event`, as every channel carries it (docs/events.md).
pub(crate) fn event_document<'e>(
    tenant_id: &'e str,
    seq: i64,
    event_id: &'e str,
    occurred_at: DateTime<Utc>,
    event: &'e ChangeEvent,
) -> EventDocument<'e> {
    EventDocument {
        id: event_id,
        seq,
        event_type: event.event_type.as_str(),
        occurred_at: occurred_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        tenant_id,
        subject: &event.subject,
        device_event: event.device_event.as_deref(),
        changes: &event.changes,
        profile_version: event.profile_version,
    }
}

/// Serialized straight to text (SQLite) or to a JSON value (PostgreSQL): no map is built for
/// each event on the writer's thread.
#[derive(Serialize)]
pub(crate) struct EventDocument<'e> {
    id: &'e str,
    seq: i64,
    #[serde(rename = "type")]
    event_type: &'static str,
    occurred_at: String,
    tenant_id: &'e str,
    subject: &'e Subject,
    device_event: Option<&'e str>,
    changes: &'e [AttributeChange],
    profile_version: u64,
}
