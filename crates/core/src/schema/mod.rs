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

/// A tenant's attribute definitions (active and retired), by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    by_name: foldhash::HashMap<String, AttributeDefinition>,
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

    /// Adds or replaces a definition (by name).
    pub fn insert(&mut self, definition: AttributeDefinition) {
        self.by_name.insert(definition.name.clone(), definition);
    }

    pub fn remove(&mut self, name: &str) -> Option<AttributeDefinition> {
        self.by_name.remove(name)
    }

    /// The definition with this id.
    pub fn by_id(&self, id: i64) -> Option<&AttributeDefinition> {
        self.by_name.values().find(|d| d.id == id)
    }

    pub fn definitions(&self) -> impl Iterator<Item = &AttributeDefinition> {
        self.by_name.values()
    }

    /// A schema is closed once the tenant defined any attribute: from then on, attributes
    /// that are not defined are refused. Until then it is open: any well-named attribute is
    /// accepted as a string (compatible clients work unchanged) and registered implicitly.
    pub fn is_closed(&self) -> bool {
        self.by_name.values().any(|d| !d.implicit)
    }

    /// The next free attribute id.
    pub fn next_id(&self) -> i64 {
        self.by_name
            .values()
            .map(|d| d.id + 1)
            .max()
            .unwrap_or(crate::customer::FIRST_CUSTOM_ATTRIBUTE_ID)
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
