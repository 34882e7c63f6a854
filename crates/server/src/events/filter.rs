//! Which events a reader wants: by type, and by the attributes they change. The same filter
//! serves `GET /v1/events`, the SSE stream and webhooks, so the rule is written once here.

use profilestore_core::change::EventType;
use serde_json::Value;

/// Every event type, for validating filters and for the docs.
pub const EVENT_TYPES: [EventType; 9] = [
    EventType::CustomerCreated,
    EventType::CustomerUpdated,
    EventType::CustomerDeleted,
    EventType::AppProfileRegistered,
    EventType::AppProfileUpdated,
    EventType::AppProfileLinked,
    EventType::AppProfileUnlinked,
    EventType::AppProfileUnregistered,
    EventType::AppProfileDeleted,
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only these types; empty: every type.
    pub types: Vec<String>,
    /// Only events with a change to one of these attributes; empty: every event.
    pub attributes: Vec<String>,
}

impl EventFilter {
    /// A filter from lists as clients give them; an unknown type is refused with its name.
    pub fn new(types: Vec<String>, attributes: Vec<String>) -> Result<Self, String> {
        if let Some(unknown) = types
            .iter()
            .find(|t| !EVENT_TYPES.iter().any(|known| known.as_str() == t.as_str()))
        {
            return Err(format!(
                "unknown event type {unknown:?}; known types: {}",
                EVENT_TYPES.map(EventType::as_str).join(", ")
            ));
        }
        if let Some(empty) = attributes.iter().find(|a| a.trim().is_empty()) {
            return Err(format!("attribute names cannot be empty ({empty:?})"));
        }
        Ok(EventFilter { types, attributes })
    }

    /// Whether an event document (as the outbox holds it) passes.
    pub fn matches(&self, event: &Value) -> bool {
        let type_passes = self.types.is_empty()
            || event["type"]
                .as_str()
                .is_some_and(|t| self.types.iter().any(|wanted| wanted == t));
        let attribute_passes = self.attributes.is_empty()
            || event["changes"].as_array().is_some_and(|changes| {
                changes.iter().any(|change| {
                    change["attribute"]
                        .as_str()
                        .is_some_and(|a| self.attributes.iter().any(|wanted| wanted == a))
                })
            });
        type_passes && attribute_passes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(event_type: &str, attributes: &[&str]) -> Value {
        let changes: Vec<Value> = attributes
            .iter()
            .map(|a| json!({"attribute": a, "old": null, "new": "x"}))
            .collect();
        json!({"type": event_type, "changes": changes})
    }

    #[test]
    fn an_empty_filter_passes_everything() {
        let all = EventFilter::default();
        assert!(all.matches(&event("customer.created", &[])));
    }

    #[test]
    fn types_and_attributes_must_both_pass() {
        let filter = EventFilter::new(
            vec!["customer.updated".into()],
            vec!["email".into(), "name".into()],
        )
        .unwrap();
        assert!(filter.matches(&event("customer.updated", &["msisdn", "email"])));
        assert!(!filter.matches(&event("customer.updated", &["msisdn"])));
        assert!(!filter.matches(&event("customer.created", &["email"])));
    }

    #[test]
    fn unknown_types_and_empty_attributes_are_refused() {
        let error = EventFilter::new(vec!["customer.renamed".into()], vec![]).unwrap_err();
        assert!(error.contains("customer.renamed"), "{error}");
        assert!(EventFilter::new(vec![], vec![" ".into()]).is_err());
    }
}
