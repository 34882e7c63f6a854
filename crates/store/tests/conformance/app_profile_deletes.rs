//! Deleting app profiles through each selector, and what deleting a customer does to them.

use crate::support::{
    customer_id, delete_app_profiles, delete_customers, device, device_of_customer, errors,
    find_keys, get_customer, install, linked_to, pairs, register, tenant_with_app, user,
    write_app_profiles,
};
use profilestore_core::DomainError;
use profilestore_core::error::ProfileKind;
use profilestore_store::Store;
use std::sync::Arc;

const NO_APP_PROFILE: DomainError = DomainError::NotFound {
    kind: ProfileKind::AppProfile,
};

pub async fn deleting_a_customer_unlinks_its_app_profiles(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![
            register("u1", "d1", Some("C-1"), &[("os", "android")]),
            register("u2", "d2", Some("C-1"), &[]),
            register("u3", "d3", Some("C-2"), &[]),
        ],
    )
    .await;

    let outcome = delete_customers(&*store, &acme.tenant_id, &["C-1"]).await;

    assert_eq!(errors(&outcome), [None]);
    let d1 = install(&*store, &acme.tenant_id, "u1", "d1")
        .await
        .expect("unlinked, not deleted");
    assert_eq!(d1.customer_id, None);
    assert_eq!(d1.attributes.get("os").map(String::as_str), Some("android"));
    assert_eq!(d1.version, 2, "unlinking is a change of the app profile");
    let d2 = install(&*store, &acme.tenant_id, "u2", "d2").await.unwrap();
    assert_eq!(d2.customer_id, None);
    let still_linked = store
        .linked_app_profiles(&acme.tenant_id, &[customer_id("C-1")])
        .await
        .unwrap();
    assert!(still_linked.is_empty());
    let other = install(&*store, &acme.tenant_id, "u3", "d3").await.unwrap();
    assert_eq!(
        other.customer_id,
        Some(customer_id("C-2")),
        "other links are kept"
    );
}

pub async fn delete_by_device_removes_only_that_install(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![
            register("u1", "d1", None, &[]),
            register("u1", "d2", None, &[]),
        ],
    )
    .await;

    let outcome = delete_app_profiles(&*store, &acme.tenant_id, vec![device("u1", "d1")]).await;

    assert_eq!(errors(&outcome), [None]);
    assert_eq!(
        find_keys(&*store, &acme.tenant_id, user("u1")).await,
        pairs(&[("u1", "d2")])
    );
}

pub async fn delete_by_user_removes_every_device_of_the_user(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![
            register("u1", "d1", None, &[]),
            register("u1", "d2", None, &[]),
            register("u2", "d3", None, &[]),
        ],
    )
    .await;

    let outcome = delete_app_profiles(&*store, &acme.tenant_id, vec![user("u1")]).await;

    assert_eq!(errors(&outcome), [None]);
    assert!(
        find_keys(&*store, &acme.tenant_id, user("u1"))
            .await
            .is_empty()
    );
    assert_eq!(
        find_keys(&*store, &acme.tenant_id, user("u2")).await,
        pairs(&[("u2", "d3")])
    );
}

pub async fn delete_by_customer_removes_linked_installs_and_keeps_the_customer(
    store: Arc<dyn Store>,
) {
    let acme = tenant_with_app(&*store, "acme").await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![
            register("u1", "d1", Some("C-1"), &[]),
            register("u2", "d2", Some("C-1"), &[]),
            register("u3", "d3", None, &[]),
        ],
    )
    .await;

    let outcome = delete_app_profiles(&*store, &acme.tenant_id, vec![linked_to("C-1")]).await;

    assert_eq!(errors(&outcome), [None]);
    assert!(
        find_keys(&*store, &acme.tenant_id, linked_to("C-1"))
            .await
            .is_empty()
    );
    assert!(
        find_keys(&*store, &acme.tenant_id, user("u1"))
            .await
            .is_empty()
    );
    assert_eq!(
        find_keys(&*store, &acme.tenant_id, user("u3")).await,
        pairs(&[("u3", "d3")])
    );
    assert!(
        get_customer(&*store, &acme.tenant_id, "C-1")
            .await
            .is_some()
    );
}

pub async fn delete_by_device_of_customer_removes_only_that_install(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![
            register("u1", "d1", Some("C-1"), &[]),
            register("u1", "d2", Some("C-1"), &[]),
            register("u2", "d1", Some("C-2"), &[]),
        ],
    )
    .await;

    let outcome = delete_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![device_of_customer("d1", "C-1")],
    )
    .await;

    assert_eq!(errors(&outcome), [None]);
    assert_eq!(
        find_keys(&*store, &acme.tenant_id, linked_to("C-1")).await,
        pairs(&[("u1", "d2")])
    );
    assert_eq!(
        find_keys(&*store, &acme.tenant_id, user("u2")).await,
        pairs(&[("u2", "d1")])
    );
}

pub async fn delete_with_no_match_is_not_found(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![register("u1", "d1", None, &[])],
    )
    .await;

    let outcome = delete_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![
            device("u1", "d9"),
            user("u9"),
            linked_to("C-9"),
            device("u1", "d1"),
        ],
    )
    .await;

    assert_eq!(
        errors(&outcome),
        [
            Some(NO_APP_PROFILE),
            Some(NO_APP_PROFILE),
            Some(NO_APP_PROFILE),
            None
        ]
    );
    assert!(
        find_keys(&*store, &acme.tenant_id, user("u1"))
            .await
            .is_empty()
    );
}
