//! What the console shows of an app beyond `/v1/apps`: its client key, unsealed on request
//! (the native API answers a key once, when it is created or rotated; rotation stays there).

use super::scope::Scoped;
use crate::api::v1::apps::find_app;
use crate::api::v1::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;

#[derive(Serialize)]
pub struct ClientKeyView {
    app_id: String,
    client_key: String,
}

pub async fn client_key(
    State(state): State<AppState>,
    scoped: Scoped,
    Path(app_id): Path<String>,
) -> Result<Json<ClientKeyView>, Problem> {
    let app = find_app(&state, scoped.tenant_id(), &app_id).await?;
    let key = state
        .secret
        .unseal(&app.client_key)
        .map_err(Problem::internal)?;
    tracing::info!(user_id = %scoped.signed_in.user.user_id, app_id = %app.app_id, "client key shown in the console");
    Ok(Json(ClientKeyView {
        app_id: app.app_id,
        client_key: key.expose().to_owned(),
    }))
}
