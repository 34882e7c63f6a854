//! Tenant isolation: no read or write of one tenant reaches another tenant's data.

use crate::support::{
    APP, all_events, app_id, attributes, create_customers, customer, customer_id,
    delete_app_profiles, delete_customers, device, device_of_customer, errors, find_keys,
    get_customer, linked_to, pairs, register, tenant, tenant_with_app, update, update_customers,
    user, write_app_profiles,
};
use profilestore_core::DomainError;
use profilestore_core::error::ProfileKind;
use profilestore_store::Store;
use profilestore_store::model::Tenant;
use std::sync::Arc;

const NO_CUSTOMER: DomainError = DomainError::NotFound {
    kind: ProfileKind::Customer,
};
const NO_APP_PROFILE: DomainError = DomainError::NotFound {
    kind: ProfileKind::AppProfile,
};

/// Tenant A ("acme") with customer C-1 and its install u1/d1 of [`APP`]; tenant B ("globex")
/// with nothing.
async fn two_tenants(store: &dyn Store) -> (Tenant, Tenant) {
    let acme = tenant_with_app(store, "acme").await;
    let globex = tenant(store, "globex").await;
    create_customers(
        store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Ann")])],
    )
    .await;
    write_app_profiles(
        store,
        &acme.tenant_id,
        vec![register("u1", "d1", Some("C-1"), &[("os", "android")])],
    )
    .await;
    (acme, globex)
}

pub async fn customers_are_invisible_to_another_tenant(store: Arc<dyn Store>) {
    let (_acme, globex) = two_tenants(&*store).await;

    let found = store
        .get_customers(&globex.tenant_id, &[customer_id("C-1")])
        .await
        .unwrap();

    assert!(found.is_empty(), "globex read acme's customer: {found:?}");
    assert!(
        store
            .custom_attribute_ids(&globex.tenant_id)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn same_customer_id_in_two_tenants_is_two_customers(store: Arc<dyn Store>) {
    let (acme, globex) = two_tenants(&*store).await;

    let outcome = create_customers(
        &*store,
        &globex.tenant_id,
        vec![customer("C-1", &[("name", "Gus")])],
    )
    .await;

    assert_eq!(errors(&outcome), [None], "the id is free in globex");
    let acme_c1 = get_customer(&*store, &acme.tenant_id, "C-1").await.unwrap();
    let globex_c1 = get_customer(&*store, &globex.tenant_id, "C-1")
        .await
        .unwrap();
    assert_eq!(acme_c1.attributes, attributes(&[("name", "Ann")]));
    assert_eq!(globex_c1.attributes, attributes(&[("name", "Gus")]));
}

pub async fn another_tenant_cannot_update_or_delete_a_customer(store: Arc<dyn Store>) {
    let (acme, globex) = two_tenants(&*store).await;

    let updated = update_customers(
        &*store,
        &globex.tenant_id,
        vec![customer("C-1", &[("name", "Eve")])],
    )
    .await;
    let deleted = delete_customers(&*store, &globex.tenant_id, &["C-1"]).await;

    assert_eq!(errors(&updated), [Some(NO_CUSTOMER)]);
    assert_eq!(errors(&deleted), [Some(NO_CUSTOMER)]);
    let acme_c1 = get_customer(&*store, &acme.tenant_id, "C-1").await.unwrap();
    assert_eq!(acme_c1.attributes, attributes(&[("name", "Ann")]));
    assert_eq!(acme_c1.version, 1);
    let still_linked = store
        .linked_app_profiles(&acme.tenant_id, &[customer_id("C-1")])
        .await
        .unwrap();
    assert_eq!(
        still_linked.len(),
        1,
        "globex's delete did not unlink acme's install"
    );
}

pub async fn app_profiles_are_invisible_to_another_tenant(store: Arc<dyn Store>) {
    let (_acme, globex) = two_tenants(&*store).await;

    for selector in [
        device("u1", "d1"),
        user("u1"),
        linked_to("C-1"),
        device_of_customer("d1", "C-1"),
    ] {
        let found = find_keys(&*store, &globex.tenant_id, selector.clone()).await;
        assert!(found.is_empty(), "globex found {found:?} with {selector:?}");
    }
}

pub async fn another_tenant_cannot_update_or_delete_app_profiles(store: Arc<dyn Store>) {
    let (acme, globex) = two_tenants(&*store).await;

    let updated = write_app_profiles(
        &*store,
        &globex.tenant_id,
        vec![update(device("u1", "d1"), None, &[("os", "ios")])],
    )
    .await;
    let deleted = delete_app_profiles(&*store, &globex.tenant_id, vec![user("u1")]).await;

    assert_eq!(errors(&updated), [Some(NO_APP_PROFILE)]);
    assert_eq!(errors(&deleted), [Some(NO_APP_PROFILE)]);
    let kept = store
        .find_app_profiles(&acme.tenant_id, &app_id(APP), &device("u1", "d1"))
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0].attributes.get("os").map(String::as_str),
        Some("android")
    );
    assert_eq!(
        find_keys(&*store, &acme.tenant_id, user("u1")).await,
        pairs(&[("u1", "d1")])
    );
}

pub async fn linked_app_profiles_are_invisible_to_another_tenant(store: Arc<dyn Store>) {
    let (_acme, globex) = two_tenants(&*store).await;

    let linked = store
        .linked_app_profiles(&globex.tenant_id, &[customer_id("C-1")])
        .await
        .unwrap();

    assert!(linked.is_empty(), "globex read acme's installs: {linked:?}");
}

pub async fn events_are_invisible_to_another_tenant(store: Arc<dyn Store>) {
    let (acme, globex) = two_tenants(&*store).await;

    let globex_events = all_events(&*store, &globex.tenant_id).await;

    assert!(globex_events.is_empty(), "globex read {globex_events:?}");
    assert!(!all_events(&*store, &acme.tenant_id).await.is_empty());
}
