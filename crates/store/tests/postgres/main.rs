//! What only the PostgreSQL backend has to show, beyond the conformance suite: several nodes
//! (stores with pools of their own) on one database, nodes migrating together, the per-tenant
//! lock and the statement timeout, retried deadlocks, and an outage the store survives.
//!
//! Runs when `PROFILESTORE_TEST_DATABASE_URL` names a server (see `harness`), each test in a
//! database of its own; says once that it skipped otherwise.

#[path = "../conformance/harness.rs"]
#[allow(dead_code)]
mod harness;
mod proxy;
#[path = "../conformance/support.rs"]
#[allow(dead_code)]
mod support;

use harness::TestDatabase;
use profilestore_core::DomainError;
use profilestore_core::error::ProfileKind;
use profilestore_store::model::WriteMode;
use profilestore_store::postgres::{ACQUIRE_TIMEOUT, tenant_lock_key};
use profilestore_store::{OpenOptions, Store, StoreError};
use proxy::Proxy;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{
    all_events, create_customers, customer, get_customer, tenant, transid, update_customers,
};

/// A fresh database, or `None` (the test returns) when PostgreSQL is not configured.
async fn database() -> Option<TestDatabase> {
    Some(TestDatabase::create(&harness::postgres_server()?).await)
}

/// One node: a store with a pool of its own on the database.
async fn node(database: &TestDatabase, options: &OpenOptions) -> Arc<dyn Store> {
    profilestore_store::open_with(&database.url(), options)
        .await
        .expect("open the store")
}

async fn connect(database: &TestDatabase) -> PgConnection {
    PgConnection::connect(&database.url())
        .await
        .expect("connect to the test database")
}

fn sqlstate(error: &StoreError) -> Option<String> {
    match error {
        StoreError::Database(sqlx::Error::Database(db)) => db.code().map(|code| code.into_owned()),
        _ => None,
    }
}

#[tokio::test]
async fn nodes_starting_together_apply_the_migrations_once() {
    let Some(database) = database().await else {
        return;
    };

    let mut opening = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let url = database.url();
        opening.spawn(async move { profilestore_store::open(&url).await });
    }
    let mut nodes = Vec::new();
    while let Some(opened) = opening.join_next().await {
        nodes.push(opened.expect("open task").expect("every node opens"));
    }

    let mut conn = connect(&database).await;
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count() as i64;
    assert_eq!(applied, migrations, "each migration applied exactly once");
    for node in nodes {
        node.ping().await.expect("every node is ready");
        node.close().await;
    }
}

#[tokio::test]
async fn two_nodes_keep_one_tenants_sequence_gapless_and_in_commit_order() {
    let Some(database) = database().await else {
        return;
    };
    let nodes = [
        node(&database, &OpenOptions::default()).await,
        node(&database, &OpenOptions::default()).await,
    ];
    let acme = tenant(&*nodes[0], "acme").await;
    let writers = 12;

    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..writers {
        let node = nodes[writer % 2].clone();
        let tenant_id = acme.tenant_id.clone();
        tasks.spawn(async move {
            let records = (0..3)
                .map(|i| customer(&format!("C-{writer}-{i}"), &[]))
                .collect();
            create_customers(&*node, &tenant_id, records).await
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("writer task");
    }

    for node in &nodes {
        let events = all_events(&**node, &acme.tenant_id).await;
        let seqs: Vec<i64> = events.iter().map(|event| event.seq).collect();
        assert_eq!(seqs, (1..=(writers as i64) * 3).collect::<Vec<_>>());
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
            assert_eq!(writers.len(), 1, "one write's events are consecutive");
        }
    }
    for node in nodes {
        node.close().await;
    }
}

#[tokio::test]
async fn two_nodes_creating_one_customer_create_it_once() {
    let Some(database) = database().await else {
        return;
    };
    let nodes = [
        node(&database, &OpenOptions::default()).await,
        node(&database, &OpenOptions::default()).await,
    ];
    let acme = tenant(&*nodes[0], "acme").await;

    let mut tasks = tokio::task::JoinSet::new();
    for attempt in 0..10 {
        let node = nodes[attempt % 2].clone();
        let tenant_id = acme.tenant_id.clone();
        tasks.spawn(async move {
            let attempt = attempt.to_string();
            create_customers(
                &*node,
                &tenant_id,
                vec![customer("C-1", &[("attempt", &attempt)])],
            )
            .await
        });
    }
    let mut created = 0;
    while let Some(joined) = tasks.join_next().await {
        match joined.expect("writer task").records[0].error.clone() {
            None => created += 1,
            Some(DomainError::AlreadyExists {
                kind: ProfileKind::Customer,
            }) => {}
            Some(other) => panic!("unexpected refusal: {other:?}"),
        }
    }

    assert_eq!(created, 1, "exactly one create wins");
    assert_eq!(all_events(&*nodes[1], &acme.tenant_id).await.len(), 1);
    for node in nodes {
        node.close().await;
    }
}

#[tokio::test]
async fn a_write_waits_for_its_tenants_lock_only_as_long_as_the_statement_timeout() {
    let Some(database) = database().await else {
        return;
    };
    let options = OpenOptions {
        statement_timeout: Some(Duration::from_millis(300)),
        ..OpenOptions::default()
    };
    let store = node(&database, &options).await;
    let acme = tenant(&*store, "acme").await;
    let globex = tenant(&*store, "globex").await;
    // Another node in the middle of a write of acme's (here: holding its lock).
    let mut other_node = connect(&database).await;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(tenant_lock_key(&acme.tenant_id))
        .execute(&mut other_node)
        .await
        .unwrap();

    let started = Instant::now();
    let blocked = store
        .write_customers(
            &acme.tenant_id,
            &transid(),
            WriteMode::Create,
            vec![customer("C-1", &[])],
        )
        .await;
    let waited = started.elapsed();
    let other_tenant = store
        .write_customers(
            &globex.tenant_id,
            &transid(),
            WriteMode::Create,
            vec![customer("C-1", &[])],
        )
        .await;

    let error = blocked.expect_err("the lock is held past the statement timeout");
    assert_eq!(
        sqlstate(&error).as_deref(),
        Some("57014"),
        "query_canceled by statement_timeout: {error}"
    );
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
    assert!(
        other_tenant.is_ok(),
        "no lock spans tenants: {other_tenant:?}"
    );

    sqlx::query("SELECT pg_advisory_unlock_all()")
        .execute(&mut other_node)
        .await
        .unwrap();
    create_customers(&*store, &acme.tenant_id, vec![customer("C-1", &[])]).await;
    assert!(
        get_customer(&*store, &acme.tenant_id, "C-1")
            .await
            .is_some()
    );
    store.close().await;
}

/// A deadlock between a profile write and another session: PostgreSQL aborts the write
/// (40P01), and the store runs it again, so that the caller sees it succeed.
#[tokio::test]
async fn a_write_aborted_by_a_deadlock_is_retried() {
    let Some(database) = database().await else {
        return;
    };
    let store = node(&database, &OpenOptions::default()).await;
    let acme = tenant(&*store, "acme").await;
    create_customers(&*store, &acme.tenant_id, vec![customer("C-1", &[])]).await;
    let mut other = connect(&database).await;
    // Let the store's session be the one that detects the deadlock (where permitted).
    let _ = sqlx::query("SET deadlock_timeout = '10s'")
        .execute(&mut other)
        .await;
    sqlx::query("BEGIN").execute(&mut other).await.unwrap();
    sqlx::query(
        "UPDATE customers SET version = version WHERE tenant_id = $1 AND customer_id = 'C-1'",
    )
    .bind(&acme.tenant_id)
    .execute(&mut other)
    .await
    .unwrap();

    // The write takes acme's lock, then waits for the row `other` holds...
    let write = tokio::spawn({
        let store = store.clone();
        let tenant_id = acme.tenant_id.clone();
        async move {
            update_customers(
                &*store,
                &tenant_id,
                vec![customer("C-1", &[("tier", "gold")])],
            )
            .await
        }
    });
    wait_for_a_lock_wait(&mut connect(&database).await).await;
    // ...and `other` now waits for acme's lock: a cycle, which PostgreSQL breaks after
    // deadlock_timeout (1 s by default) by aborting the write.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(tenant_lock_key(&acme.tenant_id))
        .execute(&mut other)
        .await
        .expect("the other session is not the deadlock's victim");
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();

    let outcome = write.await.expect("write task");
    assert_eq!(outcome.records[0].error, None);
    let stored = get_customer(&*store, &acme.tenant_id, "C-1").await.unwrap();
    assert_eq!(
        stored.attributes.get("tier").map(String::as_str),
        Some("gold")
    );
    store.close().await;
}

/// Waits until some profilestore session of this database waits for a lock.
async fn wait_for_a_lock_wait(conn: &mut PgConnection) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND application_name = 'profilestore' AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the write never waited for the row lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The database goes away under a running store and comes back: operations fail with a
/// `StoreError` within the acquire timeout (they do not hang), and the store recovers by itself.
#[tokio::test]
async fn the_store_survives_an_outage_and_recovers_by_itself() {
    let Some(database) = database().await else {
        return;
    };
    let server = harness::postgres_server().unwrap();
    let upstream = PgConnectOptions::from_str(&server).expect("server URL");
    let proxy = Proxy::start(format!("{}:{}", upstream.get_host(), upstream.get_port())).await;
    let url = database.url_through(Some(&proxy.address()));
    let store = profilestore_store::open(&url)
        .await
        .expect("open through the proxy");
    let acme = tenant(&*store, "acme").await;
    create_customers(&*store, &acme.tenant_id, vec![customer("C-1", &[])]).await;

    proxy.take_down();
    let started = Instant::now();
    let ping = store.ping().await;
    let write = store
        .write_customers(
            &acme.tenant_id,
            &transid(),
            WriteMode::Create,
            vec![customer("C-2", &[])],
        )
        .await;
    let read = store
        .get_customers(&acme.tenant_id, &[support::customer_id("C-1")])
        .await;
    let failing_for = started.elapsed();

    assert!(matches!(ping, Err(StoreError::Database(_))), "{ping:?}");
    assert!(matches!(write, Err(StoreError::Database(_))), "{write:?}");
    assert!(matches!(read, Err(StoreError::Database(_))), "{read:?}");
    assert!(
        failing_for < 3 * (ACQUIRE_TIMEOUT + Duration::from_secs(1)),
        "three failed operations took {failing_for:?}"
    );

    proxy.bring_up();
    let deadline = Instant::now() + Duration::from_secs(15);
    while store.ping().await.is_err() {
        assert!(Instant::now() < deadline, "the store did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    create_customers(&*store, &acme.tenant_id, vec![customer("C-2", &[])]).await;
    assert!(
        get_customer(&*store, &acme.tenant_id, "C-1")
            .await
            .is_some()
    );
    assert!(
        get_customer(&*store, &acme.tenant_id, "C-2")
            .await
            .is_some()
    );
    store.close().await;
}
