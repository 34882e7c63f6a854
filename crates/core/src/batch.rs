//! Per-record outcomes of a batch write: what the status endpoint returns for 24 hours, so
//! they are kept in the same transaction as the write itself.

use crate::DomainError;
use serde::{Deserialize, Serialize};

/// Which record an outcome belongs to, as the client named it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRef {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub device_id: Option<String>,
}

impl RecordRef {
    /// The reference with control characters replaced by U+FFFD. A refused record may name
    /// itself with anything; its echo must still be storable everywhere (PostgreSQL's JSONB
    /// refuses NUL) and printable.
    fn printable(self) -> Self {
        let clean = |text: Option<String>| {
            text.map(|text| {
                if text.chars().any(char::is_control) {
                    text.chars()
                        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
                        .collect()
                } else {
                    text
                }
            })
        };
        RecordRef {
            customer_id: clean(self.customer_id),
            user_id: clean(self.user_id),
            device_id: clean(self.device_id),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordOutcome {
    pub record: RecordRef,
    /// `None` on success.
    pub error: Option<DomainError>,
}

/// The outcome of one write request, in the order of its records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchOutcome {
    pub records: Vec<RecordOutcome>,
}

impl BatchOutcome {
    pub fn push(&mut self, record: RecordRef, result: Result<(), DomainError>) {
        self.records.push(RecordOutcome {
            record: record.printable(),
            error: result.err(),
        });
    }

    pub fn success_count(&self) -> usize {
        self.records.iter().filter(|r| r.error.is_none()).count()
    }

    pub fn failure_count(&self) -> usize {
        self.records.len() - self.success_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_references_carry_no_control_characters() {
        let mut outcome = BatchOutcome::default();
        let record = RecordRef {
            customer_id: Some("a\u{0}b".into()),
            ..RecordRef::default()
        };
        outcome.push(record, Err(DomainError::missing("customerId")));
        assert_eq!(
            outcome.records[0].record.customer_id.as_deref(),
            Some("a\u{FFFD}b")
        );
    }
}
