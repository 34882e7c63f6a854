//! RFC 9457 problem details: every error of the native API is `application/problem+json` with
//! a machine-readable `type`, a `title`, the `status`, a `detail` and, for validation errors,
//! an `errors` list naming each offending field.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use profilestore_core::DomainError;
use profilestore_core::error::ProfileKind;
use profilestore_core::schema::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

/// Problem types are URIs under this base; each is documented in docs/v1-api.md.
const TYPE_BASE: &str = "https://profilestore.dev/problems/";

/// A problem, boxed: errors travel through `Result`s and should stay small.
#[derive(Debug)]
pub struct Problem(pub Box<ProblemDocument>);

/// The RFC 9457 document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDocument {
    /// A URI naming the kind of problem, e.g. `https://profilestore.dev/problems/validation`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// For validation errors: each offending field and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    /// For conflicts with stored data: how many profiles stand in the way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offending_profiles: Option<u64>,
    /// A few of their customerIds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sample_customer_ids: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub message: String,
}

impl From<FieldError> for ProblemField {
    fn from(error: FieldError) -> Self {
        ProblemField {
            field: error.field,
            message: error.message,
        }
    }
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem(Box::new(ProblemDocument {
            problem_type: format!("{TYPE_BASE}{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            offending_profiles: None,
            sample_customer_ids: Vec::new(),
        }))
    }

    pub fn unauthorized(detail: &str) -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            detail,
        )
    }

    pub fn validation(errors: Vec<ProblemField>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        let mut problem = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "Invalid request",
            detail,
        );
        problem.0.errors = errors;
        problem
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        // The cause goes to the log, never to the client.
        tracing::error!(%error, "native API request failed");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the request could not be completed; it may be retried",
        )
    }
}

impl From<DomainError> for Problem {
    fn from(error: DomainError) -> Self {
        let detail = error.to_string();
        match error {
            DomainError::MissingParameter { parameter } => {
                Problem::validation(vec![ProblemField {
                    field: parameter,
                    message: "required".into(),
                }])
            }
            DomainError::InvalidAttribute { attribute, reason } => {
                Problem::validation(vec![ProblemField {
                    field: attribute,
                    message: reason,
                }])
            }
            DomainError::InvalidDefinition { errors } => {
                Problem::validation(errors.into_iter().map(Into::into).collect())
            }
            DomainError::NotFound { kind } => Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                &title_case(kind, "not found"),
                detail,
            ),
            DomainError::AlreadyExists { kind } => Problem::new(
                StatusCode::CONFLICT,
                "already-exists",
                &title_case(kind, "already exists"),
                detail,
            ),
            DomainError::DuplicateValue { .. } => Problem::new(
                StatusCode::CONFLICT,
                "duplicate-value",
                "Duplicate value",
                detail,
            ),
            DomainError::UnknownApp { .. } => {
                Problem::new(StatusCode::NOT_FOUND, "unknown-app", "Unknown app", detail)
            }
            DomainError::BatchTooLarge { .. } => Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "batch-too-large",
                "Batch too large",
                detail,
            ),
            DomainError::SchemaConflict {
                reason,
                offending,
                sample,
            } => {
                let mut problem = Problem::new(
                    StatusCode::CONFLICT,
                    "schema-conflict",
                    "Schema change refused",
                    reason,
                );
                problem.0.offending_profiles = offending;
                problem.0.sample_customer_ids = sample;
                problem
            }
        }
    }
}

fn title_case(kind: ProfileKind, what: &str) -> String {
    let name = kind.to_string();
    let mut chars = name.chars();
    let first = chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_default();
    format!("{first}{} {what}", chars.as_str())
}

impl From<profilestore_store::StoreError> for Problem {
    fn from(error: profilestore_store::StoreError) -> Self {
        Problem::internal(error)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(*self.0)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

/// One invalid field, as a 422 problem: the native API's and the console's refusals of a field.
pub fn invalid(field: &str, message: impl Into<String>) -> Problem {
    Problem::validation(vec![ProblemField {
        field: field.to_owned(),
        message: message.into(),
    }])
}
