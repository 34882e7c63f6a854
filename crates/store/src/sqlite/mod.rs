//! The embedded SQLite backend, as DESIGN.md sets it: WAL, `synchronous=FULL` (nothing is
//! acknowledged before it is on disk), one writer connection whose transactions all begin
//! `IMMEDIATE`, and a pool of read-only connections that never wait for the writer.

mod admin;
mod attribute_ids;
mod attribute_map;
mod checkpointer;
mod console;
mod delivery;
mod pending;
mod raw;
mod readers;
mod rows;
mod tx;
mod writer;

use crate::OpenOptions;
use crate::error::{StoreError, StoreResult};
use crate::metrics::timed;
use crate::model::{
    AccessSnapshot, App, AppProfileCommand, AppProfileSelector, AttributeIds, BatchRecord,
    CustomerInput, CustomerLookup, ProfileKeyRecord, SealedSecret, StoredEvent, Tenant, WriteMode,
};
use crate::store::Store;
use crate::{ops, schema_ops};
use admin::TenantSetting;
use async_trait::async_trait;
use attribute_ids::AttributeIdCache;
use chrono::{DateTime, Utc};
use profilestore_core::DomainError;
use profilestore_core::app_profile::AppProfile;
use profilestore_core::batch::BatchOutcome;
use profilestore_core::customer::CustomerProfile;
use profilestore_core::ids::{AppId, CustomerId};
use profilestore_core::schema::evolution::DefinitionPatch;
use profilestore_core::schema::{AttributeDefinition, Schema};
use readers::Readers;
use rows::{
    fetch_app_profiles, fetch_app_profiles_by_push_id, fetch_customers, fetch_customers_by,
    fetch_customers_by_value, fetch_customers_with_attribute_ids, fetch_definitions,
    fetch_events_after, fetch_linked_app_profiles, fetch_write_outcome, millis,
};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;
use writer::GroupWriter;

/// How long a connection waits for another process's write lock (an admin command) before
/// giving up with SQLITE_BUSY.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Read connections when the options do not say: reads run in parallel with each other and
/// with the writer.
pub const DEFAULT_READERS: u32 = 8;

pub struct SqliteStore {
    writer: SqlitePool,
    /// Listings, admin, delivery and console reads.
    reader: SqlitePool,
    /// The profile reads, through the C API on the calling thread.
    readers: Readers,
    /// Profile writes go through group commit; admin writes use `writer` directly.
    group: GroupWriter,
    doorbell: crate::Doorbell,
    /// Each tenant's custom attribute ids, kept for the compatible reads.
    attribute_ids: AttributeIdCache,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at a `sqlite://` URL and applies migrations.
    pub async fn open(database_url: &str) -> StoreResult<Self> {
        Self::open_with(database_url, &OpenOptions::default()).await
    }

    /// As [`SqliteStore::open`]; `max_connections` sizes the read pool, `statement_timeout` is
    /// ignored (see [`OpenOptions`]).
    pub async fn open_with(database_url: &str, open: &OpenOptions) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(database_url)
            .map_err(|e| StoreError::Config(format!("bad SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(false);
        let path = options.get_filename().to_path_buf();
        if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" {
            return Err(StoreError::Config(
                "an in-memory SQLite database cannot be shared by the server's connections; \
                 give a file"
                    .into(),
            ));
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        // A migration that rebuilds a table leaves a copy of it in the log (590 MB for schema
        // 12 over 1,000,000 installs): copied into the file here and the log cut to nothing,
        // before serving, instead of by the first group of writes (the writer checkpoints a
        // long log itself, in a commit). A log of normal size takes milliseconds.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&writer)
            .await?;
        let readers_wanted = open.max_connections.unwrap_or(DEFAULT_READERS);
        let reader = SqlitePoolOptions::new()
            .max_connections(readers_wanted)
            .connect_with(options.read_only(true))
            .await?;
        let doorbell = crate::Doorbell::default();
        let gate = readers::SnapshotGate::default();
        let group = GroupWriter::start(&path, BUSY_TIMEOUT, doorbell.clone(), gate.clone())?;
        let readers = Readers::new(path, BUSY_TIMEOUT, readers_wanted as usize, gate)?;
        Ok(SqliteStore {
            writer,
            reader,
            readers,
            group,
            doorbell,
            attribute_ids: AttributeIdCache::default(),
        })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        // A real table, so that a damaged database is not "ready".
        sqlx::query("SELECT version FROM settings_version")
            .execute(&self.reader)
            .await?;
        Ok(())
    }

    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    async fn create_tenant(&self, name: &str, profile_key: SealedSecret) -> StoreResult<Tenant> {
        timed(
            "create_tenant",
            admin::create_tenant(&self.writer, name, profile_key),
        )
        .await
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        timed("list_tenants", admin::list_tenants(&self.reader)).await
    }

    async fn find_tenant(&self, id_or_name: &str) -> StoreResult<Option<Tenant>> {
        timed("find_tenant", admin::find_tenant(&self.reader, id_or_name)).await
    }

    async fn current_profile_key(&self, tenant_id: &str) -> StoreResult<Option<ProfileKeyRecord>> {
        timed(
            "current_profile_key",
            admin::current_profile_key(&self.reader, tenant_id),
        )
        .await
    }

    async fn rotate_profile_key(
        &self,
        tenant_id: &str,
        new_key: SealedSecret,
        retire_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        timed(
            "rotate_profile_key",
            admin::rotate_profile_key(&self.writer, tenant_id, new_key, retire_at),
        )
        .await
    }

    async fn set_allowed_ips(&self, tenant_id: &str, cidrs: &[String]) -> StoreResult<()> {
        let value = serde_json::to_string(cidrs)?;
        timed(
            "set_allowed_ips",
            admin::update_tenant_setting(&self.writer, tenant_id, TenantSetting::AllowedIps, value),
        )
        .await
    }

    async fn set_rate_limit(&self, tenant_id: &str, requests_per_second: u32) -> StoreResult<()> {
        timed(
            "set_rate_limit",
            admin::update_tenant_setting(
                &self.writer,
                tenant_id,
                TenantSetting::RateLimit,
                requests_per_second.to_string(),
            ),
        )
        .await
    }

    async fn create_app(
        &self,
        tenant_id: &str,
        app_id: &AppId,
        name: &str,
        client_key: SealedSecret,
    ) -> StoreResult<App> {
        timed(
            "create_app",
            admin::create_app(&self.writer, tenant_id, app_id, name, client_key),
        )
        .await
    }

    async fn list_apps(&self, tenant_id: &str) -> StoreResult<Vec<App>> {
        timed("list_apps", admin::list_apps(&self.reader, tenant_id)).await
    }

    async fn settings_version(&self) -> StoreResult<i64> {
        admin::settings_version(&self.reader).await
    }

    async fn access_snapshot(&self) -> StoreResult<AccessSnapshot> {
        timed("access_snapshot", admin::access_snapshot(&self.reader)).await
    }

    async fn write_customers(
        &self,
        tenant_id: &str,
        transid: &str,
        mode: WriteMode,
        records: Vec<BatchRecord<CustomerInput>>,
    ) -> StoreResult<BatchOutcome> {
        timed("write_customers", async {
            let (tenant, transid) = (tenant_id.to_owned(), transid.to_owned());
            self.group
                .write(move |tx| {
                    Box::pin(async move {
                        ops::write_customers(tx, &tenant, &transid, mode, records).await
                    })
                })
                .await
        })
        .await
    }

    async fn get_customers(
        &self,
        tenant_id: &str,
        ids: &[CustomerId],
    ) -> StoreResult<Vec<CustomerProfile>> {
        timed("get_customers", async {
            self.readers
                .read(|conn| fetch_customers(conn, tenant_id, ids))
        })
        .await
    }

    async fn find_customers(
        &self,
        tenant_id: &str,
        lookup: &CustomerLookup,
    ) -> StoreResult<Vec<CustomerProfile>> {
        timed("find_customers", async {
            self.readers
                .read(|conn| fetch_customers_by(conn, tenant_id, lookup))
        })
        .await
    }

    async fn delete_customers(
        &self,
        tenant_id: &str,
        transid: &str,
        records: Vec<BatchRecord<CustomerId>>,
    ) -> StoreResult<BatchOutcome> {
        timed("delete_customers", async {
            let (tenant, transid) = (tenant_id.to_owned(), transid.to_owned());
            self.group
                .write(move |tx| {
                    Box::pin(
                        async move { ops::delete_customers(tx, &tenant, &transid, records).await },
                    )
                })
                .await
        })
        .await
    }

    async fn schema(&self, tenant_id: &str) -> StoreResult<Schema> {
        let definitions = self
            .readers
            .read(|conn| fetch_definitions(conn, tenant_id))?;
        Ok(Schema::new(definitions))
    }

    async fn create_definition(
        &self,
        tenant_id: &str,
        definition: AttributeDefinition,
    ) -> StoreResult<Result<AttributeDefinition, DomainError>> {
        timed("create_definition", async {
            let tenant = tenant_id.to_owned();
            self.group
                .write(move |tx| {
                    Box::pin(
                        async move { schema_ops::create_definition(tx, &tenant, definition).await },
                    )
                })
                .await
        })
        .await
    }

    async fn update_definition(
        &self,
        tenant_id: &str,
        name: &str,
        patch: DefinitionPatch,
    ) -> StoreResult<Result<AttributeDefinition, DomainError>> {
        timed("update_definition", async {
            let (tenant, name) = (tenant_id.to_owned(), name.to_owned());
            self.group
                .write(move |tx| {
                    Box::pin(async move {
                        schema_ops::update_definition(tx, &tenant, &name, patch).await
                    })
                })
                .await
        })
        .await
    }

    async fn retire_definition(
        &self,
        tenant_id: &str,
        name: &str,
        purge: bool,
    ) -> StoreResult<Result<AttributeDefinition, DomainError>> {
        timed("retire_definition", async {
            let (tenant, name) = (tenant_id.to_owned(), name.to_owned());
            self.group
                .write(move |tx| {
                    Box::pin(async move {
                        schema_ops::retire_definition(tx, &tenant, &name, purge).await
                    })
                })
                .await
        })
        .await
    }

    async fn find_customers_by_value(
        &self,
        tenant_id: &str,
        attribute_id: i64,
        sort_key: &[u8],
    ) -> StoreResult<Vec<CustomerProfile>> {
        timed("find_customers_by_value", async {
            self.readers
                .read(|conn| fetch_customers_by_value(conn, tenant_id, attribute_id, sort_key))
        })
        .await
    }

    async fn custom_attribute_ids(&self, tenant_id: &str) -> StoreResult<HashMap<String, i64>> {
        self.readers
            .read(|conn| Ok(attribute_ids::read_ids(conn, tenant_id)?.1))
    }

    async fn get_customers_with_attribute_ids(
        &self,
        tenant_id: &str,
        ids: &[CustomerId],
    ) -> StoreResult<(Vec<CustomerProfile>, AttributeIds)> {
        timed("get_customers_with_attribute_ids", async {
            self.readers.read(|conn| {
                fetch_customers_with_attribute_ids(conn, tenant_id, ids, &self.attribute_ids)
            })
        })
        .await
    }

    async fn write_app_profiles(
        &self,
        tenant_id: &str,
        transid: &str,
        app_id: &AppId,
        records: Vec<BatchRecord<AppProfileCommand>>,
    ) -> StoreResult<BatchOutcome> {
        timed("write_app_profiles", async {
            let (tenant, transid, app_id) =
                (tenant_id.to_owned(), transid.to_owned(), app_id.clone());
            self.group
                .write(move |tx| {
                    Box::pin(async move {
                        ops::write_app_profiles(tx, &tenant, &transid, &app_id, records).await
                    })
                })
                .await
        })
        .await
    }

    async fn find_app_profiles(
        &self,
        tenant_id: &str,
        app_id: &AppId,
        selector: &AppProfileSelector,
    ) -> StoreResult<Vec<AppProfile>> {
        timed("find_app_profiles", async {
            self.readers
                .read(|conn| fetch_app_profiles(conn, tenant_id, app_id, selector))
        })
        .await
    }

    async fn find_app_profiles_by_push_id(
        &self,
        tenant_id: &str,
        push_id: &str,
    ) -> StoreResult<Vec<AppProfile>> {
        timed("find_app_profiles_by_push_id", async {
            self.readers
                .read(|conn| fetch_app_profiles_by_push_id(conn, tenant_id, push_id))
        })
        .await
    }

    async fn linked_app_profiles(
        &self,
        tenant_id: &str,
        customer_ids: &[CustomerId],
    ) -> StoreResult<Vec<AppProfile>> {
        timed("linked_app_profiles", async {
            self.readers.read(|conn| {
                let mut found = Vec::new();
                for id in customer_ids {
                    found.extend(fetch_linked_app_profiles(conn, tenant_id, id)?);
                }
                Ok(found)
            })
        })
        .await
    }

    async fn delete_app_profiles(
        &self,
        tenant_id: &str,
        transid: &str,
        app_id: &AppId,
        records: Vec<BatchRecord<AppProfileSelector>>,
    ) -> StoreResult<BatchOutcome> {
        timed("delete_app_profiles", async {
            let (tenant, transid, app_id) =
                (tenant_id.to_owned(), transid.to_owned(), app_id.clone());
            self.group
                .write(move |tx| {
                    Box::pin(async move {
                        ops::delete_app_profiles(tx, &tenant, &transid, &app_id, records).await
                    })
                })
                .await
        })
        .await
    }

    async fn write_outcome(
        &self,
        tenant_id: &str,
        transid: &str,
    ) -> StoreResult<Option<BatchOutcome>> {
        self.readers
            .read(|conn| fetch_write_outcome(conn, tenant_id, transid, Utc::now()))
    }

    async fn prune_write_outcomes(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        // Outcomes are in rowid order and have no index on expiry (migration 7): the expired
        // ones are those before the first that is not, found by walking from the oldest.
        let pruned = sqlx::query(
            "DELETE FROM write_outcomes WHERE rowid < COALESCE(\
             (SELECT rowid FROM write_outcomes WHERE expires_at > ?1 ORDER BY rowid LIMIT 1), \
             (SELECT MAX(rowid) + 1 FROM write_outcomes)) AND expires_at <= ?1",
        )
        .bind(millis(now))
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(pruned)
    }

    async fn events_after(
        &self,
        tenant_id: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<StoredEvent>> {
        self.readers
            .read(|conn| fetch_events_after(conn, tenant_id, after, limit))
    }

    async fn update_app(
        &self,
        tenant_id: &str,
        app_id: &AppId,
        update: crate::model::AppUpdate,
    ) -> StoreResult<App> {
        timed(
            "update_app",
            admin::update_app(&self.writer, tenant_id, app_id, update),
        )
        .await
    }

    async fn sdk_write(
        &self,
        tenant_id: &str,
        app_id: &AppId,
        request: crate::model::SdkRequest,
    ) -> StoreResult<Result<crate::model::SdkOutcome, DomainError>> {
        timed("sdk_write", async {
            let (tenant, app_id) = (tenant_id.to_owned(), app_id.clone());
            self.group
                .write(move |tx| {
                    Box::pin(async move {
                        crate::sdk_ops::sdk_write(tx, &tenant, &app_id, request).await
                    })
                })
                .await
        })
        .await
    }

    async fn expire_app_profiles(
        &self,
        tenant_id: &str,
        app_id: &AppId,
        before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        timed("expire_app_profiles", async {
            let mut total = 0;
            loop {
                let (tenant, app_id) = (tenant_id.to_owned(), app_id.clone());
                let deleted = self
                    .group
                    .write(move |tx| {
                        Box::pin(async move {
                            crate::sdk_ops::expire_app_profiles(tx, &tenant, &app_id, before).await
                        })
                    })
                    .await?;
                total += deleted;
                if !crate::sdk_ops::expiry_batch_full(deleted) {
                    return Ok(total);
                }
            }
        })
        .await
    }
}

/// For the backend's own tests: a store in a fresh database under `dir`, and a tenant in it.
#[cfg(test)]
pub(crate) async fn test_store_with_tenant(dir: &tempfile::TempDir) -> (SqliteStore, String) {
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    let key = SealedSecret {
        digest: "d".into(),
        sealed: vec![0; 32],
    };
    let tenant = store.create_tenant("acme", key).await.unwrap().tenant_id;
    (store, tenant)
}

/// A customer's change event, told apart by its customer and version.
#[cfg(test)]
pub(crate) fn test_event(customer: u64, version: u64) -> profilestore_core::change::ChangeEvent {
    use profilestore_core::change::{ChangeEvent, EventType, Subject};
    ChangeEvent {
        event_type: EventType::CustomerUpdated,
        subject: Subject::Customer {
            customer_id: format!("c{customer}"),
        },
        device_event: None,
        changes: Vec::new(),
        profile_version: version,
    }
}

#[cfg(test)]
mod tests {
    use super::{SqliteStore, readers, test_store_with_tenant};
    use crate::Store;
    use crate::model::{BatchRecord, CustomerInput, WriteMode};
    use profilestore_core::attribute::AttributeValue;
    use profilestore_core::ids::CustomerId;
    use profilestore_core::schema::evolution::DefinitionPatch;

    /// An implicit attribute's values have no typed entries; a change of its definition adopts
    /// it, and every holder's value gets its entry then.
    #[tokio::test]
    async fn typed_entries_come_with_the_definition() {
        let dir = tempfile::tempdir().unwrap();
        let (store, tenant) = test_store_with_tenant(&dir).await;
        let records = vec![record("C-1", "tier"), record("C-2", "tier")];
        store
            .write_customers(&tenant, "t0", WriteMode::Create, records)
            .await
            .unwrap();
        let entries = || async {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM customer_values")
                .fetch_one(&store.reader)
                .await
                .unwrap()
        };
        assert_eq!(entries().await, 0, "implicit: no entries");

        let patch = DefinitionPatch {
            description: Some(Some("the loyalty tier".into())),
            ..Default::default()
        };
        store
            .update_definition(&tenant, "tier", patch)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entries().await, 2, "adopted: one entry per holder");
    }

    fn record(id: &str, name: &str) -> BatchRecord<CustomerInput> {
        let input = CustomerInput {
            customer_id: CustomerId::parse(id).unwrap(),
            attributes: vec![(name.into(), AttributeValue::Text("x".into()))],
        };
        (Default::default(), Ok(input))
    }

    /// The attribute ids a store keeps between reads follow a change another process made
    /// (here another store on the same file, as an admin command would be): the database's
    /// triggers count it, not the store that wrote it.
    #[tokio::test]
    async fn kept_attribute_ids_follow_another_processs_change() {
        let dir = tempfile::tempdir().unwrap();
        let (reading, tenant) = test_store_with_tenant(&dir).await;
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let writing = SqliteStore::open(&url).await.unwrap();
        let ids_read_with = |id: &str| {
            let ids = [CustomerId::parse(id).unwrap()];
            let reading = &reading;
            let tenant = &tenant;
            async move {
                let (_, attribute_ids) = reading
                    .get_customers_with_attribute_ids(tenant, &ids)
                    .await
                    .unwrap();
                attribute_ids.keys().cloned().collect::<Vec<_>>()
            }
        };
        let create = |transid: &'static str, id: &'static str, name: &'static str| {
            writing.write_customers(&tenant, transid, WriteMode::Create, vec![record(id, name)])
        };
        create("t1", "C-1", "tier").await.unwrap();
        let before = ids_read_with("C-1").await;
        create("t2", "C-2", "zone").await.unwrap();
        // Past the age after which a reader no longer reuses its snapshot.
        tokio::time::sleep(readers::SNAPSHOT_MAX_AGE * 4).await;
        let mut after = ids_read_with("C-1").await;
        after.sort();

        assert_eq!(before, ["tier"]);
        assert_eq!(after, ["tier", "zone"]);
    }
}
