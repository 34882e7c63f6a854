//! Admission to the native API: the tenant's profile key as `Authorization: Bearer <key>` (or
//! in the `key` header); refusals are problem+json. App client keys are for the SDK routes.
//!
//! A request without a key that carries the admin console's session cookie is admitted for
//! the session's tenant instead (the console's script calls `/v1` this way), with the CSRF
//! header required on every request that changes something. The tenant's IP allow list and
//! rate limit govern its API keys, not signed-in people, so they do not apply to a session.

use super::problem::Problem;
use crate::access::{Principal, TenantAccess};
use crate::console;
use crate::edge::admission::{self, Refusal, first_header};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub async fn admit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let bearer = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|key| !key.is_empty());
    let presented = bearer.or_else(|| first_header(&request, &["key"]));
    if presented.is_none() && console::session::cookie_token(request.headers()).is_some() {
        // Owned copies: a future holding `&Request` across an await is not `Send`.
        let (headers, method) = (request.headers().clone(), request.method().clone());
        return match console_tenant(&state, &headers, &method).await {
            Ok(tenant) => {
                request.extensions_mut().insert(tenant);
                next.run(request).await
            }
            Err(problem) => problem.into_response(),
        };
    }
    match admission::admit(&state, &request, presented) {
        Ok(Principal::Tenant(tenant)) => {
            request.extensions_mut().insert(tenant);
            next.run(request).await
        }
        Ok(Principal::App { .. }) => Problem::new(
            StatusCode::FORBIDDEN,
            "client-key",
            "Forbidden",
            "an app's client key cannot use the native API; use the tenant's profile key",
        )
        .into_response(),
        Err(refusal) => refused(refusal).into_response(),
    }
}

/// The tenant a console session acts on (CSRF-checked when the request changes state).
async fn console_tenant(
    state: &AppState,
    headers: &HeaderMap,
    method: &Method,
) -> Result<Arc<TenantAccess>, Problem> {
    let signed_in = console::session::signed_in(state, headers, method).await?;
    console::session_tenant(state, &signed_in).await
}

fn refused(refusal: Refusal) -> Response {
    let problem = match refusal {
        Refusal::KeyMissing => {
            Problem::unauthorized("send the tenant's profile key as Authorization: Bearer <key>")
        }
        Refusal::KeyWrong => Problem::unauthorized("the key is not a valid profile key"),
        Refusal::IpNotAllowed => Problem::new(
            StatusCode::FORBIDDEN,
            "ip-not-allowed",
            "Forbidden",
            "the client address is not in the tenant's IP allow list",
        ),
        Refusal::RateLimited => Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            "the tenant's rate limit is reached; retry later",
        ),
    };
    let mut response = problem.into_response();
    if matches!(refusal, Refusal::KeyMissing | Refusal::KeyWrong) {
        response.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer"),
        );
    }
    response
}
