//! Black-box tests of the app-profile endpoints of the compatible API (reference §4.6–§4.13):
//! a real server on a loopback port, a real HTTP client, nothing called directly.

#[path = "../support/mod.rs"]
mod support;

mod access;
mod create;
mod delete;
mod isolation;
mod read;
mod status;
mod update;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Reply, TestApp, TestAppAsset, TestTenant, attributes, into_reply, spawn_app};

/// A running server with one tenant that owns one app.
pub struct Ctx {
    pub app: TestApp,
    pub tenant: TestTenant,
    pub asset: TestAppAsset,
}

pub async fn setup() -> Ctx {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let asset = app.app(&tenant, "mobile").await;
    Ctx { app, tenant, asset }
}

/// `/resources/v2/customerappprofile/{appId}` followed by `rest`.
pub fn app_path(app_id: &str, rest: &str) -> String {
    format!("/resources/v2/customerappprofile/{app_id}{rest}")
}

/// The attributes of an ordinary device install.
pub fn install(user: &str, device: &str) -> Value {
    json!({
        "userId": user,
        "deviceId": device,
        "os": "Android",
        "pushId": format!("push-{user}-{device}"),
    })
}

/// One batch record, linked to `customer` when given.
pub fn record(customer: Option<&str>, attributes: Value) -> Value {
    match customer {
        Some(customer) => json!({ "customerId": customer, "Attributes": attributes }),
        None => json!({ "Attributes": attributes }),
    }
}

pub fn batch(records: Vec<Value>) -> Value {
    json!({ "Records": records })
}

impl Ctx {
    /// This app's collection path plus `rest`.
    pub fn path(&self, rest: &str) -> String {
        app_path(&self.asset.app_id, rest)
    }

    pub fn key(&self) -> &str {
        &self.tenant.key
    }

    pub async fn create(&self, body: Value) -> Reply {
        self.app.post(&self.path(""), self.key(), body).await
    }

    pub async fn update(&self, body: Value) -> Reply {
        self.app.put(&self.path(""), self.key(), body).await
    }

    /// Creates one install and checks that it was created.
    pub async fn register(&self, user: &str, device: &str, customer: Option<&str>) {
        let reply = self
            .create(batch(vec![record(customer, install(user, device))]))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        assert_eq!(reply.code(), "1000", "{:?}", reply.body);
    }

    pub async fn read_user(&self, user: &str) -> Reply {
        self.app
            .get(&self.path(&format!("?identifier={user}")), self.key())
            .await
    }

    pub async fn read_customer(&self, customer: &str) -> Reply {
        self.app
            .get(&self.path(&format!("/{customer}")), self.key())
            .await
    }

    /// Creates a customer profile through the compatible API.
    pub async fn create_customer(&self, customer: &str, attributes: Value) {
        let reply = self
            .app
            .post(
                "/resources/v2/customerprofile",
                self.key(),
                batch(vec![record(Some(customer), attributes)]),
            )
            .await;
        assert_eq!(reply.code(), "1000", "{:?}", reply.body);
    }
}

/// A request that carries its key in the `secretKey` header, as the SDKs send it.
pub async fn call_with_secret_key(
    app: &TestApp,
    method: Method,
    path: &str,
    secret_key: &str,
    body: Option<Value>,
) -> Reply {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.base_url))
        .header("secretKey", secret_key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    into_reply(request.send().await.expect("request sent")).await
}

/// The records of a read.
pub fn records(reply: &Reply) -> &Vec<Value> {
    reply.body["Records"]
        .as_array()
        .unwrap_or_else(|| panic!("a read envelope with Records: {:?}", reply.body))
}

/// `(userId, deviceId, customerId)` of every record of a read, in the order returned.
pub fn identities(reply: &Reply) -> Vec<(String, String, String)> {
    records(reply)
        .iter()
        .map(|record| {
            let attributes = attributes(record);
            (
                attributes["userId"].clone(),
                attributes["deviceId"].clone(),
                attributes["customerId"].clone(),
            )
        })
        .collect()
}

/// The deviceIds of every record of a read, sorted.
pub fn device_ids(reply: &Reply) -> Vec<String> {
    let mut ids: Vec<String> = identities(reply).into_iter().map(|(_, d, _)| d).collect();
    ids.sort();
    ids
}

/// The `code` of every entry of `Results`.
pub fn result_codes(reply: &Reply) -> Vec<&str> {
    reply.body["Results"]
        .as_array()
        .unwrap_or_else(|| panic!("a write envelope with Results: {:?}", reply.body))
        .iter()
        .map(|result| result["code"].as_str().unwrap_or_default())
        .collect()
}

/// `(TotalCount, SuccessCount, FailureCount)` of a write envelope.
pub fn counters(reply: &Reply) -> (u64, u64, u64) {
    let count = |name: &str| {
        reply.body[name]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} is a number: {:?}", reply.body))
    };
    (
        count("TotalCount"),
        count("SuccessCount"),
        count("FailureCount"),
    )
}

/// Asserts a read by identifier finds nothing (7014, HTTP 404).
pub async fn assert_no_profiles_of(ctx: &Ctx, user: &str) {
    let reply = ctx.read_user(user).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.body);
    assert_eq!(reply.code(), "7014");
}
