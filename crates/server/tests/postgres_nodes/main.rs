//! The real binary on PostgreSQL, as it runs in production: several `profilestore serve`
//! processes on one database (`two_nodes`, and `events_across_nodes` for the event stream and
//! webhook leases), one server riding out an outage of a PostgreSQL
//! instance the test starts and stops itself (`outage`), and the schema as docs/deploy.md
//! distributes it on Citus (`citus`).
//!
//! `two_nodes` (and `citus`'s catalog check) run when `PROFILESTORE_TEST_DATABASE_URL` names a
//! PostgreSQL server (each test in a database of its own); `outage` when PostgreSQL's `initdb`
//! and `pg_ctl` are installed. Otherwise they say that they skipped, and why.

#[path = "../support/mod.rs"]
mod support;

mod citus;
mod events_across_nodes;
mod outage;
mod two_nodes;

use serde_json::Value;
use std::time::{Duration, Instant};

/// The compatible API's code for a read of a customer nobody created with `key`: 7014 (not
/// found) once the key is accepted, 7001 for an unknown key, 7010 for a refused address.
pub async fn code_for_key(base_url: &str, key: &str) -> String {
    let reply = support::http_client()
        .get(format!("{base_url}/resources/v2/customerprofile/nobody"))
        .header("key", key)
        .send()
        .await
        .expect("request sent");
    let body: Value = reply.json().await.unwrap_or(Value::Null);
    body["code"].as_str().unwrap_or_default().to_owned()
}

/// Polls every node until each answers `expected` for `key`, failing after 5 seconds: the
/// promise admin commands make to every running node.
pub async fn on_every_node_within_five_seconds(base_urls: &[&str], key: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    for base_url in base_urls {
        loop {
            let code = code_for_key(base_url, key).await;
            if code == expected {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{base_url} still answers {code}, expected {expected}, after 5 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
