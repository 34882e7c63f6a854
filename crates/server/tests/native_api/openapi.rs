//! GET /openapi.json: an OpenAPI 3.1 document of the native API, served without a key, that
//! lists exactly the /v1 routes the server answers.

use crate::helpers::*;
use crate::support::{TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Every /v1 route the server serves, as (path template, method).
const SERVED: [(&str, &str); 7] = [
    ("/v1/customer-attributes", "get"),
    ("/v1/customer-attributes", "post"),
    ("/v1/customer-attributes/{name}", "delete"),
    ("/v1/customer-attributes/{name}", "get"),
    ("/v1/customer-attributes/{name}", "patch"),
    ("/v1/customers", "get"),
    ("/v1/customers/{customer_id}", "get"),
];

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn document(app: &TestApp) -> Answer {
    answer(
        app.client
            .get(format!("{}/openapi.json", app.base_url))
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Every (path, method) the document lists.
fn operations(document: &Value) -> BTreeSet<(String, String)> {
    document["paths"]
        .as_object()
        .expect("paths is an object")
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|method| item.get(**method).is_some())
                .map(|method| (path.clone(), (*method).to_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_needs_no_key() {
    let app = spawn_app().await;

    let served = document(&app).await;

    assert_eq!(served.status, StatusCode::OK);
    assert!(served.content_type().starts_with("application/json"));
    let version = served.body["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "{version}");
    assert!(served.body["info"]["title"].as_str().is_some());
    assert_eq!(served.body["info"]["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn the_document_lists_every_v1_path_and_method_served() {
    let app = spawn_app().await;

    let served = document(&app).await;

    let listed = operations(&served.body);
    for (path, method) in SERVED {
        assert!(
            listed.contains(&(path.to_owned(), method.to_owned())),
            "{method} {path} is documented: {listed:?}"
        );
    }
    for (path, _) in &listed {
        assert!(path.starts_with("/v1/"), "{path}");
    }
}

#[tokio::test]
async fn every_operation_requires_the_bearer_profile_key() {
    let app = spawn_app().await;

    let served = document(&app).await;

    let schemes = &served.body["components"]["securitySchemes"];
    assert_eq!(schemes["profile_key"]["type"], "http");
    assert_eq!(
        schemes["profile_key"]["scheme"]
            .as_str()
            .map(str::to_lowercase),
        Some("bearer".into())
    );
    for (path, method) in operations(&served.body) {
        let operation = &served.body["paths"][&path][&method];
        assert_eq!(
            operation["security"],
            json!([{"profile_key": []}]),
            "{method} {path}"
        );
        assert!(
            operation["responses"]
                .as_object()
                .is_some_and(|r| !r.is_empty()),
            "{method} {path} documents its responses"
        );
    }
}

#[tokio::test]
async fn the_error_responses_are_documented_as_problem_documents() {
    let app = spawn_app().await;

    let served = document(&app).await;

    let problem = &served.body["components"]["schemas"]["ProblemDocument"];
    for field in ["type", "title", "status", "detail", "errors"] {
        assert!(
            problem["properties"].get(field).is_some(),
            "ProblemDocument.{field}: {problem}"
        );
    }
    let refused = &served.body["paths"]["/v1/customer-attributes"]["post"]["responses"]["422"];
    assert!(refused.is_object(), "POST documents its 422");
}

/// A documented path with its parameters filled in: the attribute `probe`, the customer C-1,
/// and `probe` for any other parameter.
fn concrete(template: &str) -> String {
    let mut path = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').expect("a closed parameter") + open;
        path.push_str(&rest[..open]);
        path.push_str(match &rest[open + 1..close] {
            "customer_id" => "C-1",
            _ => "probe",
        });
        rest = &rest[close + 1..];
    }
    path.push_str(rest);
    path
}

#[tokio::test]
async fn each_documented_operation_answers_when_called() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "probe", "type": "string", "unique": true}),
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![record(
            "C-1",
            json!({"email": "ann@example.org", "probe": "p"}),
        )],
    )
    .await;
    let served = document(&app).await;
    let mut operations: Vec<(String, String)> = operations(&served.body).into_iter().collect();
    // DELETE last: it retires the attribute the other calls use.
    operations.sort_by_key(|(_, method)| method == "delete");

    for (template, method) in operations {
        let known = SERVED.contains(&(template.as_str(), method.as_str()));
        let path = concrete(&template);
        let (path, body) = match (template.as_str(), method.as_str()) {
            ("/v1/customer-attributes", "post") => {
                (path, Some(json!({"name": "probe2", "type": "integer"})))
            }
            ("/v1/customers", "get") => (format!("{path}?email=ann@example.org"), None),
            ("/v1/customer-attributes/{name}", "patch") => {
                (path, Some(json!({"description": "probed"})))
            }
            (_, "post" | "put" | "patch") => (path, Some(json!({}))),
            _ => (path, None),
        };
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let streams = served.body["paths"][template.as_str()][method.as_str().to_lowercase()]["responses"]
            ["200"]["content"]
            .get("text/event-stream")
            .is_some();
        if streams {
            // A documented event stream never ends: check how it starts, not its whole body.
            let response = app
                .client
                .get(format!("{}{path}", app.base_url))
                .bearer_auth(&tenant.key)
                .send()
                .await
                .unwrap();
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            let content_type = response.headers()["content-type"].to_str().unwrap();
            assert!(
                content_type.starts_with("text/event-stream"),
                "{content_type}"
            );
            continue;
        }

        let answered = native(&app, method.clone(), &path, &tenant.key, body).await;

        if known {
            assert!(
                answered.status.is_success(),
                "{method} {path} answers: {} {:?}",
                answered.status,
                answered.body
            );
        } else {
            // Other /v1 routes: served (a refusal of the probe values is a problem document,
            // never a bare 404 or 405 from the router).
            assert_ne!(
                answered.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert!(
                answered.status != StatusCode::NOT_FOUND
                    || answered.content_type() == "application/problem+json",
                "{method} {path} is routed: {} {:?}",
                answered.status,
                answered.body
            );
        }
    }
}

#[tokio::test]
async fn undocumented_methods_are_not_served() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let put = native(&app, Method::PUT, ATTRIBUTES, &tenant.key, Some(json!({}))).await;
    let delete_all = native(&app, Method::DELETE, CUSTOMERS, &tenant.key, None).await;

    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(delete_all.status, StatusCode::METHOD_NOT_ALLOWED);
}
