//! Event delivery state: webhook leases (exclusive, only the holder saves, a change takes the
//! lease away), replay, relay cursors per tenant, retention that waits for enabled webhooks,
//! and the doorbell rung by commits.

use crate::support::{create_customers, customer, last_seq, sealed, tenant};
use chrono::{Duration, Utc};
use profilestore_store::Store;
use profilestore_store::webhooks::{DeliveryAttempt, NewWebhook, Webhook, WebhookChange};
use std::sync::Arc;

async fn webhook(store: &dyn Store, tenant_id: &str, id: &str) -> Webhook {
    store
        .create_webhook(
            tenant_id,
            id.to_owned(),
            NewWebhook {
                url: "https://example.com/hook".into(),
                event_types: vec![],
                attributes: vec!["email".into()],
                enabled: true,
                secret: sealed("whsec"),
            },
            Utc::now(),
        )
        .await
        .unwrap()
}

async fn write(store: &dyn Store, tenant_id: &str, ids: &[&str]) {
    let records = ids
        .iter()
        .map(|id| customer(id, &[("name", "N")]))
        .collect();
    create_customers(store, tenant_id, records).await;
}

fn attempt(seq: i64, succeeded: bool) -> DeliveryAttempt {
    DeliveryAttempt {
        attempted_at: Utc::now(),
        seq,
        event_id: format!("e{seq}"),
        status: Some(if succeeded { 200 } else { 503 }),
        error: (!succeeded).then(|| "the receiver answered 503".to_owned()),
        duration_ms: 3,
        succeeded,
    }
}

pub async fn a_webhook_starts_after_the_events_written_before_it(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    write(&*store, &acme.tenant_id, &["C-1", "C-2"]).await;
    let created = webhook(&*store, &acme.tenant_id, "wh_1").await;
    assert_eq!(created.state.cursor, 2);
    assert_eq!(created.attributes, ["email"]);
    assert!(created.enabled);
    let now = Utc::now();
    assert!(
        store
            .claim_webhooks("n1", now, now + Duration::seconds(30), 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing to deliver yet"
    );
    assert_eq!(store.latest_event_seq(&acme.tenant_id).await.unwrap(), 2);
}

pub async fn a_claim_is_exclusive_and_only_its_holder_saves(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    webhook(&*store, &acme.tenant_id, "wh_1").await;
    write(&*store, &acme.tenant_id, &["C-1", "C-2"]).await;
    let now = Utc::now();
    let lease = now + Duration::seconds(30);
    let mut claimed = store.claim_webhooks("n1", now, lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        store
            .claim_webhooks("n2", now, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let mut held = claimed.remove(0);
    held.state.cursor = 1;
    assert!(
        !store
            .advance_webhook(&held, "n2", vec![attempt(1, true)], lease)
            .await
            .unwrap()
    );
    assert!(
        store
            .advance_webhook(
                &held,
                "n1",
                vec![attempt(1, true), attempt(2, false)],
                lease
            )
            .await
            .unwrap()
    );
    let saved = store
        .get_webhook(&acme.tenant_id, "wh_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved.state.cursor, 1);
    let history = store
        .webhook_deliveries(&acme.tenant_id, "wh_1", 10)
        .await
        .unwrap();
    assert_eq!(
        history
            .iter()
            .map(|a| (a.seq, a.succeeded))
            .collect::<Vec<_>>(),
        [(2, false), (1, true)]
    );

    // Released (a lease ending now): another node may claim it, and does, still behind.
    assert!(
        store
            .advance_webhook(&held, "n1", vec![], Utc::now())
            .await
            .unwrap()
    );
    let later = Utc::now() + Duration::milliseconds(10);
    let taken = store
        .claim_webhooks("n2", later, later + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].state.cursor, 1);
}

pub async fn a_change_takes_the_lease_and_replay_moves_the_cursor(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    webhook(&*store, &acme.tenant_id, "wh_1").await;
    write(&*store, &acme.tenant_id, &["C-1", "C-2", "C-3"]).await;
    let now = Utc::now();
    let mut held = store
        .claim_webhooks("n1", now, now + Duration::seconds(30), 10)
        .await
        .unwrap()
        .remove(0);
    held.state.cursor = 3;
    let changed = store
        .change_webhook(
            &acme.tenant_id,
            "wh_1",
            WebhookChange {
                replay_from: Some(2),
                ..Default::default()
            },
            Utc::now(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.state.cursor, 1, "replay from 2 delivers 2 next");
    assert!(
        !store
            .advance_webhook(&held, "n1", vec![], Utc::now())
            .await
            .unwrap(),
        "the change took the lease"
    );
    assert_eq!(
        store
            .get_webhook(&acme.tenant_id, "wh_1")
            .await
            .unwrap()
            .unwrap()
            .state
            .cursor,
        1
    );
    assert!(
        store
            .change_webhook(
                &acme.tenant_id,
                "wh_none",
                WebhookChange::default(),
                Utc::now()
            )
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.delete_webhook(&acme.tenant_id, "wh_1").await.unwrap());
    assert!(!store.delete_webhook(&acme.tenant_id, "wh_1").await.unwrap());
}

pub async fn any_webhook_enabled_looks_at_every_tenant_and_only_enabled_webhooks(
    store: Arc<dyn Store>,
) {
    let (acme, globex) = (
        tenant(&*store, "acme").await,
        tenant(&*store, "globex").await,
    );
    assert!(!store.any_webhook_enabled().await.unwrap());
    let mut changed = store.doorbell().webhooks();
    webhook(&*store, &acme.tenant_id, "wh_1").await;
    assert!(store.any_webhook_enabled().await.unwrap());
    assert!(changed.has_changed().unwrap(), "a creation wakes the relay");
    changed.mark_unchanged();
    let disable = WebhookChange {
        enabled: Some(false),
        ..Default::default()
    };
    store
        .change_webhook(&acme.tenant_id, "wh_1", disable, Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert!(!store.any_webhook_enabled().await.unwrap(), "only disabled");
    assert!(changed.has_changed().unwrap(), "a change wakes the relay");
    webhook(&*store, &globex.tenant_id, "wh_2").await;
    assert!(
        store.any_webhook_enabled().await.unwrap(),
        "another tenant's"
    );
    store
        .delete_webhook(&globex.tenant_id, "wh_2")
        .await
        .unwrap();
    assert!(!store.any_webhook_enabled().await.unwrap());
}

pub async fn webhooks_are_per_tenant(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let globex = tenant(&*store, "globex").await;
    webhook(&*store, &acme.tenant_id, "wh_1").await;
    assert!(
        store
            .get_webhook(&globex.tenant_id, "wh_1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .list_webhooks(&globex.tenant_id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !store
            .delete_webhook(&globex.tenant_id, "wh_1")
            .await
            .unwrap()
    );
    assert!(
        store
            .change_webhook(
                &globex.tenant_id,
                "wh_1",
                WebhookChange {
                    enabled: Some(false),
                    ..Default::default()
                },
                Utc::now()
            )
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get_webhook(&acme.tenant_id, "wh_1")
            .await
            .unwrap()
            .unwrap()
            .enabled
    );
}

pub async fn relay_cursors_are_leased_per_tenant(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let globex = tenant(&*store, "globex").await;
    write(&*store, &acme.tenant_id, &["C-1", "C-2"]).await;
    write(&*store, &globex.tenant_id, &["G-1"]).await;
    let now = Utc::now();
    let lease = now + Duration::seconds(30);
    let mut claimed = store
        .claim_relay("nats", "n1", now, lease, 10)
        .await
        .unwrap();
    claimed.sort();
    let mut expected = vec![(acme.tenant_id.clone(), 0), (globex.tenant_id.clone(), 0)];
    expected.sort();
    assert_eq!(claimed, expected);
    assert!(
        store
            .claim_relay("nats", "n2", now, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !store
            .advance_relay(&acme.tenant_id, "nats", "n2", 2, lease)
            .await
            .unwrap()
    );
    assert!(
        store
            .advance_relay(&acme.tenant_id, "nats", "n1", 2, Utc::now())
            .await
            .unwrap()
    );
    assert!(
        store
            .advance_relay(&globex.tenant_id, "nats", "n1", 0, Utc::now())
            .await
            .unwrap()
    );
    let later = Utc::now() + Duration::milliseconds(10);
    let again = store
        .claim_relay("nats", "n2", later, later + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(
        again,
        [(globex.tenant_id.clone(), 0)],
        "acme's cursor is at its newest event"
    );
}

pub async fn retention_keeps_what_an_enabled_webhook_has_not_passed(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let globex = tenant(&*store, "globex").await;
    webhook(&*store, &acme.tenant_id, "wh_1").await;
    write(&*store, &acme.tenant_id, &["C-1", "C-2"]).await;
    write(&*store, &globex.tenant_id, &["G-1", "G-2"]).await;
    let future = Utc::now() + Duration::days(1);

    // Everything is older than "a day from now"; globex has no webhook, acme's is at 0.
    assert_eq!(store.prune_events(future).await.unwrap(), 2);
    assert!(
        store
            .events_after(&globex.tenant_id, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .events_after(&acme.tenant_id, 0, 10)
            .await
            .unwrap()
            .len(),
        2
    );

    let now = Utc::now();
    let mut held = store
        .claim_webhooks("n1", now, now + Duration::seconds(30), 10)
        .await
        .unwrap()
        .remove(0);
    held.state.cursor = 1;
    store
        .advance_webhook(&held, "n1", vec![], Utc::now())
        .await
        .unwrap();
    assert_eq!(store.prune_events(future).await.unwrap(), 1);
    let left = store.events_after(&acme.tenant_id, 0, 10).await.unwrap();
    assert_eq!(left.iter().map(|e| e.seq).collect::<Vec<_>>(), [2]);

    // A disabled webhook holds nothing back; the sequence goes on after pruning.
    store
        .change_webhook(
            &acme.tenant_id,
            "wh_1",
            WebhookChange {
                enabled: Some(false),
                ..Default::default()
            },
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(store.prune_events(future).await.unwrap(), 1);
    write(&*store, &acme.tenant_id, &["C-3"]).await;
    assert_eq!(
        last_seq(&*store, &acme.tenant_id).await,
        3,
        "seqs are never reused"
    );
    assert_eq!(store.latest_event_seq(&acme.tenant_id).await.unwrap(), 3);
}

pub async fn a_commit_with_events_rings_its_tenants_bell(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let globex = tenant(&*store, "globex").await;
    let mut acme_bell = store.doorbell().tenant(&acme.tenant_id);
    let mut globex_bell = store.doorbell().tenant(&globex.tenant_id);
    // A PostgreSQL listener rings every bell once when it starts listening; let that pass.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    acme_bell.mark_unchanged();
    globex_bell.mark_unchanged();
    write(&*store, &acme.tenant_id, &["C-1"]).await;
    // On PostgreSQL the ring comes through LISTEN/NOTIFY, a moment after the commit.
    tokio::time::timeout(std::time::Duration::from_secs(10), acme_bell.changed())
        .await
        .expect("acme's bell rang")
        .unwrap();
    assert!(!globex_bell.has_changed().unwrap(), "globex wrote nothing");
}
