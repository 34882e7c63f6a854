//! Secondary lookups: customers by email and msisdn, app profiles by push token.

use crate::support::*;
use profilestore_store::Store;
use profilestore_store::model::CustomerLookup;
use std::sync::Arc;

fn ids(customers: &[profilestore_core::customer::CustomerProfile]) -> Vec<&str> {
    customers.iter().map(|c| c.customer_id.as_str()).collect()
}

pub async fn customers_are_found_by_email(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![
            customer("C-1", &[("email", "ann@example.org")]),
            customer("C-2", &[("email", "bo@example.org")]),
            customer("C-3", &[("email", "ann@example.org")]),
        ],
    )
    .await;

    let found = store
        .find_customers(
            &acme.tenant_id,
            &CustomerLookup::Email("ann@example.org".into()),
        )
        .await
        .unwrap();

    assert_eq!(ids(&found), ["C-1", "C-3"]);
}

pub async fn customers_are_found_by_msisdn_and_an_old_value_no_longer_matches(
    store: Arc<dyn Store>,
) {
    let acme = tenant(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("msisdn", "447700900001")])],
    )
    .await;
    update_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("msisdn", "447700900002")])],
    )
    .await;

    let old = store
        .find_customers(
            &acme.tenant_id,
            &CustomerLookup::Msisdn("447700900001".into()),
        )
        .await
        .unwrap();
    let new = store
        .find_customers(
            &acme.tenant_id,
            &CustomerLookup::Msisdn("447700900002".into()),
        )
        .await
        .unwrap();

    assert!(old.is_empty());
    assert_eq!(ids(&new), ["C-1"]);
}

pub async fn customer_lookups_stay_within_the_tenant(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let other = tenant(&*store, "other").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("email", "ann@example.org")])],
    )
    .await;

    let found = store
        .find_customers(
            &other.tenant_id,
            &CustomerLookup::Email("ann@example.org".into()),
        )
        .await
        .unwrap();

    assert!(found.is_empty());
}

pub async fn app_profiles_are_found_by_push_id(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    let other = tenant(&*store, "other").await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![
            register("u1", "d1", None, &[("pushId", "token-1")]),
            register("u2", "d2", None, &[("pushId", "token-2")]),
        ],
    )
    .await;

    let found = store
        .find_app_profiles_by_push_id(&acme.tenant_id, "token-1")
        .await
        .unwrap();
    let elsewhere = store
        .find_app_profiles_by_push_id(&other.tenant_id, "token-1")
        .await
        .unwrap();

    assert_eq!(found.len(), 1);
    assert_eq!(found[0].key.user_id.as_str(), "u1");
    assert!(elsewhere.is_empty());
}
