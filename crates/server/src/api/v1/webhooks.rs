//! `/v1/webhooks`: the tenant's webhooks. Each receives, in seq order and at least once, the
//! events that pass its filters (types, changed attributes), signed per Standard Webhooks with
//! a secret shown only at creation. See `crate::events::webhook_relay` for delivery.

use super::body::ProblemJson;
use super::problem::{Problem, ProblemDocument};
use super::query::{Query, invalid};
use crate::access::TenantAccess;
use crate::events::filter::{EventFilter, FilterError};
use crate::events::signing::generate_secret;
use crate::state::AppState;
use axum::Extension;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use profilestore_store::webhooks::{DeliveryAttempt, NewWebhook, Webhook, WebhookChange};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// Most webhooks a tenant may have: each one is a delivery task and a read of the log.
pub const MAX_WEBHOOKS: usize = 25;
const MAX_URL: usize = 2048;
const MAX_FILTER_ITEMS: usize = 100;
const DEFAULT_DELIVERIES: i64 = 50;
const MAX_DELIVERIES: i64 = 500;

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub webhook_id: String,
    pub url: String,
    /// Only events of these types; empty: every type.
    pub event_types: Vec<String>,
    /// Only events that change one of these attributes; empty: every event.
    pub attributes: Vec<String>,
    pub enabled: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    pub delivery: DeliveryView,
    /// The signing secret (`whsec_...`): only in the answer to the creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// Events up to this seq are delivered (or did not pass the filters).
    pub delivered_through_seq: i64,
    /// Failed attempts in a row at the next event.
    pub failed_attempts: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub failing_since: Option<DateTime<Utc>>,
    /// When the next attempt is due, while failing.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why deliveries stopped (the webhook failed for too long); enabling it clears this.
    pub disabled_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookBody {
    /// Where events are POSTed: an absolute http(s) URL.
    pub url: String,
    #[serde(default)]
    pub event_types: Vec<String>,
    #[serde(default)]
    pub attributes: Vec<String>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookChangeBody {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub attributes: Option<Vec<String>>,
    /// Enabling clears failures and a disabled reason; delivery resumes where it stopped.
    pub enabled: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    #[schema(value_type = String, format = DateTime)]
    pub attempted_at: DateTime<Utc>,
    pub seq: i64,
    pub event_id: String,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u32,
    pub succeeded: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptList {
    /// Newest first.
    pub deliveries: Vec<AttemptView>,
}

fn view(webhook: Webhook, secret: Option<String>) -> WebhookView {
    let state = webhook.state;
    let failing = state.failing_since.is_some();
    WebhookView {
        webhook_id: webhook.webhook_id,
        url: webhook.url,
        event_types: webhook.event_types,
        attributes: webhook.attributes,
        enabled: webhook.enabled,
        created_at: webhook.created_at,
        updated_at: webhook.updated_at,
        delivery: DeliveryView {
            delivered_through_seq: state.cursor,
            failed_attempts: state.attempts,
            failing_since: state.failing_since,
            next_attempt_at: (failing && webhook.enabled).then_some(state.next_attempt_at),
            disabled_reason: state.disabled_reason,
        },
        secret,
    }
}

fn attempt_view(attempt: DeliveryAttempt) -> AttemptView {
    AttemptView {
        attempted_at: attempt.attempted_at,
        seq: attempt.seq,
        event_id: attempt.event_id,
        status: attempt.status,
        error: attempt.error,
        duration_ms: attempt.duration_ms,
        succeeded: attempt.succeeded,
    }
}

fn check_url(url: &str) -> Result<(), Problem> {
    if url.len() > MAX_URL {
        return Err(invalid("url", format!("at most {MAX_URL} characters")));
    }
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => Ok(()),
        _ => Err(invalid("url", "an absolute http:// or https:// URL")),
    }
}

fn check_filter(event_types: &[String], attributes: &[String]) -> Result<(), Problem> {
    if event_types.len() > MAX_FILTER_ITEMS {
        return Err(invalid(
            "event_types",
            format!("at most {MAX_FILTER_ITEMS}"),
        ));
    }
    if attributes.len() > MAX_FILTER_ITEMS {
        return Err(invalid("attributes", format!("at most {MAX_FILTER_ITEMS}")));
    }
    match EventFilter::new(event_types.to_vec(), attributes.to_vec()) {
        Ok(_) => Ok(()),
        Err(FilterError::Type(message)) => Err(invalid("event_types", &message)),
        Err(FilterError::Attribute(message)) => Err(invalid("attributes", &message)),
    }
}

fn not_found() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "Webhook not found",
        "the tenant has no webhook with this id",
    )
}

async fn find(state: &AppState, tenant: &TenantAccess, id: &str) -> Result<Webhook, Problem> {
    state
        .store
        .get_webhook(&tenant.tenant.tenant_id, id)
        .await?
        .ok_or_else(not_found)
}

/// The tenant's webhooks.
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = WebhookList)),
    security(("profile_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
) -> Result<Json<WebhookList>, Problem> {
    let webhooks = state.store.list_webhooks(&tenant.tenant.tenant_id).await?;
    Ok(Json(WebhookList {
        webhooks: webhooks.into_iter().map(|w| view(w, None)).collect(),
    }))
}

/// Creates a webhook; it receives the events written from now on. The answer is the only
/// time its signing secret is shown.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = NewWebhookBody,
    responses((status = 201, body = WebhookView), (status = 422, body = ProblemDocument), (status = 409, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    ProblemJson(body): ProblemJson<NewWebhookBody>,
) -> Result<impl IntoResponse, Problem> {
    check_url(&body.url)?;
    check_filter(&body.event_types, &body.attributes)?;
    let tenant_id = &tenant.tenant.tenant_id;
    if state.store.list_webhooks(tenant_id).await?.len() >= MAX_WEBHOOKS {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "too-many-webhooks",
            "Too many webhooks",
            format!("a tenant has at most {MAX_WEBHOOKS} webhooks; delete one first"),
        ));
    }
    let secret = generate_secret();
    let webhook_id = format!("wh_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    let webhook = state
        .store
        .create_webhook(
            tenant_id,
            webhook_id,
            NewWebhook {
                url: body.url,
                event_types: body.event_types,
                attributes: body.attributes,
                enabled: body.enabled,
                secret: state.secret.seal(&secret),
            },
            Utc::now(),
        )
        .await?;
    let shown = Some(secret.expose().to_owned());
    Ok((StatusCode::CREATED, Json(view(webhook, shown))))
}

/// One webhook with where its deliveries stand.
#[utoipa::path(get, path = "/v1/webhooks/{webhook_id}", tag = "webhooks",
    responses((status = 200, body = WebhookView), (status = 404, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    Path(webhook_id): Path<String>,
) -> Result<Json<WebhookView>, Problem> {
    Ok(Json(view(find(&state, &tenant, &webhook_id).await?, None)))
}

/// Changes a webhook's URL, filters or whether it is enabled.
#[utoipa::path(patch, path = "/v1/webhooks/{webhook_id}", tag = "webhooks", request_body = WebhookChangeBody,
    responses((status = 200, body = WebhookView), (status = 404, body = ProblemDocument), (status = 422, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn patch(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    Path(webhook_id): Path<String>,
    ProblemJson(body): ProblemJson<WebhookChangeBody>,
) -> Result<Json<WebhookView>, Problem> {
    if let Some(url) = &body.url {
        check_url(url)?;
    }
    check_filter(
        body.event_types.as_deref().unwrap_or_default(),
        body.attributes.as_deref().unwrap_or_default(),
    )?;
    let change = WebhookChange {
        url: body.url,
        event_types: body.event_types,
        attributes: body.attributes,
        enabled: body.enabled,
        replay_from: None,
    };
    apply(&state, &tenant, &webhook_id, change).await.map(Json)
}

async fn apply(
    state: &AppState,
    tenant: &TenantAccess,
    webhook_id: &str,
    change: WebhookChange,
) -> Result<WebhookView, Problem> {
    let webhook = state
        .store
        .change_webhook(&tenant.tenant.tenant_id, webhook_id, change, Utc::now())
        .await?
        .ok_or_else(not_found)?;
    Ok(view(webhook, None))
}

/// Deletes a webhook and its delivery history.
#[utoipa::path(delete, path = "/v1/webhooks/{webhook_id}", tag = "webhooks",
    responses((status = 204), (status = 404, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    Path(webhook_id): Path<String>,
) -> Result<StatusCode, Problem> {
    if state
        .store
        .delete_webhook(&tenant.tenant.tenant_id, &webhook_id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}

/// Recent delivery attempts, newest first.
#[utoipa::path(get, path = "/v1/webhooks/{webhook_id}/deliveries", tag = "webhooks",
    params(("limit" = Option<i64>, Query, description = "At most this many (1 to 500, default 50)")),
    responses((status = 200, body = AttemptList), (status = 404, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn deliveries(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    Path(webhook_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<AttemptList>, Problem> {
    let query = Query::parse(raw.as_deref(), &["limit"])?;
    let limit = query
        .integer("limit", 1, MAX_DELIVERIES)?
        .unwrap_or(DEFAULT_DELIVERIES);
    find(&state, &tenant, &webhook_id).await?;
    let attempts = state
        .store
        .webhook_deliveries(&tenant.tenant.tenant_id, &webhook_id, limit as u32)
        .await?;
    Ok(Json(AttemptList {
        deliveries: attempts.into_iter().map(attempt_view).collect(),
    }))
}

/// Sends the kept events from `from_seq` on again (in order), and clears failures.
#[utoipa::path(post, path = "/v1/webhooks/{webhook_id}/replay", tag = "webhooks",
    params(("from_seq" = i64, Query, description = "The first seq to send again (1 or more)")),
    responses((status = 202, body = WebhookView), (status = 404, body = ProblemDocument), (status = 422, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn replay(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    Path(webhook_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<impl IntoResponse, Problem> {
    let query = Query::parse(raw.as_deref(), &["from_seq"])?;
    let from_seq = query
        .integer("from_seq", 1, i64::MAX)?
        .ok_or_else(|| invalid("from_seq", "required: the first seq to send again"))?;
    let change = WebhookChange {
        replay_from: Some(from_seq),
        ..Default::default()
    };
    let webhook = apply(&state, &tenant, &webhook_id, change).await?;
    Ok((StatusCode::ACCEPTED, Json(webhook)))
}
