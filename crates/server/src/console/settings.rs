//! Tenant Settings: the profile key (shown on request, rotated with a grace period), the IP
//! allow list and the rate limit. These were CLI-only; the console's routes do what the CLI's
//! `tenant show-key|rotate-key|allow-ip|rate-limit` do, through the same store operations, and
//! make this node see the change at once (others within one settings poll).

use super::rfc3339;
use super::scope::{Body, Scoped, invalid, operators_only};
use crate::admin::{key_grace_problem, normalise_allow_list};
use crate::api::v1::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use chrono::Utc;
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
pub struct TenantSettings {
    tenant_id: String,
    name: String,
    /// The ProfileID the compatible API prints in OutwardLinks.
    store_number: i64,
    /// Requests per second; 0: the server's default (`default_rate_limit`, 0 = unlimited).
    rate_limit: u32,
    default_rate_limit: u32,
    allowed_ips: Vec<String>,
    /// Whether this user may change the rate limit (operators only).
    can_set_rate_limit: bool,
    created_at: String,
}

async fn reload(state: &AppState) {
    if let Err(error) = state.access.refresh_if_changed().await {
        tracing::warn!(%error, "could not reload settings after a console change");
    }
}

fn settings_of(state: &AppState, scoped: &Scoped) -> TenantSettings {
    let tenant = &scoped.tenant;
    TenantSettings {
        tenant_id: tenant.tenant_id.clone(),
        name: tenant.name.clone(),
        store_number: tenant.store_number,
        rate_limit: tenant.rate_limit,
        default_rate_limit: state.edge.default_rate_limit,
        allowed_ips: tenant.allowed_ips.clone(),
        can_set_rate_limit: scoped.signed_in.is_operator(),
        created_at: rfc3339(tenant.created_at),
    }
}

pub async fn get(State(state): State<AppState>, scoped: Scoped) -> Json<TenantSettings> {
    Json(settings_of(&state, &scoped))
}

#[derive(Serialize)]
pub struct ProfileKeyView {
    profile_key: String,
    created_at: String,
    /// When older keys stop working, after a rotation with a grace period.
    #[serde(skip_serializing_if = "Option::is_none")]
    older_keys_retire_at: Option<String>,
}

/// The tenant's newest profile key, unsealed with the server secret (the "view" icon).
pub async fn profile_key(
    State(state): State<AppState>,
    scoped: Scoped,
) -> Result<Json<ProfileKeyView>, Problem> {
    let key = state
        .store
        .current_profile_key(scoped.tenant_id())
        .await?
        .ok_or_else(|| Problem::internal("the tenant has no profile key"))?;
    let plain = state
        .secret
        .unseal(&key.secret)
        .map_err(Problem::internal)?;
    tracing::info!(user_id = %scoped.signed_in.user.user_id, tenant = %scoped.tenant_id(), "profile key shown in the console");
    Ok(Json(ProfileKeyView {
        profile_key: plain.expose().to_owned(),
        created_at: rfc3339(key.created_at),
        older_keys_retire_at: None,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotate {
    /// How long the older keys keep working (0: stop at once).
    grace_seconds: u32,
}

/// A new profile key; older keys keep working for the grace period (like `tenant rotate-key`).
pub async fn rotate_profile_key(
    State(state): State<AppState>,
    scoped: Scoped,
    Body(rotate): Body<Rotate>,
) -> Result<Json<ProfileKeyView>, Problem> {
    if let Some(problem) = key_grace_problem(rotate.grace_seconds) {
        return Err(invalid("grace_seconds", problem));
    }
    let now = Utc::now();
    let rotated = crate::admin::rotate_profile_key(
        &*state.store,
        &state.secret,
        scoped.tenant_id(),
        rotate.grace_seconds,
        now,
    )
    .await?;
    reload(&state).await;
    tracing::info!(user_id = %scoped.signed_in.user.user_id, tenant = %scoped.tenant_id(), grace_seconds = rotate.grace_seconds, "profile key rotated in the console");
    Ok(Json(ProfileKeyView {
        profile_key: rotated.key.expose().to_owned(),
        created_at: rfc3339(now),
        older_keys_retire_at: Some(rfc3339(rotated.retire_at)),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowList {
    allowed_ips: Vec<String>,
}

/// Replaces the IP allow list (empty: every address allowed).
pub async fn set_allowed_ips(
    State(state): State<AppState>,
    mut scoped: Scoped,
    Body(body): Body<AllowList>,
) -> Result<Json<TenantSettings>, Problem> {
    let list = normalise_allow_list(&body.allowed_ips)
        .map_err(|(index, message)| invalid(&format!("allowed_ips[{index}]"), message))?;
    state
        .store
        .set_allowed_ips(scoped.tenant_id(), &list)
        .await?;
    reload(&state).await;
    scoped.tenant.allowed_ips = list;
    Ok(Json(settings_of(&state, &scoped)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    requests_per_second: u32,
}

/// Sets the tenant's rate limit (0: the server's default). Operators only: the limit protects
/// the server that tenants share.
pub async fn set_rate_limit(
    State(state): State<AppState>,
    mut scoped: Scoped,
    Body(body): Body<RateLimit>,
) -> Result<Json<TenantSettings>, Problem> {
    operators_only(&scoped.signed_in)?;
    state
        .store
        .set_rate_limit(scoped.tenant_id(), body.requests_per_second)
        .await?;
    reload(&state).await;
    scoped.tenant.rate_limit = body.requests_per_second;
    Ok(Json(settings_of(&state, &scoped)))
}
