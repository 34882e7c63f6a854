//! The compatible API's codes (reference §5) and their HTTP statuses (§2.4), and the one
//! mapping from core errors to them.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use profilestore_core::DomainError;
use profilestore_core::error::ProfileKind;
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Success,
    PartialSuccess,
    InvalidJson,
    AuthenticationFailed,
    KeyMissing,
    MandatoryMissing,
    Internal,
    IpNotAllowed,
    InvalidAttribute,
    BatchTooLarge,
    NotFound,
    AlreadyExists,
    UnknownApp,
    RateLimited,
    /// What DELETE /customerprofile answers for an unknown customer (reference §4.4).
    CustomerNotFoundOnDelete,
    NoResult,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Success => "1000",
            Code::PartialSuccess => "1002",
            Code::InvalidJson => "7000",
            Code::AuthenticationFailed => "7001",
            Code::KeyMissing => "7002",
            Code::MandatoryMissing => "7003",
            Code::Internal => "7006",
            Code::IpNotAllowed => "7010",
            Code::InvalidAttribute => "7011",
            Code::BatchTooLarge => "7012",
            Code::NotFound => "7014",
            Code::AlreadyExists => "7015",
            Code::UnknownApp => "7018",
            Code::RateLimited => "7020",
            Code::CustomerNotFoundOnDelete => "7203",
            Code::NoResult => "7600",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Code::Success | Code::PartialSuccess => StatusCode::OK,
            Code::InvalidJson
            | Code::MandatoryMissing
            | Code::InvalidAttribute
            | Code::BatchTooLarge
            | Code::UnknownApp => StatusCode::BAD_REQUEST,
            Code::AuthenticationFailed | Code::KeyMissing => StatusCode::UNAUTHORIZED,
            Code::IpNotAllowed => StatusCode::FORBIDDEN,
            Code::NotFound | Code::CustomerNotFoundOnDelete | Code::NoResult => {
                StatusCode::NOT_FOUND
            }
            Code::AlreadyExists => StatusCode::CONFLICT,
            Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The code and description of a core refusal.
pub fn describe(error: &DomainError) -> (Code, String) {
    match error {
        DomainError::MissingParameter { parameter } => (
            Code::MandatoryMissing,
            format!("Mandatory parameters missing: {parameter}"),
        ),
        DomainError::InvalidAttribute { attribute, reason } => (
            Code::InvalidAttribute,
            format!("Invalid Attribute Value: {attribute}: {reason}"),
        ),
        DomainError::NotFound {
            kind: ProfileKind::Customer,
        } => (Code::NotFound, "Customer not found".into()),
        DomainError::NotFound {
            kind: ProfileKind::AppProfile,
        } => (Code::NotFound, "App profile not found".into()),
        DomainError::NotFound {
            kind: ProfileKind::Attribute,
        } => (Code::NotFound, "Attribute not found".into()),
        DomainError::AlreadyExists {
            kind: ProfileKind::Customer,
        } => (Code::AlreadyExists, "customer already exists".into()),
        DomainError::AlreadyExists {
            kind: ProfileKind::AppProfile,
        } => (Code::AlreadyExists, "app profile already exists".into()),
        DomainError::AlreadyExists {
            kind: ProfileKind::Attribute,
        } => (Code::AlreadyExists, "attribute already exists".into()),
        DomainError::UnknownApp { .. } => (
            Code::UnknownApp,
            "invalid app profile or app profile is not linked to this client".into(),
        ),
        DomainError::DuplicateValue { attribute } => (
            Code::AlreadyExists,
            format!(
                "{attribute}: the value is already held by another customer (unique attribute)"
            ),
        ),
        DomainError::InvalidDefinition { errors } => {
            let fields: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            (
                Code::InvalidAttribute,
                format!("Invalid Attribute Value: {}", fields.join("; ")),
            )
        }
        DomainError::SchemaConflict { reason, .. } => (
            Code::InvalidAttribute,
            format!("Invalid Attribute Value: {reason}"),
        ),
        DomainError::BatchTooLarge { max } => (
            Code::BatchTooLarge,
            format!("Batch size limit({max}) exceeded"),
        ),
    }
}

/// A whole-request failure, rendered as `{code, description, transid}`.
#[derive(Debug)]
pub struct CompatError {
    pub code: Code,
    pub description: String,
    /// Overrides the code's usual status (413 for an oversized body).
    pub status: Option<StatusCode>,
}

impl CompatError {
    pub fn new(code: Code, description: impl Into<String>) -> Self {
        CompatError {
            code,
            description: description.into(),
            status: None,
        }
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        // The cause goes to the log, never to the client.
        tracing::error!(%error, "compatible API request failed");
        CompatError::new(Code::Internal, "Internal error occurred")
    }
}

impl From<DomainError> for CompatError {
    fn from(error: DomainError) -> Self {
        let (code, description) = describe(&error);
        CompatError::new(code, description)
    }
}

impl From<profilestore_store::StoreError> for CompatError {
    fn from(error: profilestore_store::StoreError) -> Self {
        CompatError::internal(error)
    }
}

impl IntoResponse for CompatError {
    fn into_response(self) -> Response {
        let body = json!({
            "code": self.code.as_str(),
            "description": self.description,
            "transid": super::customers::new_transid(),
        });
        (self.status.unwrap_or(self.code.status()), Json(body)).into_response()
    }
}
