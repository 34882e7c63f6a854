//! Protocol adapters: each turns its wire format into store/core operations and back.

pub mod compat;
pub mod health;
pub mod json_value;
pub mod sdk;
pub mod v1;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An answer whose JSON body is already written as text (core's `json_writer`: the hottest
/// answers of the compatible and SDK APIs), with its status.
pub fn json_text(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}
