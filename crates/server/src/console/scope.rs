//! Extractors of the console's API: who is signed in ([`SignedIn`], CSRF-checked for requests
//! that change state) and which tenant the request acts on ([`Scoped`]); and JSON bodies whose
//! errors are problem documents, like the native API's.

use super::session::{SignedIn, signed_in};
use crate::access::TenantAccess;
use crate::api::v1::ProblemJson;
use crate::api::v1::problem::Problem;
pub use crate::api::v1::problem::invalid;
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use profilestore_store::model::Tenant;
use serde::de::DeserializeOwned;
use std::sync::Arc;

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        signed_in(state, &parts.headers, &parts.method).await
    }
}

/// A signed-in request and the tenant it acts on.
pub struct Scoped {
    pub signed_in: SignedIn,
    pub tenant: Tenant,
}

impl Scoped {
    pub fn tenant_id(&self) -> &str {
        &self.tenant.tenant_id
    }
}

pub fn no_tenant_chosen() -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "no-tenant",
        "No tenant chosen",
        "an operator chooses a tenant first (PUT /console/api/session/tenant)",
    )
}

/// The tenant of a session: from this node's access view (no query), or from the store when
/// the view has not seen it yet (created within the last settings poll).
pub async fn session_tenant(
    state: &AppState,
    signed_in: &SignedIn,
) -> Result<Arc<TenantAccess>, Problem> {
    let tenant_id = signed_in.tenant_id().ok_or_else(no_tenant_chosen)?;
    if let Some(tenant) = state.access.tenant(tenant_id) {
        return Ok(tenant);
    }
    let tenant = state.store.find_tenant(tenant_id).await?.ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Tenant not found",
            "the session's tenant no longer exists",
        )
    })?;
    Ok(Arc::new(TenantAccess::new(tenant)))
}

impl FromRequestParts<AppState> for Scoped {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let signed_in = signed_in(state, &parts.headers, &parts.method).await?;
        let tenant = session_tenant(state, &signed_in).await?.tenant.clone();
        Ok(Scoped { signed_in, tenant })
    }
}

/// Only an operator may do this.
pub fn operators_only(signed_in: &SignedIn) -> Result<(), Problem> {
    if signed_in.is_operator() {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::FORBIDDEN,
            "operators-only",
            "Forbidden",
            "only an operator may do this",
        ))
    }
}

/// A JSON body; malformed JSON is a 400 problem, a body of the wrong shape a 422 naming why.
/// The body must say it is JSON: a form on another site can send `text/plain` that happens to
/// parse as JSON (to sign a victim in as the attacker, for one), but not `application/json`.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let is_json = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "send the body as Content-Type: application/json",
            ));
        }
        // Then exactly as the native API reads its bodies.
        let ProblemJson(body) = ProblemJson::from_request(request, state).await?;
        Ok(Body(body))
    }
}
