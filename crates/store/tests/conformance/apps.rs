//! Apps: created by admin commands, unique by app id across every tenant.

use crate::support::{app_id, create_app, sealed, tenant};
use profilestore_store::{Store, StoreError};
use std::sync::Arc;

pub async fn create_app_returns_it_and_lists_it(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;

    let created = store
        .create_app(
            &acme.tenant_id,
            &app_id("AB00000001"),
            "Shop",
            sealed("client"),
        )
        .await
        .expect("create app");

    assert_eq!(created.tenant_id, acme.tenant_id);
    assert_eq!(created.app_id, "AB00000001");
    assert_eq!(created.name, "Shop");
    assert_eq!(created.client_key, sealed("client"));
    let listed = store.list_apps(&acme.tenant_id).await.unwrap();
    let listed: Vec<_> = listed
        .iter()
        .map(|a| (a.app_id.as_str(), a.name.as_str(), &a.client_key))
        .collect();
    assert_eq!(listed, [("AB00000001", "Shop", &sealed("client"))]);
}

/// What `create_app` returns is what later reads return, timestamps included.
pub async fn created_app_reads_back_identically(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let created = store
        .create_app(
            &acme.tenant_id,
            &app_id("AB00000001"),
            "Shop",
            sealed("client"),
        )
        .await
        .unwrap();

    let listed = store.list_apps(&acme.tenant_id).await.unwrap();

    assert_eq!(listed, vec![created]);
}

pub async fn same_app_id_again_is_a_conflict(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    create_app(&*store, &acme.tenant_id, "AB00000001").await;

    let again = store
        .create_app(
            &acme.tenant_id,
            &app_id("AB00000001"),
            "Again",
            sealed("k2"),
        )
        .await;

    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let names: Vec<_> = store
        .list_apps(&acme.tenant_id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["app AB00000001"], "the first app is kept as it was");
}

pub async fn same_app_id_from_another_tenant_is_a_conflict(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let globex = tenant(&*store, "globex").await;
    create_app(&*store, &acme.tenant_id, "AB00000001").await;

    let taken = store
        .create_app(
            &globex.tenant_id,
            &app_id("AB00000001"),
            "Mine",
            sealed("k2"),
        )
        .await;

    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert!(store.list_apps(&globex.tenant_id).await.unwrap().is_empty());
}

pub async fn create_app_for_an_unknown_tenant_is_not_found(store: Arc<dyn Store>) {
    let created = store
        .create_app("no-such-tenant", &app_id("AB00000001"), "Shop", sealed("k"))
        .await;

    assert!(
        matches!(created, Err(StoreError::NotFound(_))),
        "{created:?}"
    );
    assert!(store.access_snapshot().await.unwrap().apps.is_empty());
}

pub async fn list_apps_is_scoped_to_the_tenant(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let globex = tenant(&*store, "globex").await;
    create_app(&*store, &acme.tenant_id, "AB00000001").await;
    create_app(&*store, &acme.tenant_id, "AB00000002").await;
    create_app(&*store, &globex.tenant_id, "GX00000001").await;

    let listed = store.list_apps(&acme.tenant_id).await.unwrap();

    let mut ids: Vec<_> = listed.into_iter().map(|a| a.app_id).collect();
    ids.sort();
    assert_eq!(ids, ["AB00000001", "AB00000002"]);
}
