//! The event document every channel carries, built once here for every backend.

use chrono::{DateTime, SecondsFormat, Utc};
use profilestore_core::change::ChangeEvent;
use serde_json::{Value, json};

/// A new event id: UUID v7, so ids sort by time as seqs do.
pub(crate) fn new_event_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub(crate) fn event_document(
    tenant_id: &str,
    seq: i64,
    event_id: &str,
    occurred_at: DateTime<Utc>,
    event: &ChangeEvent,
) -> Value {
    json!({
        "id": event_id,
        "seq": seq,
        "type": event.event_type.as_str(),
        "occurred_at": occurred_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "tenant_id": tenant_id,
        "subject": event.subject,
        "device_event": event.device_event,
        "changes": event.changes,
        "profile_version": event.profile_version,
    })
}
