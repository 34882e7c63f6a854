//! Which events a reader wants: by type, and by the attributes they change. The same filter
//! serves `GET /v1/events`, the SSE stream and webhooks, so the rule is written once here.

use profilestore_core::change::EventType;
use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only these types; empty: every type.
    pub types: Vec<String>,
    /// Only events with a change to one of these attributes; empty: every event.
    pub attributes: Vec<String>,
}

/// Why a filter was refused, and which of its two lists is wrong (each protocol names the
/// list in its own words: `type` in a query, `event_types` in a webhook body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterError {
    Type(String),
    Attribute(String),
}

impl EventFilter {
    /// A filter from lists as clients give them; an unknown type is refused with its name.
    pub fn new(types: Vec<String>, attributes: Vec<String>) -> Result<Self, FilterError> {
        if let Some(unknown) = types.iter().find(|t| EventType::parse(t).is_none()) {
            return Err(FilterError::Type(format!(
                "unknown event type {unknown:?}; known types: {}",
                EventType::ALL.map(EventType::as_str).join(", ")
            )));
        }
        if let Some(empty) = attributes.iter().find(|a| a.trim().is_empty()) {
            return Err(FilterError::Attribute(format!(
                "attribute names cannot be empty ({empty:?})"
            )));
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
        let FilterError::Type(error) =
            EventFilter::new(vec!["customer.renamed".into()], vec![]).unwrap_err()
        else {
            panic!("an unknown type is a type error");
        };
        assert!(error.contains("customer.renamed"), "{error}");
        assert!(matches!(
            EventFilter::new(vec![], vec![" ".into()]),
            Err(FilterError::Attribute(_))
        ));
    }
}
