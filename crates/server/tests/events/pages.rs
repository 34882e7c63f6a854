//! `GET /v1/events`: pages with a cursor, filters, bounds, isolation and refusals.

use crate::helpers::{create_customer, native, seqs, update_customer};
use crate::support::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn pages_follow_the_cursor_through_the_filters() {
    let app = spawn_app().await;
    let acme = app.tenant("acme").await;
    for n in 0..5 {
        create_customer(&app, &acme.key, &format!("c{n}"), json!({"name": "A"})).await;
        update_customer(
            &app,
            &acme.key,
            &format!("c{n}"),
            json!({"email": format!("c{n}@x.io")}),
        )
        .await;
    }
    // 10 events: odd seqs created, even seqs updated.
    let (status, page) = native(&app, Method::GET, "/v1/events?limit=4", &acme.key, None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(seqs(page["events"].as_array().unwrap()), [1, 2, 3, 4]);
    assert_eq!(page["next_after"], 4);
    assert_eq!(page["more"], true);

    let (_, rest) = native(
        &app,
        Method::GET,
        "/v1/events?after=4&limit=100",
        &acme.key,
        None,
    )
    .await;
    assert_eq!(
        seqs(rest["events"].as_array().unwrap()),
        [5, 6, 7, 8, 9, 10]
    );
    assert_eq!(rest["next_after"], 10);
    assert_eq!(rest["more"], false);

    let (_, updates) = native(
        &app,
        Method::GET,
        "/v1/events?type=customer.updated&attribute=email&limit=2",
        &acme.key,
        None,
    )
    .await;
    assert_eq!(seqs(updates["events"].as_array().unwrap()), [2, 4]);
    let (_, next) = native(
        &app,
        Method::GET,
        &format!(
            "/v1/events?type=customer.updated&attribute=email&after={}",
            updates["next_after"]
        ),
        &acme.key,
        None,
    )
    .await;
    assert_eq!(seqs(next["events"].as_array().unwrap()), [6, 8, 10]);

    let event = &rest["events"][1];
    assert_eq!(event["type"], "customer.updated");
    assert_eq!(event["subject"], json!({"customer_id": "c2"}));
    assert_eq!(
        event["changes"],
        json!([{"attribute": "email", "old": null, "new": "c2@x.io"}])
    );
    assert_eq!(event["profile_version"], 2);
    assert!(event["id"].as_str().unwrap().len() == 36, "a UUID: {event}");
    assert!(event["occurred_at"].as_str().unwrap().ends_with('Z'));

    // Another tenant's log is its own.
    let globex = app.tenant("globex").await;
    let (_, other) = native(&app, Method::GET, "/v1/events", &globex.key, None).await;
    assert_eq!(other["events"], json!([]));
    assert_eq!(other["next_after"], 0);
}

#[tokio::test]
async fn bad_page_parameters_are_problems_naming_the_parameter() {
    let app = spawn_app().await;
    let acme = app.tenant("acme").await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("after=-5", "after"),
        ("after=1&after=2", "after"),
        ("type=customer.exploded", "type"),
        ("sort=desc", "sort"),
    ] {
        let (status, body) = native(
            &app,
            Method::GET,
            &format!("/v1/events?{query}"),
            &acme.key,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
}
