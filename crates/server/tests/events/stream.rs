//! The SSE stream: resuming after a disconnect, filters per consumer, tenant isolation,
//! keep-alives, and refusals of bad parameters.

use crate::helpers::{create_customer, native, update_customer};
use crate::sse::SseClient;
use crate::support::{spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_stream_resumes_after_a_disconnect_without_gap_or_duplicate() {
    let app = spawn_app().await;
    let acme = app.tenant("acme").await;
    let mut stream = SseClient::open(&app, &acme.key, "", None).await;
    for n in 0..5 {
        create_customer(&app, &acme.key, &format!("c{n}"), json!({"name": "A"})).await;
    }
    let first = stream.take(5, WAIT).await;
    let last_seen = first.last().unwrap().id;
    drop(stream);

    // Written while nobody listens.
    for n in 5..12 {
        create_customer(&app, &acme.key, &format!("c{n}"), json!({"name": "B"})).await;
    }
    let mut resumed = SseClient::open(&app, &acme.key, "after=1", Some(last_seen)).await;
    let mut second = resumed.take(7, WAIT).await;
    // And live again after the backlog.
    create_customer(&app, &acme.key, "c12", json!({"name": "C"})).await;
    second.extend(resumed.take(1, WAIT).await);
    assert!(resumed.next(Duration::from_millis(300)).await.is_none());

    let ids: Vec<i64> = first.iter().chain(&second).map(|e| e.id).collect();
    assert_eq!(
        ids,
        (1..=13).collect::<Vec<_>>(),
        "every seq once, in order"
    );
    for event in first.iter().chain(&second) {
        assert_eq!(event.data["seq"], event.id);
        assert_eq!(event.data["tenant_id"], acme.tenant_id.as_str());
        assert_eq!(event.data["type"], "customer.created");
    }
    let customers: Vec<&str> = second
        .iter()
        .map(|e| e.data["subject"]["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        customers,
        ["c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12"]
    );
}

#[tokio::test]
async fn after_in_the_query_resumes_too_and_the_default_is_only_new_events() {
    let app = spawn_app().await;
    let acme = app.tenant("acme").await;
    for n in 0..3 {
        create_customer(&app, &acme.key, &format!("c{n}"), json!({"name": "A"})).await;
    }
    let mut from_two = SseClient::open(&app, &acme.key, "after=2", None).await;
    let mut only_new = SseClient::open(&app, &acme.key, "", None).await;
    assert_eq!(from_two.take(1, WAIT).await[0].id, 3);
    create_customer(&app, &acme.key, "c3", json!({"name": "A"})).await;
    assert_eq!(from_two.take(1, WAIT).await[0].id, 4);
    assert_eq!(only_new.take(1, WAIT).await[0].id, 4);
}

#[tokio::test]
async fn two_consumers_with_different_filters_each_get_their_events() {
    let app = spawn_app().await;
    let acme = app.tenant("acme").await;
    let mut created = SseClient::open(&app, &acme.key, "type=customer.created", None).await;
    let mut emails = SseClient::open(&app, &acme.key, "attribute=email", None).await;

    create_customer(&app, &acme.key, "c1", json!({"name": "Ann"})).await; // 1
    update_customer(&app, &acme.key, "c1", json!({"email": "ann@example.com"})).await; // 2
    create_customer(&app, &acme.key, "c2", json!({"email": "bo@example.com"})).await; // 3
    update_customer(&app, &acme.key, "c2", json!({"name": "Bo"})).await; // 4

    let got: Vec<i64> = created.take(2, WAIT).await.iter().map(|e| e.id).collect();
    assert_eq!(got, [1, 3]);
    let got: Vec<i64> = emails.take(2, WAIT).await.iter().map(|e| e.id).collect();
    assert_eq!(got, [2, 3]);
    assert!(created.next(Duration::from_millis(300)).await.is_none());
    assert!(emails.next(Duration::from_millis(300)).await.is_none());
}

#[tokio::test]
async fn a_stream_sees_only_its_own_tenants_events() {
    let app = spawn_app().await;
    let acme = app.tenant("acme").await;
    let globex = app.tenant("globex").await;
    let mut acme_stream = SseClient::open(&app, &acme.key, "after=0", None).await;
    let mut globex_stream = SseClient::open(&app, &globex.key, "after=0", None).await;
    create_customer(&app, &globex.key, "g1", json!({"name": "G"})).await;
    create_customer(&app, &acme.key, "a1", json!({"name": "A"})).await;

    let acme_event = acme_stream.take(1, WAIT).await.remove(0);
    assert_eq!(acme_event.data["subject"]["customer_id"], "a1");
    assert_eq!(acme_event.data["tenant_id"], acme.tenant_id.as_str());
    let globex_event = globex_stream.take(1, WAIT).await.remove(0);
    assert_eq!(globex_event.data["subject"]["customer_id"], "g1");
    assert!(acme_stream.next(Duration::from_millis(300)).await.is_none());
    assert!(
        globex_stream
            .next(Duration::from_millis(300))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn bad_stream_parameters_are_problems() {
    let app = spawn_app().await;
    let acme = app.tenant("acme").await;
    for query in ["type=customer.renamed", "after=-1", "after=x", "colour=red"] {
        let (status, body) = native(
            &app,
            Method::GET,
            &format!("/v1/events/stream?{query}"),
            &acme.key,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert!(body["errors"][0]["field"].is_string(), "{query}: {body}");
    }
    let response = app
        .client
        .get(format!("{}/v1/events/stream", app.base_url))
        .bearer_auth(&acme.key)
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = native(&app, Method::GET, "/v1/events/stream", "psk_wrong", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn shutting_down_ends_open_streams() {
    let app = spawn_app_with(|s| s.shutdown_grace = Duration::from_secs(120)).await;
    let acme = app.tenant("acme").await;
    let mut stream = SseClient::open(&app, &acme.key, "", None).await;
    let started = std::time::Instant::now();
    // Graceful shutdown waits for in-flight requests, up to its grace period (two minutes
    // here); an open stream must end at once instead of holding the server up that long.
    app.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "shutdown waited for the stream to time out"
    );
    assert!(stream.next(Duration::from_secs(1)).await.is_none());
}

#[tokio::test]
async fn a_tenant_past_its_limit_of_open_streams_is_refused_until_one_closes() {
    let app = spawn_app_with(|s| s.delivery.max_streams_per_tenant = 2).await;
    let acme = app.tenant("acme").await;
    let globex = app.tenant("globex").await;
    let first = SseClient::open(&app, &acme.key, "", None).await;
    let _second = SseClient::open(&app, &acme.key, "", None).await;

    let refused = app
        .client
        .get(format!("{}/v1/events/stream", app.base_url))
        .bearer_auth(&acme.key)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert!(
        problem["type"]
            .as_str()
            .unwrap()
            .ends_with("/too-many-streams"),
        "{problem}"
    );
    // Another tenant has slots of its own.
    let _other = SseClient::open(&app, &globex.key, "", None).await;

    // A closed stream gives its slot back.
    drop(first);
    let started = std::time::Instant::now();
    loop {
        let reply = app
            .client
            .get(format!("{}/v1/events/stream", app.base_url))
            .bearer_auth(&acme.key)
            .send()
            .await
            .unwrap();
        if reply.status() == StatusCode::OK {
            break;
        }
        assert_eq!(reply.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the slot never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("slot back after {:?}", started.elapsed());
}
