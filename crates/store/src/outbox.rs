//! The event document every channel carries, built and written once here for every backend.

use chrono::{DateTime, SecondsFormat, Utc};
use profilestore_core::change::{AttributeChange, ChangeEvent, Subject};
use profilestore_core::json_writer::JsonWriter;

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

/// Written straight to its JSON text by [`EventDocument::to_json`], for every backend: no map
/// is built for each event on the writer's thread, and no key is escaped again for each (through
/// serde's derive it was ~12 % of the writer's instructions in a batch of customer updates,
/// callgrind).
pub(crate) struct EventDocument<'e> {
    id: &'e str,
    seq: i64,
    event_type: &'static str,
    occurred_at: String,
    tenant_id: &'e str,
    subject: &'e Subject,
    device_event: Option<&'e str>,
    changes: &'e [AttributeChange],
    profile_version: u64,
}

impl EventDocument<'_> {
    /// The document as docs/events.md shows it, keys in that order.
    pub(crate) fn to_json(&self) -> String {
        let mut json = JsonWriter::with_capacity(256);
        json.raw("{\"id\":");
        json.string(self.id);
        json.raw(",\"seq\":");
        json.int(self.seq);
        json.raw(",\"type\":");
        json.string(self.event_type);
        json.raw(",\"occurred_at\":");
        json.string(&self.occurred_at);
        json.raw(",\"tenant_id\":");
        json.string(self.tenant_id);
        json.raw(",\"subject\":");
        match self.subject {
            Subject::Customer { customer_id } => {
                json.raw("{\"customer_id\":");
                json.string(customer_id);
            }
            Subject::AppProfile {
                app_id,
                user_id,
                device_id,
            } => {
                json.raw("{\"app_id\":");
                json.string(app_id);
                json.raw(",\"user_id\":");
                json.string(user_id);
                json.raw(",\"device_id\":");
                json.string(device_id);
            }
        }
        json.raw("},\"device_event\":");
        json.optional_string(self.device_event);
        json.raw(",\"changes\":");
        json.array(self.changes, |json, change| {
            json.raw("{\"attribute\":");
            json.string(&change.attribute);
            json.raw(",\"old\":");
            json.optional_string(change.old.as_deref());
            json.raw(",\"new\":");
            json.optional_string(change.new.as_deref());
            json.raw("}");
        });
        json.raw(",\"profile_version\":");
        json.int(self.profile_version);
        json.raw("}");
        json.into_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use profilestore_core::change::EventType;
    use serde_json::json;

    #[test]
    fn documents_read_back_as_the_documented_shape() {
        let at = DateTime::parse_from_rfc3339("2026-12-07T10:00:00.123Z")
            .unwrap()
            .with_timezone(&Utc);
        let customer = ChangeEvent {
            event_type: EventType::CustomerUpdated,
            subject: Subject::Customer {
                customer_id: "C-\"1\"".into(),
            },
            device_event: None,
            changes: vec![
                AttributeChange {
                    attribute: "name".into(),
                    old: Some("Ann".into()),
                    new: Some("Ann \\ Bo\n".into()),
                },
                AttributeChange {
                    attribute: "tier".into(),
                    old: None,
                    new: Some("gold".into()),
                },
            ],
            profile_version: 7,
        };
        let device = ChangeEvent {
            event_type: EventType::AppProfileUpdated,
            subject: Subject::AppProfile {
                app_id: "app".into(),
                user_id: "u1".into(),
                device_id: "d1".into(),
            },
            device_event: Some("LOCATIONCHANGE".into()),
            changes: vec![],
            profile_version: u64::MAX,
        };

        let read = |event: &ChangeEvent| -> serde_json::Value {
            let text = event_document("t-1", 42, "e-1", at, event).to_json();
            serde_json::from_str(&text).unwrap()
        };
        assert_eq!(
            read(&customer),
            json!({"id": "e-1", "seq": 42, "type": "customer.updated",
                   "occurred_at": "2026-12-07T10:00:00.123Z", "tenant_id": "t-1",
                   "subject": {"customer_id": "C-\"1\""}, "device_event": null,
                   "changes": [{"attribute": "name", "old": "Ann", "new": "Ann \\ Bo\n"},
                               {"attribute": "tier", "old": null, "new": "gold"}],
                   "profile_version": 7})
        );
        assert_eq!(
            read(&device),
            json!({"id": "e-1", "seq": 42, "type": "app_profile.updated",
                   "occurred_at": "2026-12-07T10:00:00.123Z", "tenant_id": "t-1",
                   "subject": {"app_id": "app", "user_id": "u1", "device_id": "d1"},
                   "device_event": "LOCATIONCHANGE", "changes": [],
                   "profile_version": u64::MAX})
        );
    }
}
