//! The compatible API's envelopes: §3.1 for writes and deletes, §3.3 for reads.

use super::codes::{Code, describe};
use axum::Json;
use axum::http::StatusCode;
use profilestore_core::DomainError;
use profilestore_core::app_profile::AppProfile;
use profilestore_core::app_profile::catalogue::{CATALOGUE, IDENTITY_ATTRIBUTES};
use profilestore_core::batch::BatchOutcome;
use profilestore_core::customer::{CustomerProfile, DEFAULT_ATTRIBUTES};
use profilestore_store::model::Tenant;
use serde_json::{Value, json};
use std::collections::HashMap;

pub type CompatResponse = (StatusCode, Json<Value>);

/// A JSON object of `fields`, moved in. (`json!` would serialize each field's value into a
/// copy: for the attribute arrays of a read that copy was ~8 % of the server's CPU, measured.)
pub fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect(),
    )
}

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

/// §3.1: every record's result and the counters. The top-level code is 1000 when every record
/// succeeded, 1002 when some did, and the first failure's own code when none did.
pub fn write_envelope(
    transid: &str,
    outcome: &BatchOutcome,
    not_found: NotFoundCode,
) -> CompatResponse {
    let mut first_failure: Option<(Code, String)> = None;
    let results: Vec<Value> = outcome
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
            let mut item = json!({ "code": code.as_str(), "description": description });
            for (name, value) in [
                ("customerId", &record.record.customer_id),
                ("userId", &record.record.user_id),
                ("deviceId", &record.record.device_id),
            ] {
                if let Some(value) = value {
                    item[name] = json!(value);
                }
            }
            item
        })
        .collect();
    let successes = outcome.success_count();
    let (code, description) = match first_failure {
        None => (Code::Success, "SUCCESS".to_owned()),
        Some(_) if successes > 0 => (Code::PartialSuccess, "Partial success".to_owned()),
        Some(failure) => failure,
    };
    let body = object([
        ("code", code.as_str().into()),
        ("description", description.into()),
        ("transid", transid.into()),
        ("TotalCount", outcome.records.len().into()),
        ("SuccessCount", successes.into()),
        ("FailureCount", outcome.failure_count().into()),
        ("Results", Value::Array(results)),
    ]);
    (code.status(), Json(body))
}

/// §3.3: a successful read.
pub fn read_envelope(transid: &str, records: Vec<Value>) -> CompatResponse {
    let body = object([
        ("Status", 0.into()),
        ("Description", "success".into()),
        ("code", Code::Success.as_str().into()),
        ("transid", transid.into()),
        ("Records", Value::Array(records)),
    ]);
    (StatusCode::OK, Json(body))
}

fn attribute(name: &str, value: &str, id: i64) -> Value {
    json!({ "Name": name, "Value": value, "ID": id })
}

/// A customer's attributes: every default column (empty when unset), then the tenant's own
/// attributes in column-id order.
pub fn customer_attributes(
    profile: &CustomerProfile,
    custom_ids: &HashMap<String, i64>,
) -> Vec<Value> {
    let mut attributes: Vec<Value> = DEFAULT_ATTRIBUTES
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
fn app_identity(profile: &AppProfile) -> Vec<Value> {
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
pub fn app_profile_attributes(profile: &AppProfile) -> Vec<Value> {
    let mut attributes = app_identity(profile);
    attributes.extend(CATALOGUE.iter().filter_map(|entry| {
        profile
            .attributes
            .get(entry.key)
            .map(|value| attribute(entry.key, value, entry.id))
    }));
    attributes
}

/// OutwardLinks of an app profile: the linked customer profile, if it exists.
pub fn outward_links(
    tenant: &Tenant,
    customer: Option<&CustomerProfile>,
    custom_ids: &HashMap<String, i64>,
) -> Value {
    match customer {
        None => json!([]),
        Some(customer) => Value::Array(vec![object([
            ("ProfileID", json!(tenant.store_number)),
            ("ProfileName", format!("{}_cpms_1", tenant.name).into()),
            (
                "Records",
                Value::Array(vec![Value::Array(customer_attributes(
                    customer, custom_ids,
                ))]),
            ),
        ])]),
    }
}

/// InwardLinks of a customer: its app profiles grouped by app; level 1 shows their
/// identities, level 2 every attribute.
pub fn inward_links(linked: &[&AppProfile], level: u8) -> Value {
    if level == 0 {
        return json!([]);
    }
    let mut by_app: Vec<(&str, Vec<Value>)> = Vec::new();
    for profile in linked {
        let attributes = if level >= 2 {
            app_profile_attributes(profile)
        } else {
            app_identity(profile)
        };
        let app = profile.key.app_id.as_str();
        match by_app.iter_mut().find(|(id, _)| *id == app) {
            Some((_, records)) => records.push(Value::Array(attributes)),
            None => by_app.push((app, vec![Value::Array(attributes)])),
        }
    }
    Value::Array(
        by_app
            .into_iter()
            .map(|(app, records)| {
                object([("AppId", app.into()), ("Records", Value::Array(records))])
            })
            .collect(),
    )
}
