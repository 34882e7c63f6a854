//! `/console/api/session`: sign in (e-mail and password, rate limited), who is signed in (with
//! the CSRF token the page sends back), sign out; an operator's choice of tenant; the tenants a
//! session may act on.

use super::password::{verify_nobody, verify_password};
use super::rfc3339;
use super::scope::{Body, invalid, operators_only, session_tenant};
use super::session::{self, SignedIn};
use crate::api::v1::problem::Problem;
use crate::edge::client_ip::client_ip;
use crate::secrets::digest;
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use profilestore_store::console::{ConsoleSession, ConsoleUser};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Instant;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    email: String,
    password: String,
}

#[derive(Serialize)]
pub struct TenantRef {
    tenant_id: String,
    name: String,
}

#[derive(Serialize)]
pub struct SessionView {
    email: String,
    operator: bool,
    /// The tenant the session acts on (null: an operator who has not chosen one).
    tenant: Option<TenantRef>,
    /// Send this back as `X-CSRF-Token` on every request that changes something.
    csrf_token: String,
    expires_at: String,
}

async fn view(state: &AppState, signed_in: &SignedIn) -> Result<SessionView, Problem> {
    let tenant = match signed_in.tenant_id() {
        Some(_) => {
            let access = session_tenant(state, signed_in).await?;
            Some(TenantRef {
                tenant_id: access.tenant.tenant_id.clone(),
                name: access.tenant.name.clone(),
            })
        }
        None => None,
    };
    Ok(SessionView {
        email: signed_in.user.email.clone(),
        operator: signed_in.is_operator(),
        tenant,
        csrf_token: signed_in.csrf.clone(),
        expires_at: rfc3339(signed_in.session.expires_at),
    })
}

fn wrong_credentials() -> Problem {
    Problem::unauthorized("the e-mail address or the password is wrong")
}

fn throttled() -> Response {
    let mut response = Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "sign-in-throttled",
        "Too many sign-in attempts",
        "too many sign-in attempts; wait a few minutes and try again",
    )
    .into_response();
    let retry = HeaderValue::from(super::throttle::WINDOW.as_secs());
    response.headers_mut().insert(header::RETRY_AFTER, retry);
    response
}

/// Signs in: a session cookie and the session's view (with its CSRF token).
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(form): Body<SignIn>,
) -> Result<Response, Problem> {
    let email = form.email.trim().to_lowercase();
    if email.is_empty() {
        return Err(invalid("email", "required"));
    }
    let client = client_ip(peer.ip(), &headers, &state.edge.trusted_proxies).to_string();
    if !state
        .console
        .throttle
        .attempt(&email, &client, Instant::now())
    {
        tracing::warn!(client, "console sign-in throttled");
        return Ok(throttled());
    }
    let user = state.store.console_user_by_email(&email).await?;
    let verified = verify(user.clone(), form.password).await?;
    let Some(user) = user.filter(|_| verified) else {
        state.console.throttle.failed(&email, Instant::now());
        tracing::info!(client, "console sign-in refused");
        return Err(wrong_credentials());
    };
    state.console.throttle.succeeded(&email);
    let token = session::new_token();
    let now = Utc::now();
    let session = ConsoleSession {
        token_digest: digest(token.expose()),
        user_id: user.user_id.clone(),
        tenant_id: user.tenant_id.clone(),
        created_at: now,
        expires_at: now + session::LIFETIME,
    };
    state.store.create_console_session(session.clone()).await?;
    tracing::info!(user_id = %user.user_id, "console sign-in");
    let signed_in = SignedIn {
        session,
        user,
        csrf: session::csrf_token(token.expose()),
    };
    let body = view(&state, &signed_in).await?;
    let cookie = session::set_cookie(token.expose(), state.console.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// Argon2 takes tens of milliseconds of CPU: off the async threads.
async fn verify(user: Option<ConsoleUser>, password: String) -> Result<bool, Problem> {
    tokio::task::spawn_blocking(move || match user {
        Some(user) => verify_password(&password, &user.password_hash),
        None => {
            verify_nobody(&password);
            false
        }
    })
    .await
    .map_err(Problem::internal)
}

/// Who is signed in, and the CSRF token to send back.
pub async fn current(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Json<SessionView>, Problem> {
    Ok(Json(view(&state, &signed_in).await?))
}

/// Signs out: the session ends on every node, and the cookie is removed.
pub async fn sign_out(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, Problem> {
    state
        .store
        .delete_console_session(&signed_in.session.token_digest)
        .await?;
    tracing::info!(user_id = %signed_in.user.user_id, "console sign-out");
    let cookie = session::clear_cookie(state.console.secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChooseTenant {
    tenant_id: String,
}

/// An operator chooses the tenant the session acts on (by id or name).
pub async fn choose_tenant(
    State(state): State<AppState>,
    mut signed_in: SignedIn,
    Body(choice): Body<ChooseTenant>,
) -> Result<Json<SessionView>, Problem> {
    operators_only(&signed_in)?;
    let tenant = state
        .store
        .find_tenant(&choice.tenant_id)
        .await?
        .ok_or_else(|| invalid("tenant_id", "no such tenant"))?;
    state
        .store
        .set_console_session_tenant(&signed_in.session.token_digest, &tenant.tenant_id)
        .await?;
    signed_in.session.tenant_id = Some(tenant.tenant_id);
    Ok(Json(view(&state, &signed_in).await?))
}

#[derive(Serialize)]
pub struct TenantList {
    tenants: Vec<TenantRef>,
}

/// The tenants this session may act on: every tenant for an operator, else the user's own.
pub async fn tenants(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Json<TenantList>, Problem> {
    let all = state.store.list_tenants().await?;
    let tenants = all
        .into_iter()
        .filter(|t| signed_in.is_operator() || signed_in.tenant_id() == Some(&t.tenant_id))
        .map(|t| TenantRef {
            tenant_id: t.tenant_id,
            name: t.name,
        })
        .collect();
    Ok(Json(TenantList { tenants }))
}
