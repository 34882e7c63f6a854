//! Admission to the compatible API, in the order the product reports failures: key missing
//! (7002), key wrong (7001), client IP not allowed (7010), rate limit (7020).

use super::codes::{Code, CompatError};
use crate::access::{Principal, TenantAccess};
use crate::edge::client_ip::client_ip;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// Header names a key may arrive in (§2.2): the profile key in `key`; SDK-style clients send
/// `secretKey`, which may hold the profile key or an app's client key.
const KEY_HEADERS: [&str; 2] = ["key", "secretkey"];

pub async fn admit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    match principal_of(&state, &request) {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(refused) => refused.into_response(),
    }
}

fn principal_of(state: &AppState, request: &Request) -> Result<Principal, CompatError> {
    // The first header that holds a key: an empty `key` does not hide a `secretKey`.
    let presented = KEY_HEADERS
        .iter()
        .filter_map(|name| request.headers().get(*name))
        .filter_map(|value| value.to_str().ok())
        .map(str::trim)
        .find(|value| !value.is_empty())
        .ok_or_else(|| CompatError::new(Code::KeyMissing, "Service Key Missing"))?;
    let principal = state
        .access
        .authenticate(presented, Utc::now())
        .ok_or_else(|| CompatError::new(Code::AuthenticationFailed, "Authentication failed"))?;
    let tenant = principal.tenant();
    if !tenant.allowed_ips.is_empty() {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        let allowed = peer
            .map(|peer| client_ip(peer, request.headers(), &state.edge.trusted_proxies))
            .is_some_and(|ip| tenant.allows(ip));
        if !allowed {
            return Err(CompatError::new(
                Code::IpNotAllowed,
                "Source IP is not in the allowed list",
            ));
        }
    }
    let limit = match tenant.tenant.rate_limit {
        0 => state.edge.default_rate_limit,
        own => own,
    };
    if !state
        .rate_limiter
        .admit(&tenant.tenant.tenant_id, limit, Instant::now())
    {
        return Err(CompatError::new(
            Code::RateLimited,
            "You have reached the maximum transaction limit",
        ));
    }
    Ok(principal)
}

/// Customer routes need the tenant's profile key; an app's client key covers its app only.
pub fn tenant_scope(principal: &Principal) -> Result<&Arc<TenantAccess>, CompatError> {
    match principal {
        Principal::Tenant(tenant) => Ok(tenant),
        Principal::App { .. } => Err(CompatError::new(
            Code::AuthenticationFailed,
            "Authentication failed: a client key authorises only its own app's profiles",
        )),
    }
}

/// App-profile routes: the app must be the tenant's (7018), and a client key must be that app's.
pub fn app_scope<'a>(
    state: &AppState,
    principal: &'a Principal,
    app_id: &str,
) -> Result<&'a Arc<TenantAccess>, CompatError> {
    let tenant = principal.tenant();
    let scoped = match principal {
        Principal::Tenant(_) => state
            .access
            .app_belongs_to(app_id, &tenant.tenant.tenant_id),
        Principal::App { app_id: own, .. } => own == app_id,
    };
    if !scoped {
        return Err(profilestore_core::DomainError::UnknownApp {
            app_id: app_id.to_owned(),
        }
        .into());
    }
    Ok(tenant)
}

/// `--compat-always-200`: every compatible-API answer goes out as HTTP 200, code in the body.
pub async fn always_200(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if state.edge.compat_always_200 {
        *response.status_mut() = axum::http::StatusCode::OK;
    }
    response
}
