//! The native JSON API (`/v1`): snake_case JSON, the profile key as a bearer token, RFC 9457
//! problem+json errors, and an OpenAPI 3.1 document generated from the handlers.
//!
//! # Layout
//! - `auth`: admission (shared edge rules) with problem+json refusals.
//! - `body`: JSON bodies whose errors are problems; absent vs null in PATCH bodies.
//! - [`problem`]: the problem document and the mapping from core errors.
//! - [`attributes`]: the schema registry. [`customers`]: profiles and lookups.
//! - [`apps`]: apps, their options and client keys, the device policy and monitor catalogue.
//! - [`events`]: event pages and the SSE stream. [`webhooks`]: webhooks and their deliveries.
//! - `query`: strict query strings (unknown parameters refused, lists, bounded integers).

pub mod apps;
pub mod attributes;
mod auth;
mod body;
pub mod customers;
pub mod events;
pub mod problem;
mod query;
pub mod webhooks;

use crate::state::AppState;
use axum::Router;
pub use body::ProblemJson;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "profilestore native API", description = "Tenant-scoped JSON API of profilestore. Authenticate with the tenant's profile key: `Authorization: Bearer <key>`. Errors are RFC 9457 problem+json."),
    components(schemas(problem::ProblemDocument, problem::ProblemField)),
    modifiers(&ProfileKeyAuth)
)]
struct ApiDoc;

struct ProfileKeyAuth;

impl Modify for ProfileKeyAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "profile_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The tenant's profile key"))
                    .build(),
            ),
        );
    }
}

/// The `/v1` routes with their admission layer, and the OpenAPI document describing them.
pub fn router(state: AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(attributes::list, attributes::create))
        .routes(routes!(
            attributes::get,
            attributes::update,
            attributes::retire
        ))
        .routes(routes!(customers::find))
        .routes(routes!(customers::get))
        .routes(routes!(apps::list, apps::create))
        .routes(routes!(apps::get, apps::patch))
        .routes(routes!(apps::get_policy, apps::put_policy))
        .routes(routes!(apps::catalogue))
        .routes(routes!(events::list))
        .routes(routes!(events::stream))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::get, webhooks::patch, webhooks::delete))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::replay))
        .split_for_parts();
    openapi.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let router = router.route_layer(axum::middleware::from_fn_with_state(state, auth::admit));
    (router, openapi)
}
