//! Decoding SQLite rows into domain values, and the profile queries shared by the read pool
//! and the write transaction.

use crate::error::{StoreError, StoreResult};
use crate::model::{AppProfileSelector, CustomerLookup};
use chrono::{DateTime, Utc};
use profilestore_core::app_profile::{AppProfile, AppProfileKey};
use profilestore_core::customer::{CustomerProfile, email_key, msisdn_key};
use profilestore_core::ids::{AppId, CustomerId, DeviceId, UserId};
use profilestore_core::schema::AttributeDefinition;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{Executor, QueryBuilder, Row, Sqlite};
use std::collections::{BTreeMap, HashMap};

pub(crate) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms}")))
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {error}"))
}

pub(crate) fn customer_from_row(row: &SqliteRow) -> StoreResult<CustomerProfile> {
    let attributes: String = row.try_get("attributes")?;
    Ok(CustomerProfile {
        customer_id: CustomerId::parse(row.try_get::<String, _>("customer_id")?)
            .map_err(|e| corrupt("customer_id", e))?,
        attributes: serde_json::from_str::<BTreeMap<String, String>>(&attributes)?,
        version: row.try_get::<i64, _>("version")? as u64,
        created_at: from_millis(row.try_get("created_at")?)?,
        updated_at: from_millis(row.try_get("updated_at")?)?,
    })
}

pub(crate) fn app_profile_from_row(row: &SqliteRow) -> StoreResult<AppProfile> {
    let attributes: String = row.try_get("attributes")?;
    let customer_id: Option<String> = row.try_get("customer_id")?;
    Ok(AppProfile {
        key: AppProfileKey {
            app_id: AppId::parse(row.try_get::<String, _>("app_id")?)
                .map_err(|e| corrupt("app_id", e))?,
            user_id: UserId::parse(row.try_get::<String, _>("user_id")?)
                .map_err(|e| corrupt("user_id", e))?,
            device_id: DeviceId::parse(row.try_get::<String, _>("device_id")?)
                .map_err(|e| corrupt("device_id", e))?,
        },
        customer_id: customer_id
            .map(CustomerId::parse)
            .transpose()
            .map_err(|e| corrupt("customer_id", e))?,
        attributes: serde_json::from_str::<BTreeMap<String, String>>(&attributes)?,
        version: row.try_get::<i64, _>("version")? as u64,
        created_at: from_millis(row.try_get("created_at")?)?,
        updated_at: from_millis(row.try_get("updated_at")?)?,
    })
}

pub(crate) async fn fetch_customer<'e>(
    executor: impl Executor<'e, Database = Sqlite>,
    tenant: &str,
    id: &CustomerId,
) -> StoreResult<Option<CustomerProfile>> {
    let row = sqlx::query(
        "SELECT customer_id, attributes, version, created_at, updated_at FROM customers \
         WHERE tenant_id = ? AND customer_id = ?",
    )
    .bind(tenant)
    .bind(id.as_str())
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(customer_from_row).transpose()
}

/// Several customers in one statement per 500 ids, in the order asked (a repeated id repeats
/// its customer, as one query per id would), missing ones skipped — as PostgreSQL's.
pub(crate) async fn fetch_customers(
    conn: &mut SqliteConnection,
    tenant: &str,
    ids: &[CustomerId],
) -> StoreResult<Vec<CustomerProfile>> {
    Ok(select_customers(conn, tenant, ids, false).await?.0)
}

/// As [`fetch_customers`], with the column ids of the tenant's custom attributes read by the
/// same statement (empty when no customer is found): a compatible read needs both, and every
/// statement is a round trip to sqlx's worker thread.
pub(crate) async fn fetch_customers_with_attribute_ids(
    conn: &mut SqliteConnection,
    tenant: &str,
    ids: &[CustomerId],
) -> StoreResult<(Vec<CustomerProfile>, HashMap<String, i64>)> {
    select_customers(conn, tenant, ids, true).await
}

async fn select_customers(
    conn: &mut SqliteConnection,
    tenant: &str,
    ids: &[CustomerId],
    with_attribute_ids: bool,
) -> StoreResult<(Vec<CustomerProfile>, HashMap<String, i64>)> {
    let mut found: HashMap<String, CustomerProfile> = HashMap::with_capacity(ids.len());
    let mut attribute_ids = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut select = QueryBuilder::<Sqlite>::new(
            "SELECT customer_id, attributes, version, created_at, updated_at",
        );
        if with_attribute_ids {
            // Uncorrelated: SQLite evaluates it once per statement, not once per row.
            select
                .push(", (SELECT json_group_object(name, id) FROM custom_attributes WHERE tenant_id = ")
                .push_bind(tenant)
                .push(") AS attribute_ids");
        }
        select
            .push(" FROM customers WHERE tenant_id = ")
            .push_bind(tenant)
            .push(" AND customer_id IN (");
        let mut listed = select.separated(", ");
        for id in chunk {
            listed.push_bind(id.as_str());
        }
        select.push(")");
        for row in select.build().fetch_all(&mut *conn).await? {
            if with_attribute_ids && attribute_ids.is_empty() {
                attribute_ids = serde_json::from_str(&row.try_get::<String, _>("attribute_ids")?)?;
            }
            let profile = customer_from_row(&row)?;
            found.insert(profile.customer_id.to_string(), profile);
        }
    }
    let customers = ids
        .iter()
        .filter_map(|id| found.get(id.as_str()).cloned())
        .collect();
    Ok((customers, attribute_ids))
}

/// Customers by email or msisdn, through their partial indexes.
pub(crate) async fn fetch_customers_by<'e>(
    executor: impl Executor<'e, Database = Sqlite>,
    tenant: &str,
    lookup: &CustomerLookup,
) -> StoreResult<Vec<CustomerProfile>> {
    // The columns hold lookup keys (email lowercased, msisdn as E.164): match keys to keys.
    let (sql, value) = match lookup {
        CustomerLookup::Email(email) => (
            "SELECT customer_id, attributes, version, created_at, updated_at FROM customers \
             WHERE tenant_id = ? AND email = ? ORDER BY customer_id",
            email_key(email),
        ),
        CustomerLookup::Msisdn(msisdn) => (
            "SELECT customer_id, attributes, version, created_at, updated_at FROM customers \
             WHERE tenant_id = ? AND msisdn = ? ORDER BY customer_id",
            msisdn_key(msisdn).unwrap_or_else(|| msisdn.clone()),
        ),
    };
    let rows = sqlx::query(sql)
        .bind(tenant)
        .bind(value)
        .fetch_all(executor)
        .await?;
    rows.iter().map(customer_from_row).collect()
}

/// The app-profile columns every query selects, in the order `app_profile_from_row` reads.
macro_rules! select_app_profiles {
    ($where:literal) => {
        concat!(
            "SELECT app_id, user_id, device_id, customer_id, attributes, version, created_at, updated_at ",
            "FROM app_profiles WHERE tenant_id = ? ",
            $where
        )
    };
}

pub(crate) async fn fetch_app_profiles<'e>(
    executor: impl Executor<'e, Database = Sqlite>,
    tenant: &str,
    app_id: &AppId,
    selector: &AppProfileSelector,
) -> StoreResult<Vec<AppProfile>> {
    let query = match selector {
        AppProfileSelector::Device { user_id, device_id } => sqlx::query(select_app_profiles!(
            "AND app_id = ? AND user_id = ? AND device_id = ?"
        ))
        .bind(tenant)
        .bind(app_id.as_str())
        .bind(user_id.as_str())
        .bind(device_id.as_str()),
        AppProfileSelector::User(user_id) => sqlx::query(select_app_profiles!(
            "AND app_id = ? AND user_id = ? ORDER BY user_id, device_id"
        ))
        .bind(tenant)
        .bind(app_id.as_str())
        .bind(user_id.as_str()),
        AppProfileSelector::Customer(customer_id) => sqlx::query(select_app_profiles!(
            "AND app_id = ? AND customer_id = ? ORDER BY user_id, device_id"
        ))
        .bind(tenant)
        .bind(app_id.as_str())
        .bind(customer_id.as_str()),
        AppProfileSelector::DeviceOfCustomer {
            device_id,
            customer_id,
        } => sqlx::query(select_app_profiles!(
            "AND app_id = ? AND customer_id = ? AND device_id = ? ORDER BY user_id"
        ))
        .bind(tenant)
        .bind(app_id.as_str())
        .bind(customer_id.as_str())
        .bind(device_id.as_str()),
    };
    let rows = query.fetch_all(executor).await?;
    rows.iter().map(app_profile_from_row).collect()
}

/// Every install of one device id in one app.
pub(crate) async fn fetch_device_profiles<'e>(
    executor: impl Executor<'e, Database = Sqlite>,
    tenant: &str,
    app_id: &AppId,
    device_id: &DeviceId,
) -> StoreResult<Vec<AppProfile>> {
    // INDEXED BY: without statistics SQLite 3.51 walks the app's whole primary key to get
    // ORDER BY user_id for free (2 ms per register at 20k installs, measured); the device index
    // finds the device's few installs, sorted after.
    let rows = sqlx::query(
        "SELECT app_id, user_id, device_id, customer_id, attributes, version, created_at, updated_at \
         FROM app_profiles INDEXED BY app_profiles_device \
         WHERE tenant_id = ? AND app_id = ? AND device_id = ? ORDER BY user_id",
    )
    .bind(tenant)
    .bind(app_id.as_str())
    .bind(device_id.as_str())
    .fetch_all(executor)
    .await?;
    rows.iter().map(app_profile_from_row).collect()
}

/// Installs whose last SDK contact is before `before` (never-contacted ones are not aged).
pub(crate) async fn fetch_stale_app_profiles<'e>(
    executor: impl Executor<'e, Database = Sqlite>,
    tenant: &str,
    app_id: &AppId,
    before: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<AppProfile>> {
    let rows = sqlx::query(select_app_profiles!(
        "AND app_id = ? AND last_contact IS NOT NULL AND last_contact < ? \
         ORDER BY last_contact LIMIT ?"
    ))
    .bind(tenant)
    .bind(app_id.as_str())
    .bind(millis(before))
    .bind(i64::from(limit))
    .fetch_all(executor)
    .await?;
    rows.iter().map(app_profile_from_row).collect()
}

pub(crate) async fn fetch_linked_app_profiles<'e>(
    executor: impl Executor<'e, Database = Sqlite>,
    tenant: &str,
    customer_id: &CustomerId,
) -> StoreResult<Vec<AppProfile>> {
    let rows = sqlx::query(select_app_profiles!(
        "AND customer_id = ? ORDER BY app_id, user_id, device_id"
    ))
    .bind(tenant)
    .bind(customer_id.as_str())
    .fetch_all(executor)
    .await?;
    rows.iter().map(app_profile_from_row).collect()
}

pub(crate) async fn fetch_app_profiles_by_push_id<'e>(
    executor: impl Executor<'e, Database = Sqlite>,
    tenant: &str,
    push_id: &str,
) -> StoreResult<Vec<AppProfile>> {
    let rows = sqlx::query(select_app_profiles!(
        "AND push_id = ? ORDER BY app_id, user_id, device_id"
    ))
    .bind(tenant)
    .bind(push_id)
    .fetch_all(executor)
    .await?;
    rows.iter().map(app_profile_from_row).collect()
}

pub(crate) async fn fetch_customers_page<'e>(
    executor: impl Executor<'e, Database = Sqlite>,
    tenant: &str,
    after: Option<&CustomerId>,
    limit: u32,
) -> StoreResult<Vec<CustomerProfile>> {
    let rows = sqlx::query(
        "SELECT customer_id, attributes, version, created_at, updated_at FROM customers \
         WHERE tenant_id = ? AND customer_id > ? ORDER BY customer_id LIMIT ?",
    )
    .bind(tenant)
    .bind(after.map(CustomerId::as_str).unwrap_or_default())
    .bind(i64::from(limit))
    .fetch_all(executor)
    .await?;
    rows.iter().map(customer_from_row).collect()
}

/// Every attribute definition of a tenant; rows without a definition are implicit strings.
pub(crate) async fn fetch_definitions<'e>(
    executor: impl Executor<'e, Database = Sqlite>,
    tenant: &str,
) -> StoreResult<Vec<AttributeDefinition>> {
    let rows = sqlx::query(
        "SELECT name, id, definition FROM custom_attributes WHERE tenant_id = ? ORDER BY id",
    )
    .bind(tenant)
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|row| {
            let definition: Option<String> = row.try_get("definition")?;
            Ok(match definition {
                Some(json) => serde_json::from_str(&json)?,
                None => AttributeDefinition::implicit_string(
                    row.try_get("id")?,
                    &row.try_get::<String, _>("name")?,
                ),
            })
        })
        .collect()
}

pub(crate) async fn fetch_customers_by_value<'e>(
    executor: impl Executor<'e, Database = Sqlite>,
    tenant: &str,
    attribute_id: i64,
    sort_key: &[u8],
) -> StoreResult<Vec<CustomerProfile>> {
    let rows = sqlx::query(
        "SELECT c.customer_id, c.attributes, c.version, c.created_at, c.updated_at \
         FROM customer_values v JOIN customers c ON c.tenant_id = v.tenant_id AND c.customer_id = v.customer_id \
         WHERE v.tenant_id = ? AND v.attribute_id = ? AND v.sort_key = ? ORDER BY c.customer_id",
    )
    .bind(tenant)
    .bind(attribute_id)
    .bind(sort_key)
    .fetch_all(executor)
    .await?;
    rows.iter().map(customer_from_row).collect()
}
