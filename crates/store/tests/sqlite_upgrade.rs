//! A SQLite database made by an earlier release keeps its data through the migrations that
//! rebuild tables: events and write outcomes written under schema 6 are read, found and
//! pruned the same way after the store opens it (and migrates it to the current schema).

use chrono::{Duration, Utc};
use profilestore_store::sqlite::SqliteStore;
use profilestore_store::{EventDelivery, Store};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use std::str::FromStr;

/// Creates the database at `url` with the migrations before `version` only.
async fn database_at_schema(url: &str, version: i64) -> sqlx::SqlitePool {
    let options = SqliteConnectOptions::from_str(url)
        .unwrap()
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    let mut migrator = sqlx::migrate!("./migrations/sqlite");
    let earlier: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < version)
        .cloned()
        .collect();
    migrator.migrations = earlier.into();
    migrator.run(&pool).await.unwrap();
    pool
}

#[tokio::test]
async fn events_and_write_outcomes_of_schema_6_survive_the_rebuild_of_their_tables() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let now = Utc::now();
    let old = database_at_schema(&url, 7).await;
    for seq in 1..=3i64 {
        // Two tenants' logs, interleaved as commits made them.
        for tenant in ["tn_a", "tn_b"] {
            let payload = serde_json::json!({"seq": seq, "tenant_id": tenant}).to_string();
            sqlx::query(
                "INSERT INTO outbox (tenant_id, seq, event_id, event_type, occurred_at, payload) \
                 VALUES (?, ?, ?, 'customer.updated', ?, ?)",
            )
            .bind(tenant)
            .bind(seq)
            .bind(format!("ev-{tenant}-{seq}"))
            .bind((now - Duration::hours(4 - seq)).timestamp_millis())
            .bind(payload)
            .execute(&old)
            .await
            .unwrap();
        }
    }
    for (transid, expires_in) in [("t-expired", -1), ("t-kept", 20)] {
        sqlx::query(
            "INSERT INTO write_outcomes (tenant_id, transid, outcome, expires_at) \
             VALUES ('tn_a', ?, '{\"records\":[]}', ?)",
        )
        .bind(transid)
        .bind((now + Duration::hours(expires_in)).timestamp_millis())
        .execute(&old)
        .await
        .unwrap();
    }
    old.close().await;

    let store = SqliteStore::open(&url).await.unwrap();
    for tenant in ["tn_a", "tn_b"] {
        let events = store.events_after(tenant, 0, 10).await.unwrap();
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3], "{tenant}");
        assert!(events.iter().all(|e| e.payload["tenant_id"] == tenant));
        assert_eq!(store.events_after(tenant, 2, 10).await.unwrap().len(), 1);
    }
    assert!(kept_outcome_is_found(&store).await);

    // The expired outcome goes, the other stays; the events older than two hours go (seq 1
    // and 2 of each tenant: 3 h and 2 h old), the youngest stay.
    assert_eq!(store.prune_write_outcomes(now).await.unwrap(), 1);
    assert!(kept_outcome_is_found(&store).await);
    let pruned = store
        .prune_events(now - Duration::hours(2) + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(pruned, 4);
    for tenant in ["tn_a", "tn_b"] {
        let seqs: Vec<i64> = store
            .events_after(tenant, 0, 10)
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, [3], "{tenant}");
    }
}

async fn kept_outcome_is_found(store: &SqliteStore) -> bool {
    let found = store.write_outcome("tn_a", "t-kept").await.unwrap();
    found.is_some()
}

/// Customers written under schema 10 (keyed tenant first) are read, found, updated and
/// listed the same way once schema 11 keys them by id first.
#[tokio::test]
async fn customers_of_schema_10_survive_their_rekeying() {
    use profilestore_core::attribute::AttributeValue;
    use profilestore_core::ids::CustomerId;
    use profilestore_store::model::{CustomerInput, CustomerLookup, WriteMode};

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let old = database_at_schema(&url, 11).await;
    // Two tenants' customers, their ids interleaved.
    for (tenant, id, email) in [
        ("tn_a", "C-1", "ann@example.com"),
        ("tn_b", "C-1", "bob@example.com"),
        ("tn_a", "C-3", "cy@example.com"),
        ("tn_b", "C-2", "dee@example.com"),
        ("tn_a", "C-2", "eve@example.com"),
    ] {
        let attributes = serde_json::json!({"email": email, "name": id}).to_string();
        sqlx::query(
            "INSERT INTO customers (tenant_id, customer_id, email, msisdn, attributes, version, \
             created_at, updated_at) VALUES (?, ?, ?, NULL, ?, 1, 0, 0)",
        )
        .bind(tenant)
        .bind(id)
        .bind(email)
        .bind(attributes)
        .execute(&old)
        .await
        .unwrap();
    }
    old.close().await;

    let store = SqliteStore::open(&url).await.unwrap();
    let ids = |ids: &[&str]| -> Vec<CustomerId> {
        ids.iter()
            .map(|id| CustomerId::parse(*id).unwrap())
            .collect()
    };
    let names = |customers: &[profilestore_core::customer::CustomerProfile]| -> Vec<String> {
        customers
            .iter()
            .map(|c| format!("{}={}", c.customer_id, c.attributes["email"]))
            .collect()
    };
    let found = store
        .get_customers("tn_a", &ids(&["C-3", "C-1", "C-9"]))
        .await
        .unwrap();
    assert_eq!(names(&found), ["C-3=cy@example.com", "C-1=ann@example.com"]);
    let by_email = store
        .find_customers("tn_b", &CustomerLookup::Email("dee@example.com".into()))
        .await
        .unwrap();
    assert_eq!(names(&by_email), ["C-2=dee@example.com"]);

    let update = CustomerInput {
        customer_id: CustomerId::parse("C-1").unwrap(),
        attributes: vec![("name".into(), AttributeValue::Text("Ann".into()))],
    };
    let outcome = store
        .write_customers(
            "tn_a",
            "t-1",
            WriteMode::Update,
            vec![(Default::default(), Ok(update))],
        )
        .await
        .unwrap();
    assert!(outcome.records[0].error.is_none());
    let updated = store.get_customers("tn_a", &ids(&["C-1"])).await.unwrap();
    assert_eq!(updated[0].attributes["name"], "Ann");
    assert_eq!(updated[0].version, 2);
    let other = store.get_customers("tn_b", &ids(&["C-1"])).await.unwrap();
    assert_eq!(
        other[0].attributes["name"], "C-1",
        "the other tenant's C-1 is untouched"
    );
}

/// App profiles, typed values and write outcomes written under schema 11 (keyed tenant first)
/// are found the same way once schema 12 keys them by what tells their rows apart first: two
/// tenants holding the same user, device, customer and transaction ids stay apart.
#[tokio::test]
async fn installs_values_and_outcomes_of_schema_11_survive_their_rekeying() {
    use profilestore_core::ids::{AppId, CustomerId, DeviceId, UserId};
    use profilestore_store::model::AppProfileSelector;

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let now = Utc::now();
    let old = database_at_schema(&url, 12).await;
    for (tenant, app, user, device) in [
        ("tn_a", "app1", "u1", "d2"),
        ("tn_b", "app1", "u1", "d1"),
        ("tn_a", "app1", "u1", "d1"),
        ("tn_a", "app2", "u1", "d1"),
        ("tn_a", "app1", "u0", "d1"),
    ] {
        let attributes = serde_json::json!({ "osName": format!("{tenant}/{app}") }).to_string();
        sqlx::query(
            "INSERT INTO app_profiles (tenant_id, app_id, user_id, device_id, attributes, version, \
             created_at, updated_at, last_contact) VALUES (?, ?, ?, ?, ?, 1, 0, 0, ?)",
        )
        .bind(tenant)
        .bind(app)
        .bind(user)
        .bind(device)
        .bind(attributes)
        .bind(now.timestamp_millis())
        .execute(&old)
        .await
        .unwrap();
    }
    // Each tenant's outcome of transaction t-1 tells them apart: tn_a's has no record, tn_b's one.
    let one_record = profilestore_core::batch::BatchOutcome {
        records: vec![profilestore_core::batch::RecordOutcome {
            record: Default::default(),
            error: None,
        }],
    };
    for (tenant, outcome) in [("tn_a", Default::default()), ("tn_b", one_record.clone())] {
        sqlx::query(
            "INSERT INTO customers (tenant_id, customer_id, attributes, version, created_at, \
             updated_at) VALUES (?, 'C-1', '{}', 1, 0, 0)",
        )
        .bind(tenant)
        .execute(&old)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO customer_values (tenant_id, attribute_id, customer_id, sort_key, is_unique) \
             VALUES (?, 1001, 'C-1', x'01', 0)",
        )
        .bind(tenant)
        .execute(&old)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO write_outcomes (tenant_id, transid, outcome, expires_at) \
             VALUES (?, 't-1', ?, ?)",
        )
        .bind(tenant)
        .bind(serde_json::to_string(&outcome).unwrap())
        .bind((now + Duration::hours(1)).timestamp_millis())
        .execute(&old)
        .await
        .unwrap();
    }
    old.close().await;

    let store = SqliteStore::open(&url).await.unwrap();
    let app1 = AppId::parse("app1").unwrap();
    let installs = |profiles: Vec<profilestore_core::app_profile::AppProfile>| -> Vec<String> {
        profiles
            .iter()
            .map(|p| {
                format!(
                    "{}/{}={}",
                    p.key.user_id, p.key.device_id, p.attributes["osName"]
                )
            })
            .collect()
    };
    let of_user = store
        .find_app_profiles(
            "tn_a",
            &app1,
            &AppProfileSelector::User(UserId::parse("u1").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(installs(of_user), ["u1/d1=tn_a/app1", "u1/d2=tn_a/app1"]);
    let one = store
        .find_app_profiles(
            "tn_b",
            &app1,
            &AppProfileSelector::Device {
                user_id: UserId::parse("u1").unwrap(),
                device_id: DeviceId::parse("d1").unwrap(),
            },
        )
        .await
        .unwrap();
    assert_eq!(installs(one), ["u1/d1=tn_b/app1"]);

    for (tenant, records) in [("tn_a", 0), ("tn_b", 1)] {
        let outcome = store.write_outcome(tenant, "t-1").await.unwrap().unwrap();
        assert_eq!(outcome.records.len(), records, "{tenant}");
    }

    // Deleting tn_a's C-1 removes its typed value and leaves tn_b's.
    let deleted = store
        .delete_customers(
            "tn_a",
            "t-2",
            vec![(Default::default(), Ok(CustomerId::parse("C-1").unwrap()))],
        )
        .await
        .unwrap();
    assert!(deleted.records[0].error.is_none());
    let values = sqlx::SqlitePool::connect(&url).await.unwrap();
    let left: Vec<String> = sqlx::query_scalar("SELECT tenant_id FROM customer_values")
        .fetch_all(&values)
        .await
        .unwrap();
    assert_eq!(left, ["tn_b"]);
}
