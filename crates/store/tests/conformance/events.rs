//! The outbox: every mutation writes its events in the same transaction, numbered per tenant
//! from 1, without gaps, in commit order.

use crate::support::{
    all_events, create_customers, customer, customer_ref, delete_app_profiles, delete_customers,
    device, event_types, last_seq, refused, register, tenant_with_app, update, update_customers,
    write_app_profiles,
};
use chrono::{DateTime, Utc};
use profilestore_core::DomainError;
use profilestore_store::Store;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;

fn seqs(events: &[profilestore_store::model::StoredEvent]) -> Vec<i64> {
    events.iter().map(|event| event.seq).collect()
}

pub async fn create_customer_writes_a_created_event(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;

    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Ann")])],
    )
    .await;

    let events = all_events(&*store, &acme.tenant_id).await;
    assert_eq!(event_types(&events), ["customer.created"]);
    let payload = &events[0].payload;
    assert_eq!(payload["subject"], json!({ "customer_id": "C-1" }));
    assert_eq!(
        payload["changes"],
        json!([{ "attribute": "name", "old": null, "new": "Ann" }])
    );
    assert_eq!(payload["profile_version"], json!(1));
}

pub async fn each_customer_mutation_writes_its_event(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;

    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Ann")])],
    )
    .await;
    update_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Bea")])],
    )
    .await;
    delete_customers(&*store, &acme.tenant_id, &["C-1"]).await;

    let events = all_events(&*store, &acme.tenant_id).await;
    assert_eq!(
        event_types(&events),
        ["customer.created", "customer.updated", "customer.deleted"]
    );
    let versions: Vec<_> = events
        .iter()
        .map(|e| e.payload["profile_version"].clone())
        .collect();
    assert_eq!(
        versions,
        [json!(1), json!(2), json!(2)],
        "a delete carries the deleted version"
    );
}

pub async fn each_app_profile_mutation_writes_its_event(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    create_customers(&*store, &acme.tenant_id, vec![customer("C-1", &[])]).await;
    let before = last_seq(&*store, &acme.tenant_id).await;

    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![register("u1", "d1", None, &[])],
    )
    .await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![update(device("u1", "d1"), None, &[("language", "en")])],
    )
    .await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![update(device("u1", "d1"), Some("C-1"), &[])],
    )
    .await;
    delete_app_profiles(&*store, &acme.tenant_id, vec![device("u1", "d1")]).await;

    let events = store
        .events_after(&acme.tenant_id, before, 100)
        .await
        .unwrap();
    assert_eq!(
        event_types(&events),
        [
            "app_profile.registered",
            "app_profile.updated",
            "app_profile.linked",
            "app_profile.deleted",
        ]
    );
    let subject = json!({ "app_id": "AB00000001", "user_id": "u1", "device_id": "d1" });
    assert!(events.iter().all(|e| e.payload["subject"] == subject));
    assert_eq!(
        events[1].payload["changes"],
        json!([{ "attribute": "language", "old": null, "new": "en" }])
    );
    assert_eq!(
        events[2].payload["changes"],
        json!([{ "attribute": "customerId", "old": null, "new": "C-1" }])
    );
}

pub async fn deleting_a_customer_writes_unlink_events(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![register("u1", "d1", Some("C-1"), &[])],
    )
    .await;
    let before = last_seq(&*store, &acme.tenant_id).await;

    delete_customers(&*store, &acme.tenant_id, &["C-1"]).await;

    let events = store
        .events_after(&acme.tenant_id, before, 100)
        .await
        .unwrap();
    assert_eq!(
        event_types(&events),
        ["customer.deleted", "app_profile.unlinked"]
    );
    assert_eq!(
        events[1].payload["subject"],
        json!({ "app_id": "AB00000001", "user_id": "u1", "device_id": "d1" })
    );
    assert_eq!(
        events[1].payload["changes"],
        json!([{ "attribute": "customerId", "old": "C-1", "new": null }])
    );
}

pub async fn seqs_start_at_1_and_are_gapless_across_writes(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;

    create_customers(
        &*store,
        &acme.tenant_id,
        vec![
            customer("C-1", &[("name", "Ann")]),
            customer("C-2", &[("name", "Bea")]),
        ],
    )
    .await;
    update_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Cy")])],
    )
    .await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![register("u1", "d1", Some("C-3"), &[])],
    )
    .await;
    delete_customers(&*store, &acme.tenant_id, &["C-2"]).await;

    let events = all_events(&*store, &acme.tenant_id).await;
    // 2 created + 1 updated + (customer created, registered, linked) + 1 deleted.
    assert_eq!(seqs(&events), (1..=7).collect::<Vec<_>>());
}

/// Writes that overlap in time still get one gapless sequence, each write's events together.
pub async fn concurrent_writes_keep_seqs_gapless(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    let writers = 8;

    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..writers {
        let store = store.clone();
        let tenant_id = acme.tenant_id.clone();
        tasks.spawn(async move {
            let records = (0..3)
                .map(|i| customer(&format!("C-{writer}-{i}"), &[]))
                .collect();
            create_customers(&*store, &tenant_id, records).await
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("writer task");
    }

    let events = all_events(&*store, &acme.tenant_id).await;
    assert_eq!(seqs(&events), (1..=writers * 3).collect::<Vec<_>>());
    for batch in events.chunks(3) {
        let writers: HashSet<_> = batch
            .iter()
            .map(|e| {
                e.payload["subject"]["customer_id"]
                    .as_str()
                    .unwrap()
                    .split('-')
                    .nth(1)
            })
            .collect();
        assert_eq!(
            writers.len(),
            1,
            "one write's events are consecutive: {batch:?}"
        );
    }
}

pub async fn tenants_have_independent_sequences(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    let globex = crate::support::tenant(&*store, "globex").await;

    create_customers(&*store, &acme.tenant_id, vec![customer("C-1", &[])]).await;
    create_customers(&*store, &globex.tenant_id, vec![customer("C-1", &[])]).await;
    create_customers(&*store, &acme.tenant_id, vec![customer("C-2", &[])]).await;
    create_customers(
        &*store,
        &globex.tenant_id,
        vec![customer("C-2", &[]), customer("C-3", &[])],
    )
    .await;

    assert_eq!(seqs(&all_events(&*store, &acme.tenant_id).await), [1, 2]);
    assert_eq!(
        seqs(&all_events(&*store, &globex.tenant_id).await),
        [1, 2, 3]
    );
}

pub async fn payload_carries_the_event_document(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Ann")])],
    )
    .await;

    update_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Bea")])],
    )
    .await;

    let events = all_events(&*store, &acme.tenant_id).await;
    let updated = &events[1];
    let payload = &updated.payload;
    assert_eq!(payload["id"], json!(updated.event_id));
    assert_eq!(payload["seq"], json!(2));
    assert_eq!(payload["type"], json!("customer.updated"));
    assert_eq!(payload["tenant_id"], json!(acme.tenant_id));
    assert_eq!(payload["subject"], json!({ "customer_id": "C-1" }));
    assert_eq!(
        payload["changes"],
        json!([{ "attribute": "name", "old": "Ann", "new": "Bea" }])
    );
    assert_eq!(payload["profile_version"], json!(2));
    assert!(payload["occurred_at"].is_string(), "payload: {payload}");
}

pub async fn stored_event_columns_match_the_payload(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;

    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![register("u1", "d1", Some("C-1"), &[])],
    )
    .await;

    let events = all_events(&*store, &acme.tenant_id).await;
    assert_eq!(events.len(), 3);
    for event in &events {
        assert_eq!(event.payload["id"], json!(event.event_id));
        assert_eq!(event.payload["seq"], json!(event.seq));
        assert_eq!(event.payload["type"], json!(event.event_type));
        let occurred_at = event.payload["occurred_at"].as_str().expect("occurred_at");
        assert_eq!(
            DateTime::parse_from_rfc3339(occurred_at).map(|at| at.with_timezone(&Utc)),
            Ok(event.occurred_at),
            "the payload's occurred_at is the stored one"
        );
    }
    let ids: HashSet<_> = events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids.len(), events.len(), "event ids are unique");
}

pub async fn update_that_changes_nothing_writes_no_event(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Ann")])],
    )
    .await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![register("u1", "d1", Some("C-1"), &[("os", "android")])],
    )
    .await;
    let before = last_seq(&*store, &acme.tenant_id).await;

    update_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Ann")])],
    )
    .await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![update(
            device("u1", "d1"),
            Some("C-1"),
            &[("os", "android")],
        )],
    )
    .await;

    assert_eq!(last_seq(&*store, &acme.tenant_id).await, before);
}

pub async fn refused_records_write_no_event(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    create_customers(&*store, &acme.tenant_id, vec![customer("C-1", &[])]).await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![register("u1", "d1", None, &[])],
    )
    .await;
    let before = last_seq(&*store, &acme.tenant_id).await;

    create_customers(
        &*store,
        &acme.tenant_id,
        vec![
            customer("C-1", &[("name", "again")]),
            refused(customer_ref("C-2"), DomainError::invalid("email", "bad")),
        ],
    )
    .await;
    update_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-9", &[("name", "Zed")])],
    )
    .await;
    delete_customers(&*store, &acme.tenant_id, &["C-9"]).await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![register("u1", "d1", None, &[])],
    )
    .await;
    delete_app_profiles(&*store, &acme.tenant_id, vec![device("u9", "d9")]).await;

    assert_eq!(last_seq(&*store, &acme.tenant_id).await, before);
}

pub async fn events_after_pages_through_the_log(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    let records = (1..=5).map(|i| customer(&format!("C-{i}"), &[])).collect();
    create_customers(&*store, &acme.tenant_id, records).await;

    let page = |after| store.events_after(&acme.tenant_id, after, 2);
    let first = page(0).await.unwrap();
    let second = page(2).await.unwrap();
    let third = page(4).await.unwrap();
    let past_the_end = page(5).await.unwrap();

    assert_eq!(seqs(&first), [1, 2]);
    assert_eq!(seqs(&second), [3, 4]);
    assert_eq!(seqs(&third), [5]);
    assert!(past_the_end.is_empty());
    let subjects: Vec<_> = [first, second, third]
        .concat()
        .iter()
        .map(|e| e.payload["subject"]["customer_id"].clone())
        .collect();
    assert_eq!(
        subjects,
        [
            json!("C-1"),
            json!("C-2"),
            json!("C-3"),
            json!("C-4"),
            json!("C-5")
        ],
        "events keep the order of the records"
    );
}
