//! The device SDK API (`/api/v3/{appId}/...`, reference §8.4): registration, userId and
//! customerId changes, unregistration, monitor readings and the device policy.
//!
//! # Layout
//! - `mod.rs`: the routes and admission (the app's client key in `secretKey`; another app's
//!   key, or a tenant's profile key, is refused), and the JWT rule.
//! - `wire`: bodies, answers and the SDK error codes. `jwt`: HS256 tokens.
//! - `handlers`: one function per call: parse, one `Store::sdk_write`, render.

mod handlers;
pub mod jwt;
mod wire;

use crate::access::Principal;
use crate::edge::admission::{self, Refusal, first_header};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use profilestore_core::ids::AppId;
use profilestore_store::model::{App, SealedSecret};
use std::sync::Arc;
use wire::{SdkError, code};

/// The app an admitted SDK call belongs to, with its settings as of the last reload.
#[derive(Clone)]
pub struct Caller {
    pub tenant_id: String,
    pub app_id: AppId,
    pub app: Arc<App>,
}

/// Where every SDK call's path starts; the app id follows it.
const PREFIX: &str = "/api/v3/";

pub fn router(state: AppState) -> Router<AppState> {
    // Full paths rather than a router nested at `/api/v3/{app_id}`: a nested router rewrites
    // each request's URI to strip its prefix, work done on every call.
    let at = |call: &str| format!("{PREFIX}{{app_id}}/{call}");
    Router::new()
        .route(&at("register"), post(handlers::register))
        .route(&at("verifyPolicy"), get(handlers::verify_policy))
        .route(&at("setUserId"), post(handlers::set_user_id))
        .route(&at("removeUserId"), post(handlers::remove_user_id))
        .route(&at("setCustomerId"), post(handlers::set_customer_id))
        .route(&at("removeCustomerId"), post(handlers::remove_customer_id))
        .route(&at("unregister"), post(handlers::unregister))
        .route(&at("profileupdate"), post(handlers::profile_update))
        .route_layer(axum::middleware::from_fn_with_state(state, admit))
}

async fn admit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    match caller(&state, &request) {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(refused) => refused.into_response(),
    }
}

fn caller(state: &AppState, request: &Request) -> Result<Caller, SdkError> {
    let presented = first_header(request, &["secretkey"]);
    let principal = admission::admit(state, request, presented).map_err(refused)?;
    let addressed = request
        .uri()
        .path()
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    let wrong_key = || {
        SdkError::new(
            StatusCode::UNAUTHORIZED,
            code::AUTHENTICATION_FAILED,
            "secretKey is not this app's client key",
        )
    };
    let Principal::App { tenant, app_id } = principal else {
        return Err(wrong_key());
    };
    if app_id != addressed {
        return Err(wrong_key());
    }
    let app = state.access.app(&app_id).ok_or_else(wrong_key)?;
    Ok(Caller {
        tenant_id: tenant.tenant.tenant_id.clone(),
        app_id: AppId::parse(app_id).map_err(|_| wrong_key())?,
        app,
    })
}

fn refused(refusal: Refusal) -> SdkError {
    match refusal {
        Refusal::KeyMissing | Refusal::KeyWrong => SdkError::new(
            StatusCode::UNAUTHORIZED,
            code::AUTHENTICATION_FAILED,
            "send the app's client key in the secretKey header",
        ),
        Refusal::IpNotAllowed => SdkError::new(
            StatusCode::FORBIDDEN,
            code::IP_NOT_ALLOWED,
            "the client address is not in the tenant's IP allow list",
        ),
        Refusal::RateLimited => SdkError::new(
            StatusCode::TOO_MANY_REQUESTS,
            code::RATE_LIMITED,
            "the tenant's rate limit is reached; retry later",
        ),
    }
}

/// The JWT rule: when the app has a JWT secret, the call's bearer token must be valid, unexpired
/// and (when the call names a user) be that user's.
fn check_token(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    user_id: Option<&str>,
) -> Result<(), SdkError> {
    let Some(sealed) = &caller.app.jwt_secret else {
        return Ok(());
    };
    let secret = state
        .secret
        .unseal(&SealedSecret {
            digest: String::new(),
            sealed: sealed.clone(),
        })
        .map_err(|error| {
            tracing::error!(%error, app = %caller.app_id, "cannot unseal the app's JWT secret");
            SdkError::internal()
        })?;
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|token| !token.is_empty());
    jwt::verify(
        token,
        secret.expose(),
        user_id,
        chrono::Utc::now().timestamp(),
    )?;
    Ok(())
}
