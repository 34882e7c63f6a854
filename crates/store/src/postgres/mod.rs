//! The PostgreSQL backend: many stateless nodes on one database (and, later, Citus).
//!
//! One pool serves reads and writes. Every profile write transaction begins by taking its
//! tenant's advisory lock (see `tx.rs`), which serialises one tenant's writes across nodes and
//! keeps its event sequence gapless and in commit order; admin changes that check uniqueness
//! take a global advisory lock (see `admin.rs`). A write that fails with a serialization
//! failure or a deadlock (SQLSTATE 40001, 40P01) is run again from the start, a few times.
//!
//! The pool keeps the process up while the database is away: acquiring a connection gives up
//! after [`ACQUIRE_TIMEOUT`] with a `StoreError` (the API answers its internal-error code,
//! /readyz 503), every idle connection is tested before it is handed out, and new ones are
//! opened on demand, so the store recovers by itself when the database returns.

mod admin;
mod console;
mod delivery;
mod listener;
mod rows;
mod tx;

use crate::OpenOptions;
use crate::error::{StoreError, StoreResult};
use crate::metrics::timed;
use crate::model::{
    AccessSnapshot, App, AppProfileCommand, AppProfileSelector, BatchRecord, CustomerInput,
    CustomerLookup, ProfileKeyRecord, SealedSecret, StoredEvent, Tenant, WriteMode,
};
use crate::store::Store;
use crate::{ops, schema_ops};
use admin::TenantSetting;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use profilestore_core::DomainError;
use profilestore_core::app_profile::AppProfile;
use profilestore_core::batch::BatchOutcome;
use profilestore_core::customer::CustomerProfile;
use profilestore_core::ids::{AppId, CustomerId};
use profilestore_core::schema::evolution::DefinitionPatch;
use profilestore_core::schema::{AttributeDefinition, Schema};
use rows::{
    fetch_app_profiles, fetch_app_profiles_by_push_id, fetch_customers, fetch_customers_by,
    fetch_customers_by_value, fetch_definitions, fetch_linked_app_profiles_of,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::types::Json;
use sqlx::{PgPool, Row};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;
use tx::PgTx;

pub use rows::tenant_lock_key;

/// Connections in the pool when the options do not say.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
/// How long an operation waits for a connection (including opening one) before it fails.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// How often a profile write is attempted when PostgreSQL asks for a retry.
const WRITE_ATTEMPTS: u32 = 4;

pub struct PgStore {
    pool: PgPool,
    doorbell: crate::Doorbell,
    /// The event listener's own connection; closing it stops the listener.
    listener: PgPool,
}

impl PgStore {
    /// Connects to the database at a `postgres://` URL and applies migrations.
    pub async fn open(database_url: &str, options: &OpenOptions) -> StoreResult<Self> {
        let connect = PgConnectOptions::from_str(database_url)
            .map_err(|e| StoreError::Config(format!("bad PostgreSQL URL: {e}")))?
            .application_name("profilestore");
        migrate(&connect).await?;
        let mut pooled = connect.clone();
        if let Some(timeout) = options.statement_timeout.filter(|t| !t.is_zero()) {
            pooled = pooled.options([("statement_timeout", format!("{}ms", timeout.as_millis()))]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS))
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(true)
            .connect_with(pooled)
            .await?;
        let doorbell = crate::Doorbell::default();
        let listener = listener::spawn(connect.clone(), doorbell.clone());
        Ok(PgStore {
            pool,
            doorbell,
            listener,
        })
    }
}

/// Applies the migrations on a connection of its own, without the statement timeout (a
/// migration, or the wait for another node's, may take longer than any one request should).
///
/// Nodes starting together do not race: sqlx's PostgreSQL migrator (`Migrator::run` in
/// sqlx-core 0.9.0, `src/migrate/migrator.rs`, with `locking` true by default) first calls
/// `Migrate::lock`, which sqlx-postgres 0.9.0 (`src/migrate.rs`) implements as
/// `SELECT pg_advisory_lock(<id derived from the database name>)`, a lock that waits; it
/// creates the `_sqlx_migrations` table, reads what is applied and applies the rest only while
/// holding it, then `pg_advisory_unlock`s. A node that waited finds everything applied.
async fn migrate(connect: &PgConnectOptions) -> StoreResult<()> {
    // A pool of one rather than a bare connection: `Migrator::run(&mut PgConnection)` makes a
    // future that is not `Send`, and `open` must be spawnable.
    let single = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(connect.clone())
        .await?;
    let migrated = sqlx::migrate!("./migrations/postgres").run(&single).await;
    // Closing ends the session, which also releases the migration lock if a failed run kept it.
    single.close().await;
    Ok(migrated?)
}

/// Whether PostgreSQL says the transaction may succeed if run again.
fn is_transient(error: &StoreError) -> bool {
    match error {
        StoreError::Database(sqlx::Error::Database(db)) => {
            matches!(db.code().as_deref(), Some("40001" | "40P01"))
        }
        _ => false,
    }
}

/// Runs `$work` (an expression using `$tx`, a [`PgTx`] holding the tenant's lock) and commits;
/// on a serialization failure or deadlock, rolls back and runs it again from the start.
macro_rules! tenant_write {
    ($store:expr, $tenant:expr, |$tx:ident| $work:expr) => {{
        let mut attempt = 1;
        loop {
            let result: StoreResult<_> = async {
                let mut $tx = PgTx::begin(&$store.pool, $tenant).await?;
                let value = $work.await?;
                $tx.0.commit().await?;
                Ok(value)
            }
            .await;
            match result {
                Err(error) if attempt < WRITE_ATTEMPTS && is_transient(&error) => {
                    tracing::debug!(%error, attempt, "write transaction retried");
                    tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
                    attempt += 1;
                }
                done => break done,
            }
        }
    }};
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        // A real table, so that a database without our schema is not "ready".
        sqlx::query("SELECT version FROM settings_version")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn close(&self) {
        self.listener.close().await;
        self.pool.close().await;
    }

    async fn create_tenant(&self, name: &str, profile_key: SealedSecret) -> StoreResult<Tenant> {
        timed(
            "create_tenant",
            admin::create_tenant(&self.pool, name, profile_key),
        )
        .await
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        timed("list_tenants", admin::list_tenants(&self.pool)).await
    }

    async fn find_tenant(&self, id_or_name: &str) -> StoreResult<Option<Tenant>> {
        timed("find_tenant", admin::find_tenant(&self.pool, id_or_name)).await
    }

    async fn current_profile_key(&self, tenant_id: &str) -> StoreResult<Option<ProfileKeyRecord>> {
        timed(
            "current_profile_key",
            admin::current_profile_key(&self.pool, tenant_id),
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
            admin::rotate_profile_key(&self.pool, tenant_id, new_key, retire_at),
        )
        .await
    }

    async fn set_allowed_ips(&self, tenant_id: &str, cidrs: &[String]) -> StoreResult<()> {
        timed(
            "set_allowed_ips",
            admin::update_tenant_setting(&self.pool, tenant_id, TenantSetting::AllowedIps(cidrs)),
        )
        .await
    }

    async fn set_rate_limit(&self, tenant_id: &str, requests_per_second: u32) -> StoreResult<()> {
        timed(
            "set_rate_limit",
            admin::update_tenant_setting(
                &self.pool,
                tenant_id,
                TenantSetting::RateLimit(requests_per_second),
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
            admin::create_app(&self.pool, tenant_id, app_id, name, client_key),
        )
        .await
    }

    async fn list_apps(&self, tenant_id: &str) -> StoreResult<Vec<App>> {
        timed("list_apps", admin::list_apps(&self.pool, tenant_id)).await
    }

    async fn settings_version(&self) -> StoreResult<i64> {
        admin::settings_version(&self.pool).await
    }

    async fn access_snapshot(&self) -> StoreResult<AccessSnapshot> {
        timed("access_snapshot", admin::access_snapshot(&self.pool)).await
    }

    async fn write_customers(
        &self,
        tenant_id: &str,
        transid: &str,
        mode: WriteMode,
        records: Vec<BatchRecord<CustomerInput>>,
    ) -> StoreResult<BatchOutcome> {
        timed("write_customers", async {
            tenant_write!(self, tenant_id, |tx| ops::write_customers(
                &mut tx,
                tenant_id,
                transid,
                mode,
                records.clone()
            ))
        })
        .await
    }

    async fn get_customers(
        &self,
        tenant_id: &str,
        ids: &[CustomerId],
    ) -> StoreResult<Vec<CustomerProfile>> {
        timed("get_customers", fetch_customers(&self.pool, tenant_id, ids)).await
    }

    async fn find_customers(
        &self,
        tenant_id: &str,
        lookup: &CustomerLookup,
    ) -> StoreResult<Vec<CustomerProfile>> {
        timed(
            "find_customers",
            fetch_customers_by(&self.pool, tenant_id, lookup),
        )
        .await
    }

    async fn delete_customers(
        &self,
        tenant_id: &str,
        transid: &str,
        records: Vec<BatchRecord<CustomerId>>,
    ) -> StoreResult<BatchOutcome> {
        timed("delete_customers", async {
            tenant_write!(self, tenant_id, |tx| ops::delete_customers(
                &mut tx,
                tenant_id,
                transid,
                records.clone()
            ))
        })
        .await
    }

    async fn schema(&self, tenant_id: &str) -> StoreResult<Schema> {
        Ok(Schema::new(fetch_definitions(&self.pool, tenant_id).await?))
    }

    async fn create_definition(
        &self,
        tenant_id: &str,
        definition: AttributeDefinition,
    ) -> StoreResult<Result<AttributeDefinition, DomainError>> {
        timed("create_definition", async {
            tenant_write!(self, tenant_id, |tx| schema_ops::create_definition(
                &mut tx,
                tenant_id,
                definition.clone()
            ))
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
            tenant_write!(self, tenant_id, |tx| schema_ops::update_definition(
                &mut tx,
                tenant_id,
                name,
                patch.clone()
            ))
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
            tenant_write!(self, tenant_id, |tx| schema_ops::retire_definition(
                &mut tx, tenant_id, name, purge
            ))
        })
        .await
    }

    async fn find_customers_by_value(
        &self,
        tenant_id: &str,
        attribute_id: i64,
        sort_key: &[u8],
    ) -> StoreResult<Vec<CustomerProfile>> {
        timed(
            "find_customers_by_value",
            fetch_customers_by_value(&self.pool, tenant_id, attribute_id, sort_key),
        )
        .await
    }

    async fn custom_attribute_ids(&self, tenant_id: &str) -> StoreResult<HashMap<String, i64>> {
        let rows = sqlx::query("SELECT name, id FROM custom_attributes WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("name")?, row.try_get("id")?)))
            .collect()
    }

    async fn write_app_profiles(
        &self,
        tenant_id: &str,
        transid: &str,
        app_id: &AppId,
        records: Vec<BatchRecord<AppProfileCommand>>,
    ) -> StoreResult<BatchOutcome> {
        timed("write_app_profiles", async {
            tenant_write!(self, tenant_id, |tx| ops::write_app_profiles(
                &mut tx,
                tenant_id,
                transid,
                app_id,
                records.clone()
            ))
        })
        .await
    }

    async fn find_app_profiles(
        &self,
        tenant_id: &str,
        app_id: &AppId,
        selector: &AppProfileSelector,
    ) -> StoreResult<Vec<AppProfile>> {
        timed(
            "find_app_profiles",
            fetch_app_profiles(&self.pool, tenant_id, app_id, selector),
        )
        .await
    }

    async fn find_app_profiles_by_push_id(
        &self,
        tenant_id: &str,
        push_id: &str,
    ) -> StoreResult<Vec<AppProfile>> {
        timed(
            "find_app_profiles_by_push_id",
            fetch_app_profiles_by_push_id(&self.pool, tenant_id, push_id),
        )
        .await
    }

    async fn linked_app_profiles(
        &self,
        tenant_id: &str,
        customer_ids: &[CustomerId],
    ) -> StoreResult<Vec<AppProfile>> {
        timed(
            "linked_app_profiles",
            fetch_linked_app_profiles_of(&self.pool, tenant_id, customer_ids),
        )
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
            tenant_write!(self, tenant_id, |tx| ops::delete_app_profiles(
                &mut tx,
                tenant_id,
                transid,
                app_id,
                records.clone()
            ))
        })
        .await
    }

    async fn write_outcome(
        &self,
        tenant_id: &str,
        transid: &str,
    ) -> StoreResult<Option<BatchOutcome>> {
        let outcome: Option<Json<BatchOutcome>> = sqlx::query_scalar(
            "SELECT outcome FROM write_outcomes WHERE tenant_id = $1 AND transid = $2 AND expires_at > $3",
        )
        .bind(tenant_id)
        .bind(transid)
        .bind(Utc::now())
        .fetch_optional(&self.pool)
        .await?;
        Ok(outcome.map(|Json(outcome)| outcome))
    }

    async fn prune_write_outcomes(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let pruned = sqlx::query("DELETE FROM write_outcomes WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
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
        let rows = sqlx::query(
            "SELECT seq, event_id, event_type, occurred_at, payload FROM outbox \
             WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(tenant_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredEvent {
                    seq: row.try_get("seq")?,
                    event_id: row.try_get("event_id")?,
                    event_type: row.try_get("event_type")?,
                    occurred_at: row.try_get("occurred_at")?,
                    payload: row.try_get("payload")?,
                })
            })
            .collect()
    }

    async fn update_app(
        &self,
        tenant_id: &str,
        app_id: &AppId,
        update: crate::model::AppUpdate,
    ) -> StoreResult<App> {
        timed(
            "update_app",
            admin::update_app(&self.pool, tenant_id, app_id, update),
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
            tenant_write!(self, tenant_id, |tx| crate::sdk_ops::sdk_write(
                &mut tx,
                tenant_id,
                app_id,
                request.clone()
            ))
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
                let deleted: u64 = tenant_write!(self, tenant_id, |tx| {
                    crate::sdk_ops::expire_app_profiles(&mut tx, tenant_id, app_id, before)
                })?;
                total += deleted;
                if !crate::sdk_ops::expiry_batch_full(deleted) {
                    return Ok(total);
                }
            }
        })
        .await
    }
}
