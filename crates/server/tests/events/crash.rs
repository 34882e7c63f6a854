//! A server killed with SIGKILL in the middle of webhook deliveries: after a restart on the
//! same storage, the receiver gets every event (at least once) and none out of order.

use crate::helpers::eventually;
use crate::receiver::Receiver;
use crate::support::{ServerProcess, TestStorage, http_client, profilestore_command};
use serde_json::{Value, json};
use std::time::Duration;

fn serve(storage: &TestStorage) -> ServerProcess {
    let mut command = profilestore_command();
    command
        .env("RUST_LOG", "info")
        .envs(storage.env())
        // A short lease: the restarted node takes over the dead one's deliveries within 2 s.
        .env("PROFILESTORE_WEBHOOK_LEASE", "2s")
        .env("PROFILESTORE_WEBHOOK_RETRY_INITIAL", "50ms");
    ServerProcess::start(command)
}

#[tokio::test]
async fn a_server_killed_mid_delivery_resumes_after_restart_and_loses_nothing() {
    let storage = TestStorage::new().await;
    let output = profilestore_command()
        .envs(storage.env())
        .args(["tenant", "create", "crash", "--json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tenant: Value = serde_json::from_slice(&output.stdout).unwrap();
    let key = tenant["profile_key"].as_str().unwrap().to_owned();
    let client = http_client();
    let receiver = Receiver::start().await;
    // Slow enough that the kill lands in the middle of the deliveries.
    receiver.delay(Duration::from_millis(40));

    let mut server = serve(&storage);
    let created: Value = client
        .post(format!("{}/v1/webhooks", server.base_url))
        .bearer_auth(&key)
        .json(&json!({"url": receiver.url}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    receiver.set_secret(created["secret"].as_str().unwrap());
    const EVENTS: i64 = 60;
    for n in 0..EVENTS {
        let reply: Value = client
            .post(format!("{}/resources/v2/customerprofile", server.base_url))
            .header("key", &key)
            .json(&json!({"customerId": format!("k-{n}")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(reply["code"], "1000");
    }
    eventually(
        "some deliveries before the kill",
        Duration::from_secs(30),
        || async { (receiver.accepted().len() >= 5).then_some(()) },
    )
    .await;
    server.signal("KILL");
    server.wait_with_deadline(Duration::from_secs(10));
    let before_restart = receiver.accepted().len();
    assert!(
        before_restart < EVENTS as usize,
        "the kill came too late to test anything"
    );

    let _restarted = serve(&storage);
    let accepted = eventually(
        "every event after the restart",
        Duration::from_secs(60),
        || async {
            let accepted = receiver.accepted();
            let mut seen: Vec<i64> = accepted
                .iter()
                .map(|e| e["seq"].as_i64().unwrap())
                .collect();
            seen.sort();
            seen.dedup();
            (seen.len() == EVENTS as usize).then_some(accepted)
        },
    )
    .await;
    // At least once: an event in flight at the kill may come twice, but in order: each
    // delivery is the next seq or a repeat of one just before it.
    let mut highest = 0;
    for event in &accepted {
        let seq = event["seq"].as_i64().unwrap();
        assert!(
            seq <= highest + 1,
            "seq {seq} arrived before {}",
            highest + 1
        );
        highest = highest.max(seq);
    }
    assert_eq!(highest, EVENTS);
    assert_eq!(
        receiver
            .inbox
            .forged
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}
