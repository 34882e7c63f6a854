//! Store failures under a running server: the compatible API answers 7006 without details,
//! /readyz answers 503, and both recover when the store does. The damage is real: a table is
//! renamed behind the server's back through a second connection (to SQLite or PostgreSQL,
//! whichever the server runs on).

use crate::support::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, SqliteConnection};

async fn rename_table(app: &TestApp, from: &str, to: &str) {
    let url = &app.settings.store.database_url;
    let statement = format!("ALTER TABLE {from} RENAME TO {to}");
    if url.starts_with("sqlite:") {
        let mut connection = SqliteConnection::connect(url).await.unwrap();
        connection.execute(AssertSqlSafe(statement)).await.unwrap();
        connection.close().await.unwrap();
    } else {
        let mut connection = PgConnection::connect(url).await.unwrap();
        connection.execute(AssertSqlSafe(statement)).await.unwrap();
        connection.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_failing_store_answers_7006_without_leaking_details_and_recovers() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    rename_table(&app, "customers", "customers_away").await;

    let failed = app
        .post(
            "/resources/v2/customerprofile",
            &tenant.key,
            json!({"customerId": "c"}),
        )
        .await;
    rename_table(&app, "customers_away", "customers").await;
    let recovered = app
        .post(
            "/resources/v2/customerprofile",
            &tenant.key,
            json!({"customerId": "c"}),
        )
        .await;

    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(failed.code(), "7006");
    assert_eq!(failed.body["description"], "Internal error occurred");
    let text = failed.body.to_string();
    assert!(
        !text.contains("customers") && !text.to_lowercase().contains("sql"),
        "{text}"
    );
    assert_eq!(recovered.code(), "1000");
}

#[tokio::test]
async fn readyz_is_503_while_the_store_is_unusable() {
    let app = spawn_app().await;
    rename_table(&app, "settings_version", "settings_version_away").await;

    let broken = app
        .client
        .get(format!("{}/readyz", app.base_url))
        .send()
        .await
        .unwrap();
    let alive = app
        .client
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await
        .unwrap();
    rename_table(&app, "settings_version_away", "settings_version").await;
    let ready_again = app
        .client
        .get(format!("{}/readyz", app.base_url))
        .send()
        .await
        .unwrap();

    assert_eq!(broken.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        broken.json::<serde_json::Value>().await.unwrap()["status"],
        "unavailable"
    );
    assert_eq!(alive.status(), StatusCode::OK);
    assert_eq!(ready_again.status(), StatusCode::OK);
}
