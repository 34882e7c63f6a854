//! Tenants, profile keys and apps in SQLite. Every change bumps `settings_version` in the same
//! transaction, which is how running servers notice admin commands.

use super::rows::{from_millis, millis};
use crate::error::{StoreError, StoreResult};
use crate::model::{AccessSnapshot, App, AppUpdate, ProfileKeyRecord, SealedSecret, Tenant};
use chrono::{DateTime, Utc};
use profilestore_core::device::{AppOptions, DevicePolicy};
use profilestore_core::ids::AppId;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

/// First ProfileID given to a tenant; the product's examples show four-digit ids.
const FIRST_STORE_NUMBER: i64 = 3001;

async fn bump_settings_version(conn: &mut SqliteConnection) -> StoreResult<()> {
    sqlx::query("UPDATE settings_version SET version = version + 1 WHERE singleton = 1")
        .execute(conn)
        .await?;
    Ok(())
}

fn tenant_from_row(row: &SqliteRow) -> StoreResult<Tenant> {
    let allowed_ips: String = row.try_get("allowed_ips")?;
    Ok(Tenant {
        tenant_id: row.try_get("tenant_id")?,
        name: row.try_get("name")?,
        store_number: row.try_get("store_number")?,
        rate_limit: row
            .try_get::<i64, _>("rate_limit")?
            .try_into()
            .unwrap_or(u32::MAX),
        allowed_ips: serde_json::from_str(&allowed_ips)?,
        created_at: from_millis(row.try_get("created_at")?)?,
    })
}

fn key_from_row(row: &SqliteRow) -> StoreResult<ProfileKeyRecord> {
    Ok(ProfileKeyRecord {
        tenant_id: row.try_get("tenant_id")?,
        key_id: row.try_get("key_id")?,
        secret: SealedSecret {
            digest: row.try_get("digest")?,
            sealed: row.try_get("sealed")?,
        },
        created_at: from_millis(row.try_get("created_at")?)?,
        expires_at: row
            .try_get::<Option<i64>, _>("expires_at")?
            .map(from_millis)
            .transpose()?,
    })
}

fn app_from_row(row: &SqliteRow) -> StoreResult<App> {
    Ok(App {
        tenant_id: row.try_get("tenant_id")?,
        app_id: row.try_get("app_id")?,
        name: row.try_get("name")?,
        client_key: SealedSecret {
            digest: row.try_get("client_key_digest")?,
            sealed: row.try_get("client_key_sealed")?,
        },
        created_at: from_millis(row.try_get("created_at")?)?,
        options: serde_json::from_str(&row.try_get::<String, _>("options")?)?,
        jwt_secret: row.try_get("jwt_secret_sealed")?,
        device_policy: serde_json::from_str(&row.try_get::<String, _>("device_policy")?)?,
    })
}

const TENANT_COLUMNS: &str =
    "SELECT tenant_id, name, store_number, rate_limit, allowed_ips, created_at FROM tenants";

pub(super) async fn create_tenant(
    writer: &SqlitePool,
    name: &str,
    key: SealedSecret,
) -> StoreResult<Tenant> {
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let taken: Option<String> = sqlx::query_scalar("SELECT tenant_id FROM tenants WHERE name = ?")
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(StoreError::Conflict(format!("tenant named {name:?}")));
    }
    // Stored in milliseconds: return exactly what a later read gives back.
    let now = from_millis(millis(Utc::now()))?;
    let tenant_id = format!("tn_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    let store_number: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(store_number) + 1, ?) FROM tenants")
            .bind(FIRST_STORE_NUMBER)
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query(
        "INSERT INTO tenants (tenant_id, name, store_number, created_at) VALUES (?, ?, ?, ?)",
    )
    .bind(&tenant_id)
    .bind(name)
    .bind(store_number)
    .bind(millis(now))
    .execute(&mut *tx)
    .await?;
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
    conn: &mut SqliteConnection,
    tenant_id: &str,
    key_id: i64,
    key: &SealedSecret,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO profile_keys (tenant_id, key_id, digest, sealed, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(tenant_id)
        .bind(key_id)
        .bind(&key.digest)
        .bind(&key.sealed)
        .bind(millis(now))
        .execute(conn)
        .await?;
    Ok(())
}

pub(super) async fn list_tenants(reader: &SqlitePool) -> StoreResult<Vec<Tenant>> {
    let sql = format!("{TENANT_COLUMNS} ORDER BY name");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(reader)
        .await?;
    rows.iter().map(tenant_from_row).collect()
}

pub(super) async fn find_tenant(
    reader: &SqlitePool,
    id_or_name: &str,
) -> StoreResult<Option<Tenant>> {
    let sql = format!(
        "{TENANT_COLUMNS} WHERE tenant_id = ?1 OR name = ?1 ORDER BY tenant_id = ?1 DESC LIMIT 1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id_or_name)
        .fetch_optional(reader)
        .await?;
    row.as_ref().map(tenant_from_row).transpose()
}

pub(super) async fn current_profile_key(
    reader: &SqlitePool,
    tenant_id: &str,
) -> StoreResult<Option<ProfileKeyRecord>> {
    let row = sqlx::query(
        "SELECT tenant_id, key_id, digest, sealed, created_at, expires_at FROM profile_keys \
         WHERE tenant_id = ? ORDER BY key_id DESC LIMIT 1",
    )
    .bind(tenant_id)
    .fetch_optional(reader)
    .await?;
    row.as_ref().map(key_from_row).transpose()
}

pub(super) async fn rotate_profile_key(
    writer: &SqlitePool,
    tenant_id: &str,
    new_key: SealedSecret,
    retire_at: DateTime<Utc>,
) -> StoreResult<()> {
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let last: Option<i64> =
        sqlx::query_scalar("SELECT MAX(key_id) FROM profile_keys WHERE tenant_id = ?")
            .bind(tenant_id)
            .fetch_one(&mut *tx)
            .await?;
    let last = last.ok_or_else(|| StoreError::NotFound(format!("tenant {tenant_id}")))?;
    sqlx::query(
        "UPDATE profile_keys SET expires_at = ?2 WHERE tenant_id = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
    )
    .bind(tenant_id)
    .bind(millis(retire_at))
    .execute(&mut *tx)
    .await?;
    insert_key(&mut tx, tenant_id, last + 1, &new_key, Utc::now()).await?;
    bump_settings_version(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn update_tenant_setting(
    writer: &SqlitePool,
    tenant_id: &str,
    column: TenantSetting,
    value: String,
) -> StoreResult<()> {
    let sql = match column {
        TenantSetting::AllowedIps => "UPDATE tenants SET allowed_ips = ? WHERE tenant_id = ?",
        TenantSetting::RateLimit => {
            "UPDATE tenants SET rate_limit = CAST(? AS INTEGER) WHERE tenant_id = ?"
        }
    };
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let updated = sqlx::query(sql)
        .bind(value)
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("tenant {tenant_id}")));
    }
    bump_settings_version(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) enum TenantSetting {
    AllowedIps,
    RateLimit,
}

pub(super) async fn create_app(
    writer: &SqlitePool,
    tenant_id: &str,
    app_id: &AppId,
    name: &str,
    client_key: SealedSecret,
) -> StoreResult<App> {
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let tenant_exists: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM tenants WHERE tenant_id = ?")
            .bind(tenant_id)
            .fetch_optional(&mut *tx)
            .await?;
    if tenant_exists.is_none() {
        return Err(StoreError::NotFound(format!("tenant {tenant_id}")));
    }
    let taken: Option<i64> = sqlx::query_scalar("SELECT 1 FROM apps WHERE app_id = ?")
        .bind(app_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(StoreError::Conflict(format!("app {app_id}")));
    }
    // Stored in milliseconds: return exactly what a later read gives back.
    let now = from_millis(millis(Utc::now()))?;
    sqlx::query(
        "INSERT INTO apps (tenant_id, app_id, name, client_key_digest, client_key_sealed, created_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(tenant_id)
    .bind(app_id.as_str())
    .bind(name)
    .bind(&client_key.digest)
    .bind(&client_key.sealed)
    .bind(millis(now))
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

const APP_COLUMNS: &str = "SELECT tenant_id, app_id, name, client_key_digest, client_key_sealed, created_at, \
     options, jwt_secret_sealed, device_policy FROM apps";

pub(super) async fn list_apps(reader: &SqlitePool, tenant_id: &str) -> StoreResult<Vec<App>> {
    let sql = format!("{APP_COLUMNS} WHERE tenant_id = ? ORDER BY app_id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id)
        .fetch_all(reader)
        .await?;
    rows.iter().map(app_from_row).collect()
}

pub(super) async fn settings_version(reader: &SqlitePool) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT version FROM settings_version WHERE singleton = 1")
            .fetch_one(reader)
            .await?,
    )
}

/// One consistent read of everything authentication needs.
pub(super) async fn access_snapshot(reader: &SqlitePool) -> StoreResult<AccessSnapshot> {
    let mut tx = reader.begin().await?;
    let version: i64 =
        sqlx::query_scalar("SELECT version FROM settings_version WHERE singleton = 1")
            .fetch_one(&mut *tx)
            .await?;
    let tenants = sqlx::query(sqlx::AssertSqlSafe(TENANT_COLUMNS))
        .fetch_all(&mut *tx)
        .await?;
    let keys = sqlx::query(
        "SELECT tenant_id, key_id, digest, sealed, created_at, expires_at FROM profile_keys \
         WHERE expires_at IS NULL OR expires_at > ?",
    )
    .bind(millis(Utc::now()))
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
    writer: &SqlitePool,
    tenant_id: &str,
    app_id: &AppId,
    update: AppUpdate,
) -> StoreResult<App> {
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let sql = format!("{APP_COLUMNS} WHERE tenant_id = ? AND app_id = ?");
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
        "UPDATE apps SET name = ?3, options = ?4, jwt_secret_sealed = ?5, client_key_digest = ?6, \
         client_key_sealed = ?7, device_policy = ?8 WHERE tenant_id = ?1 AND app_id = ?2",
    )
    .bind(tenant_id)
    .bind(app_id.as_str())
    .bind(&app.name)
    .bind(serde_json::to_string(&app.options)?)
    .bind(&app.jwt_secret)
    .bind(&app.client_key.digest)
    .bind(&app.client_key.sealed)
    .bind(serde_json::to_string(&app.device_policy)?)
    .execute(&mut *tx)
    .await?;
    bump_settings_version(&mut tx).await?;
    tx.commit().await?;
    Ok(app)
}
