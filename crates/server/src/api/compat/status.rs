//! `GET /profile/status/{transid}` (§4.5): a write's envelope again, for 24 hours.

use super::auth::tenant_scope;
use super::codes::{Code, CompatError};
use super::envelope::{CompatResponse, write_status};
use crate::access::Principal;
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Path, State};

pub async fn get(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(transid): Path<String>,
) -> Result<CompatResponse, CompatError> {
    let tenant = tenant_scope(&principal)?;
    match state
        .store
        .write_outcome(&tenant.tenant.tenant_id, &transid)
        .await?
    {
        Some(outcome) => Ok(write_status(&transid, &outcome)),
        None => Err(CompatError::new(Code::NoResult, "No result found")),
    }
}
