//! The compatible API's envelopes: §3.1 for writes and deletes, §3.3 for reads.
//!
//! Each envelope is a struct serialized straight into the response body, borrowing the
//! profiles it shows: building a `serde_json::Value` tree first (an owned copy of every name
//! and value) and serializing that was ~15 % of the server's CPU in a read, measured.

use super::codes::{Code, describe};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use profilestore_core::DomainError;
use profilestore_core::app_profile::AppProfile;
use profilestore_core::app_profile::catalogue::{CATALOGUE, IDENTITY_ATTRIBUTES};
use profilestore_core::batch::BatchOutcome;
use profilestore_core::customer::{CustomerProfile, DEFAULT_ATTRIBUTES};
use profilestore_store::model::Tenant;
use serde::Serialize;
use std::collections::HashMap;

pub type CompatResponse = Response;

/// How an operation names a record that was not found: 7203 for customer deletes (§4.4).
#[derive(Clone, Copy)]
pub enum NotFoundCode {
    Standard,
    CustomerDelete,
}

fn record_code(error: &DomainError, not_found: NotFoundCode) -> (Code, String) {
    match (error, not_found) {
        (DomainError::NotFound { .. }, NotFoundCode::CustomerDelete) => (
            Code::CustomerNotFoundOnDelete,
            "Customer not found".to_owned(),
        ),
        _ => describe(error),
    }
}

/// §3.1's per-record result.
#[derive(Serialize)]
struct RecordResult<'a> {
    code: &'static str,
    description: String,
    #[serde(rename = "customerId", skip_serializing_if = "Option::is_none")]
    customer_id: Option<&'a str>,
    #[serde(rename = "userId", skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    #[serde(rename = "deviceId", skip_serializing_if = "Option::is_none")]
    device_id: Option<&'a str>,
}

/// §3.1's envelope.
#[derive(Serialize)]
struct WriteEnvelope<'a> {
    code: &'static str,
    description: String,
    transid: &'a str,
    #[serde(rename = "TotalCount")]
    total_count: usize,
    #[serde(rename = "SuccessCount")]
    success_count: usize,
    #[serde(rename = "FailureCount")]
    failure_count: usize,
    #[serde(rename = "Results")]
    results: Vec<RecordResult<'a>>,
}

/// §3.1: every record's result and the counters, with the code they add up to: 1000 when
/// every record succeeded, 1002 when some did, and the first failure's own code when none did.
fn write_body<'a>(
    transid: &'a str,
    outcome: &'a BatchOutcome,
    not_found: NotFoundCode,
) -> (Code, WriteEnvelope<'a>) {
    let mut first_failure: Option<(Code, String)> = None;
    let results: Vec<RecordResult<'_>> = outcome
        .records
        .iter()
        .map(|record| {
            let (code, description) = match &record.error {
                None => (Code::Success, "SUCCESS".to_owned()),
                Some(error) => record_code(error, not_found),
            };
            if record.error.is_some() && first_failure.is_none() {
                first_failure = Some((code, description.clone()));
            }
            RecordResult {
                code: code.as_str(),
                description,
                customer_id: record.record.customer_id.as_deref(),
                user_id: record.record.user_id.as_deref(),
                device_id: record.record.device_id.as_deref(),
            }
        })
        .collect();
    let successes = outcome.success_count();
    let (code, description) = match first_failure {
        None => (Code::Success, "SUCCESS".to_owned()),
        Some(_) if successes > 0 => (Code::PartialSuccess, "Partial success".to_owned()),
        Some(failure) => failure,
    };
    let body = WriteEnvelope {
        code: code.as_str(),
        description,
        transid,
        total_count: outcome.records.len(),
        success_count: successes,
        failure_count: outcome.failure_count(),
        results,
    };
    (code, body)
}

/// The answer to a write or delete: §3.1's envelope, with the HTTP status of its code.
pub fn write_envelope(transid: &str, outcome: &BatchOutcome, not_found: NotFoundCode) -> Response {
    let (code, body) = write_body(transid, outcome, not_found);
    (code.status(), Json(body)).into_response()
}

/// The answer to a status lookup (§4.5) that found the write: its envelope again, with 200
/// whatever the write's own code was (the lookup itself succeeded).
pub fn write_status(transid: &str, outcome: &BatchOutcome) -> Response {
    let (_, body) = write_body(transid, outcome, NotFoundCode::Standard);
    (StatusCode::OK, Json(body)).into_response()
}

/// §3.3's envelope around the records of a successful read.
#[derive(Serialize)]
pub struct ReadEnvelope<'a> {
    #[serde(rename = "Status")]
    status: u8,
    #[serde(rename = "Description")]
    description: &'static str,
    code: &'static str,
    transid: &'a str,
    #[serde(rename = "Records")]
    records: Vec<ReadRecord<'a>>,
}

impl<'a> ReadEnvelope<'a> {
    pub fn new(transid: &'a str, records: Vec<ReadRecord<'a>>) -> Self {
        ReadEnvelope {
            status: 0,
            description: "success",
            code: Code::Success.as_str(),
            transid,
            records,
        }
    }
}

/// §3.3: a successful read of `records`.
pub fn read_envelope(transid: &str, records: Vec<ReadRecord<'_>>) -> Response {
    (StatusCode::OK, Json(ReadEnvelope::new(transid, records))).into_response()
}

/// One record of a read: a profile's attributes and its links.
#[derive(Serialize)]
pub struct ReadRecord<'a> {
    #[serde(rename = "Attributes")]
    pub attributes: Vec<Attribute<'a>>,
    #[serde(rename = "InwardLinks")]
    pub inward_links: Vec<InwardLink<'a>>,
    #[serde(rename = "OutwardLinks")]
    pub outward_links: Vec<OutwardLink<'a>>,
}

/// `{ "Name", "Value", "ID" }`, the order of §3.3's example.
#[derive(Serialize)]
pub struct Attribute<'a> {
    #[serde(rename = "Name")]
    name: &'a str,
    #[serde(rename = "Value")]
    value: &'a str,
    #[serde(rename = "ID")]
    id: i64,
}

fn attribute<'a>(name: &'a str, value: &'a str, id: i64) -> Attribute<'a> {
    Attribute { name, value, id }
}

/// A customer's attributes: every default column (empty when unset), then the tenant's own
/// attributes in column-id order.
pub fn customer_attributes<'a>(
    profile: &'a CustomerProfile,
    custom_ids: &HashMap<String, i64>,
) -> Vec<Attribute<'a>> {
    let mut attributes: Vec<Attribute<'a>> = DEFAULT_ATTRIBUTES
        .iter()
        .map(|default| {
            let value = if default.name == "customerId" {
                profile.customer_id.as_str()
            } else {
                profile
                    .attributes
                    .get(default.name)
                    .map(String::as_str)
                    .unwrap_or_default()
            };
            attribute(default.name, value, default.id)
        })
        .collect();
    let mut custom: Vec<(i64, &str, &str)> = profile
        .attributes
        .iter()
        .filter_map(|(name, value)| {
            custom_ids
                .get(name)
                .map(|id| (*id, name.as_str(), value.as_str()))
        })
        .collect();
    custom.sort_unstable();
    attributes.extend(
        custom
            .into_iter()
            .map(|(id, name, value)| attribute(name, value, id)),
    );
    attributes
}

/// An app profile's identity attributes (appId, userId, deviceId, customerId — "" if unlinked).
fn app_identity(profile: &AppProfile) -> Vec<Attribute<'_>> {
    let values = [
        profile.key.app_id.as_str(),
        profile.key.user_id.as_str(),
        profile.key.device_id.as_str(),
        profile
            .customer_id
            .as_ref()
            .map(|id| id.as_str())
            .unwrap_or_default(),
    ];
    IDENTITY_ATTRIBUTES
        .iter()
        .zip(values)
        .map(|(identity, value)| attribute(identity.key, value, identity.id))
        .collect()
}

/// Identity, then every catalogue attribute that has a value, in catalogue order.
pub fn app_profile_attributes(profile: &AppProfile) -> Vec<Attribute<'_>> {
    let mut attributes = app_identity(profile);
    attributes.extend(CATALOGUE.iter().filter_map(|entry| {
        profile
            .attributes
            .get(entry.key)
            .map(|value| attribute(entry.key, value, entry.id))
    }));
    attributes
}

/// One OutwardLinks entry: the linked customer profile (§3.3: its Records is an array of
/// arrays).
#[derive(Serialize)]
pub struct OutwardLink<'a> {
    #[serde(rename = "ProfileID")]
    profile_id: i64,
    #[serde(rename = "ProfileName")]
    profile_name: String,
    #[serde(rename = "Records")]
    records: [Vec<Attribute<'a>>; 1],
}

/// OutwardLinks of an app profile: the linked customer profile, if it exists.
pub fn outward_links<'a>(
    tenant: &Tenant,
    customer: Option<&'a CustomerProfile>,
    custom_ids: &HashMap<String, i64>,
) -> Vec<OutwardLink<'a>> {
    customer
        .map(|customer| OutwardLink {
            profile_id: tenant.store_number,
            profile_name: format!("{}_cpms_1", tenant.name),
            records: [customer_attributes(customer, custom_ids)],
        })
        .into_iter()
        .collect()
}

/// One InwardLinks entry: a customer's app profiles in one app.
#[derive(Serialize)]
pub struct InwardLink<'a> {
    #[serde(rename = "AppId")]
    app_id: &'a str,
    #[serde(rename = "Records")]
    records: Vec<Vec<Attribute<'a>>>,
}

/// InwardLinks of a customer: its app profiles grouped by app; level 1 shows their
/// identities, level 2 every attribute.
pub fn inward_links<'a>(linked: &[&'a AppProfile], level: u8) -> Vec<InwardLink<'a>> {
    let mut by_app: Vec<InwardLink<'a>> = Vec::new();
    if level == 0 {
        return by_app;
    }
    for profile in linked {
        let attributes = if level >= 2 {
            app_profile_attributes(profile)
        } else {
            app_identity(profile)
        };
        let app = profile.key.app_id.as_str();
        match by_app.iter_mut().find(|link| link.app_id == app) {
            Some(link) => link.records.push(attributes),
            None => by_app.push(InwardLink {
                app_id: app,
                records: vec![attributes],
            }),
        }
    }
    by_app
}
