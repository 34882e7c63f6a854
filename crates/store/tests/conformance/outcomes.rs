//! Write outcomes: kept with the write, per tenant, for the status endpoint, for 24 hours.

use crate::support::{
    APP, app_id, customer, customer_ref, device, refused, register, selector_ref, tenant,
    tenant_with_app, transid,
};
use chrono::{Duration, Utc};
use profilestore_core::DomainError;
use profilestore_core::batch::BatchOutcome;
use profilestore_store::Store;
use profilestore_store::model::WriteMode;
use std::sync::Arc;

/// Writes a mixed batch (a success, a duplicate, a refused record) under `transid`.
async fn mixed_customer_write(store: &dyn Store, tenant_id: &str, transid: &str) -> BatchOutcome {
    store
        .write_customers(
            tenant_id,
            transid,
            WriteMode::Create,
            vec![
                customer("C-1", &[("name", "Ann")]),
                customer("C-1", &[("name", "Ann")]),
                refused(customer_ref("C-2"), DomainError::invalid("email", "bad")),
            ],
        )
        .await
        .expect("write customers")
}

pub async fn write_outcome_is_the_outcome_the_customer_write_returned(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let id = transid();

    let returned = mixed_customer_write(&*store, &acme.tenant_id, &id).await;

    let kept = store.write_outcome(&acme.tenant_id, &id).await.unwrap();
    assert_eq!(kept, Some(returned.clone()));
    assert_eq!(returned.records.len(), 3);
    assert_eq!((returned.success_count(), returned.failure_count()), (1, 2));
}

pub async fn write_outcome_is_kept_for_each_kind_of_write(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    let app = app_id(APP);
    let (deleted_customers, wrote_profiles, deleted_profiles) = (transid(), transid(), transid());

    let returned = [
        store
            .delete_customers(
                &acme.tenant_id,
                &deleted_customers,
                vec![(customer_ref("C-9"), Ok(crate::support::customer_id("C-9")))],
            )
            .await
            .unwrap(),
        store
            .write_app_profiles(
                &acme.tenant_id,
                &wrote_profiles,
                &app,
                vec![register("u1", "d1", Some("C-1"), &[("os", "android")])],
            )
            .await
            .unwrap(),
        store
            .delete_app_profiles(
                &acme.tenant_id,
                &deleted_profiles,
                &app,
                vec![
                    (selector_ref(&device("u1", "d1")), Ok(device("u1", "d1"))),
                    (selector_ref(&device("u1", "d9")), Ok(device("u1", "d9"))),
                ],
            )
            .await
            .unwrap(),
    ];

    for (id, returned) in [deleted_customers, wrote_profiles, deleted_profiles]
        .iter()
        .zip(returned)
    {
        let kept = store.write_outcome(&acme.tenant_id, id).await.unwrap();
        assert_eq!(kept, Some(returned));
    }
}

pub async fn unknown_transid_has_no_outcome(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    mixed_customer_write(&*store, &acme.tenant_id, &transid()).await;

    let kept = store
        .write_outcome(&acme.tenant_id, &transid())
        .await
        .unwrap();

    assert_eq!(kept, None);
}

pub async fn another_tenant_cannot_read_an_outcome(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let globex = tenant(&*store, "globex").await;
    let id = transid();
    mixed_customer_write(&*store, &acme.tenant_id, &id).await;

    let seen_by_other = store.write_outcome(&globex.tenant_id, &id).await.unwrap();

    assert_eq!(seen_by_other, None);
}

pub async fn same_transid_in_two_tenants_keeps_both_outcomes(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let globex = tenant(&*store, "globex").await;
    let id = transid();
    let acme_outcome = mixed_customer_write(&*store, &acme.tenant_id, &id).await;

    let globex_outcome = store
        .write_customers(
            &globex.tenant_id,
            &id,
            WriteMode::Update,
            vec![customer("C-7", &[])],
        )
        .await
        .unwrap();

    assert_ne!(acme_outcome, globex_outcome);
    assert_eq!(
        store.write_outcome(&acme.tenant_id, &id).await.unwrap(),
        Some(acme_outcome)
    );
    assert_eq!(
        store.write_outcome(&globex.tenant_id, &id).await.unwrap(),
        Some(globex_outcome)
    );
}

pub async fn prune_keeps_outcomes_younger_than_a_day(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let id = transid();
    let returned = mixed_customer_write(&*store, &acme.tenant_id, &id).await;

    let pruned = store
        .prune_write_outcomes(Utc::now() + Duration::hours(23))
        .await
        .unwrap();

    assert_eq!(pruned, 0);
    assert_eq!(
        store.write_outcome(&acme.tenant_id, &id).await.unwrap(),
        Some(returned)
    );
}

pub async fn prune_after_a_day_removes_the_outcome(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let id = transid();
    mixed_customer_write(&*store, &acme.tenant_id, &id).await;

    let pruned = store
        .prune_write_outcomes(Utc::now() + Duration::hours(25))
        .await
        .unwrap();

    assert_eq!(pruned, 1);
    assert_eq!(
        store.write_outcome(&acme.tenant_id, &id).await.unwrap(),
        None
    );
}
