//! Micro-benchmarks of the paths every request takes, beside the harness's end-to-end figures:
//! validating a record against a typed schema, rendering a compatible-API read envelope, and one
//! durable customer upsert through the SQLite store (group commit, fsync). Run with
//! `cargo bench -p profilestore-bench`.

use criterion::{Criterion, criterion_group, criterion_main};
use profilestore_core::attribute::{AttributeValue, RawAttribute};
use profilestore_core::customer::{CustomerPatch, CustomerProfile};
use profilestore_core::ids::CustomerId;
use profilestore_core::schema::{AttributeDefinition, Schema};
use profilestore_server::api::compat::envelope::{ReadEnvelope, ReadRecord, customer_attributes};
use profilestore_store::Store;
use profilestore_store::model::{CustomerInput, SealedSecret, WriteMode};
use profilestore_store::sqlite::SqliteStore;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;

/// A schema like a real tenant's: a date, an exact decimal, an enum and a unique email.
fn schema() -> Schema {
    let definitions: Vec<AttributeDefinition> = serde_json::from_value(json!([
        {"id": 1001, "name": "date_of_birth", "type": "date", "required": false, "unique": false},
        {"id": 1002, "name": "balance", "type": "decimal", "required": false, "unique": false,
         "constraints": {"min": "0", "max": "1000000"}},
        {"id": 1003, "name": "tier", "type": "enum", "required": false, "unique": false,
         "values": ["bronze", "silver", "gold"]},
        {"id": 1004, "name": "work_email", "type": "email", "required": false, "unique": true}
    ]))
    .expect("definitions");
    Schema::new(definitions)
}

fn record() -> Vec<RawAttribute> {
    [
        ("name", "Ann Example"),
        ("email", "ann@example.org"),
        ("msisdn", "447700900001"),
        ("date_of_birth", "1990-02-03"),
        ("balance", "1234.56"),
        ("tier", "gold"),
        ("work_email", "ann@work.example"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), AttributeValue::Text(value.to_owned())))
    .collect()
}

fn validation(c: &mut Criterion) {
    let schema = schema();
    let id = CustomerId::parse("C-1").expect("id");
    c.bench_function(
        "validate a 7-attribute record against a typed schema",
        |b| {
            b.iter(|| {
                CustomerPatch::parse(id.clone(), black_box(record()), &schema).expect("valid")
            })
        },
    );
}

fn envelope(c: &mut Criterion) {
    let attributes: BTreeMap<String, String> = record()
        .into_iter()
        .map(|(name, value)| match value {
            AttributeValue::Text(text) => (name, text),
            _ => unreachable!("the record is text"),
        })
        .collect();
    let now = chrono::Utc::now();
    let profile = CustomerProfile {
        customer_id: CustomerId::parse("C-1").expect("id"),
        attributes,
        version: 3,
        created_at: now,
        updated_at: now,
    };
    let custom_ids: HashMap<String, i64> = [
        ("date_of_birth", 1001),
        ("balance", 1002),
        ("tier", 1003),
        ("work_email", 1004),
    ]
    .into_iter()
    .map(|(name, id)| (name.to_owned(), id))
    .collect();
    c.bench_function("render a one-customer read envelope to bytes", |b| {
        b.iter(|| {
            let record = ReadRecord {
                attributes: customer_attributes(black_box(&profile), &custom_ids),
                inward_links: Vec::new(),
                outward_links: Vec::new(),
            };
            ReadEnvelope::new("transid", vec![record]).render()
        })
    });
}

/// Customers the upsert benchmark updates in turn.
const CUSTOMERS: u64 = 1000;

fn customer(i: u64, name: &str) -> CustomerInput {
    CustomerInput {
        customer_id: CustomerId::parse(format!("C-{i}")).expect("id"),
        attributes: vec![("name".to_owned(), AttributeValue::Text(name.to_owned()))],
    }
}

fn store_upsert(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let (store, tenant) = runtime.block_on(async {
        let store = SqliteStore::open(&url).await.expect("open");
        let key = SealedSecret {
            digest: "bench-digest".to_owned(),
            sealed: vec![0; 32],
        };
        let tenant = store.create_tenant("bench", key).await.expect("tenant");
        let customers = (0..CUSTOMERS)
            .map(|i| (Default::default(), Ok(customer(i, "Seeded"))))
            .collect();
        let tenant = tenant.tenant_id;
        let outcome = store
            .write_customers(&tenant, "seed", WriteMode::Create, customers)
            .await
            .expect("seed");
        assert!(
            outcome.records.iter().all(|r| r.error.is_none()),
            "seeding refused"
        );
        (store, tenant)
    });
    let mut n = 0u64;
    c.bench_function("upsert one customer durably (SQLite, fsync)", |b| {
        b.to_async(&runtime).iter(|| {
            n += 1;
            let input = customer(n % CUSTOMERS, &format!("Name {n}"));
            let (store, tenant, transid) = (&store, tenant.as_str(), format!("t{n}"));
            async move {
                let records = vec![(Default::default(), Ok(input))];
                let outcome = store
                    .write_customers(tenant, &transid, WriteMode::Update, records)
                    .await
                    .expect("write");
                assert!(outcome.records[0].error.is_none(), "update refused");
            }
        })
    });
}

criterion_group!(benches, validation, envelope, store_upsert);
criterion_main!(benches);
