//! Decoding PostgreSQL rows into domain values, the profile queries shared by the pool and the
//! write transaction, and the timestamp precision and lock keys the backend relies on.

use crate::error::{StoreError, StoreResult};
use crate::model::{AppProfileSelector, CustomerLookup};
use chrono::{DateTime, Utc};
use profilestore_core::app_profile::{AppProfile, AppProfileKey};
use profilestore_core::customer::{CustomerProfile, email_key, msisdn_key};
use profilestore_core::ids::{AppId, CustomerId, DeviceId, UserId};
use profilestore_core::schema::AttributeDefinition;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{Executor, Postgres, Row};
use std::collections::{BTreeMap, HashMap};

/// An instant as a TIMESTAMPTZ column keeps it: whole microseconds (sqlx truncates the rest
/// when it encodes). Values returned to callers go through this, so that what a create returns
/// equals what a later read gives back.
pub(crate) fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

/// An instant truncated to whole milliseconds: the event document prints `occurred_at` with
/// millisecond precision, and the outbox column must hold the same instant.
pub(crate) fn to_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

/// The key of a tenant's advisory lock (`pg_locks.objid`/`classid` show its halves): FNV-1a
/// (64-bit) of the tenant id. Fixed here rather
/// than left to `std`'s hasher (whose output may change between Rust releases), because every
/// node, whatever its build, must compute the same key for the same tenant.
pub fn tenant_lock_key(tenant_id: &str) -> i64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = tenant_id.bytes().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    });
    // Reinterpreted, not converted: PostgreSQL advisory lock keys are signed 64-bit.
    hash as i64
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {error}"))
}

/// Text that cannot be in the database: PostgreSQL refuses NUL in TEXT, and core refuses
/// control characters in every stored identifier and value. A lookup by such a value finds
/// nothing, as it does on SQLite, instead of failing with an encoding error.
pub(crate) fn unstorable(text: &str) -> bool {
    text.contains('\0')
}

pub(crate) fn customer_from_row(row: &PgRow) -> StoreResult<CustomerProfile> {
    let Json(attributes): Json<BTreeMap<String, String>> = row.try_get("attributes")?;
    Ok(CustomerProfile {
        customer_id: CustomerId::parse(row.try_get::<String, _>("customer_id")?)
            .map_err(|e| corrupt("customer_id", e))?,
        attributes,
        version: row.try_get::<i64, _>("version")? as u64,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(crate) fn app_profile_from_row(row: &PgRow) -> StoreResult<AppProfile> {
    let Json(attributes): Json<BTreeMap<String, String>> = row.try_get("attributes")?;
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
        attributes,
        version: row.try_get::<i64, _>("version")? as u64,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        last_contact: row.try_get("last_contact")?,
    })
}

pub(crate) async fn fetch_customer<'e>(
    executor: impl Executor<'e, Database = Postgres>,
    tenant: &str,
    id: &CustomerId,
) -> StoreResult<Option<CustomerProfile>> {
    let row = sqlx::query(
        "SELECT customer_id, attributes, version, created_at, updated_at FROM customers \
         WHERE tenant_id = $1 AND customer_id = $2",
    )
    .bind(tenant)
    .bind(id.as_str())
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(customer_from_row).transpose()
}

/// Several customers in one round trip, in the order asked (a repeated id repeats its
/// customer, as one query per id would), missing ones skipped.
pub(crate) async fn fetch_customers<'e>(
    executor: impl Executor<'e, Database = Postgres>,
    tenant: &str,
    ids: &[CustomerId],
) -> StoreResult<Vec<CustomerProfile>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: Vec<&str> = ids.iter().map(CustomerId::as_str).collect();
    let rows = sqlx::query(
        "SELECT customer_id, attributes, version, created_at, updated_at FROM customers \
         WHERE tenant_id = $1 AND customer_id = ANY($2)",
    )
    .bind(tenant)
    .bind(&wanted)
    .fetch_all(executor)
    .await?;
    let mut found: HashMap<String, CustomerProfile> = HashMap::with_capacity(rows.len());
    for row in &rows {
        let profile = customer_from_row(row)?;
        found.insert(profile.customer_id.to_string(), profile);
    }
    Ok(wanted
        .iter()
        .filter_map(|id| found.get(*id).cloned())
        .collect())
}

/// Customers by email or msisdn, through their partial indexes.
pub(crate) async fn fetch_customers_by<'e>(
    executor: impl Executor<'e, Database = Postgres>,
    tenant: &str,
    lookup: &CustomerLookup,
) -> StoreResult<Vec<CustomerProfile>> {
    // The columns hold lookup keys (email lowercased, msisdn as E.164): match keys to keys.
    let (sql, value) = match lookup {
        CustomerLookup::Email(email) => (
            "SELECT customer_id, attributes, version, created_at, updated_at FROM customers \
             WHERE tenant_id = $1 AND email = $2 ORDER BY customer_id",
            email_key(email),
        ),
        CustomerLookup::Msisdn(msisdn) => (
            "SELECT customer_id, attributes, version, created_at, updated_at FROM customers \
             WHERE tenant_id = $1 AND msisdn = $2 ORDER BY customer_id",
            msisdn_key(msisdn).unwrap_or_else(|| msisdn.clone()),
        ),
    };
    if unstorable(&value) {
        return Ok(Vec::new());
    }
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
            "SELECT app_id, user_id, device_id, customer_id, attributes, version, created_at, updated_at, last_contact ",
            "FROM app_profiles WHERE tenant_id = $1 ",
            $where
        )
    };
}

pub(crate) async fn fetch_app_profiles<'e>(
    executor: impl Executor<'e, Database = Postgres>,
    tenant: &str,
    app_id: &AppId,
    selector: &AppProfileSelector,
) -> StoreResult<Vec<AppProfile>> {
    let query = match selector {
        AppProfileSelector::Device { user_id, device_id } => sqlx::query(select_app_profiles!(
            "AND app_id = $2 AND user_id = $3 AND device_id = $4"
        ))
        .bind(tenant)
        .bind(app_id.as_str())
        .bind(user_id.as_str())
        .bind(device_id.as_str()),
        AppProfileSelector::User(user_id) => sqlx::query(select_app_profiles!(
            // The primary key's order (user_id is fixed here): the planner then serves the query from
            // the primary key instead of scanning the device-id index.
            "AND app_id = $2 AND user_id = $3 ORDER BY user_id, device_id"
        ))
        .bind(tenant)
        .bind(app_id.as_str())
        .bind(user_id.as_str()),
        AppProfileSelector::Customer(customer_id) => sqlx::query(select_app_profiles!(
            "AND app_id = $2 AND customer_id = $3 ORDER BY user_id, device_id"
        ))
        .bind(tenant)
        .bind(app_id.as_str())
        .bind(customer_id.as_str()),
        AppProfileSelector::DeviceOfCustomer {
            device_id,
            customer_id,
        } => sqlx::query(select_app_profiles!(
            "AND app_id = $2 AND customer_id = $3 AND device_id = $4 ORDER BY user_id"
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
    executor: impl Executor<'e, Database = Postgres>,
    tenant: &str,
    app_id: &AppId,
    device_id: &DeviceId,
) -> StoreResult<Vec<AppProfile>> {
    let rows = sqlx::query(select_app_profiles!(
        "AND app_id = $2 AND device_id = $3 ORDER BY user_id"
    ))
    .bind(tenant)
    .bind(app_id.as_str())
    .bind(device_id.as_str())
    .fetch_all(executor)
    .await?;
    rows.iter().map(app_profile_from_row).collect()
}

/// Installs whose last SDK contact is before `before` (never-contacted ones are not aged).
pub(crate) async fn fetch_stale_app_profiles<'e>(
    executor: impl Executor<'e, Database = Postgres>,
    tenant: &str,
    app_id: &AppId,
    before: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<AppProfile>> {
    let rows = sqlx::query(select_app_profiles!(
        "AND app_id = $2 AND last_contact IS NOT NULL AND last_contact < $3 \
         ORDER BY last_contact LIMIT $4"
    ))
    .bind(tenant)
    .bind(app_id.as_str())
    .bind(before)
    .bind(i64::from(limit))
    .fetch_all(executor)
    .await?;
    rows.iter().map(app_profile_from_row).collect()
}

pub(crate) async fn fetch_linked_app_profiles<'e>(
    executor: impl Executor<'e, Database = Postgres>,
    tenant: &str,
    customer_id: &CustomerId,
) -> StoreResult<Vec<AppProfile>> {
    let rows = sqlx::query(select_app_profiles!(
        "AND customer_id = $2 ORDER BY app_id, user_id, device_id"
    ))
    .bind(tenant)
    .bind(customer_id.as_str())
    .fetch_all(executor)
    .await?;
    rows.iter().map(app_profile_from_row).collect()
}

/// The app profiles linked to any of several customers in one round trip: customer by
/// customer in the order asked (a repeated id repeats its profiles), each customer's by
/// (app, user, device).
pub(crate) async fn fetch_linked_app_profiles_of<'e>(
    executor: impl Executor<'e, Database = Postgres>,
    tenant: &str,
    customer_ids: &[CustomerId],
) -> StoreResult<Vec<AppProfile>> {
    if customer_ids.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: Vec<&str> = customer_ids.iter().map(CustomerId::as_str).collect();
    let rows = sqlx::query(select_app_profiles!(
        "AND customer_id = ANY($2) ORDER BY app_id, user_id, device_id"
    ))
    .bind(tenant)
    .bind(&wanted)
    .fetch_all(executor)
    .await?;
    let mut by_customer: HashMap<String, Vec<AppProfile>> = HashMap::new();
    for row in &rows {
        let profile = app_profile_from_row(row)?;
        let customer = profile
            .customer_id
            .as_ref()
            .map(CustomerId::to_string)
            .unwrap_or_default();
        by_customer.entry(customer).or_default().push(profile);
    }
    Ok(wanted
        .iter()
        .flat_map(|id| by_customer.get(*id).into_iter().flatten().cloned())
        .collect())
}

pub(crate) async fn fetch_app_profiles_by_push_id<'e>(
    executor: impl Executor<'e, Database = Postgres>,
    tenant: &str,
    push_id: &str,
) -> StoreResult<Vec<AppProfile>> {
    if unstorable(push_id) {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(select_app_profiles!(
        "AND push_id = $2 ORDER BY app_id, user_id, device_id"
    ))
    .bind(tenant)
    .bind(push_id)
    .fetch_all(executor)
    .await?;
    rows.iter().map(app_profile_from_row).collect()
}

pub(crate) async fn fetch_customers_page<'e>(
    executor: impl Executor<'e, Database = Postgres>,
    tenant: &str,
    after: Option<&CustomerId>,
    limit: u32,
) -> StoreResult<Vec<CustomerProfile>> {
    let rows = sqlx::query(
        "SELECT customer_id, attributes, version, created_at, updated_at FROM customers \
         WHERE tenant_id = $1 AND customer_id > $2 ORDER BY customer_id LIMIT $3",
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
    executor: impl Executor<'e, Database = Postgres>,
    tenant: &str,
) -> StoreResult<Vec<AttributeDefinition>> {
    let rows = sqlx::query(
        "SELECT name, id, definition FROM custom_attributes WHERE tenant_id = $1 ORDER BY id",
    )
    .bind(tenant)
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|row| {
            let definition: Option<Json<AttributeDefinition>> = row.try_get("definition")?;
            Ok(match definition {
                Some(Json(definition)) => definition,
                None => AttributeDefinition::implicit_string(
                    row.try_get("id")?,
                    &row.try_get::<String, _>("name")?,
                ),
            })
        })
        .collect()
}

pub(crate) async fn fetch_customers_by_value<'e>(
    executor: impl Executor<'e, Database = Postgres>,
    tenant: &str,
    attribute_id: i64,
    sort_key: &[u8],
) -> StoreResult<Vec<CustomerProfile>> {
    let rows = sqlx::query(
        "SELECT c.customer_id, c.attributes, c.version, c.created_at, c.updated_at \
         FROM customer_values v JOIN customers c ON c.tenant_id = v.tenant_id AND c.customer_id = v.customer_id \
         WHERE v.tenant_id = $1 AND v.attribute_id = $2 AND v.sort_key = $3 AND v.is_unique \
         ORDER BY c.customer_id",
    )
    .bind(tenant)
    .bind(attribute_id)
    .bind(sort_key)
    .fetch_all(executor)
    .await?;
    rows.iter().map(customer_from_row).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_lock_keys_are_fnv1a_and_stable() {
        // FNV-1a 64 test vectors: "" is the offset basis, "a" is 0xaf63dc4c8601ec8c.
        assert_eq!(tenant_lock_key("") as u64, 0xcbf2_9ce4_8422_2325);
        assert_eq!(tenant_lock_key("a") as u64, 0xaf63_dc4c_8601_ec8c);
        assert_ne!(
            tenant_lock_key("tn_0000000000000001"),
            tenant_lock_key("tn_0000000000000002")
        );
    }

    #[test]
    fn timestamps_are_truncated_not_rounded() {
        let at = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        assert_eq!(to_micros(at).timestamp_subsec_nanos(), 123_456_000);
        assert_eq!(to_millis(at).timestamp_subsec_nanos(), 123_000_000);
    }
}
