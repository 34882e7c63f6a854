//! The admin console at `/console`: one page and its scripts served from the binary, and the
//! routes its script calls under `/console/api`. For everything the native API already does
//! (apps, device policies, the schema registry, customers, events) the script calls `/v1`
//! itself, signed in by the console's session cookie instead of a profile key (see
//! `api/v1/auth.rs`); `/console/api` holds only what the native API does not offer.
//!
//! # Layout
//! - [`assets`]: the page, styles and scripts (`assets/`), with a strict CSP.
//! - [`password`]: Argon2id hashing; [`users`]: the user rules, shared with `profilestore user`.
//! - [`session`]: session cookies, server-side sessions by digest, CSRF tokens.
//! - [`throttle`]: the sign-in rate limit. `scope`: extractors (signed in, tenant, bodies).
//! - `signin`: sign in and out, the operator's choice of tenant.
//! - `settings`: Tenant Settings (profile key, IP allow list, rate limit).
//! - `apps`: an app's client key. `profiles`: a customer's devices, events and edits.
//! - `overview`: the counts of the overview page.

mod apps;
pub mod assets;
mod overview;
pub mod password;
mod profiles;
mod scope;
pub mod session;
mod settings;
mod signin;
pub mod throttle;
pub mod users;

pub use scope::session_tenant;

use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post, put};
use profilestore_store::Store;
use std::sync::Arc;
use std::time::Duration;
use throttle::SignInThrottle;
use tokio::sync::watch;

/// How often expired sessions are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// What the console keeps per server process.
#[derive(Default)]
pub struct ConsoleState {
    /// Mark cookies `Secure` (the server speaks TLS).
    pub secure_cookies: bool,
    pub throttle: SignInThrottle,
}

impl ConsoleState {
    pub fn new(secure_cookies: bool) -> Arc<Self> {
        Arc::new(ConsoleState {
            secure_cookies,
            throttle: SignInThrottle::default(),
        })
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(assets::index))
        .route("/console/", get(assets::index))
        .route("/console/assets/{file}", get(assets::asset))
        .route(
            "/console/api/session",
            post(signin::sign_in)
                .get(signin::current)
                .delete(signin::sign_out),
        )
        .route("/console/api/session/tenant", put(signin::choose_tenant))
        .route("/console/api/tenants", get(signin::tenants))
        .route("/console/api/tenant", get(settings::get))
        .route(
            "/console/api/tenant/profile-key",
            get(settings::profile_key),
        )
        .route(
            "/console/api/tenant/profile-key/rotate",
            post(settings::rotate_profile_key),
        )
        .route(
            "/console/api/tenant/allowed-ips",
            put(settings::set_allowed_ips),
        )
        .route(
            "/console/api/tenant/rate-limit",
            put(settings::set_rate_limit),
        )
        .route(
            "/console/api/apps/{app_id}/client-key",
            get(apps::client_key),
        )
        .route(
            "/console/api/customers/{customer_id}",
            axum::routing::patch(profiles::edit),
        )
        .route(
            "/console/api/customers/{customer_id}/devices",
            get(profiles::devices),
        )
        .route(
            "/console/api/customers/{customer_id}/events",
            get(profiles::events),
        )
        .route("/console/api/overview", get(overview::get))
}

/// Deletes expired sessions hourly until the server stops.
pub fn spawn_pruner(store: Arc<dyn Store>, mut stopped: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(PRUNE_EVERY);
        loop {
            tokio::select! {
                _ = ticker.tick() => match store.prune_console_sessions(chrono::Utc::now()).await {
                    Ok(0) => {}
                    Ok(pruned) => tracing::debug!(pruned, "expired console sessions removed"),
                    Err(error) => tracing::warn!(%error, "could not prune console sessions"),
                },
                _ = stopped.changed() => break,
            }
        }
    });
}

/// A time as the console's API prints it: RFC 3339, UTC, milliseconds.
fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
