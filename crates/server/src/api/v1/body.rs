//! JSON request bodies of the native API: malformed JSON is a 400 problem, a body of the wrong
//! shape (unknown field, wrong type) a 422 problem naming the field.

use super::problem::{Problem, ProblemField};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

pub struct ProblemJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ProblemJson<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                Problem::new(
                    rejection.status(),
                    "unreadable-body",
                    "Unreadable body",
                    rejection.body_text(),
                )
            })?;
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut deserializer)
            .map(ProblemJson)
            .map_err(|error| {
                use serde_json::error::Category;
                let path = error.path().to_string();
                let error = error.into_inner();
                match error.classify() {
                    Category::Data => {
                        // The path names the field; at the root (an unknown or missing field)
                        // serde's message names it.
                        let field = if path == "." {
                            field_of(&error.to_string())
                        } else {
                            path
                        };
                        Problem::validation(vec![ProblemField {
                            field,
                            message: error.to_string(),
                        }])
                    }
                    _ => Problem::new(
                        StatusCode::BAD_REQUEST,
                        "malformed-json",
                        "Malformed JSON",
                        error.to_string(),
                    ),
                }
            })
    }
}

/// The field serde names in its message (`unknown field `x``, `missing field `y``), else "body".
fn field_of(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .filter(|_| message.contains("field"))
        .unwrap_or("body")
        .to_owned()
}

/// Deserialises a present field as `Some(value)` — with `#[serde(default)]`, an absent field
/// stays `None`, so `Option<Option<T>>` tells "absent" from "null" in PATCH bodies.
pub fn present<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
}
