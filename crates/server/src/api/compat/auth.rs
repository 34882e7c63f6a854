//! Admission to the compatible API, in the order the product reports failures: key missing
//! (7002), key wrong (7001), client IP not allowed (7010), rate limit (7020).

use super::codes::{Code, CompatError};
use crate::access::{Principal, TenantAccess};
use crate::edge::admission::{self, Refusal, first_header};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Header names a key may arrive in (§2.2): the profile key in `key`; SDK-style clients send
/// `secretKey`, which may hold the profile key or an app's client key.
const KEY_HEADERS: [&str; 2] = ["key", "secretkey"];

/// Admits the request (or answers its refusal); `--compat-always-200` applies to both.
pub async fn admit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    // The first header that holds a key: an empty `key` does not hide a `secretKey`.
    let presented = first_header(&request, &KEY_HEADERS);
    let mut response = match admission::admit(&state, &request, presented) {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(refusal) => refused(refusal).into_response(),
    };
    // Every compatible-API answer then goes out as HTTP 200, its code in the body.
    if state.edge.compat_always_200 {
        *response.status_mut() = axum::http::StatusCode::OK;
    }
    response
}

fn refused(refusal: Refusal) -> CompatError {
    match refusal {
        Refusal::KeyMissing => CompatError::new(Code::KeyMissing, "Service Key Missing"),
        Refusal::KeyWrong => CompatError::new(Code::AuthenticationFailed, "Authentication failed"),
        Refusal::IpNotAllowed => {
            CompatError::new(Code::IpNotAllowed, "Source IP is not in the allowed list")
        }
        Refusal::RateLimited => CompatError::new(
            Code::RateLimited,
            "You have reached the maximum transaction limit",
        ),
    }
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
