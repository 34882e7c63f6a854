use crate::support::spawn_app;
use reqwest::StatusCode;

#[tokio::test]
async fn healthz_and_readyz_answer_with_small_json_bodies() {
    let app = spawn_app().await;

    let health = app
        .client
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await
        .unwrap();
    let ready = app
        .client
        .get(format!("{}/readyz", app.base_url))
        .send()
        .await
        .unwrap();

    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(
        health.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(
        ready.json::<serde_json::Value>().await.unwrap()["status"],
        "ready"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_store_transactions() {
    let app = spawn_app().await;
    let tenant = app.tenant("metrics").await;
    app.post(
        "/resources/v2/customerprofile",
        &tenant.key,
        serde_json::json!({"customerId": "m-1"}),
    )
    .await;
    app.get("/resources/v2/customerprofile/nobody", &tenant.key)
        .await;
    // A method of the client's own invention is counted, under one label for all of them.
    // Five times: more than there are worker threads, so some are counted through a handle
    // a thread cached for an earlier one, and every one must reach the same series.
    for _ in 0..5 {
        let brew = reqwest::Method::from_bytes(b"BREW").unwrap();
        app.client
            .request(brew, format!("{}/healthz", app.base_url))
            .send()
            .await
            .unwrap();
    }

    let text = app
        .client
        .get(format!("{}/metrics", app.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert!(text.contains(r#"http_requests_total{method="POST",route="/resources/v2/customerprofile",status="200"}"#), "{text}");
    assert!(
        text.contains(r#"route="/resources/v2/customerprofile/{customer_id}",status="404""#),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains(r#"http_requests_total{method="other",route="/healthz",status="405"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"http_requests_total{method="other",route="/healthz",status="405"} 5"#),
        "{text}"
    );
    assert!(!text.contains("BREW"), "{text}");
    // Counted, not only registered (the recorder is the process's: other tests add to it).
    for series in [
        r#"store_transactions_total{operation="write_customers",outcome="ok"}"#,
        r#"store_transaction_duration_seconds_count{operation="write_customers"}"#,
    ] {
        assert!(sample(&text, series) >= 1.0, "{series} in {text}");
    }
}

/// The value of one series in a Prometheus text page (0 when absent).
fn sample(page: &str, series: &str) -> f64 {
    page.lines()
        .find_map(|line| line.strip_prefix(series))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn unknown_routes_are_404() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/nowhere", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
