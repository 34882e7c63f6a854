//! `/v1/apps`: the tenant's apps, their options (reference §8.1), client-key rotation, the
//! device attribute policy per platform, and the monitor catalogue at `/v1/device-attributes`.
//! Options and policies are checked by core; secrets are sealed and never shown again.

use super::body::{ProblemJson, present};
use super::problem::invalid;
use super::problem::{Problem, ProblemDocument};
use crate::access::TenantAccess;
use crate::admin::{self, CLIENT_KEY_PREFIX, app_name_problem};
use crate::secrets::PlainSecret;
use crate::state::AppState;
use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use profilestore_core::device::{
    self, AppOptions, DEVICE_ATTRIBUTES, DevicePolicy, MAX_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS,
    Platform, SdkBand,
};
use profilestore_core::ids::AppId;
use profilestore_store::StoreError;
use profilestore_store::model::{App, AppUpdate};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// Shortest JWT secret accepted (HS256 wants at least 256 bits; 32 characters is the floor).
const MIN_JWT_SECRET: usize = 32;

#[derive(Debug, Serialize, ToSchema)]
pub struct AppOptionsView {
    /// Many userIds on one device; off: another user replaces the device's install.
    pub multi_user_per_device: bool,
    /// Registering a user on a new device unregisters that user's other devices.
    pub single_device_per_user: bool,
    /// Days without SDK contact after which an install is deleted (1 to 365).
    pub profile_ttl_days: u32,
    /// Whether SDK calls must carry a JWT signed with the app's secret (never shown).
    pub jwt_required: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppView {
    pub app_id: String,
    pub name: String,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    pub options: AppOptionsView,
    /// Only when the key was just created or rotated: it is not shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_key: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppList {
    pub apps: Vec<AppView>,
}

fn view(app: &App, client_key: Option<&PlainSecret>) -> AppView {
    AppView {
        app_id: app.app_id.clone(),
        name: app.name.clone(),
        created_at: app.created_at,
        options: AppOptionsView {
            multi_user_per_device: app.options.multi_user_per_device,
            single_device_per_user: app.options.single_device_per_user,
            profile_ttl_days: app.options.profile_ttl_days,
            jwt_required: app.jwt_secret.is_some(),
        },
        client_key: client_key.map(|key| key.expose().to_owned()),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApp {
    #[schema(example = "Shop for Android")]
    pub name: String,
}

/// A change to an app: fields present are changed.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppChange {
    pub name: Option<String>,
    pub multi_user_per_device: Option<bool>,
    pub single_device_per_user: Option<bool>,
    pub profile_ttl_days: Option<u32>,
    /// A new JWT secret (at least 32 characters), or null to stop requiring a JWT.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub jwt_secret: Option<Option<String>>,
    /// true: issue a new client key (answered once); the old one stops working.
    #[serde(default)]
    pub rotate_client_key: bool,
}

/// One enabled monitor.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MonitorDoc {
    /// The app-profile attribute key, e.g. `location`.
    pub attribute: String,
    /// one_time, event or interval.
    pub category: String,
    /// For interval monitors: 60 to 604800 seconds.
    pub interval_seconds: Option<u32>,
}

/// The enabled monitors per platform (a new app enables none).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DevicePolicyDoc {
    pub android: Vec<MonitorDoc>,
    pub ios: Vec<MonitorDoc>,
    pub web: Vec<MonitorDoc>,
}

/// What the SDKs of one platform and band can monitor, by category (attribute keys).
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferView {
    pub platform: String,
    /// `2.12+` or `2.11-`.
    pub sdk_band: String,
    pub one_time: Vec<String>,
    pub event: Vec<String>,
    pub interval: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceAttributeView {
    pub key: String,
    pub display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceCatalogue {
    pub attributes: Vec<DeviceAttributeView>,
    pub offers: Vec<OfferView>,
    pub min_interval_seconds: u32,
    pub max_interval_seconds: u32,
}

fn tenant_id(tenant: &TenantAccess) -> &str {
    &tenant.tenant.tenant_id
}

fn unknown_app(app_id: &str) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "unknown-app",
        "Unknown app",
        format!("app {app_id} is unknown to this tenant"),
    )
}

/// The tenant's app, read from the store (fresh after a change on any node), or 404.
pub(crate) async fn find_app(
    state: &AppState,
    tenant_id: &str,
    app_id: &str,
) -> Result<App, Problem> {
    state
        .store
        .list_apps(tenant_id)
        .await?
        .into_iter()
        .find(|app| app.app_id == app_id)
        .ok_or_else(|| unknown_app(app_id))
}

/// Applies a change and makes this node's SDK routes see it at once.
async fn update(
    state: &AppState,
    tenant: &TenantAccess,
    app_id: &str,
    change: AppUpdate,
) -> Result<App, Problem> {
    let parsed = AppId::parse(app_id).map_err(|_| unknown_app(app_id))?;
    let app = match state
        .store
        .update_app(tenant_id(tenant), &parsed, change)
        .await
    {
        Ok(app) => app,
        Err(StoreError::NotFound(_)) => return Err(unknown_app(app_id)),
        Err(error) => return Err(error.into()),
    };
    if let Err(error) = state.access.refresh_if_changed().await {
        tracing::warn!(%error, "could not reload settings after an app change");
    }
    Ok(app)
}

/// Every app of the tenant, by app id.
#[utoipa::path(get, path = "/v1/apps", tag = "apps",
    responses((status = 200, body = AppList), (status = 401, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
) -> Result<Json<AppList>, Problem> {
    let apps = state.store.list_apps(tenant_id(&tenant)).await?;
    Ok(Json(AppList {
        apps: apps.iter().map(|app| view(app, None)).collect(),
    }))
}

/// Creates an app with a random app id; its client key is in this answer only.
#[utoipa::path(post, path = "/v1/apps", tag = "apps", request_body = NewApp,
    responses((status = 201, body = AppView), (status = 422, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    ProblemJson(new): ProblemJson<NewApp>,
) -> Result<impl IntoResponse, Problem> {
    if let Some(problem) = app_name_problem(&new.name) {
        return Err(invalid("name", problem));
    }
    let created = admin::create_app(&*state.store, &state.secret, tenant_id(&tenant), &new.name)
        .await
        .map_err(Problem::internal)?;
    if let Err(error) = state.access.refresh_if_changed().await {
        tracing::warn!(%error, "could not reload settings after creating an app");
    }
    Ok((
        StatusCode::CREATED,
        Json(view(&created.app, Some(&created.client_key))),
    ))
}

/// One app with its options.
#[utoipa::path(get, path = "/v1/apps/{app_id}", tag = "apps",
    responses((status = 200, body = AppView), (status = 404, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    Path(app_id): Path<String>,
) -> Result<Json<AppView>, Problem> {
    let app = find_app(&state, tenant_id(&tenant), &app_id).await?;
    Ok(Json(view(&app, None)))
}

/// Renames an app, changes its options or JWT secret, or rotates its client key (the new key
/// is in this answer only; the old one stops working at once).
#[utoipa::path(patch, path = "/v1/apps/{app_id}", tag = "apps", request_body = AppChange,
    responses((status = 200, body = AppView), (status = 404, body = ProblemDocument), (status = 422, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn patch(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    Path(app_id): Path<String>,
    ProblemJson(change): ProblemJson<AppChange>,
) -> Result<Json<AppView>, Problem> {
    let current = find_app(&state, tenant_id(&tenant), &app_id).await?;
    if let Some(problem) = change.name.as_deref().and_then(app_name_problem) {
        return Err(invalid("name", problem));
    }
    let options = AppOptions {
        multi_user_per_device: change
            .multi_user_per_device
            .unwrap_or(current.options.multi_user_per_device),
        single_device_per_user: change
            .single_device_per_user
            .unwrap_or(current.options.single_device_per_user),
        profile_ttl_days: change
            .profile_ttl_days
            .unwrap_or(current.options.profile_ttl_days),
    };
    options.validate()?;
    let jwt_secret = match change.jwt_secret {
        None => None,
        Some(None) => Some(None),
        Some(Some(secret)) if secret.len() < MIN_JWT_SECRET || secret.len() > 512 => {
            return Err(invalid("jwt_secret", "from 32 to 512 characters"));
        }
        Some(Some(secret)) => Some(Some(state.secret.seal(&PlainSecret::new(secret)).sealed)),
    };
    let new_key = change
        .rotate_client_key
        .then(|| PlainSecret::generate(CLIENT_KEY_PREFIX));
    let app = update(
        &state,
        &tenant,
        &app_id,
        AppUpdate {
            name: change.name,
            options: Some(options),
            jwt_secret,
            client_key: new_key.as_ref().map(|key| state.secret.seal(key)),
            device_policy: None,
        },
    )
    .await?;
    Ok(Json(view(&app, new_key.as_ref())))
}

/// The enabled device monitors per platform.
#[utoipa::path(get, path = "/v1/apps/{app_id}/device-policy", tag = "apps",
    responses((status = 200, body = DevicePolicyDoc), (status = 404, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn get_policy(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    Path(app_id): Path<String>,
) -> Result<Json<DevicePolicy>, Problem> {
    Ok(Json(
        find_app(&state, tenant_id(&tenant), &app_id)
            .await?
            .device_policy,
    ))
}

/// Replaces the policy. A monitor the catalogue does not offer for that platform and category
/// is refused, and so is an interval outside 60 s to 7 days.
#[utoipa::path(put, path = "/v1/apps/{app_id}/device-policy", tag = "apps", request_body = DevicePolicyDoc,
    responses((status = 200, body = DevicePolicyDoc), (status = 404, body = ProblemDocument), (status = 422, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn put_policy(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    Path(app_id): Path<String>,
    ProblemJson(policy): ProblemJson<DevicePolicy>,
) -> Result<Json<DevicePolicy>, Problem> {
    policy.validate()?;
    let app = update(
        &state,
        &tenant,
        &app_id,
        AppUpdate {
            device_policy: Some(policy),
            ..AppUpdate::default()
        },
    )
    .await?;
    Ok(Json(app.device_policy))
}

/// The monitor catalogue: display names and keys, and what each platform's SDKs offer per
/// SDK band and category.
#[utoipa::path(get, path = "/v1/device-attributes", tag = "apps",
    responses((status = 200, body = DeviceCatalogue)),
    security(("profile_key" = [])))]
pub async fn catalogue() -> Json<DeviceCatalogue> {
    let keys = |keys: &[&str]| keys.iter().map(|k| (*k).to_owned()).collect();
    let mut offers = Vec::new();
    for platform in Platform::ALL {
        for band in SdkBand::ALL {
            let offer = device::offered(platform, band);
            offers.push(OfferView {
                platform: platform.as_str().to_owned(),
                sdk_band: band.as_str().to_owned(),
                one_time: keys(offer.one_time),
                event: keys(offer.event),
                interval: keys(offer.interval),
            });
        }
    }
    Json(DeviceCatalogue {
        attributes: DEVICE_ATTRIBUTES
            .iter()
            .map(|a| DeviceAttributeView {
                key: a.key.to_owned(),
                display_name: a.display_name.to_owned(),
            })
            .collect(),
        offers,
        min_interval_seconds: MIN_INTERVAL_SECONDS,
        max_interval_seconds: MAX_INTERVAL_SECONDS,
    })
}
