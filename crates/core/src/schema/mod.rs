//! Typed, validated custom attributes of customer profiles: each tenant's schema registry.
//!
//! - [`types`]: the attribute types, parsing a written value into its canonical typed form,
//!   and an order-preserving sort key so that stored values compare as their type does.
//! - [`definition`]: an attribute definition (type, constraints, default...) and its checks.
//! - [`evolution`]: what may change in a definition, and when stored values must be re-checked.

pub mod definition;
pub mod evolution;
pub mod types;

pub use definition::{AttributeDefinition, Constraints, FieldError};
pub use types::{AttributeType, TypedValue};

use std::collections::HashMap;

/// A tenant's attribute definitions (active and retired), by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    by_name: HashMap<String, AttributeDefinition>,
}

impl Schema {
    pub fn new(definitions: impl IntoIterator<Item = AttributeDefinition>) -> Self {
        Schema {
            by_name: definitions
                .into_iter()
                .map(|d| (d.name.clone(), d))
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&AttributeDefinition> {
        self.by_name.get(name)
    }

    pub fn definitions(&self) -> impl Iterator<Item = &AttributeDefinition> {
        self.by_name.values()
    }

    /// Definitions that can be written (not retired).
    pub fn active(&self) -> impl Iterator<Item = &AttributeDefinition> {
        self.by_name.values().filter(|d| !d.retired)
    }
}

/// A custom value as the store indexes it: typed order (`sort_key`) and uniqueness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredValue {
    pub attribute_id: i64,
    pub sort_key: Vec<u8>,
    pub unique: bool,
}
