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
            record,
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
