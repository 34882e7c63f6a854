//! The `/v1/webhooks` API: what it accepts, what it refuses (with the field named), and that
//! the secret is shown once.

use crate::helpers::{create_webhook, native};
use crate::support::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn webhooks_are_created_listed_changed_and_deleted() {
    let app = spawn_app().await;
    let acme = app.tenant("acme").await;
    let created = create_webhook(
        &app,
        &acme.key,
        json!({"url": "https://hooks.example.com/in", "event_types": ["customer.updated"], "attributes": ["email"]}),
    )
    .await;
    let secret = created["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    assert_eq!(created["enabled"], true);
    assert_eq!(created["delivery"]["delivered_through_seq"], 0);
    let id = created["webhook_id"].as_str().unwrap();

    let (_, list) = native(&app, Method::GET, "/v1/webhooks", &acme.key, None).await;
    assert_eq!(list["webhooks"][0]["webhook_id"], id);
    assert!(list["webhooks"][0].get("secret").is_none());

    let (status, changed) = native(
        &app,
        Method::PATCH,
        &format!("/v1/webhooks/{id}"),
        &acme.key,
        Some(json!({"enabled": false, "attributes": []})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["enabled"], false);
    assert_eq!(changed["attributes"], json!([]));
    assert_eq!(changed["event_types"], json!(["customer.updated"]));
    assert_eq!(changed["url"], "https://hooks.example.com/in");

    let (status, _) = native(
        &app,
        Method::DELETE,
        &format!("/v1/webhooks/{id}"),
        &acme.key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, problem) = native(
        &app,
        Method::GET,
        &format!("/v1/webhooks/{id}"),
        &acme.key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        problem["type"],
        "https://profilestore.dev/problems/not-found"
    );
}

#[tokio::test]
async fn bad_webhooks_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let acme = app.tenant("acme").await;
    for (body, field) in [
        (json!({"url": "ftp://example.com/x"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (
            json!({"url": format!("https://example.com/{}", "a".repeat(3000))}),
            "url",
        ),
        (
            json!({"url": "https://example.com", "event_types": ["customer.renamed"]}),
            "event_types",
        ),
        (
            json!({"url": "https://example.com", "attributes": [""]}),
            "attributes",
        ),
        (
            json!({"url": "https://example.com", "colour": "red"}),
            "colour",
        ),
        (json!({"event_types": []}), "url"),
    ] {
        let (status, problem) = native(
            &app,
            Method::POST,
            "/v1/webhooks",
            &acme.key,
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    let (_, list) = native(&app, Method::GET, "/v1/webhooks", &acme.key, None).await;
    assert_eq!(list["webhooks"], json!([]), "nothing was created");
}

#[tokio::test]
async fn a_tenant_has_a_bounded_number_of_webhooks() {
    let app = spawn_app().await;
    let acme = app.tenant("acme").await;
    for _ in 0..profilestore_server::api::v1::webhooks::MAX_WEBHOOKS {
        create_webhook(&app, &acme.key, json!({"url": "https://example.com/in"})).await;
    }
    let (status, problem) = native(
        &app,
        Method::POST,
        "/v1/webhooks",
        &acme.key,
        Some(json!({"url": "https://example.com/in"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
}
