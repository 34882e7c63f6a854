//! The one domain error. Protocol adapters map each variant to their own codes
//! (compat API: 7003, 7011, 7014...; native API: problem+json statuses).

use crate::schema::FieldError;
use serde::{Deserialize, Serialize};

/// What a profile may be: used to say what was not found or already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileKind {
    Customer,
    AppProfile,
    /// A customer-attribute definition of the schema registry.
    Attribute,
}

impl std::fmt::Display for ProfileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProfileKind::Customer => "customer",
            ProfileKind::AppProfile => "app profile",
            ProfileKind::Attribute => "attribute",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum DomainError {
    /// A parameter the operation cannot do without is absent or empty.
    #[error("mandatory parameter missing: {parameter}")]
    MissingParameter { parameter: String },
    /// A value (or an attribute name) breaks a rule of the catalogue or the schema.
    #[error("invalid attribute value for {attribute}: {reason}")]
    InvalidAttribute { attribute: String, reason: String },
    #[error("{kind} not found")]
    NotFound { kind: ProfileKind },
    #[error("{kind} already exists")]
    AlreadyExists { kind: ProfileKind },
    /// The app id is not one of this tenant's apps.
    #[error("app {app_id} is unknown to this tenant")]
    UnknownApp { app_id: String },
    #[error("batch size limit ({max}) exceeded")]
    BatchTooLarge { max: usize },
    /// A unique attribute's value is already held by another profile of the tenant.
    #[error("{attribute}: the value is already held by another customer (unique attribute)")]
    DuplicateValue { attribute: String },
    /// An attribute definition is incoherent; each wrong field is named.
    #[error("invalid attribute definition")]
    InvalidDefinition { errors: Vec<FieldError> },
    /// A schema change conflicts with the schema's rules or with stored values.
    #[error("{reason}")]
    SchemaConflict {
        reason: String,
        /// How many stored profiles stand in the way, when that is the conflict.
        offending: Option<u64>,
        /// A few of their customerIds.
        sample: Vec<String>,
    },
}

impl DomainError {
    pub fn missing(parameter: impl Into<String>) -> Self {
        DomainError::MissingParameter {
            parameter: parameter.into(),
        }
    }

    pub fn invalid(attribute: impl Into<String>, reason: impl Into<String>) -> Self {
        DomainError::InvalidAttribute {
            attribute: attribute.into(),
            reason: reason.into(),
        }
    }
}
