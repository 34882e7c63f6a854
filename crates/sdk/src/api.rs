//! The SDK API on the wire (`/api/v3/{appId}/...`, docs/sdk-api.md): one method per call,
//! the headers every call carries, and answers turned into values or [`SdkError`]s.

use crate::error::SdkError;
use crate::policy::{Monitor, Platform, Policy};
use crate::readings::Readings;
use crate::token::TokenProvider;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;

/// How the client talks to the server.
pub(crate) struct ApiSettings {
    pub base_url: String,
    pub app_id: String,
    pub client_key: String,
    pub sdk_version: String,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub tokens: Option<Arc<dyn TokenProvider>>,
}

pub(crate) struct Api {
    http: reqwest::Client,
    /// `<base>/api/v3/<appId>`.
    root: String,
    client_key: String,
    sdk_version: String,
    tokens: Option<Arc<dyn TokenProvider>>,
}

/// What register, setUserId and removeUserId answer about the install.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InstallAnswer {
    pub client_id: String,
    pub user_id: String,
    #[serde(default)]
    pub ignored: Vec<String>,
    #[serde(default)]
    pub is_system_generated: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PolicyAnswer {
    os: String,
    sdk_band: String,
    policy_polling_interval: u32,
    #[serde(default)]
    monitors: Vec<Monitor>,
}

impl Api {
    pub fn new(settings: ApiSettings) -> Result<Api, SdkError> {
        let base = settings.base_url.trim_end_matches('/');
        reqwest::Url::parse(base)
            .map_err(|e| SdkError::InvalidParameter(format!("base_url {base:?}: {e}")))?;
        if settings.app_id.is_empty() || settings.app_id.contains(['/', '?', '#']) {
            return Err(SdkError::InvalidParameter(format!(
                "app_id {:?} is not an app id",
                settings.app_id
            )));
        }
        // reqwest is built without a bundled crypto provider (ring avoids a C toolchain
        // build); install ring unless the host installed a provider of its own.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .build()
            .map_err(|e| SdkError::Network(chain(&e)))?;
        Ok(Api {
            http,
            root: format!("{base}/api/v3/{}", settings.app_id),
            client_key: settings.client_key,
            sdk_version: settings.sdk_version,
            tokens: settings.tokens,
        })
    }

    pub async fn register(
        &self,
        platform: Platform,
        device_id: &str,
        user_id: Option<&str>,
        device_info: &Readings,
    ) -> Result<InstallAnswer, SdkError> {
        let mut body = json!({
            "deviceId": device_id,
            "channel": "rt",
            "channelType": platform.as_str(),
            "profileVersion": 2,
            "data": {"update": device_info},
        });
        if let Some(user_id) = user_id {
            body["userId"] = Value::from(user_id);
        }
        let answer = self.post("register", user_id, body).await?;
        install_answer(answer)
    }

    pub async fn verify_policy(
        &self,
        platform: Platform,
        user_id: Option<&str>,
    ) -> Result<Policy, SdkError> {
        let request = self
            .http
            .get(format!("{}/verifyPolicy", self.root))
            .query(&[("os", platform.as_str())]);
        let answer = self.send(request, user_id).await?;
        let answer: PolicyAnswer = parse(answer)?;
        Ok(Policy {
            os: answer.os,
            sdk_band: answer.sdk_band,
            policy_polling_interval: answer.policy_polling_interval,
            monitors: answer.monitors,
        })
    }

    pub async fn set_user_id(
        &self,
        client_id: &str,
        current_user: &str,
        user_id: &str,
    ) -> Result<InstallAnswer, SdkError> {
        let body = json!({"clientId": client_id, "channel": "rt", "userId": user_id});
        install_answer(self.post("setUserId", Some(current_user), body).await?)
    }

    pub async fn remove_user_id(
        &self,
        client_id: &str,
        current_user: &str,
    ) -> Result<InstallAnswer, SdkError> {
        let body = json!({"clientId": client_id, "channel": "rt"});
        install_answer(self.post("removeUserId", Some(current_user), body).await?)
    }

    pub async fn set_customer_id(
        &self,
        client_id: &str,
        user_id: &str,
        customer_id: &str,
    ) -> Result<(), SdkError> {
        let body = json!({"clientId": client_id, "channel": "rt", "customerId": customer_id});
        self.post("setCustomerId", Some(user_id), body).await?;
        Ok(())
    }

    pub async fn remove_customer_id(&self, client_id: &str, user_id: &str) -> Result<(), SdkError> {
        let body = json!({"clientId": client_id, "channel": "rt"});
        self.post("removeCustomerId", Some(user_id), body).await?;
        Ok(())
    }

    pub async fn unregister(&self, client_id: &str, user_id: &str) -> Result<(), SdkError> {
        let body = json!({"clientId": client_id, "channel": "rt"});
        self.post("unregister", Some(user_id), body).await?;
        Ok(())
    }

    /// Monitor readings or the heartbeat; answers the attributes the server ignored.
    pub async fn profile_update(
        &self,
        client_id: &str,
        user_id: &str,
        event: &str,
        update: &Readings,
    ) -> Result<Vec<String>, SdkError> {
        let body = json!({
            "clientId": client_id,
            "state": "PROFILEUPDATE",
            "event": event,
            "data": {"update": update},
        });
        let answer = self.post("profileupdate", Some(user_id), body).await?;
        Ok(answer
            .get("ignored")
            .and_then(|ignored| serde_json::from_value(ignored.clone()).ok())
            .unwrap_or_default())
    }

    async fn post(
        &self,
        call: &str,
        user_id: Option<&str>,
        body: Value,
    ) -> Result<Map<String, Value>, SdkError> {
        let request = self.http.post(format!("{}/{call}", self.root)).json(&body);
        self.send(request, user_id).await
    }

    /// Adds the key, version and token headers, sends, and reads the SDK answer.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        user_id: Option<&str>,
    ) -> Result<Map<String, Value>, SdkError> {
        let mut request = request
            .header("secretKey", &self.client_key)
            .header("sdkversion", &self.sdk_version);
        if let Some(tokens) = &self.tokens
            && let Some(token) = tokens.token(user_id).await
        {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| SdkError::Network(chain(&e)))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| SdkError::Network(chain(&e)))?;
        read_answer(status, &bytes)
    }
}

/// `{status, code, description, ...}`: code "0" is success; anything that is not such an
/// answer is a server error named by its HTTP status (a proxy or load balancer spoke).
fn read_answer(status: reqwest::StatusCode, bytes: &[u8]) -> Result<Map<String, Value>, SdkError> {
    let answer = serde_json::from_slice::<Value>(bytes).ok();
    let Some(Value::Object(answer)) = answer else {
        let text = String::from_utf8_lossy(bytes);
        return Err(SdkError::Server {
            code: format!("http {}", status.as_u16()),
            description: text.chars().take(200).collect(),
        });
    };
    let code = match answer.get("code") {
        Some(Value::String(code)) => code.clone(),
        Some(Value::Number(code)) => code.to_string(),
        _ => {
            return Err(SdkError::Server {
                code: format!("http {}", status.as_u16()),
                description: "the answer carries no code".to_owned(),
            });
        }
    };
    if code == "0" {
        return Ok(answer);
    }
    let description = answer
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Err(SdkError::from_code(&code, description))
}

fn parse<T: for<'de> Deserialize<'de>>(answer: Map<String, Value>) -> Result<T, SdkError> {
    serde_json::from_value(Value::Object(answer)).map_err(|e| SdkError::Server {
        code: "0".to_owned(),
        description: format!("an answer the SDK cannot read: {e}"),
    })
}

fn install_answer(answer: Map<String, Value>) -> Result<InstallAnswer, SdkError> {
    parse(answer)
}

/// An error with its causes: reqwest's own message ("error sending request") says little.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn answers_are_read_by_their_code() {
        let ok = read_answer(
            StatusCode::OK,
            br#"{"status":"Success","code":"0","userId":"u"}"#,
        );
        assert_eq!(ok.unwrap()["userId"], "u");
        let refused = read_answer(
            StatusCode::UNAUTHORIZED,
            br#"{"status":"Failure","code":"39","description":"a JWT is required"}"#,
        );
        assert_eq!(refused, Err(SdkError::TokenRequired));
        let proxy = read_answer(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>");
        assert_eq!(
            proxy,
            Err(SdkError::Server {
                code: "http 502".to_owned(),
                description: "<html>bad gateway</html>".to_owned()
            })
        );
    }
}
