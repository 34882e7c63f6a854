//! Writes that make events, and native-API requests.

use crate::support::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Creates a customer through the compatible API (one `customer.created` event).
pub async fn create_customer(app: &TestApp, key: &str, customer_id: &str, attributes: Value) {
    write(app, Method::POST, key, customer_id, attributes).await;
}

/// Updates a customer through the compatible API (one `customer.updated` event).
pub async fn update_customer(app: &TestApp, key: &str, customer_id: &str, attributes: Value) {
    write(app, Method::PUT, key, customer_id, attributes).await;
}

async fn write(app: &TestApp, method: Method, key: &str, customer_id: &str, attributes: Value) {
    let reply = app
        .call(
            method,
            "/resources/v2/customerprofile",
            Some(key),
            Some(json!({"Records": [{"customerId": customer_id, "Attributes": attributes}]})),
        )
        .await;
    assert_eq!(
        reply.body["code"], "1000",
        "write {customer_id}: {:?}",
        reply.body
    );
}

/// A native-API request with the profile key as a bearer token: status and JSON body.
pub async fn native(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.base_url))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Creates a webhook that must be accepted; returns its view (with the secret).
pub async fn create_webhook(app: &TestApp, key: &str, body: Value) -> Value {
    let (status, created) = native(app, Method::POST, "/v1/webhooks", key, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

/// Polls `check` every 20 ms until it yields a value, failing the test after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The seqs of a list of event documents.
pub fn seqs(events: &[Value]) -> Vec<i64> {
    events.iter().map(|e| e["seq"].as_i64().unwrap()).collect()
}
