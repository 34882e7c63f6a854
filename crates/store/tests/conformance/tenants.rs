//! Tenants, their settings and profile keys, and the access snapshot servers authenticate from.

use crate::support::{create_app, sealed, tenant, whole_seconds_from_now};
use profilestore_store::{Store, StoreError};
use std::collections::HashSet;
use std::sync::Arc;

pub async fn create_tenant_returns_it_with_default_settings(store: Arc<dyn Store>) {
    let created = store
        .create_tenant("acme", sealed("acme-key"))
        .await
        .expect("create tenant");

    assert_eq!(created.name, "acme");
    assert!(!created.tenant_id.is_empty());
    assert_eq!(created.rate_limit, 0, "0 is the server-wide default");
    assert!(created.allowed_ips.is_empty(), "empty allows every address");
}

pub async fn duplicate_tenant_name_is_a_conflict(store: Arc<dyn Store>) {
    tenant(&*store, "acme").await;

    let again = store.create_tenant("acme", sealed("other-key")).await;

    assert!(
        matches!(again, Err(StoreError::Conflict(_))),
        "expected Conflict, got {again:?}"
    );
    assert_eq!(store.list_tenants().await.unwrap().len(), 1);
}

pub async fn find_tenant_by_id(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    tenant(&*store, "globex").await;

    let found = store.find_tenant(&acme.tenant_id).await.unwrap();

    let found = found.expect("tenant found by id");
    assert_eq!(found.tenant_id, acme.tenant_id);
    assert_eq!(found.name, "acme");
    assert_eq!(found.store_number, acme.store_number);
}

pub async fn find_tenant_by_name(store: Arc<dyn Store>) {
    tenant(&*store, "acme").await;
    let globex = tenant(&*store, "globex").await;

    let found = store.find_tenant("globex").await.unwrap();

    assert_eq!(found.map(|t| t.tenant_id), Some(globex.tenant_id));
}

pub async fn find_unknown_tenant_is_none(store: Arc<dyn Store>) {
    tenant(&*store, "acme").await;

    let found = store.find_tenant("no-such-tenant").await.unwrap();

    assert_eq!(found, None);
}

/// What `create_tenant` returns is what later reads return, timestamps included.
pub async fn created_tenant_reads_back_identically(store: Arc<dyn Store>) {
    let created = tenant(&*store, "acme").await;

    let found = store.find_tenant(&created.tenant_id).await.unwrap();

    assert_eq!(found, Some(created));
}

pub async fn list_tenants_returns_every_tenant(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let globex = tenant(&*store, "globex").await;

    let listed = store.list_tenants().await.unwrap();

    let mut ids: Vec<_> = listed.into_iter().map(|t| t.tenant_id).collect();
    ids.sort();
    let mut expected = vec![acme.tenant_id, globex.tenant_id];
    expected.sort();
    assert_eq!(ids, expected);
}

pub async fn store_numbers_are_distinct_per_tenant(store: Arc<dyn Store>) {
    let names = ["acme", "globex", "initech"];
    for name in names {
        tenant(&*store, name).await;
    }

    let listed = store.list_tenants().await.unwrap();

    let numbers: HashSet<i64> = listed.iter().map(|t| t.store_number).collect();
    assert_eq!(numbers.len(), names.len(), "store numbers: {numbers:?}");
}

pub async fn new_tenant_has_its_first_profile_key_current(store: Arc<dyn Store>) {
    let created = store.create_tenant("acme", sealed("first")).await.unwrap();

    let key = store.current_profile_key(&created.tenant_id).await.unwrap();

    let key = key.expect("a new tenant has a profile key");
    assert_eq!(key.tenant_id, created.tenant_id);
    assert_eq!(key.secret, sealed("first"));
    assert_eq!(key.expires_at, None);
}

pub async fn settings_version_increases_on_each_admin_change(store: Arc<dyn Store>) {
    let mut versions = vec![store.settings_version().await.unwrap()];

    let acme = tenant(&*store, "acme").await;
    versions.push(store.settings_version().await.unwrap());
    create_app(&*store, &acme.tenant_id, "AB00000001").await;
    versions.push(store.settings_version().await.unwrap());
    store
        .set_allowed_ips(&acme.tenant_id, &["10.0.0.0/8".to_owned()])
        .await
        .unwrap();
    versions.push(store.settings_version().await.unwrap());
    store.set_rate_limit(&acme.tenant_id, 50).await.unwrap();
    versions.push(store.settings_version().await.unwrap());
    store
        .rotate_profile_key(
            &acme.tenant_id,
            sealed("second"),
            whole_seconds_from_now(60),
        )
        .await
        .unwrap();
    versions.push(store.settings_version().await.unwrap());

    assert!(
        versions.windows(2).all(|pair| pair[1] > pair[0]),
        "versions after create tenant, create app, allowed ips, rate limit, rotate: {versions:?}"
    );
}

pub async fn settings_version_is_the_snapshot_version(store: Arc<dyn Store>) {
    tenant(&*store, "acme").await;

    let snapshot = store.access_snapshot().await.unwrap();

    assert_eq!(snapshot.version, store.settings_version().await.unwrap());
}

pub async fn set_allowed_ips_is_visible_in_access_snapshot(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let cidrs = vec!["10.0.0.0/8".to_owned(), "2001:db8::/32".to_owned()];

    store
        .set_allowed_ips(&acme.tenant_id, &cidrs)
        .await
        .unwrap();

    let snapshot = store.access_snapshot().await.unwrap();
    let in_snapshot = snapshot
        .tenants
        .iter()
        .find(|t| t.tenant_id == acme.tenant_id)
        .expect("tenant in snapshot");
    assert_eq!(in_snapshot.allowed_ips, cidrs);
    let found = store.find_tenant(&acme.tenant_id).await.unwrap().unwrap();
    assert_eq!(found.allowed_ips, cidrs);
}

pub async fn set_rate_limit_is_visible_in_access_snapshot(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let globex = tenant(&*store, "globex").await;

    store.set_rate_limit(&acme.tenant_id, 250).await.unwrap();

    let snapshot = store.access_snapshot().await.unwrap();
    let rate_of = |id: &str| {
        snapshot
            .tenants
            .iter()
            .find(|t| t.tenant_id == id)
            .map(|t| t.rate_limit)
    };
    assert_eq!(rate_of(&acme.tenant_id), Some(250));
    assert_eq!(
        rate_of(&globex.tenant_id),
        Some(0),
        "other tenants keep theirs"
    );
}

pub async fn settings_of_an_unknown_tenant_are_not_found(store: Arc<dyn Store>) {
    let ips = store
        .set_allowed_ips("no-such-tenant", &["10.0.0.0/8".to_owned()])
        .await;
    let rate = store.set_rate_limit("no-such-tenant", 10).await;

    assert!(matches!(ips, Err(StoreError::NotFound(_))), "{ips:?}");
    assert!(matches!(rate, Err(StoreError::NotFound(_))), "{rate:?}");
}

pub async fn rotate_profile_key_makes_the_new_key_current(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let first = store
        .current_profile_key(&acme.tenant_id)
        .await
        .unwrap()
        .unwrap();

    store
        .rotate_profile_key(
            &acme.tenant_id,
            sealed("second"),
            whole_seconds_from_now(3600),
        )
        .await
        .unwrap();

    let current = store
        .current_profile_key(&acme.tenant_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(current.secret, sealed("second"));
    assert_ne!(current.key_id, first.key_id);
    assert_eq!(current.expires_at, None);
}

pub async fn rotate_profile_key_retires_the_old_key_at_the_retire_time(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let first = store
        .current_profile_key(&acme.tenant_id)
        .await
        .unwrap()
        .unwrap();
    let retire_at = whole_seconds_from_now(3600);

    store
        .rotate_profile_key(&acme.tenant_id, sealed("second"), retire_at)
        .await
        .unwrap();

    let snapshot = store.access_snapshot().await.unwrap();
    let old = snapshot
        .profile_keys
        .iter()
        .find(|k| k.tenant_id == acme.tenant_id && k.key_id == first.key_id)
        .expect("the old key works until it retires");
    assert_eq!(old.expires_at, Some(retire_at));
    assert_eq!(old.secret, first.secret);
}

pub async fn rotate_profile_key_does_not_extend_an_earlier_expiry(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let first = store
        .current_profile_key(&acme.tenant_id)
        .await
        .unwrap()
        .unwrap();
    let early = whole_seconds_from_now(600);
    let late = whole_seconds_from_now(7200);
    store
        .rotate_profile_key(&acme.tenant_id, sealed("second"), early)
        .await
        .unwrap();
    let second = store
        .current_profile_key(&acme.tenant_id)
        .await
        .unwrap()
        .unwrap();

    store
        .rotate_profile_key(&acme.tenant_id, sealed("third"), late)
        .await
        .unwrap();

    let snapshot = store.access_snapshot().await.unwrap();
    let expiry_of = |key_id: i64| {
        snapshot
            .profile_keys
            .iter()
            .find(|k| k.tenant_id == acme.tenant_id && k.key_id == key_id)
            .map(|k| k.expires_at)
    };
    assert_eq!(
        expiry_of(first.key_id),
        Some(Some(early)),
        "kept, not extended"
    );
    assert_eq!(expiry_of(second.key_id), Some(Some(late)));
}

pub async fn rotate_profile_key_of_an_unknown_tenant_is_not_found(store: Arc<dyn Store>) {
    let rotated = store
        .rotate_profile_key("no-such-tenant", sealed("k"), whole_seconds_from_now(60))
        .await;

    assert!(
        matches!(rotated, Err(StoreError::NotFound(_))),
        "{rotated:?}"
    );
}

pub async fn access_snapshot_excludes_expired_keys(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let first = store
        .current_profile_key(&acme.tenant_id)
        .await
        .unwrap()
        .unwrap();

    store
        .rotate_profile_key(
            &acme.tenant_id,
            sealed("second"),
            whole_seconds_from_now(-60),
        )
        .await
        .unwrap();

    let snapshot = store.access_snapshot().await.unwrap();
    let secrets: Vec<_> = snapshot
        .profile_keys
        .iter()
        .filter(|k| k.tenant_id == acme.tenant_id)
        .map(|k| k.secret.clone())
        .collect();
    assert_eq!(secrets, vec![sealed("second")]);
    assert!(!secrets.contains(&first.secret));
}

pub async fn access_snapshot_holds_tenants_and_apps(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let globex = tenant(&*store, "globex").await;
    create_app(&*store, &acme.tenant_id, "AB00000001").await;
    create_app(&*store, &globex.tenant_id, "GX00000001").await;

    let snapshot = store.access_snapshot().await.unwrap();

    let mut tenants: Vec<_> = snapshot.tenants.iter().map(|t| t.name.as_str()).collect();
    tenants.sort();
    assert_eq!(tenants, ["acme", "globex"]);
    let mut apps: Vec<_> = snapshot
        .apps
        .iter()
        .map(|a| (a.tenant_id.as_str(), a.app_id.as_str()))
        .collect();
    apps.sort();
    let mut expected = vec![
        (acme.tenant_id.as_str(), "AB00000001"),
        (globex.tenant_id.as_str(), "GX00000001"),
    ];
    expected.sort();
    assert_eq!(apps, expected);
    let key_tenants: HashSet<_> = snapshot.profile_keys.iter().map(|k| &k.tenant_id).collect();
    assert_eq!(
        key_tenants,
        HashSet::from([&acme.tenant_id, &globex.tenant_id])
    );
}

pub async fn rotate_profile_key_can_shorten_a_later_expiry(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let first = store
        .current_profile_key(&acme.tenant_id)
        .await
        .unwrap()
        .unwrap();
    let late = whole_seconds_from_now(7200);
    let early = whole_seconds_from_now(600);
    store
        .rotate_profile_key(&acme.tenant_id, sealed("second"), late)
        .await
        .unwrap();

    store
        .rotate_profile_key(&acme.tenant_id, sealed("third"), early)
        .await
        .unwrap();

    let snapshot = store.access_snapshot().await.unwrap();
    let expiries: Vec<_> = snapshot
        .profile_keys
        .iter()
        .filter(|k| k.tenant_id == acme.tenant_id && k.secret != sealed("third"))
        .map(|k| (k.key_id == first.key_id, k.expires_at))
        .collect();
    assert_eq!(
        expiries.len(),
        2,
        "both older keys still work: {expiries:?}"
    );
    assert!(
        expiries
            .iter()
            .all(|(_, expires_at)| *expires_at == Some(early)),
        "every older key stops at the earliest retire time: {expiries:?}"
    );
}

pub async fn ping_answers(store: Arc<dyn Store>) {
    let pinged = store.ping().await;

    assert!(pinged.is_ok(), "{pinged:?}");
}
