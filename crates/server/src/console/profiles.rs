//! The console's customer page beyond `/v1/customers`: the customer's linked devices (app
//! profiles with their device attributes), its recent events, and editing its attributes
//! (checked by the store against the schema, inside the write, like every other write).

use super::scope::{Body, Scoped};
use crate::api::json_value::attribute_value;
use crate::api::v1::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::SecondsFormat;
use profilestore_core::DomainError;
use profilestore_core::batch::RecordRef;
use profilestore_core::ids::CustomerId;
use profilestore_store::model::{CustomerInput, WriteMode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Recent events are looked for among the tenant's newest this many events.
const EVENTS_SCANNED: i64 = 5_000;
const EVENTS_PAGE: u32 = 1_000;
/// At most this many recent events are shown.
const EVENTS_SHOWN: usize = 25;

#[derive(Serialize)]
pub struct DeviceView {
    app_id: String,
    app_name: String,
    user_id: String,
    device_id: String,
    attributes: BTreeMap<String, String>,
    updated_at: String,
}

#[derive(Serialize)]
pub struct DeviceList {
    devices: Vec<DeviceView>,
}

fn customer_id(raw: String) -> Result<CustomerId, Problem> {
    Ok(CustomerId::parse(raw)?)
}

pub async fn devices(
    State(state): State<AppState>,
    scoped: Scoped,
    Path(raw): Path<String>,
) -> Result<Json<DeviceList>, Problem> {
    let id = customer_id(raw)?;
    let profiles = state
        .store
        .linked_app_profiles(scoped.tenant_id(), &[id])
        .await?;
    let names: HashMap<String, String> = state
        .store
        .list_apps(scoped.tenant_id())
        .await?
        .into_iter()
        .map(|app| (app.app_id, app.name))
        .collect();
    let devices = profiles
        .into_iter()
        .map(|profile| {
            let app_id = profile.key.app_id.to_string();
            DeviceView {
                app_name: names.get(&app_id).cloned().unwrap_or_default(),
                app_id,
                user_id: profile.key.user_id.to_string(),
                device_id: profile.key.device_id.to_string(),
                attributes: profile.attributes,
                updated_at: profile
                    .updated_at
                    .to_rfc3339_opts(SecondsFormat::Millis, true),
            }
        })
        .collect();
    Ok(Json(DeviceList { devices }))
}

#[derive(Serialize)]
pub struct EventList {
    /// Newest first: the customer's events and its linked devices' events.
    events: Vec<Value>,
    /// How far back was looked: events after this seq.
    scanned_after: i64,
}

/// Whether an event is about the customer or one of its devices.
fn concerns(event: &Value, customer: &str, devices: &[(String, String, String)]) -> bool {
    let subject = &event["subject"];
    if subject["customer_id"].as_str() == Some(customer) {
        return true;
    }
    let key = (
        subject["app_id"].as_str().unwrap_or_default(),
        subject["user_id"].as_str().unwrap_or_default(),
        subject["device_id"].as_str().unwrap_or_default(),
    );
    devices
        .iter()
        .any(|(a, u, d)| (a.as_str(), u.as_str(), d.as_str()) == key)
}

/// The customer's recent events, among the tenant's newest few thousand (a page of the log
/// read from the end; the log has no index by customer, and this page is for people).
pub async fn events(
    State(state): State<AppState>,
    scoped: Scoped,
    Path(raw): Path<String>,
) -> Result<Json<EventList>, Problem> {
    let id = customer_id(raw)?;
    let tenant_id = scoped.tenant_id();
    let devices: Vec<(String, String, String)> = state
        .store
        .linked_app_profiles(tenant_id, std::slice::from_ref(&id))
        .await?
        .into_iter()
        .map(|p| {
            (
                p.key.app_id.to_string(),
                p.key.user_id.to_string(),
                p.key.device_id.to_string(),
            )
        })
        .collect();
    let latest = state.store.latest_event_seq(tenant_id).await?;
    let start = (latest - EVENTS_SCANNED).max(0);
    let mut cursor = start;
    let mut found = Vec::new();
    while cursor < latest {
        let page = state
            .store
            .events_after(tenant_id, cursor, EVENTS_PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        cursor = last.seq;
        found.extend(
            page.into_iter()
                .map(|event| event.payload)
                .filter(|payload| concerns(payload, id.as_str(), &devices)),
        );
    }
    found.reverse();
    found.truncate(EVENTS_SHOWN);
    Ok(Json(EventList {
        events: found,
        scanned_after: start,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeEdit {
    /// Attribute → new value (null clears it), as in the compatible API's writes.
    attributes: Map<String, Value>,
}

/// Changes attributes of an existing customer; a refused value is a 422 naming the attribute.
pub async fn edit(
    State(state): State<AppState>,
    scoped: Scoped,
    Path(raw): Path<String>,
    Body(edit): Body<AttributeEdit>,
) -> Result<StatusCode, Problem> {
    let id = customer_id(raw)?;
    let attributes = edit
        .attributes
        .iter()
        .map(|(name, value)| Ok((name.clone(), attribute_value(name, value)?)))
        .collect::<Result<Vec<_>, DomainError>>()?;
    if attributes.is_empty() {
        return Err(super::scope::invalid("attributes", "name at least one"));
    }
    let record = RecordRef {
        customer_id: Some(id.to_string()),
        ..RecordRef::default()
    };
    let input = CustomerInput {
        customer_id: id,
        attributes,
    };
    let transid = crate::api::compat::new_transid();
    let outcome = state
        .store
        .write_customers(
            scoped.tenant_id(),
            &transid,
            WriteMode::Update,
            vec![(record, Ok(input))],
        )
        .await?;
    match outcome.records.into_iter().next().and_then(|r| r.error) {
        None => Ok(StatusCode::NO_CONTENT),
        Some(error) => Err(error.into()),
    }
}
