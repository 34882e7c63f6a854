//! Events published to the real nats-server: one message per event on
//! `<prefix>.<tenant>.<type>`, `Nats-Msg-Id` = event id, in seq order per tenant, and an outage
//! of NATS that delays events without dropping them. CI has nats-server on 127.0.0.1:4222 and
//! must run these (CI=true turns a missing server into a failure); elsewhere they are skipped
//! with a message saying so.

use crate::helpers::{create_customer, eventually};
use crate::support::{TestApp, spawn_app_with};
use async_nats::jetstream::{self, consumer::pull};
use futures_util::StreamExt;
use profilestore_server::events::NatsSettings;
use serde_json::{Value, json};
use std::time::Duration;

const SHARED_NATS: &str = "127.0.0.1:4222";
const NATS_BINARY: &str = "/usr/sbin/nats-server";

/// Whether the test may go on; panics under CI when what it needs is missing.
fn available(what: &str, present: bool) -> bool {
    if present {
        return true;
    }
    let message = format!("NATS test skipped: {what}");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}, and CI must run it");
    }
    eprintln!("{message}");
    false
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// A stream and subject prefix of the test's own (subjects may not overlap between streams).
fn settings_for(url: String) -> NatsSettings {
    NatsSettings {
        url,
        stream: unique("PSTEST_"),
        subject_prefix: unique("pstest"),
    }
}

/// Every message of `settings`' stream under `<prefix>.<tenant>.>`, as (subject, msg id, event).
async fn messages(
    url: &str,
    settings: &NatsSettings,
    tenant: &str,
    count: usize,
) -> Vec<(String, String, Value)> {
    // A nats-server the test has just started may not listen yet.
    let client = eventually(
        "NATS to accept a connection",
        Duration::from_secs(30),
        || async { async_nats::connect(url).await.ok() },
    )
    .await;
    let context = jetstream::new(client);
    let stream = eventually("the stream to exist", Duration::from_secs(30), || async {
        context.get_stream(&settings.stream).await.ok()
    })
    .await;
    let consumer = stream
        .create_consumer(pull::Config {
            filter_subject: format!("{}.{tenant}.>", settings.subject_prefix),
            ..Default::default()
        })
        .await
        .expect("consumer");
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while got.len() < count && tokio::time::Instant::now() < deadline {
        let mut batch = consumer
            .fetch()
            .max_messages(count - got.len())
            .expires(Duration::from_millis(500))
            .messages()
            .await
            .expect("fetch");
        while let Some(message) = batch.next().await {
            let message = message.expect("message");
            let id = message
                .headers
                .as_ref()
                .and_then(|h| h.get("Nats-Msg-Id"))
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default();
            got.push((
                message.subject.to_string(),
                id,
                serde_json::from_slice(&message.payload).expect("JSON event"),
            ));
            message.ack().await.expect("ack");
        }
    }
    got
}

async fn delete_stream(url: &str, settings: &NatsSettings) {
    if let Ok(client) = async_nats::connect(url).await {
        let _ = jetstream::new(client).delete_stream(&settings.stream).await;
    }
}

async fn write_events(app: &TestApp, key: &str, prefix: &str, count: usize) {
    for n in 0..count {
        create_customer(app, key, &format!("{prefix}{n}"), json!({"name": "N"})).await;
    }
}

fn check(got: &[(String, String, Value)], settings: &NatsSettings, tenant: &str, count: i64) {
    let seqs: Vec<i64> = got
        .iter()
        .map(|(_, _, e)| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=count).collect::<Vec<_>>());
    for (subject, id, event) in got {
        assert_eq!(
            subject,
            &format!("{}.{tenant}.customer.created", settings.subject_prefix)
        );
        assert_eq!(event["id"], id.as_str(), "Nats-Msg-Id is the event id");
        assert_eq!(event["tenant_id"], tenant);
    }
}

#[tokio::test]
async fn every_event_is_published_per_tenant_in_order() {
    let reachable =
        std::net::TcpStream::connect_timeout(&SHARED_NATS.parse().unwrap(), Duration::from_secs(2))
            .is_ok();
    if !available(&format!("no nats-server at {SHARED_NATS}"), reachable) {
        return;
    }
    let url = format!("nats://{SHARED_NATS}");
    let settings = settings_for(url.clone());
    let nats = settings.clone();
    let app = spawn_app_with(move |s| s.delivery.nats = Some(nats)).await;
    let acme = app.tenant("acme").await;
    let globex = app.tenant("globex").await;
    write_events(&app, &acme.key, "a", 3).await;
    write_events(&app, &globex.key, "g", 2).await;

    let acme_got = messages(&url, &settings, &acme.tenant_id, 3).await;
    let globex_got = messages(&url, &settings, &globex.tenant_id, 2).await;
    delete_stream(&url, &settings).await;
    check(&acme_got, &settings, &acme.tenant_id, 3);
    check(&globex_got, &settings, &globex.tenant_id, 2);
}

#[tokio::test]
async fn events_written_while_nats_is_down_arrive_when_it_comes_back() {
    if !available(
        &format!("{NATS_BINARY} is not installed"),
        std::path::Path::new(NATS_BINARY).exists(),
    ) {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("nats://127.0.0.1:{port}");
    let settings = settings_for(url.clone());
    let nats = settings.clone();
    let app = spawn_app_with(move |s| s.delivery.nats = Some(nats)).await;
    let acme = app.tenant("acme").await;
    write_events(&app, &acme.key, "a", 4).await;
    // Nothing listens on the port yet: the relay keeps retrying while the events wait.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let store = tempfile::tempdir().unwrap();
    let mut nats_server = std::process::Command::new(NATS_BINARY)
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(store.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nats-server starts");
    write_events(&app, &acme.key, "b", 2).await;
    let got = messages(&url, &settings, &acme.tenant_id, 6).await;
    let _ = nats_server.kill();
    let _ = nats_server.wait();
    check(&got, &settings, &acme.tenant_id, 6);
}
