//! The SDK's wire format (reference §8.4): camelCase bodies, `{status, code, description}`
//! answers with `code` "0" on success, and the numeric error codes the SDKs map.

use crate::api::json_text;
use crate::api::sdk::jwt::TokenError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use profilestore_core::DomainError;
use profilestore_core::app_profile::AppProfileKey;
use profilestore_core::attribute::{AttributeValue, RawAttribute};
use profilestore_core::ids::{AppId, DeviceId, UserId};
use profilestore_core::json_writer::JsonWriter;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The SDK error codes this server answers (docs/sdk-api.md lists them).
pub mod code {
    pub const AUTHENTICATION_FAILED: &str = "1";
    pub const IP_NOT_ALLOWED: &str = "2";
    pub const INVALID_PARAMETER: &str = "3";
    pub const NOT_REGISTERED: &str = "5";
    pub const RATE_LIMITED: &str = "7";
    pub const INVALID_TOKEN: &str = "38";
    pub const TOKEN_REQUIRED: &str = "39";
    pub const TOKEN_EXPIRED: &str = "40";
    pub const INTERNAL: &str = "500";
}

/// A refused SDK call: HTTP status, SDK code and a description.
#[derive(Debug)]
pub struct SdkError {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: String,
}

impl SdkError {
    pub fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        SdkError {
            status,
            code,
            description: description.into(),
        }
    }

    pub fn invalid(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            code::INVALID_PARAMETER,
            description,
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL,
            "internal error",
        )
    }
}

impl IntoResponse for SdkError {
    fn into_response(self) -> Response {
        let body = json!({
            "status": "Failure",
            "code": self.code,
            "description": self.description,
        });
        (self.status, Json(body)).into_response()
    }
}

impl From<DomainError> for SdkError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::NotFound { .. } => SdkError::new(
                StatusCode::NOT_FOUND,
                code::NOT_REGISTERED,
                "the device is not registered (register first)",
            ),
            other => SdkError::invalid(other.to_string()),
        }
    }
}

impl From<profilestore_store::StoreError> for SdkError {
    fn from(error: profilestore_store::StoreError) -> Self {
        tracing::error!(%error, "SDK call failed in the store");
        SdkError::internal()
    }
}

impl From<TokenError> for SdkError {
    fn from(error: TokenError) -> Self {
        let (code, description) = match error {
            TokenError::Required => (
                code::TOKEN_REQUIRED,
                "a JWT is required (Authorization: Bearer <token>)",
            ),
            TokenError::Invalid => (code::INVALID_TOKEN, "the JWT is invalid"),
            TokenError::Expired => (code::TOKEN_EXPIRED, "the JWT has expired"),
        };
        SdkError::new(StatusCode::UNAUTHORIZED, code, description)
    }
}

/// A success answer: `status`, `code` and `description`, plus the call's own fields (an
/// object).
pub fn success(fields: Value) -> Response {
    success_with(|json| write_fields(json, &fields))
}

/// A success answer whose own fields `write` writes, each as `,"key":value`. Written as text
/// (core's `json_writer`): every SDK call answers with one, and through a `Value` tree and
/// serde it was ~4 % of a profile update's instructions (callgrind).
pub fn success_with(write: impl FnOnce(&mut JsonWriter)) -> Response {
    let mut json = JsonWriter::with_capacity(256);
    json.raw(r#"{"status":"Success","code":"0","description":"Success""#);
    write(&mut json);
    json.raw("}");
    json_text(StatusCode::OK, json.into_bytes())
}

/// Writes the members of `fields` (an object) as `,"key":value` each.
pub fn write_fields(json: &mut JsonWriter, fields: &Value) {
    if let Value::Object(fields) = fields {
        for (key, value) in fields {
            json.raw(",");
            json.string(key);
            json.raw(":");
            json.raw(&value.to_string());
        }
    }
}

/// A JSON body, or code 3.
pub fn parse_body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, SdkError> {
    serde_json::from_slice(bytes).map_err(|error| {
        SdkError::invalid(format!("the body is not valid JSON for this call: {error}"))
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct Data {
    #[serde(default)]
    pub update: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterBody {
    pub user_id: Option<String>,
    pub device_id: Option<String>,
    pub channel: Option<String>,
    pub channel_type: Option<String>,
    #[serde(default)]
    pub data: Data,
}

/// setUserId, removeUserId, setCustomerId, removeCustomerId, unregister, profileupdate.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientBody {
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub customer_id: Option<String>,
    pub event: Option<String>,
    #[serde(default)]
    pub data: Data,
}

/// What the web SDK puts before the deviceId in clientIds.
const WEB_DEVICE_PREFIX: &str = "v2_web_";

/// `<appId>/<userId>/<deviceId>` (or `<appId>/<userId>/v2_web_<deviceId>`), of the app the
/// call is addressed to.
pub fn install_of(app_id: &AppId, client_id: Option<&str>) -> Result<AppProfileKey, SdkError> {
    let client_id = client_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| SdkError::invalid("clientId is required"))?;
    let mut parts = client_id.splitn(3, '/');
    let (Some(app), Some(user), Some(device)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(SdkError::invalid("clientId is <appId>/<userId>/<deviceId>"));
    };
    if app != app_id.as_str() {
        return Err(SdkError::invalid(
            "clientId names another app than the one addressed",
        ));
    }
    Ok(AppProfileKey {
        app_id: app_id.clone(),
        user_id: UserId::parse(user)?,
        // The web SDK prefixes the deviceId it registered with in its clientIds (§8.4).
        device_id: DeviceId::parse(device.strip_prefix(WEB_DEVICE_PREFIX).unwrap_or(device))?,
    })
}

pub fn client_id(key: &AppProfileKey) -> String {
    format!("{}/{}/{}", key.app_id, key.user_id, key.device_id)
}

/// Device readings as attribute writes: strings, numbers and booleans as text, arrays (a
/// location `[lat, lon]`) as their compact JSON text, null clears.
pub fn readings(update: Map<String, Value>) -> Result<Vec<RawAttribute>, DomainError> {
    update
        .into_iter()
        .map(|(name, value)| {
            let value = match value {
                Value::Null => AttributeValue::Clear,
                Value::String(text) => AttributeValue::Text(text),
                Value::Number(number) => AttributeValue::Text(number.to_string()),
                Value::Bool(flag) => AttributeValue::Text(flag.to_string()),
                Value::Array(_) => AttributeValue::Text(value.to_string()),
                Value::Object(_) => {
                    return Err(DomainError::invalid(
                        &name,
                        "a reading is a string, number, boolean or array",
                    ));
                }
            };
            Ok((name, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(response: Response) -> Value {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn a_success_carries_status_code_description_and_the_calls_fields() {
        let fields = json!({"os": "ios", "a \"quoted\" key": [1, {"b": null}], "n": 2.5});
        let response = success(fields);
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[axum::http::header::CONTENT_TYPE],
            "application/json"
        );
        assert_eq!(
            body_of(response).await,
            json!({"status": "Success", "code": "0", "description": "Success",
                   "os": "ios", "a \"quoted\" key": [1, {"b": null}], "n": 2.5})
        );
    }

    #[tokio::test]
    async fn a_success_with_written_fields_is_one_json_object() {
        let response = success_with(|json| {
            json.raw(r#","ignored":"#);
            json.array(&["wifi\n".to_owned()], |json, name| json.string(name));
            write_fields(json, &json!({"isSystemGenerated": true}));
        });
        assert_eq!(
            body_of(response).await,
            json!({"status": "Success", "code": "0", "description": "Success",
                   "ignored": ["wifi\n"], "isSystemGenerated": true})
        );
    }
}
