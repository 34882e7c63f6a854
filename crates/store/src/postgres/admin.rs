//! Tenants, profile keys and apps in PostgreSQL. Every change bumps `settings_version` in the
//! same transaction, which is how running servers (on any node) notice admin commands.
//!
//! Admin changes that check before they write (a tenant name or app id not taken, the next
//! store number or key id) hold one global advisory lock for their transaction, so that two
//! nodes or admin commands cannot both pass the check. They are rare; profile writes never
//! take this lock.

use super::rows::{to_micros, unstorable};
use crate::error::{StoreError, StoreResult};
use crate::model::{AccessSnapshot, App, AppUpdate, ProfileKeyRecord, SealedSecret, Tenant};
use chrono::{DateTime, Utc};
use profilestore_core::device::{AppOptions, DevicePolicy};
use profilestore_core::ids::AppId;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Postgres, Row, Transaction};

/// First ProfileID given to a tenant; the product's examples show four-digit ids.
const FIRST_STORE_NUMBER: i64 = 3001;
/// The global admin lock, in the two-key advisory lock space (distinct from the one-key space
/// of the per-tenant locks and of sqlx's migration lock): ("ps" as a number, 1).
const ADMIN_LOCK: (i32, i32) = (0x7073, 1);
/// The unique index that backs the tenant-name check.
const TENANT_NAME_INDEX: &str = "tenants_name";

async fn begin_admin(pool: &PgPool) -> StoreResult<Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
        .bind(ADMIN_LOCK.0)
        .bind(ADMIN_LOCK.1)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

async fn bump_settings_version(conn: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("UPDATE settings_version SET version = version + 1 WHERE singleton = 1")
        .execute(conn)
        .await?;
    Ok(())
}

fn tenant_from_row(row: &PgRow) -> StoreResult<Tenant> {
    Ok(Tenant {
        tenant_id: row.try_get("tenant_id")?,
        name: row.try_get("name")?,
        store_number: row.try_get("store_number")?,
        rate_limit: row
            .try_get::<i64, _>("rate_limit")?
            .try_into()
            .unwrap_or(u32::MAX),
        allowed_ips: row.try_get("allowed_ips")?,
        created_at: row.try_get("created_at")?,
    })
}

fn key_from_row(row: &PgRow) -> StoreResult<ProfileKeyRecord> {
    Ok(ProfileKeyRecord {
        tenant_id: row.try_get("tenant_id")?,
        key_id: row.try_get("key_id")?,
        secret: SealedSecret {
            digest: row.try_get("digest")?,
            sealed: row.try_get("sealed")?,
        },
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

fn app_from_row(row: &PgRow) -> StoreResult<App> {
    Ok(App {
        tenant_id: row.try_get("tenant_id")?,
        app_id: row.try_get("app_id")?,
        name: row.try_get("name")?,
        client_key: SealedSecret {
            digest: row.try_get("client_key_digest")?,
            sealed: row.try_get("client_key_sealed")?,
        },
        created_at: row.try_get("created_at")?,
        options: row.try_get::<Json<AppOptions>, _>("options")?.0,
        jwt_secret: row.try_get("jwt_secret_sealed")?,
        device_policy: row.try_get::<Json<DevicePolicy>, _>("device_policy")?.0,
    })
}

const TENANT_COLUMNS: &str =
    "SELECT tenant_id, name, store_number, rate_limit, allowed_ips, created_at FROM tenants";
const KEY_COLUMNS: &str =
    "SELECT tenant_id, key_id, digest, sealed, created_at, expires_at FROM profile_keys";
const APP_COLUMNS: &str = "SELECT tenant_id, app_id, name, client_key_digest, client_key_sealed, created_at, \
     options, jwt_secret_sealed, device_policy FROM apps";

/// A unique-index violation of the tenant name (a backstop: the admin lock already serialises
/// the check) is the same conflict the check reports.
fn name_conflict(error: sqlx::Error, name: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.constraint() == Some(TENANT_NAME_INDEX) => {
            StoreError::Conflict(format!("tenant named {name:?}"))
        }
        _ => StoreError::Database(error),
    }
}

pub(super) async fn create_tenant(
    pool: &PgPool,
    name: &str,
    key: SealedSecret,
) -> StoreResult<Tenant> {
    let mut tx = begin_admin(pool).await?;
    let taken: Option<String> = sqlx::query_scalar("SELECT tenant_id FROM tenants WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(StoreError::Conflict(format!("tenant named {name:?}")));
    }
    // Stored in microseconds: return exactly what a later read gives back.
    let now = to_micros(Utc::now());
    let tenant_id = format!("tn_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    let store_number: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(store_number) + 1, $1) FROM tenants")
            .bind(FIRST_STORE_NUMBER)
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query(
        "INSERT INTO tenants (tenant_id, name, store_number, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&tenant_id)
    .bind(name)
    .bind(store_number)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|error| name_conflict(error, name))?;
    insert_key(&mut tx, &tenant_id, 1, &key, now).await?;
    bump_settings_version(&mut tx).await?;
    tx.commit().await?;
    Ok(Tenant {
        tenant_id,
        name: name.to_owned(),
        store_number,
        rate_limit: 0,
        allowed_ips: Vec::new(),
        created_at: now,
    })
}

async fn insert_key(
    conn: &mut PgConnection,
    tenant_id: &str,
    key_id: i64,
    key: &SealedSecret,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO profile_keys (tenant_id, key_id, digest, sealed, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant_id)
    .bind(key_id)
    .bind(&key.digest)
    .bind(&key.sealed)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn list_tenants(pool: &PgPool) -> StoreResult<Vec<Tenant>> {
    let sql = format!("{TENANT_COLUMNS} ORDER BY name");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?;
    rows.iter().map(tenant_from_row).collect()
}

pub(super) async fn find_tenant(pool: &PgPool, id_or_name: &str) -> StoreResult<Option<Tenant>> {
    if unstorable(id_or_name) {
        return Ok(None);
    }
    let sql = format!(
        "{TENANT_COLUMNS} WHERE tenant_id = $1 OR name = $1 ORDER BY tenant_id = $1 DESC LIMIT 1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id_or_name)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(tenant_from_row).transpose()
}

pub(super) async fn current_profile_key(
    pool: &PgPool,
    tenant_id: &str,
) -> StoreResult<Option<ProfileKeyRecord>> {
    let sql = format!("{KEY_COLUMNS} WHERE tenant_id = $1 ORDER BY key_id DESC LIMIT 1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(key_from_row).transpose()
}

pub(super) async fn rotate_profile_key(
    pool: &PgPool,
    tenant_id: &str,
    new_key: SealedSecret,
    retire_at: DateTime<Utc>,
) -> StoreResult<()> {
    let mut tx = begin_admin(pool).await?;
    let last: Option<i64> =
        sqlx::query_scalar("SELECT MAX(key_id) FROM profile_keys WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_one(&mut *tx)
            .await?;
    let last = last.ok_or_else(|| StoreError::NotFound(format!("tenant {tenant_id}")))?;
    sqlx::query(
        "UPDATE profile_keys SET expires_at = $2 \
         WHERE tenant_id = $1 AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(tenant_id)
    .bind(retire_at)
    .execute(&mut *tx)
    .await?;
    insert_key(&mut tx, tenant_id, last + 1, &new_key, Utc::now()).await?;
    bump_settings_version(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// A tenant's setting, with the value its column takes.
pub(super) enum TenantSetting<'a> {
    AllowedIps(&'a [String]),
    RateLimit(u32),
}

pub(super) async fn update_tenant_setting(
    pool: &PgPool,
    tenant_id: &str,
    setting: TenantSetting<'_>,
) -> StoreResult<()> {
    let query = match setting {
        TenantSetting::AllowedIps(cidrs) => {
            sqlx::query("UPDATE tenants SET allowed_ips = $2 WHERE tenant_id = $1")
                .bind(tenant_id)
                .bind(cidrs)
        }
        TenantSetting::RateLimit(requests_per_second) => {
            sqlx::query("UPDATE tenants SET rate_limit = $2 WHERE tenant_id = $1")
                .bind(tenant_id)
                .bind(i64::from(requests_per_second))
        }
    };
    let mut tx = pool.begin().await?;
    let updated = query.execute(&mut *tx).await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("tenant {tenant_id}")));
    }
    bump_settings_version(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn create_app(
    pool: &PgPool,
    tenant_id: &str,
    app_id: &AppId,
    name: &str,
    client_key: SealedSecret,
) -> StoreResult<App> {
    let mut tx = begin_admin(pool).await?;
    let tenant_exists: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM tenants WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_optional(&mut *tx)
            .await?;
    if tenant_exists.is_none() {
        return Err(StoreError::NotFound(format!("tenant {tenant_id}")));
    }
    let taken: Option<i32> = sqlx::query_scalar("SELECT 1 FROM apps WHERE app_id = $1")
        .bind(app_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(StoreError::Conflict(format!("app {app_id}")));
    }
    // Stored in microseconds: return exactly what a later read gives back.
    let now = to_micros(Utc::now());
    sqlx::query(
        "INSERT INTO apps (tenant_id, app_id, name, client_key_digest, client_key_sealed, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tenant_id)
    .bind(app_id.as_str())
    .bind(name)
    .bind(&client_key.digest)
    .bind(&client_key.sealed)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    bump_settings_version(&mut tx).await?;
    tx.commit().await?;
    Ok(App {
        tenant_id: tenant_id.to_owned(),
        app_id: app_id.to_string(),
        name: name.to_owned(),
        client_key,
        created_at: now,
        options: AppOptions::default(),
        jwt_secret: None,
        device_policy: DevicePolicy::default(),
    })
}

pub(super) async fn list_apps(pool: &PgPool, tenant_id: &str) -> StoreResult<Vec<App>> {
    let sql = format!("{APP_COLUMNS} WHERE tenant_id = $1 ORDER BY app_id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(app_from_row).collect()
}

pub(super) async fn settings_version(pool: &PgPool) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT version FROM settings_version WHERE singleton = 1")
            .fetch_one(pool)
            .await?,
    )
}

/// One consistent read of everything authentication needs: a REPEATABLE READ snapshot, so
/// that the version read belongs to the tenants, keys and apps read with it.
pub(super) async fn access_snapshot(pool: &PgPool) -> StoreResult<AccessSnapshot> {
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    let version: i64 =
        sqlx::query_scalar("SELECT version FROM settings_version WHERE singleton = 1")
            .fetch_one(&mut *tx)
            .await?;
    let tenants = sqlx::query(sqlx::AssertSqlSafe(TENANT_COLUMNS))
        .fetch_all(&mut *tx)
        .await?;
    let sql = format!("{KEY_COLUMNS} WHERE expires_at IS NULL OR expires_at > $1");
    let keys = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(Utc::now())
        .fetch_all(&mut *tx)
        .await?;
    let apps = sqlx::query(sqlx::AssertSqlSafe(APP_COLUMNS))
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(AccessSnapshot {
        version,
        tenants: tenants
            .iter()
            .map(tenant_from_row)
            .collect::<StoreResult<_>>()?,
        profile_keys: keys.iter().map(key_from_row).collect::<StoreResult<_>>()?,
        apps: apps.iter().map(app_from_row).collect::<StoreResult<_>>()?,
    })
}

/// Applies an [`AppUpdate`] (read, change, write back) and bumps the settings version.
pub(super) async fn update_app(
    pool: &PgPool,
    tenant_id: &str,
    app_id: &AppId,
    update: AppUpdate,
) -> StoreResult<App> {
    let mut tx = begin_admin(pool).await?;
    let sql = format!("{APP_COLUMNS} WHERE tenant_id = $1 AND app_id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id)
        .bind(app_id.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("app {app_id}")))?;
    let mut app = app_from_row(&row)?;
    if let Some(name) = update.name {
        app.name = name;
    }
    if let Some(options) = update.options {
        app.options = options;
    }
    if let Some(jwt_secret) = update.jwt_secret {
        app.jwt_secret = jwt_secret;
    }
    if let Some(client_key) = update.client_key {
        app.client_key = client_key;
    }
    if let Some(policy) = update.device_policy {
        app.device_policy = policy;
    }
    sqlx::query(
        "UPDATE apps SET name = $3, options = $4, jwt_secret_sealed = $5, client_key_digest = $6, \
         client_key_sealed = $7, device_policy = $8 WHERE tenant_id = $1 AND app_id = $2",
    )
    .bind(tenant_id)
    .bind(app_id.as_str())
    .bind(&app.name)
    .bind(Json(&app.options))
    .bind(&app.jwt_secret)
    .bind(&app.client_key.digest)
    .bind(&app.client_key.sealed)
    .bind(Json(&app.device_policy))
    .execute(&mut *tx)
    .await?;
    bump_settings_version(&mut tx).await?;
    tx.commit().await?;
    Ok(app)
}
