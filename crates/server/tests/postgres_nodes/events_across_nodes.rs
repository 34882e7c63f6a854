//! Events with two nodes on one database: a live stream on one node sees writes made through
//! the other (woken by LISTEN/NOTIFY), and a webhook is delivered by one node at a time (a
//! lease), every event once and in order, although both nodes run a webhook relay.

use crate::support::http_client;
use crate::two_nodes::Cluster;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::Duration;

// Shared with the events suite, which uses all of them.
#[allow(dead_code)]
#[path = "../events/receiver.rs"]
mod receiver;
#[allow(dead_code)]
#[path = "../events/sse.rs"]
mod sse;

use receiver::Receiver;
use sse::SseClient;

async fn create(base_url: &str, key: &str, customer_id: &str) {
    let reply: Value = http_client()
        .post(format!("{base_url}/resources/v2/customerprofile"))
        .header("key", key)
        .json(&json!({"customerId": customer_id}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["code"], "1000", "{reply}");
}

#[tokio::test]
async fn a_stream_on_one_node_sees_writes_through_the_other() {
    let Some(cluster) = Cluster::start().await else {
        return;
    };
    let acme = cluster.tenant("acme").await;
    let [a, b] = cluster.urls();
    let client = http_client();
    let mut on_b = SseClient::open_at(&client, b, &acme.key, "", None).await;
    for n in 0..6 {
        // Alternating nodes: the stream must see both, in seq order.
        let node = if n % 2 == 0 { a } else { b };
        create(node, &acme.key, &format!("c{n}")).await;
    }
    let events = on_b.take(6, Duration::from_secs(10)).await;
    let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
    let customers: Vec<&str> = events
        .iter()
        .map(|e| e.data["subject"]["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(customers, ["c0", "c1", "c2", "c3", "c4", "c5"]);
}

#[tokio::test]
async fn one_node_at_a_time_delivers_a_webhook_every_event_once_in_order() {
    let Some(cluster) =
        Cluster::start_with(&[("PROFILESTORE_WEBHOOK_RETRY_INITIAL", "50ms")]).await
    else {
        return;
    };
    let acme = cluster.tenant("acme").await;
    let [a, b] = cluster.urls();
    let receiver = Receiver::start().await;
    // Slow answers widen the window in which a second node could deliver in parallel.
    receiver.delay(Duration::from_millis(20));
    let created: Value = http_client()
        .post(format!("{a}/v1/webhooks"))
        .bearer_auth(&acme.key)
        .json(&json!({"url": receiver.url}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    receiver.set_secret(created["secret"].as_str().unwrap());

    const EVENTS: usize = 40;
    for n in 0..EVENTS {
        let node = if n % 2 == 0 { a } else { b };
        create(node, &acme.key, &format!("c{n}")).await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while receiver.accepted().len() < EVENTS {
        assert!(
            std::time::Instant::now() < deadline,
            "not every event arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // One more event: delivered in seq order, so once it is in, any duplicate of the first 40
    // would have arrived before it.
    create(a, &acme.key, "sentinel").await;
    while receiver.accepted().len() < EVENTS + 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the last event did not arrive"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seqs: Vec<i64> = receiver
        .accepted()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs[..EVENTS], (1..=EVENTS as i64).collect::<Vec<_>>());
    assert_eq!(seqs, (1..=EVENTS as i64 + 1).collect::<Vec<_>>());
    assert_eq!(receiver.inbox.most_in_flight.load(Ordering::SeqCst), 1);
    assert_eq!(receiver.inbox.forged.load(Ordering::SeqCst), 0);
}
