//! Webhook deliveries to real receivers: signed, in seq order, retried after failures, each
//! tenant's only, filtered by the attributes they change, replayed on request, and disabled
//! after failing for too long.

use crate::helpers::{create_customer, create_webhook, eventually, native, seqs, update_customer};
use crate::receiver::Receiver;
use crate::support::spawn_app_with;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// Fast retries, so that a test sees several attempts in well under a second.
fn fast_retries(settings: &mut profilestore_server::config::ServeSettings) {
    settings.delivery.webhook_retry_initial = Duration::from_millis(50);
}

async fn accepted_at_least(receiver: &Receiver, count: usize) -> Vec<Value> {
    eventually(&format!("{count} deliveries"), WAIT, || async {
        let accepted = receiver.accepted();
        (accepted.len() >= count).then_some(accepted)
    })
    .await
}

#[tokio::test]
async fn events_arrive_signed_and_in_order_after_the_first_attempts_fail() {
    let app = spawn_app_with(fast_retries).await;
    let acme = app.tenant("acme").await;
    let receiver = Receiver::start().await;
    receiver.fail_next(3);
    let webhook = create_webhook(&app, &acme.key, json!({"url": receiver.url})).await;
    receiver.set_secret(webhook["secret"].as_str().unwrap());

    for n in 0..10 {
        create_customer(&app, &acme.key, &format!("c{n}"), json!({"name": "A"})).await;
    }
    let accepted = accepted_at_least(&receiver, 10).await;
    assert_eq!(seqs(&accepted), (1..=10).collect::<Vec<_>>());
    assert_eq!(receiver.inbox.forged.load(Ordering::SeqCst), 0);
    assert_eq!(receiver.inbox.attempts.load(Ordering::SeqCst), 13);

    let id = webhook["webhook_id"].as_str().unwrap();
    // The relay records an attempt after the receiver has answered it: wait for the last one.
    let history = eventually("13 recorded attempts", WAIT, || async {
        let (_, history) = native(
            &app,
            Method::GET,
            &format!("/v1/webhooks/{id}/deliveries?limit=500"),
            &acme.key,
            None,
        )
        .await;
        let history = history["deliveries"].as_array().unwrap().clone();
        (history.len() >= 13).then_some(history)
    })
    .await;
    let failed: Vec<&Value> = history.iter().filter(|d| d["succeeded"] == false).collect();
    assert_eq!(failed.len(), 3, "{history:?}");
    assert!(failed.iter().all(|d| d["seq"] == 1 && d["status"] == 503));
    assert_eq!(history.len(), 13);
    assert_eq!(history[0]["seq"], 10, "newest first");

    let view = eventually("the cursor through seq 10", WAIT, || async {
        let (_, view) = native(
            &app,
            Method::GET,
            &format!("/v1/webhooks/{id}"),
            &acme.key,
            None,
        )
        .await;
        (view["delivery"]["delivered_through_seq"] == 10).then_some(view)
    })
    .await;
    assert_eq!(view["delivery"]["failed_attempts"], 0);
    assert!(
        view.get("secret").is_none(),
        "the secret is shown only once"
    );
}

#[tokio::test]
async fn each_tenant_receives_its_own_events_through_its_filters() {
    let app = spawn_app_with(fast_retries).await;
    let acme = app.tenant("acme").await;
    let globex = app.tenant("globex").await;
    let acme_receiver = Receiver::start().await;
    let globex_receiver = Receiver::start().await;
    let acme_hook = create_webhook(
        &app,
        &acme.key,
        json!({"url": acme_receiver.url, "attributes": ["email"]}),
    )
    .await;
    acme_receiver.set_secret(acme_hook["secret"].as_str().unwrap());
    let globex_hook = create_webhook(
        &app,
        &globex.key,
        json!({"url": globex_receiver.url, "event_types": ["customer.created"]}),
    )
    .await;
    globex_receiver.set_secret(globex_hook["secret"].as_str().unwrap());

    create_customer(&app, &acme.key, "a1", json!({"name": "Ann"})).await; // acme 1: no email
    update_customer(&app, &acme.key, "a1", json!({"email": "ann@x.io"})).await; // acme 2
    create_customer(&app, &globex.key, "g1", json!({"name": "Gus"})).await; // globex 1
    update_customer(&app, &globex.key, "g1", json!({"email": "gus@x.io"})).await; // globex 2: updated
    create_customer(&app, &acme.key, "a2", json!({"email": "bo@x.io"})).await; // acme 3

    let acme_got = accepted_at_least(&acme_receiver, 2).await;
    let globex_got = accepted_at_least(&globex_receiver, 1).await;
    // One more event each filter lets through: deliveries are in seq order, so once it has
    // arrived, anything the filters wrongly let through would have arrived before it.
    update_customer(&app, &acme.key, "a2", json!({"email": "bo2@x.io"})).await; // acme 4
    create_customer(&app, &globex.key, "g2", json!({"name": "Gil"})).await; // globex 3
    let acme_got_all = accepted_at_least(&acme_receiver, 3).await;
    let globex_got_all = accepted_at_least(&globex_receiver, 2).await;
    assert_eq!(acme_got_all[..2], acme_got[..]);
    assert_eq!(seqs(&acme_got_all), [2, 3, 4]);
    assert_eq!(seqs(&globex_got_all), [1, 3]);
    assert_eq!(seqs(&acme_got), [2, 3]);
    assert!(
        acme_got
            .iter()
            .all(|e| e["tenant_id"] == acme.tenant_id.as_str())
    );
    assert_eq!(globex_got_all[..1], globex_got[..]);
    assert_eq!(seqs(&globex_got), [1]);
    assert_eq!(globex_got[0]["subject"]["customer_id"], "g1");

    // One tenant cannot see or touch another's webhook.
    let globex_id = globex_hook["webhook_id"].as_str().unwrap();
    for method in [Method::GET, Method::DELETE] {
        let (status, _) = native(
            &app,
            method,
            &format!("/v1/webhooks/{globex_id}"),
            &acme.key,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (_, acme_list) = native(&app, Method::GET, "/v1/webhooks", &acme.key, None).await;
    assert_eq!(acme_list["webhooks"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn replay_sends_the_kept_events_again_in_order() {
    let app = spawn_app_with(fast_retries).await;
    let acme = app.tenant("acme").await;
    let receiver = Receiver::start().await;
    let webhook = create_webhook(&app, &acme.key, json!({"url": receiver.url})).await;
    receiver.set_secret(webhook["secret"].as_str().unwrap());
    for n in 0..4 {
        create_customer(&app, &acme.key, &format!("c{n}"), json!({"name": "A"})).await;
    }
    accepted_at_least(&receiver, 4).await;
    let id = webhook["webhook_id"].as_str().unwrap();
    let (status, replayed) = native(
        &app,
        Method::POST,
        &format!("/v1/webhooks/{id}/replay?from_seq=2"),
        &acme.key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{replayed}");
    let accepted = accepted_at_least(&receiver, 7).await;
    assert_eq!(seqs(&accepted), [1, 2, 3, 4, 2, 3, 4]);

    let (status, body) = native(
        &app,
        Method::POST,
        &format!("/v1/webhooks/{id}/replay"),
        &acme.key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "from_seq");
}

#[tokio::test]
async fn a_webhook_failing_too_long_is_disabled_with_the_reason_and_resumes_when_enabled() {
    let app = spawn_app_with(|s| {
        fast_retries(s);
        s.delivery.webhook_give_up_after = Duration::from_millis(300);
    })
    .await;
    let acme = app.tenant("acme").await;
    let receiver = Receiver::start().await;
    receiver.fail_next(usize::MAX);
    let webhook = create_webhook(&app, &acme.key, json!({"url": receiver.url})).await;
    receiver.set_secret(webhook["secret"].as_str().unwrap());
    create_customer(&app, &acme.key, "c1", json!({"name": "A"})).await;
    create_customer(&app, &acme.key, "c2", json!({"name": "B"})).await;

    let id = webhook["webhook_id"].as_str().unwrap().to_owned();
    let view = eventually("the webhook to be disabled", WAIT, || async {
        let (_, view) = native(
            &app,
            Method::GET,
            &format!("/v1/webhooks/{id}"),
            &acme.key,
            None,
        )
        .await;
        (view["enabled"] == false).then_some(view)
    })
    .await;
    let reason = view["delivery"]["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("resume from seq 1"), "{reason}");
    assert!(receiver.accepted().is_empty());

    receiver.fail_next(0);
    let (status, enabled) = native(
        &app,
        Method::PATCH,
        &format!("/v1/webhooks/{id}"),
        &acme.key,
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{enabled}");
    assert_eq!(enabled["delivery"]["disabled_reason"], Value::Null);
    assert_eq!(seqs(&accepted_at_least(&receiver, 2).await), [1, 2]);
}
