//! The Webex Connect–compatible Profile API v2 (`/resources/v2`), reference §1–§7 and §11.
//!
//! # Layout
//! - `auth`: admission (key, IP allow list, rate limit) and per-route scopes.
//! - `body`, `query`: the request shapes the product's clients send.
//! - `codes`: the 7xxx codes, their HTTP statuses, and the mapping from core errors.
//! - `envelope`: the §3.1 write and §3.3 read envelopes; core's `json_writer` writes the read ones.
//! - `customers`, `app_profiles`, `status`: one handler per operation.

mod app_profiles;
mod auth;
mod body;
mod codes;
mod customers;
pub mod envelope;
mod query;
mod status;

pub use customers::new_transid;

use crate::state::AppState;
use axum::Router;
use axum::routing::{delete, get, post, put};

/// The customer routes under `prefix`: `/resources/v2`, and the `/resources/v1` alias the
/// create examples use. Full paths rather than a nested router: a nested router rewrites each
/// request's URI to strip its prefix, work done on every call.
fn customer_routes(prefix: &str) -> Router<AppState> {
    Router::new()
        .route(
            &format!("{prefix}/customerprofile"),
            post(customers::create)
                .put(customers::update)
                .get(customers::get_many)
                .delete(customers::delete_many),
        )
        .route(
            &format!("{prefix}/customerprofile/{{customer_id}}"),
            get(customers::get_one).delete(customers::delete_one),
        )
}

/// Every route under `/resources/v2`.
fn routes() -> Router<AppState> {
    let at = |path: &str| format!("/resources/v2{path}");
    customer_routes("/resources/v2")
        .route(&at("/profile/status/{transid}"), get(status::get))
        .route(
            &at("/customerappprofile/{app_id}"),
            post(app_profiles::create)
                .put(app_profiles::update)
                .get(app_profiles::get_by_query)
                .delete(app_profiles::delete_by_query),
        )
        .route(
            &at("/customerappprofile/{app_id}/{customer_id}"),
            get(app_profiles::get_by_customer).delete(app_profiles::delete_by_customer),
        )
        .route(
            &at("/customerappprofile/{app_id}/{user_id}/{device_id}"),
            delete(app_profiles::delete_device),
        )
        .route(
            &at("/customerappprofile/{app_id}/deviceid/{device_id}"),
            delete(app_profiles::delete_device_of_customer),
        )
        // §4.13 as printed, relative to /resources/v2.
        .route(
            &at("/{app_id}/deviceid/{device_id}"),
            delete(app_profiles::delete_device_of_customer),
        )
        // §4.7's legacy path.
        .route(&at("/customerprofiles/{app_id}"), put(app_profiles::update))
}

/// The compatible API with its admission layer: `/resources/v2/...`, plus the
/// `/resources/v1/customerprofile` alias.
pub fn router(state: AppState) -> Router<AppState> {
    // A route layer: it never touches answers of paths that match no compatible-API route
    // (they stay 404).
    routes()
        .merge(customer_routes("/resources/v1"))
        .route_layer(axum::middleware::from_fn_with_state(state, auth::admit))
}
