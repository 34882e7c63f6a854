//! App profiles: registration, updates and deletes through each selector, links to customers.

use crate::support::{
    APP, app_id, app_profile_ref, create_app, create_customers, customer, customer_id, device,
    device_of_customer, errors, find_keys, get_customer, install, key, linked_to, pairs, refused,
    register, register_in, tenant_with_app, transid, update, user, write_app_profiles,
    write_app_profiles_in,
};
use profilestore_core::DomainError;
use profilestore_core::error::ProfileKind;
use profilestore_store::Store;
use std::sync::Arc;

const APP_PROFILE_EXISTS: DomainError = DomainError::AlreadyExists {
    kind: ProfileKind::AppProfile,
};
const NO_APP_PROFILE: DomainError = DomainError::NotFound {
    kind: ProfileKind::AppProfile,
};
const OTHER_APP: &str = "AB00000002";

async fn attribute(
    store: &dyn Store,
    tenant_id: &str,
    user_id: &str,
    device_id: &str,
    name: &str,
) -> Option<String> {
    install(store, tenant_id, user_id, device_id)
        .await
        .expect("install exists")
        .attributes
        .get(name)
        .cloned()
}

pub async fn register_creates_an_app_profile(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;

    let outcome = write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![register(
            "u1",
            "d1",
            None,
            &[("os", "android"), ("Timezone", "Europe/London")],
        )],
    )
    .await;

    assert_eq!(errors(&outcome), [None]);
    let profile = install(&*store, &acme.tenant_id, "u1", "d1")
        .await
        .expect("registered install is found");
    assert_eq!(profile.key, key(APP, "u1", "d1"));
    assert_eq!(profile.customer_id, None);
    assert_eq!(
        profile.attributes.get("os").map(String::as_str),
        Some("android")
    );
    assert_eq!(
        profile.attributes.get("timezone").map(String::as_str),
        Some("Europe/London")
    );
    assert_eq!(
        profile.attributes.get("status").map(String::as_str),
        Some("0")
    );
    assert!(profile.attributes.contains_key("createdOn"));
    assert_eq!(profile.version, 1);
}

pub async fn register_twice_is_already_exists(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![register("u1", "d1", None, &[("os", "android")])],
    )
    .await;

    let outcome = write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![register("u1", "d1", Some("C-2"), &[("os", "ios")])],
    )
    .await;

    assert_eq!(errors(&outcome), [Some(APP_PROFILE_EXISTS)]);
    let kept = install(&*store, &acme.tenant_id, "u1", "d1").await.unwrap();
    assert_eq!(
        kept.attributes.get("os").map(String::as_str),
        Some("android")
    );
    assert_eq!(kept.customer_id, None);
    assert_eq!(
        get_customer(&*store, &acme.tenant_id, "C-2").await,
        None,
        "a refused registration creates no customer"
    );
}

pub async fn register_then_update_in_one_batch_both_apply(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;

    let outcome = write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![
            register("u1", "d1", None, &[("os", "android")]),
            update(device("u1", "d1"), None, &[("language", "en")]),
        ],
    )
    .await;

    assert_eq!(errors(&outcome), [None, None]);
    let profile = install(&*store, &acme.tenant_id, "u1", "d1").await.unwrap();
    assert_eq!(
        profile.attributes.get("os").map(String::as_str),
        Some("android")
    );
    assert_eq!(
        profile.attributes.get("language").map(String::as_str),
        Some("en")
    );
    assert_eq!(profile.version, 2);
}

pub async fn refused_records_are_kept_in_the_outcome_and_change_nothing(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![register("u1", "d1", None, &[])],
    )
    .await;
    let unknown_attribute = DomainError::invalid("favourite_colour", "not in the catalogue");
    let no_device = DomainError::missing("deviceId");

    let written = write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![
            refused(app_profile_ref("u1", "d1"), unknown_attribute.clone()),
            refused(app_profile_ref("u2", "d2"), no_device.clone()),
        ],
    )
    .await;
    let deleted = store
        .delete_app_profiles(
            &acme.tenant_id,
            &transid(),
            &app_id(APP),
            vec![refused(app_profile_ref("u1", "d1"), no_device.clone())],
        )
        .await
        .unwrap();

    assert_eq!(
        errors(&written),
        [Some(unknown_attribute), Some(no_device.clone())]
    );
    assert_eq!(errors(&deleted), [Some(no_device)]);
    let kept = install(&*store, &acme.tenant_id, "u1", "d1").await.unwrap();
    assert_eq!(kept.version, 1);
    assert!(
        find_keys(&*store, &acme.tenant_id, user("u2"))
            .await
            .is_empty()
    );
}

pub async fn register_with_link_to_unknown_customer_creates_the_customer(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;

    let outcome = write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![register("u1", "d1", Some("C-1"), &[])],
    )
    .await;

    assert_eq!(errors(&outcome), [None]);
    let created = get_customer(&*store, &acme.tenant_id, "C-1")
        .await
        .expect("the linked customer was created");
    assert!(created.attributes.is_empty());
    let profile = install(&*store, &acme.tenant_id, "u1", "d1").await.unwrap();
    assert_eq!(profile.customer_id, Some(customer_id("C-1")));
}

pub async fn register_with_link_to_existing_customer_keeps_the_customer(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![customer("C-1", &[("name", "Ann")])],
    )
    .await;
    let before = get_customer(&*store, &acme.tenant_id, "C-1").await.unwrap();

    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![register("u1", "d1", Some("C-1"), &[])],
    )
    .await;

    let after = get_customer(&*store, &acme.tenant_id, "C-1").await.unwrap();
    assert_eq!(after, before);
}

pub async fn update_by_device_changes_only_that_install(store: Arc<dyn Store>) {
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

    let outcome = write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![update(device("u1", "d1"), None, &[("language", "en")])],
    )
    .await;

    assert_eq!(errors(&outcome), [None]);
    let d1 = install(&*store, &acme.tenant_id, "u1", "d1").await.unwrap();
    assert_eq!(
        d1.attributes.get("language").map(String::as_str),
        Some("en")
    );
    assert_eq!(d1.version, 2);
    assert_eq!(
        attribute(&*store, &acme.tenant_id, "u1", "d2", "language").await,
        None
    );
}

pub async fn update_by_user_changes_every_device_of_the_user(store: Arc<dyn Store>) {
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

    let outcome = write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![update(user("u1"), None, &[("language", "fr")])],
    )
    .await;

    assert_eq!(errors(&outcome), [None]);
    let language = |u, d| attribute(&*store, &acme.tenant_id, u, d, "language");
    assert_eq!(language("u1", "d1").await.as_deref(), Some("fr"));
    assert_eq!(language("u1", "d2").await.as_deref(), Some("fr"));
    assert_eq!(language("u2", "d3").await, None);
}

pub async fn update_by_customer_changes_every_linked_install(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![
            register("u1", "d1", Some("C-1"), &[]),
            register("u2", "d2", Some("C-1"), &[]),
            register("u3", "d3", Some("C-2"), &[]),
        ],
    )
    .await;

    let outcome = write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![update(linked_to("C-1"), None, &[("language", "de")])],
    )
    .await;

    assert_eq!(errors(&outcome), [None]);
    let language = |u, d| attribute(&*store, &acme.tenant_id, u, d, "language");
    assert_eq!(language("u1", "d1").await.as_deref(), Some("de"));
    assert_eq!(language("u2", "d2").await.as_deref(), Some("de"));
    assert_eq!(language("u3", "d3").await, None);
}

pub async fn update_by_device_of_customer_changes_only_that_install(store: Arc<dyn Store>) {
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

    let outcome = write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![update(
            device_of_customer("d1", "C-1"),
            None,
            &[("language", "es")],
        )],
    )
    .await;

    assert_eq!(errors(&outcome), [None]);
    let language = |u, d| attribute(&*store, &acme.tenant_id, u, d, "language");
    assert_eq!(language("u1", "d1").await.as_deref(), Some("es"));
    assert_eq!(language("u1", "d2").await, None);
    assert_eq!(
        language("u2", "d1").await,
        None,
        "same device id, other customer"
    );
}

pub async fn update_with_no_match_is_not_found(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![register("u1", "d1", None, &[])],
    )
    .await;

    let outcome = write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![
            update(device("u1", "d9"), None, &[("language", "en")]),
            update(user("u9"), None, &[("language", "en")]),
            update(linked_to("C-9"), None, &[("language", "en")]),
            update(device_of_customer("d1", "C-9"), None, &[("language", "en")]),
        ],
    )
    .await;

    assert_eq!(errors(&outcome), vec![Some(NO_APP_PROFILE); 4]);
    assert_eq!(
        find_keys(&*store, &acme.tenant_id, user("u1")).await,
        pairs(&[("u1", "d1")])
    );
    assert_eq!(
        attribute(&*store, &acme.tenant_id, "u1", "d1", "language").await,
        None
    );
    assert_eq!(
        get_customer(&*store, &acme.tenant_id, "C-9").await,
        None,
        "a refused update creates no customer"
    );
}

pub async fn update_with_link_moves_the_link(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![register("u1", "d1", Some("C-1"), &[])],
    )
    .await;

    let outcome = write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![update(device("u1", "d1"), Some("C-2"), &[])],
    )
    .await;

    assert_eq!(errors(&outcome), [None]);
    assert_eq!(
        find_keys(&*store, &acme.tenant_id, linked_to("C-2")).await,
        pairs(&[("u1", "d1")])
    );
    assert!(
        find_keys(&*store, &acme.tenant_id, linked_to("C-1"))
            .await
            .is_empty()
    );
    assert!(
        get_customer(&*store, &acme.tenant_id, "C-2")
            .await
            .is_some(),
        "linking to an unknown customer creates it"
    );
}

pub async fn find_by_each_selector(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![
            register("u1", "d1", Some("C-1"), &[]),
            register("u1", "d2", None, &[]),
            register("u2", "d3", Some("C-1"), &[]),
            register("u3", "d1", Some("C-2"), &[]),
        ],
    )
    .await;
    let find = |selector| find_keys(&*store, &acme.tenant_id, selector);

    let by_device = find(device("u1", "d1")).await;
    let by_user = find(user("u1")).await;
    let by_customer = find(linked_to("C-1")).await;
    let by_device_of_customer = find(device_of_customer("d1", "C-1")).await;
    let by_unknown_device = find(device("u1", "d9")).await;

    assert_eq!(by_device, pairs(&[("u1", "d1")]));
    assert_eq!(by_user, pairs(&[("u1", "d1"), ("u1", "d2")]));
    assert_eq!(by_customer, pairs(&[("u1", "d1"), ("u2", "d3")]));
    assert_eq!(by_device_of_customer, pairs(&[("u1", "d1")]));
    assert!(by_unknown_device.is_empty());
}

pub async fn find_is_scoped_to_the_app(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    create_app(&*store, &acme.tenant_id, OTHER_APP).await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![register("u1", "d1", Some("C-1"), &[("os", "android")])],
    )
    .await;
    write_app_profiles_in(
        &*store,
        &acme.tenant_id,
        OTHER_APP,
        vec![register_in(
            OTHER_APP,
            "u1",
            "d2",
            Some("C-1"),
            &[("os", "ios")],
        )],
    )
    .await;

    let in_app = store
        .find_app_profiles(&acme.tenant_id, &app_id(APP), &linked_to("C-1"))
        .await
        .unwrap();
    let in_other_app = store
        .find_app_profiles(&acme.tenant_id, &app_id(OTHER_APP), &user("u1"))
        .await
        .unwrap();

    let keys = |found: &[profilestore_core::app_profile::AppProfile]| {
        found.iter().map(|p| p.key.clone()).collect::<Vec<_>>()
    };
    assert_eq!(keys(&in_app), [key(APP, "u1", "d1")]);
    assert_eq!(keys(&in_other_app), [key(OTHER_APP, "u1", "d2")]);
    assert_eq!(
        in_other_app[0].attributes.get("os").map(String::as_str),
        Some("ios")
    );
}

pub async fn linked_app_profiles_span_every_app(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    create_app(&*store, &acme.tenant_id, OTHER_APP).await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![
            register("u1", "d1", Some("C-1"), &[]),
            register("u2", "d2", Some("C-2"), &[]),
            register("u3", "d3", None, &[]),
        ],
    )
    .await;
    write_app_profiles_in(
        &*store,
        &acme.tenant_id,
        OTHER_APP,
        vec![register_in(OTHER_APP, "u1", "d1", Some("C-1"), &[])],
    )
    .await;

    let of_one = store
        .linked_app_profiles(&acme.tenant_id, &[customer_id("C-1")])
        .await
        .unwrap();
    let of_two = store
        .linked_app_profiles(&acme.tenant_id, &[customer_id("C-1"), customer_id("C-2")])
        .await
        .unwrap();

    let sorted_keys = |found: Vec<profilestore_core::app_profile::AppProfile>| {
        let mut keys: Vec<_> = found
            .into_iter()
            .map(|p| {
                (
                    p.key.app_id.to_string(),
                    p.key.user_id.to_string(),
                    p.customer_id,
                )
            })
            .collect();
        keys.sort();
        keys
    };
    let linked = |app: &str, user: &str, customer: &str| {
        (app.to_owned(), user.to_owned(), Some(customer_id(customer)))
    };
    assert_eq!(
        sorted_keys(of_one),
        [linked(APP, "u1", "C-1"), linked(OTHER_APP, "u1", "C-1")]
    );
    assert_eq!(
        sorted_keys(of_two),
        [
            linked(APP, "u1", "C-1"),
            linked(APP, "u2", "C-2"),
            linked(OTHER_APP, "u1", "C-1"),
        ]
    );
}
