//! One handler per SDK call: parse the body, check the JWT, one `Store::sdk_write`, render.

use super::wire::{
    ClientBody, RegisterBody, SdkError, client_id, install_of, parse_body, readings, success,
    success_with, write_fields,
};
use super::{Caller, check_token};
use crate::state::AppState;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use profilestore_core::app_profile::AppProfilePatch;
use profilestore_core::device::{POLICY_POLLING_INTERVAL_MINUTES, Platform, SdkBand};
use profilestore_core::ids::{CustomerId, DeviceId, UserId};
use profilestore_store::model::{SdkCommand, SdkOutcome, SdkRequest};
use serde::Deserialize;
use serde_json::{Value, json};

type Answer = Result<Response, SdkError>;

fn sdk_version(headers: &HeaderMap) -> Option<String> {
    headers
        .get("sdkversion")
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|version| !version.is_empty() && version.len() <= 64)
        .map(str::to_owned)
}

/// A userId for a device that registers without one (flagged system-generated).
fn system_user_id() -> UserId {
    UserId::parse(format!("sys-{}", uuid::Uuid::new_v4().simple()))
        .expect("a generated userId is valid")
}

async fn apply(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    device_event: &str,
    command: SdkCommand,
) -> Result<SdkOutcome, SdkError> {
    let request = SdkRequest {
        command,
        options: caller.app.options,
        policy: caller.app.device_policy.clone(),
        sdk_version: sdk_version(headers),
        device_event: device_event.to_owned(),
        now: Utc::now(),
    };
    Ok(state
        .store
        .sdk_write(&caller.tenant_id, &caller.app_id, request)
        .await??)
}

/// The common answer of calls on an install: its clientId and userId, and ignored readings,
/// then `extra`'s fields (an object; empty for most calls).
fn install_answer(outcome: &SdkOutcome, extra: Value) -> Response {
    success_with(|json| {
        let key = &outcome.profile.key;
        json.raw(r#","clientId":"#);
        json.string(&client_id(key));
        json.raw(r#","userId":"#);
        json.string(key.user_id.as_str());
        json.raw(r#","ignored":"#);
        json.array(&outcome.ignored, |json, name| json.string(name));
        write_fields(json, &extra);
    })
}

pub async fn register(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let body: RegisterBody = parse_body(&body)?;
    if body.channel.as_deref().is_some_and(|c| c != "rt") {
        return Err(SdkError::invalid("channel is \"rt\""));
    }
    let platform = Platform::parse(
        body.channel_type
            .as_deref()
            .ok_or_else(|| SdkError::invalid("channelType is required"))?,
    )?;
    let device_id = DeviceId::parse(body.device_id.unwrap_or_default())?;
    let given = body.user_id.filter(|id| !id.is_empty());
    check_token(&state, &caller, &headers, given.as_deref())?;
    let patch = AppProfilePatch::from_raw(readings(body.data.update)?)?;
    let (user_id, system_generated) = match given {
        Some(id) => (UserId::parse(id)?, false),
        None => (system_user_id(), true),
    };
    let command = SdkCommand::Register {
        user_id,
        system_generated,
        device_id,
        platform,
        patch,
    };
    let outcome = apply(&state, &caller, &headers, "Register", command).await?;
    let options = caller.app.options;
    Ok(install_answer(
        &outcome,
        json!({
            "isSystemGenerated": system_generated,
            "appType": "rt",
            "policy": {"features": {
                "realtimemessaging": false,
                "basicpush": true,
                "encryption": false,
                "securedconnection": false,
            }},
            "multiProfileEnabled": options.multi_user_per_device,
            "singleDevicePerUser": options.single_device_per_user,
            "profileTTL": options.profile_ttl_days,
        }),
    ))
}

#[derive(Deserialize)]
pub struct PolicyQuery {
    os: Option<String>,
}

pub async fn verify_policy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Query(query): Query<PolicyQuery>,
) -> Answer {
    check_token(&state, &caller, &headers, None)?;
    let platform = Platform::parse(
        query
            .os
            .as_deref()
            .ok_or_else(|| SdkError::invalid("the os query parameter is required"))?,
    )
    .map_err(|_| SdkError::invalid("os is android, ios or web"))?;
    let band = SdkBand::of(sdk_version(&headers).as_deref());
    let monitors = caller.app.device_policy.for_sdk(platform, band);
    Ok(success(json!({
        "os": platform.as_str(),
        "sdkBand": band.as_str(),
        "policyPollingInterval": POLICY_POLLING_INTERVAL_MINUTES,
        "monitors": monitors,
    })))
}

/// Parses a body that names an install, and checks the JWT against its userId.
fn install_call(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(ClientBody, profilestore_core::app_profile::AppProfileKey), SdkError> {
    let body: ClientBody = parse_body(body)?;
    let install = install_of(&caller.app_id, body.client_id.as_deref())?;
    check_token(state, caller, headers, Some(install.user_id.as_str()))?;
    Ok((body, install))
}

pub async fn set_user_id(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let (body, install) = install_call(&state, &caller, &headers, &body)?;
    let user_id = UserId::parse(body.user_id.unwrap_or_default())?;
    let command = SdkCommand::SetUserId {
        install,
        user_id,
        system_generated: false,
    };
    let outcome = apply(&state, &caller, &headers, "setUserId", command).await?;
    Ok(install_answer(&outcome, json!({})))
}

pub async fn remove_user_id(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let (_, install) = install_call(&state, &caller, &headers, &body)?;
    let command = SdkCommand::SetUserId {
        install,
        user_id: system_user_id(),
        system_generated: true,
    };
    let outcome = apply(&state, &caller, &headers, "removeUserId", command).await?;
    Ok(install_answer(&outcome, json!({"isSystemGenerated": true})))
}

pub async fn set_customer_id(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let (body, install) = install_call(&state, &caller, &headers, &body)?;
    let customer_id = CustomerId::parse(body.customer_id.unwrap_or_default())?;
    let command = SdkCommand::SetCustomerId {
        install,
        customer_id: customer_id.clone(),
    };
    let outcome = apply(&state, &caller, &headers, "setCustomerId", command).await?;
    Ok(install_answer(
        &outcome,
        json!({"customerId": customer_id.as_str()}),
    ))
}

pub async fn remove_customer_id(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let (_, install) = install_call(&state, &caller, &headers, &body)?;
    let command = SdkCommand::RemoveCustomerId { install };
    let outcome = apply(&state, &caller, &headers, "removeCustomerId", command).await?;
    Ok(install_answer(&outcome, json!({})))
}

pub async fn unregister(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let (_, install) = install_call(&state, &caller, &headers, &body)?;
    let command = SdkCommand::Unregister { install };
    let outcome = apply(&state, &caller, &headers, "unregister", command).await?;
    Ok(install_answer(&outcome, json!({})))
}

pub async fn profile_update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let (body, install) = install_call(&state, &caller, &headers, &body)?;
    let event = body
        .event
        .filter(|event| !event.is_empty() && event.len() <= 64)
        .unwrap_or_else(|| "ProfileUpdate".to_owned());
    let patch = AppProfilePatch::from_raw(readings(body.data.update)?)?;
    let command = SdkCommand::ProfileUpdate { install, patch };
    let outcome = apply(&state, &caller, &headers, &event, command).await?;
    Ok(install_answer(&outcome, json!({})))
}
