//! docs/deploy.md tells operators how to distribute the schema on Citus. These keep it true:
//! every table the migrations create has its `create_reference_table` or
//! `create_distributed_table(..., 'tenant_id')` statement there, and (on a migrated database)
//! every primary key and unique index of a distributed table starts with `tenant_id`.

use crate::support::{TestDatabase, postgres_server};
use sqlx::{Connection, PgConnection};
use std::collections::BTreeSet;
use std::path::Path;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

fn deploy_md() -> String {
    std::fs::read_to_string(Path::new(MANIFEST_DIR).join("../../docs/deploy.md"))
        .expect("docs/deploy.md")
}

/// The tables `CREATE TABLE` statements of the PostgreSQL migrations make.
fn migrated_tables() -> BTreeSet<String> {
    let dir = Path::new(MANIFEST_DIR).join("../store/migrations/postgres");
    let mut tables = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("the PostgreSQL migrations") {
        let sql = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in sql.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let ["CREATE", "TABLE", rest @ ..] = words.as_slice() {
                let name = rest
                    .iter()
                    .find(|word| !matches!(**word, "IF" | "NOT" | "EXISTS"))
                    .expect("a table name");
                tables.insert(name.trim_end_matches('(').to_owned());
            }
        }
    }
    assert!(!tables.is_empty(), "no CREATE TABLE in {}", dir.display());
    tables
}

/// The tables deploy.md makes reference tables, and those it distributes by tenant_id.
fn documented() -> (BTreeSet<String>, BTreeSet<String>) {
    let text = deploy_md();
    let argument = |line: &str, call: &str| {
        let rest = line.split(call).nth(1)?;
        Some(rest.split('\'').nth(1)?.to_owned())
    };
    let mut reference = BTreeSet::new();
    let mut distributed = BTreeSet::new();
    for line in text.lines().filter(|line| line.starts_with("SELECT ")) {
        if let Some(table) = argument(line, "create_reference_table(") {
            reference.insert(table);
        } else if let Some(table) = argument(line, "create_distributed_table(") {
            assert!(
                line.contains("'tenant_id'"),
                "{table} is distributed by tenant_id: {line}"
            );
            if table != "customers" {
                assert!(
                    line.contains("colocate_with => 'customers'"),
                    "{table} is colocated with customers: {line}"
                );
            }
            distributed.insert(table);
        }
    }
    (reference, distributed)
}

#[test]
fn deploy_md_distributes_or_replicates_every_table_of_the_migrations() {
    let tables = migrated_tables();
    let (reference, distributed) = documented();

    let both: BTreeSet<_> = reference.intersection(&distributed).collect();
    assert!(both.is_empty(), "both reference and distributed: {both:?}");
    let documented: BTreeSet<String> = reference.union(&distributed).cloned().collect();
    assert_eq!(documented, tables, "docs/deploy.md's Citus statements");
}

#[tokio::test]
async fn every_primary_key_and_unique_index_of_a_distributed_table_starts_with_tenant_id() {
    let Some(server) = postgres_server() else {
        return;
    };
    let database = TestDatabase::create(&server).await;
    profilestore_store::open(&database.url())
        .await
        .expect("migrate")
        .close()
        .await;
    let (reference, distributed) = documented();

    let mut connection = PgConnection::connect(&database.url()).await.unwrap();
    let tables: BTreeSet<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables
          WHERE schemaname = 'public' AND tablename <> '_sqlx_migrations'",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let indexes: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text, a.attname::text
           FROM pg_index x
           JOIN pg_class t ON t.oid = x.indrelid
           JOIN pg_class i ON i.oid = x.indexrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
          WHERE n.nspname = 'public' AND (x.indisprimary OR x.indisunique)
            AND t.relname <> '_sqlx_migrations'",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    let _ = connection.close().await;

    let documented: BTreeSet<String> = reference.union(&distributed).cloned().collect();
    assert_eq!(documented, tables, "docs/deploy.md names every table");
    for (table, index, first_column) in indexes {
        if distributed.contains(&table) {
            assert_eq!(first_column, "tenant_id", "{table}: {index}");
        }
    }
}
