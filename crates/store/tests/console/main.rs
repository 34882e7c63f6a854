//! The admin console's part of the store — users, sessions, the overview's counts — on every
//! backend: SQLite always, PostgreSQL when `PROFILESTORE_TEST_DATABASE_URL` names a server (a
//! fresh database per test). Passwords and tokens are the server's business: here they are
//! opaque strings, as the store sees them.

#[allow(dead_code)]
#[path = "../conformance/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../conformance/support.rs"]
mod support;

use chrono::{DateTime, Duration, Utc};
use profilestore_core::device::AppOptions;
use profilestore_store::console::{ConsoleSession, ConsoleUser};
use profilestore_store::{Store, StoreError};
use std::sync::Arc;
use support::{
    APP, app_id, create_customers, customer, register, sdk_register, sdk_request, tenant,
    tenant_with_app, write_app_profiles,
};

/// Runs each behaviour once per backend, as `<backend>::<test>`.
macro_rules! on_every_backend {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $test() {
                let store = crate::harness::sqlite().await.expect("SQLite is always there");
                super::$test(store.store.clone()).await;
                store.close().await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $test() {
                let Some(store) = crate::harness::postgres().await else { return };
                super::$test(store.store.clone()).await;
                store.close().await;
            })*
        }
    };
}

on_every_backend!(
    users_are_unique_by_address_and_listed_by_tenant,
    a_session_is_found_until_it_expires_or_ends,
    a_new_password_or_a_deleted_user_ends_the_sessions,
    an_operators_session_points_at_the_tenant_it_chose,
    the_overview_counts_one_tenants_customers_devices_and_events,
    the_overview_counts_the_events_since_the_start_of_its_window,
);

/// Whole milliseconds: both backends keep at least that, so equality holds after a read.
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap()
}

fn user(id: &str, email: &str, tenant_id: Option<&str>) -> ConsoleUser {
    ConsoleUser {
        user_id: id.into(),
        email: email.into(),
        tenant_id: tenant_id.map(str::to_owned),
        password_hash: format!("$argon2id$v=19$hash-of-{id}"),
        created_at: now(),
    }
}

fn session(digest: &str, user: &ConsoleUser, expires_in: Duration) -> ConsoleSession {
    ConsoleSession {
        token_digest: digest.into(),
        user_id: user.user_id.clone(),
        tenant_id: user.tenant_id.clone(),
        created_at: now(),
        expires_at: now() + expires_in,
    }
}

async fn users_are_unique_by_address_and_listed_by_tenant(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let ann = store
        .create_console_user(user("cu_1", "ann@example.org", Some(&acme.tenant_id)))
        .await
        .unwrap();
    store
        .create_console_user(user("cu_2", "bob@example.org", Some(&acme.tenant_id)))
        .await
        .unwrap();
    store
        .create_console_user(user("cu_3", "op@example.org", None))
        .await
        .unwrap();
    let taken = store
        .create_console_user(user("cu_4", "ann@example.org", None))
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");

    assert_eq!(
        store
            .console_user_by_email("ann@example.org")
            .await
            .unwrap(),
        Some(ann)
    );
    assert_eq!(
        store
            .console_user_by_email("nobody@example.org")
            .await
            .unwrap(),
        None
    );
    let emails = |users: Vec<ConsoleUser>| users.into_iter().map(|u| u.email).collect::<Vec<_>>();
    assert_eq!(
        emails(
            store
                .list_console_users(Some(&acme.tenant_id))
                .await
                .unwrap()
        ),
        ["ann@example.org", "bob@example.org"]
    );
    assert_eq!(
        emails(store.list_console_users(None).await.unwrap()),
        ["op@example.org"]
    );
}

async fn a_session_is_found_until_it_expires_or_ends(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let ann = user("cu_1", "ann@example.org", Some(&acme.tenant_id));
    store.create_console_user(ann.clone()).await.unwrap();
    let live = session("digest-live", &ann, Duration::hours(12));
    store.create_console_session(live.clone()).await.unwrap();
    let (found, owner) = store
        .console_session("digest-live", now())
        .await
        .unwrap()
        .expect("a live session");
    assert_eq!(
        (found, owner.email.as_str()),
        (live.clone(), "ann@example.org")
    );
    assert_eq!(
        store.console_session("digest-other", now()).await.unwrap(),
        None
    );
    // Past its end, a session is not found, and pruning deletes it.
    let later = live.expires_at + Duration::seconds(1);
    assert_eq!(
        store.console_session("digest-live", later).await.unwrap(),
        None
    );
    store
        .create_console_session(session("digest-old", &ann, Duration::seconds(-5)))
        .await
        .unwrap();
    assert_eq!(store.prune_console_sessions(now()).await.unwrap(), 1);
    assert!(
        store
            .console_session("digest-live", now())
            .await
            .unwrap()
            .is_some()
    );
    // Sign-out.
    assert!(store.delete_console_session("digest-live").await.unwrap());
    assert!(!store.delete_console_session("digest-live").await.unwrap());
    assert_eq!(
        store.console_session("digest-live", now()).await.unwrap(),
        None
    );
}

async fn a_new_password_or_a_deleted_user_ends_the_sessions(store: Arc<dyn Store>) {
    let acme = tenant(&*store, "acme").await;
    let ann = user("cu_1", "ann@example.org", Some(&acme.tenant_id));
    let bob = user("cu_2", "bob@example.org", Some(&acme.tenant_id));
    for u in [&ann, &bob] {
        store.create_console_user(u.clone()).await.unwrap();
    }
    for (digest, u) in [("a1", &ann), ("a2", &ann), ("b1", &bob)] {
        store
            .create_console_session(session(digest, u, Duration::hours(1)))
            .await
            .unwrap();
    }
    assert!(
        store
            .set_console_password("cu_1", "$argon2id$new")
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_console_password("cu_9", "$argon2id$new")
            .await
            .unwrap()
    );
    for digest in ["a1", "a2"] {
        assert_eq!(store.console_session(digest, now()).await.unwrap(), None);
    }
    assert!(
        store.console_session("b1", now()).await.unwrap().is_some(),
        "others stay"
    );
    let changed = store
        .console_user_by_email("ann@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.password_hash, "$argon2id$new");

    assert!(store.delete_console_user("cu_2").await.unwrap());
    assert_eq!(store.console_session("b1", now()).await.unwrap(), None);
    assert_eq!(
        store
            .console_user_by_email("bob@example.org")
            .await
            .unwrap(),
        None
    );
    assert!(!store.delete_console_user("cu_2").await.unwrap());
}

async fn an_operators_session_points_at_the_tenant_it_chose(store: Arc<dyn Store>) {
    let beta = tenant(&*store, "beta").await;
    let op = user("cu_op", "op@example.org", None);
    store.create_console_user(op.clone()).await.unwrap();
    store
        .create_console_session(session("op-digest", &op, Duration::hours(1)))
        .await
        .unwrap();
    let (before, _) = store
        .console_session("op-digest", now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.tenant_id, None);
    assert!(
        store
            .set_console_session_tenant("op-digest", &beta.tenant_id)
            .await
            .unwrap()
    );
    let (after, owner) = store
        .console_session("op-digest", now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (after.tenant_id, owner.tenant_id),
        (Some(beta.tenant_id), None)
    );
    assert!(!store.set_console_session_tenant("gone", "x").await.unwrap());
}

async fn the_overview_counts_one_tenants_customers_devices_and_events(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    let other = tenant(&*store, "other").await;
    create_customers(
        &*store,
        &acme.tenant_id,
        vec![
            customer("C-1", &[("name", "Ann")]),
            customer("C-2", &[("name", "Bo")]),
        ],
    )
    .await;
    create_customers(
        &*store,
        &other.tenant_id,
        vec![customer("X-1", &[("name", "X")])],
    )
    .await;
    write_app_profiles(
        &*store,
        &acme.tenant_id,
        vec![
            register(
                "u1",
                "d1",
                None,
                &[("os", "Android"), ("location", "[1,2]")],
            ),
            register(
                "u2",
                "d2",
                None,
                &[("os", "iOS"), ("location", "[3,4]"), ("timezone", "UTC")],
            ),
        ],
    )
    .await;

    let overview = store
        .console_overview(&acme.tenant_id, now() - Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(overview.customers, 2, "only this tenant's");
    let mut oses: Vec<_> = overview
        .devices
        .iter()
        .map(|g| (g.os.clone(), g.count))
        .collect();
    oses.sort();
    assert_eq!(
        oses,
        [(Some("Android".to_owned()), 1), (Some("iOS".to_owned()), 1)]
    );
    let held = |key: &str| {
        overview
            .attribute_counts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, n)| *n)
    };
    assert_eq!(
        (held("location"), held("timezone"), held("teleco")),
        (Some(2), Some(1), None)
    );
    // Two customers and two installs created: four events, all in the last minutes.
    let events: u64 = overview.events_per_minute.iter().map(|(_, n)| n).sum();
    assert_eq!(events, 4);
    let minute = now().timestamp().div_euclid(60);
    assert!(
        overview
            .events_per_minute
            .iter()
            .all(|(m, _)| (minute - 2..=minute).contains(m))
    );
    // Nothing before the window.
    let later = store
        .console_overview(&acme.tenant_id, now() + Duration::minutes(5))
        .await
        .unwrap();
    assert!(later.events_per_minute.is_empty());
}

/// A window that starts inside the log counts the events from there on only (SQLite finds
/// that start by bisecting the tenant's log, which has no index on time).
async fn the_overview_counts_the_events_since_the_start_of_its_window(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    // Seven installs registered an hour apart, the last one now: one event each.
    for hours_ago in (0..7).rev() {
        let command = sdk_register(&format!("u{hours_ago}"), &format!("d{hours_ago}"));
        let at = now() - Duration::hours(hours_ago);
        let request = sdk_request(command, AppOptions::default(), at);
        let app = app_id(APP);
        let written = store.sdk_write(&acme.tenant_id, &app, request).await;
        written.unwrap().unwrap();
    }

    for (since_hours_ago, expected) in [(8, 7), (6, 7), (5, 6), (3, 4), (1, 2), (0, 1)] {
        let since = now() - Duration::hours(since_hours_ago) - Duration::minutes(1);
        let overview = store
            .console_overview(&acme.tenant_id, since)
            .await
            .unwrap();
        let events: u64 = overview.events_per_minute.iter().map(|(_, n)| n).sum();
        assert_eq!(events, expected, "since {since_hours_ago} h ago");
    }
}
