//! Requests of the native API (the profile key as a bearer token) and the assertions every
//! module shares: problem+json documents, compatible-API writes and reads.

use crate::support::{TestApp, attributes};
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const ATTRIBUTES: &str = "/v1/customer-attributes";
pub const CUSTOMERS: &str = "/v1/customers";
pub const COMPAT: &str = "/resources/v2/customerprofile";
pub const PROBLEM_TYPES: &str = "https://profilestore.dev/problems/";

/// A response with its headers: status, headers and JSON body (Null when not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn content_type(&self) -> &str {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("response body");
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// A native-API request with `Authorization: Bearer <key>`.
pub async fn native(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> Answer {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.base_url))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    answer(request.send().await.expect("request sent")).await
}

pub async fn native_get(app: &TestApp, path: &str, key: &str) -> Answer {
    native(app, Method::GET, path, key, None).await
}

/// GET with query parameters, encoded by the client.
pub async fn native_query(app: &TestApp, path: &str, key: &str, query: &[(&str, &str)]) -> Answer {
    let request = app
        .client
        .get(format!("{}{path}", app.base_url))
        .bearer_auth(key)
        .query(query);
    answer(request.send().await.expect("request sent")).await
}

/// POST /v1/customer-attributes.
pub async fn post_attribute(app: &TestApp, key: &str, body: Value) -> Answer {
    native(app, Method::POST, ATTRIBUTES, key, Some(body)).await
}

/// Defines an attribute, which must succeed; returns the definition's view.
pub async fn define(app: &TestApp, key: &str, body: Value) -> Value {
    let created = post_attribute(app, key, body.clone()).await;
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "defining {body}: {:?}",
        created.body
    );
    created.body
}

pub async fn patch_attribute(app: &TestApp, key: &str, name: &str, body: Value) -> Answer {
    native(
        app,
        Method::PATCH,
        &format!("{ATTRIBUTES}/{name}"),
        key,
        Some(body),
    )
    .await
}

pub async fn get_attribute(app: &TestApp, key: &str, name: &str) -> Answer {
    native_get(app, &format!("{ATTRIBUTES}/{name}"), key).await
}

pub async fn delete_attribute(app: &TestApp, key: &str, name: &str, purge: bool) -> Answer {
    let query = if purge { "?purge=true" } else { "" };
    native(
        app,
        Method::DELETE,
        &format!("{ATTRIBUTES}/{name}{query}"),
        key,
        None,
    )
    .await
}

/// GET /v1/customers/{id}.
pub async fn customer(app: &TestApp, key: &str, customer_id: &str) -> Answer {
    native_get(app, &format!("{CUSTOMERS}/{customer_id}"), key).await
}

/// One compatible-API record.
pub fn record(customer_id: &str, attributes: Value) -> Value {
    json!({"customerId": customer_id, "Attributes": attributes})
}

/// A compatible-API write of these records (POST creates, PUT updates).
pub async fn compat_write(app: &TestApp, method: Method, key: &str, records: Vec<Value>) -> Answer {
    let request = app
        .client
        .request(method, format!("{}{COMPAT}", app.base_url))
        .header("key", key)
        .json(&json!({ "Records": records }));
    answer(request.send().await.expect("request sent")).await
}

/// Creates customers through the compatible API; every record must succeed.
pub async fn create_customers(app: &TestApp, key: &str, records: Vec<Value>) {
    let created = compat_write(app, Method::POST, key, records).await;
    assert_eq!(
        created.body["code"], "1000",
        "creating customers: {:?}",
        created.body
    );
}

/// Updates customers through the compatible API; every record must succeed.
pub async fn update_customers(app: &TestApp, key: &str, records: Vec<Value>) {
    let updated = compat_write(app, Method::PUT, key, records).await;
    assert_eq!(
        updated.body["code"], "1000",
        "updating customers: {:?}",
        updated.body
    );
}

/// The compatible API's read of one customer (must exist): the record.
pub async fn compat_record(app: &TestApp, key: &str, customer_id: &str) -> Value {
    let read = app.get(&format!("{COMPAT}/{customer_id}"), key).await;
    assert_eq!(
        read.code(),
        "1000",
        "reading {customer_id}: {:?}",
        read.body
    );
    read.body["Records"][0].clone()
}

/// The compatible API's read of one customer as name → value.
pub async fn compat_values(
    app: &TestApp,
    key: &str,
    customer_id: &str,
) -> BTreeMap<String, String> {
    attributes(&compat_record(app, key, customer_id).await)
}

/// The compatible API's read of one customer as name → ID.
pub async fn compat_ids(app: &TestApp, key: &str, customer_id: &str) -> BTreeMap<String, i64> {
    compat_record(app, key, customer_id).await["Attributes"]
        .as_array()
        .expect("Attributes is an array")
        .iter()
        .map(|a| {
            (
                a["Name"].as_str().unwrap().to_owned(),
                a["ID"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Asserts an RFC 9457 problem: status, content type, `type`, `title`, `status` and a
/// non-empty `detail`. Returns the document.
pub fn assert_problem<'a>(
    answer: &'a Answer,
    status: StatusCode,
    slug: &str,
    title: &str,
) -> &'a Value {
    assert_eq!(answer.status, status, "{:?}", answer.body);
    assert_eq!(
        answer.content_type(),
        "application/problem+json",
        "{:?}",
        answer.body
    );
    let problem = &answer.body;
    assert_eq!(
        problem["type"],
        format!("{PROBLEM_TYPES}{slug}"),
        "{problem}"
    );
    assert_eq!(problem["title"], title, "{problem}");
    assert_eq!(problem["status"], status.as_u16(), "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|detail| !detail.is_empty()),
        "a problem has a detail: {problem}"
    );
    problem
}

/// Asserts a 422 validation problem and returns the fields its `errors` name, in order.
pub fn validation_fields(answer: &Answer) -> Vec<String> {
    let problem = assert_problem(
        answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        "Invalid request",
    );
    let errors = problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("a validation problem lists its errors: {problem}"));
    for error in errors {
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|message| !message.is_empty()),
            "each error says why: {problem}"
        );
    }
    errors
        .iter()
        .map(|error| error["field"].as_str().unwrap().to_owned())
        .collect()
}

/// The message of the first error naming `field`.
pub fn error_message(answer: &Answer, field: &str) -> String {
    answer.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|error| error["field"] == field)
        .and_then(|error| error["message"].as_str())
        .unwrap_or_else(|| panic!("no error names {field}: {:?}", answer.body))
        .to_owned()
}

/// Asserts a 409 schema-conflict problem and returns it.
pub fn assert_schema_conflict(answer: &Answer) -> &Value {
    assert_problem(
        answer,
        StatusCode::CONFLICT,
        "schema-conflict",
        "Schema change refused",
    )
}

/// The names in a definition list, in the order given.
pub fn names(list: &Value) -> Vec<String> {
    list["attributes"]
        .as_array()
        .expect("attributes is an array")
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect()
}
