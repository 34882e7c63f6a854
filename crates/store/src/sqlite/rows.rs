//! Decoding SQLite rows into domain values, and the profile queries shared by the readers and
//! the write transaction. They run on a [`Conn`] (the C API on the calling thread).

use super::attribute_ids::AttributeIdCache;
use super::attribute_map;
use super::raw::{Conn, Row, Value};
use crate::error::{StoreError, StoreResult};
use crate::model::{AppProfileSelector, AttributeIds, CustomerLookup, StoredEvent};
use chrono::{DateTime, Utc};
use profilestore_core::app_profile::{AppProfile, AppProfileKey};
use profilestore_core::batch::BatchOutcome;
use profilestore_core::customer::{CustomerProfile, email_key, msisdn_key};
use profilestore_core::ids::{AppId, CustomerId, DeviceId, UserId};
use profilestore_core::schema::AttributeDefinition;
use std::borrow::Cow;

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

/// The customer columns every query selects first, in the order `customer_from_row` reads.
macro_rules! customer_columns {
    () => {
        "customer_id, attributes, version, created_at, updated_at"
    };
}

/// Reads the columns of [`customer_columns!`], starting at column 0.
pub(crate) fn customer_from_row(row: &Row<'_>) -> StoreResult<CustomerProfile> {
    Ok(CustomerProfile {
        customer_id: CustomerId::parse(row.text(0)?).map_err(|e| corrupt("customer_id", e))?,
        attributes: attribute_map::decode(row.text(1)?)?,
        version: row.int(2) as u64,
        created_at: from_millis(row.int(3))?,
        updated_at: from_millis(row.int(4))?,
    })
}

/// The app-profile columns every query selects, in the order `app_profile_from_row` reads.
macro_rules! select_app_profiles {
    ($where:literal) => {
        concat!(
            "SELECT app_id, user_id, device_id, customer_id, attributes, version, created_at, updated_at, last_contact ",
            "FROM app_profiles ",
            $where
        )
    };
}

pub(crate) fn app_profile_from_row(row: &Row<'_>) -> StoreResult<AppProfile> {
    Ok(AppProfile {
        key: AppProfileKey {
            app_id: AppId::parse(row.text(0)?).map_err(|e| corrupt("app_id", e))?,
            user_id: UserId::parse(row.text(1)?).map_err(|e| corrupt("user_id", e))?,
            device_id: DeviceId::parse(row.text(2)?).map_err(|e| corrupt("device_id", e))?,
        },
        customer_id: row
            .text_opt(3)?
            .map(CustomerId::parse)
            .transpose()
            .map_err(|e| corrupt("customer_id", e))?,
        attributes: attribute_map::decode(row.text(4)?)?,
        version: row.int(5) as u64,
        created_at: from_millis(row.int(6))?,
        updated_at: from_millis(row.int(7))?,
        last_contact: row.int_opt(8).map(from_millis).transpose()?,
    })
}

pub(crate) fn fetch_customer(
    conn: &mut Conn,
    tenant: &str,
    id: &CustomerId,
) -> StoreResult<Option<CustomerProfile>> {
    conn.query_first(
        concat!(
            "SELECT ",
            customer_columns!(),
            " FROM customers WHERE tenant_id = ? AND customer_id = ?"
        ),
        &[tenant.into(), id.as_str().into()],
        customer_from_row,
    )
}

/// Several customers in one statement, in the order asked (a repeated id repeats its
/// customer, as one query per id would), missing ones skipped — as PostgreSQL's.
pub(crate) fn fetch_customers(
    conn: &mut Conn,
    tenant: &str,
    ids: &[CustomerId],
) -> StoreResult<Vec<CustomerProfile>> {
    Ok(select_customers(conn, tenant, ids, None)?.0)
}

/// As [`fetch_customers`], with the column ids of the tenant's custom attributes as of the
/// same snapshot (empty when no customer is found): a compatible read needs both.
pub(crate) fn fetch_customers_with_attribute_ids(
    conn: &mut Conn,
    tenant: &str,
    ids: &[CustomerId],
    attribute_ids: &AttributeIdCache,
) -> StoreResult<(Vec<CustomerProfile>, AttributeIds)> {
    select_customers(conn, tenant, ids, Some(attribute_ids))
}

/// The customer query of [`select_customers`]: with or without the column of the tenant's
/// `attribute_ids_version`, from one of the two sources below.
macro_rules! select_customers_sql {
    (with_attribute_ids, $($from:tt)+) => {
        concat!(
            "SELECT ",
            customer_columns!(),
            // Uncorrelated: SQLite evaluates it once per statement, not once per row.
            ", (SELECT attribute_ids_version FROM tenants WHERE tenant_id = ?1)",
            $($from)+
        )
    };
    (alone, $($from:tt)+) => {
        concat!("SELECT ", customer_columns!(), $($from)+)
    };
}

/// One id: a primary-key lookup (most reads and writes).
macro_rules! one_customer {
    () => {
        " FROM customers WHERE tenant_id = ?1 AND customer_id = ?2"
    };
}

/// Several ids as one JSON array (so the statement's text and its cached plan do not depend
/// on how many there are), looked up one by one in the primary key, in the list's order:
/// CROSS JOIN keeps json_each outside. `customer_id IN (SELECT value FROM json_each(?2))`
/// first copied the list into a sorted temporary index, and its rows then came in key order,
/// to be put back in the list's with a copy of each: ~10k instructions a record of a
/// 100-record batch against ~7k for a lookup of one (callgrind).
macro_rules! listed_customers {
    () => {
        " FROM json_each(?2) AS listed CROSS JOIN customers \
         WHERE tenant_id = ?1 AND customer_id = listed.value"
    };
}

/// The customers with these ids, in the order of `ids` (one per occurrence of an id; none for
/// an id not found), and with `attribute_ids` the column ids of the tenant's own attributes.
fn select_customers(
    conn: &mut Conn,
    tenant: &str,
    ids: &[CustomerId],
    attribute_ids: Option<&AttributeIdCache>,
) -> StoreResult<(Vec<CustomerProfile>, AttributeIds)> {
    let (sql, listed): (_, Cow<'_, str>) = match (attribute_ids.is_some(), ids) {
        (true, [one]) => (
            select_customers_sql!(with_attribute_ids, one_customer!()),
            one.as_str().into(),
        ),
        (false, [one]) => (
            select_customers_sql!(alone, one_customer!()),
            one.as_str().into(),
        ),
        (true, _) => (
            select_customers_sql!(with_attribute_ids, listed_customers!()),
            json_array(ids)?.into(),
        ),
        (false, _) => (
            select_customers_sql!(alone, listed_customers!()),
            json_array(ids)?.into(),
        ),
    };
    let mut ids_version = None;
    let customers = conn.query(sql, &[tenant.into(), Value::Text(&listed)], |row| {
        if attribute_ids.is_some() {
            ids_version = row.int_opt(5);
        }
        customer_from_row(row)
    })?;
    let attribute_ids = match (attribute_ids, ids_version) {
        (Some(cache), Some(version)) => cache.get(conn, tenant, version)?,
        _ => AttributeIds::default(),
    };
    Ok((customers, attribute_ids))
}

fn json_array(ids: &[CustomerId]) -> StoreResult<String> {
    Ok(serde_json::to_string(
        &ids.iter().map(CustomerId::as_str).collect::<Vec<_>>(),
    )?)
}

/// Customers by email or msisdn, through their partial indexes.
pub(crate) fn fetch_customers_by(
    conn: &mut Conn,
    tenant: &str,
    lookup: &CustomerLookup,
) -> StoreResult<Vec<CustomerProfile>> {
    // The columns hold lookup keys (email lowercased, msisdn as E.164): match keys to keys.
    let (sql, value) = match lookup {
        CustomerLookup::Email(email) => (
            concat!(
                "SELECT ",
                customer_columns!(),
                " FROM customers WHERE tenant_id = ? AND email = ? ORDER BY customer_id"
            ),
            email_key(email),
        ),
        CustomerLookup::Msisdn(msisdn) => (
            concat!(
                "SELECT ",
                customer_columns!(),
                " FROM customers WHERE tenant_id = ? AND msisdn = ? ORDER BY customer_id"
            ),
            msisdn_key(msisdn).unwrap_or_else(|| msisdn.clone()),
        ),
    };
    conn.query(
        sql,
        &[tenant.into(), value.as_str().into()],
        customer_from_row,
    )
}

/// One install by its key; the primary key (schema 12: user, app, tenant, device) finds it.
const INSTALL: &str =
    select_app_profiles!("WHERE tenant_id = ? AND app_id = ? AND user_id = ? AND device_id = ?");
/// A user's installs in one app, by the primary key's prefix, in device order.
const USER_INSTALLS: &str = select_app_profiles!(
    "WHERE tenant_id = ? AND app_id = ? AND user_id = ? ORDER BY user_id, device_id"
);
/// A write's outcome, through the index by (transid, tenant).
const WRITE_OUTCOME: &str =
    "SELECT outcome FROM write_outcomes WHERE tenant_id = ? AND transid = ? AND expires_at > ?";

pub(crate) fn fetch_app_profiles(
    conn: &mut Conn,
    tenant: &str,
    app_id: &AppId,
    selector: &AppProfileSelector,
) -> StoreResult<Vec<AppProfile>> {
    let (tenant, app) = (Value::from(tenant), Value::from(app_id.as_str()));
    match selector {
        AppProfileSelector::Device { user_id, device_id } => conn.query(
            INSTALL,
            &[
                tenant,
                app,
                user_id.as_str().into(),
                device_id.as_str().into(),
            ],
            app_profile_from_row,
        ),
        AppProfileSelector::User(user_id) => conn.query(
            USER_INSTALLS,
            &[tenant, app, user_id.as_str().into()],
            app_profile_from_row,
        ),
        AppProfileSelector::Customer(customer_id) => conn.query(
            select_app_profiles!(
                "WHERE tenant_id = ? AND app_id = ? AND customer_id = ? ORDER BY user_id, device_id"
            ),
            &[tenant, app, customer_id.as_str().into()],
            app_profile_from_row,
        ),
        AppProfileSelector::DeviceOfCustomer {
            device_id,
            customer_id,
        } => conn.query(
            select_app_profiles!(
                "WHERE tenant_id = ? AND app_id = ? AND customer_id = ? AND device_id = ? \
                 ORDER BY user_id"
            ),
            &[
                tenant,
                app,
                customer_id.as_str().into(),
                device_id.as_str().into(),
            ],
            app_profile_from_row,
        ),
    }
}

/// Every install of one device id in one app.
pub(crate) fn fetch_device_profiles(
    conn: &mut Conn,
    tenant: &str,
    app_id: &AppId,
    device_id: &DeviceId,
) -> StoreResult<Vec<AppProfile>> {
    // INDEXED BY: the device index finds the device's few installs, sorted after. (Without
    // statistics SQLite 3.51 walked the app's installs in key order to get ORDER BY user_id for
    // free, 2 ms per register at 20k installs, while the key began with the tenant and app.)
    conn.query(
        select_app_profiles!(
            "INDEXED BY app_profiles_device \
             WHERE tenant_id = ? AND app_id = ? AND device_id = ? ORDER BY user_id"
        ),
        &[
            tenant.into(),
            app_id.as_str().into(),
            device_id.as_str().into(),
        ],
        app_profile_from_row,
    )
}

/// Installs whose last SDK contact is before `before` (never-contacted ones are not aged).
pub(crate) fn fetch_stale_app_profiles(
    conn: &mut Conn,
    tenant: &str,
    app_id: &AppId,
    before: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<AppProfile>> {
    conn.query(
        select_app_profiles!(
            "WHERE tenant_id = ? AND app_id = ? AND last_contact IS NOT NULL AND last_contact < ? \
             ORDER BY last_contact LIMIT ?"
        ),
        &[
            tenant.into(),
            app_id.as_str().into(),
            millis(before).into(),
            i64::from(limit).into(),
        ],
        app_profile_from_row,
    )
}

pub(crate) fn fetch_linked_app_profiles(
    conn: &mut Conn,
    tenant: &str,
    customer_id: &CustomerId,
) -> StoreResult<Vec<AppProfile>> {
    conn.query(
        select_app_profiles!(
            "WHERE tenant_id = ? AND customer_id = ? ORDER BY app_id, user_id, device_id"
        ),
        &[tenant.into(), customer_id.as_str().into()],
        app_profile_from_row,
    )
}

pub(crate) fn fetch_app_profiles_by_push_id(
    conn: &mut Conn,
    tenant: &str,
    push_id: &str,
) -> StoreResult<Vec<AppProfile>> {
    conn.query(
        select_app_profiles!(
            "WHERE tenant_id = ? AND push_id = ? ORDER BY app_id, user_id, device_id"
        ),
        &[tenant.into(), push_id.into()],
        app_profile_from_row,
    )
}

pub(crate) fn fetch_customers_page(
    conn: &mut Conn,
    tenant: &str,
    after: Option<&CustomerId>,
    limit: u32,
) -> StoreResult<Vec<CustomerProfile>> {
    conn.query(
        concat!(
            "SELECT ",
            customer_columns!(),
            " FROM customers WHERE tenant_id = ? AND customer_id > ? ORDER BY customer_id LIMIT ?"
        ),
        &[
            tenant.into(),
            after.map(CustomerId::as_str).unwrap_or_default().into(),
            i64::from(limit).into(),
        ],
        customer_from_row,
    )
}

/// Every attribute definition of a tenant; rows without a definition are implicit strings.
pub(crate) fn fetch_definitions(
    conn: &mut Conn,
    tenant: &str,
) -> StoreResult<Vec<AttributeDefinition>> {
    conn.query(
        "SELECT name, id, definition FROM custom_attributes WHERE tenant_id = ? ORDER BY id",
        &[tenant.into()],
        |row| {
            Ok(match row.text_opt(2)? {
                Some(json) => serde_json::from_str(json)?,
                None => AttributeDefinition::implicit_string(row.int(1), row.text(0)?),
            })
        },
    )
}

/// `is_unique = 1` lets SQLite use the partial unique index, the only index by value.
const CUSTOMERS_BY_UNIQUE_VALUE: &str = "SELECT c.customer_id, c.attributes, c.version, c.created_at, c.updated_at \
     FROM customer_values v JOIN customers c ON c.tenant_id = v.tenant_id AND c.customer_id = v.customer_id \
     WHERE v.tenant_id = ? AND v.attribute_id = ? AND v.sort_key = ? AND v.is_unique = 1 \
     ORDER BY c.customer_id";

pub(crate) fn fetch_customers_by_value(
    conn: &mut Conn,
    tenant: &str,
    attribute_id: i64,
    sort_key: &[u8],
) -> StoreResult<Vec<CustomerProfile>> {
    conn.query(
        CUSTOMERS_BY_UNIQUE_VALUE,
        &[tenant.into(), attribute_id.into(), sort_key.into()],
        customer_from_row,
    )
}

/// A tenant's events after `after`, in seq order: a page of the log for a stream or a relay.
pub(crate) fn fetch_events_after(
    conn: &mut Conn,
    tenant: &str,
    after: i64,
    limit: u32,
) -> StoreResult<Vec<StoredEvent>> {
    conn.query(
        "SELECT seq, event_id, event_type, occurred_at, payload FROM outbox \
         WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        &[tenant.into(), after.into(), i64::from(limit).into()],
        |row| {
            Ok(StoredEvent {
                seq: row.int(0),
                event_id: row.text(1)?.to_owned(),
                event_type: row.text(2)?.to_owned(),
                occurred_at: from_millis(row.int(3))?,
                payload: serde_json::from_str(row.text(4)?)?,
            })
        },
    )
}

/// The kept outcome of a write, unless it expired before `now`.
pub(crate) fn fetch_write_outcome(
    conn: &mut Conn,
    tenant: &str,
    transid: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<BatchOutcome>> {
    conn.query_first(
        WRITE_OUTCOME,
        &[tenant.into(), transid.into(), millis(now).into()],
        |row| Ok(serde_json::from_str(row.text(0)?)?),
    )
}

#[cfg(test)]
mod tests {
    use super::{CUSTOMERS_BY_UNIQUE_VALUE, INSTALL, USER_INSTALLS, WRITE_OUTCOME};
    use crate::sqlite::tx::{REMOVE_ATTRIBUTE_VALUES, REMOVE_CUSTOMER_VALUES};

    /// The steps of SQLite's plan for `sql` on a new store's schema (parameters unbound: the
    /// plan does not depend on their values).
    async fn plan(sql: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("plan.db").display());
        let store = crate::sqlite::SqliteStore::open(&url).await.unwrap();
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .fetch_all(&store.reader)
                .await
                .unwrap();
        plan.into_iter().map(|(.., detail)| detail).collect()
    }

    /// A lookup by value must go through the partial unique index: without `is_unique` in the
    /// query SQLite walked the tenant's customers and looked each one's entry up.
    #[tokio::test]
    async fn a_lookup_by_value_uses_the_unique_index() {
        let steps = plan(CUSTOMERS_BY_UNIQUE_VALUE).await;
        assert!(
            steps.iter().any(|s| s.contains("customer_values_unique")),
            "{steps:?}"
        );
    }

    /// The keys of schema 12 serve the lookups the write paths make, by their whole prefix
    /// (a tenant-first index would also match the tenant and walk all of its rows).
    #[tokio::test]
    async fn keyed_lookups_search_by_the_whole_key_prefix() {
        for (sql, search) in [
            (
                INSTALL,
                "SEARCH app_profiles USING PRIMARY KEY (user_id=? AND app_id=? AND tenant_id=? AND device_id=?)",
            ),
            (
                USER_INSTALLS,
                "SEARCH app_profiles USING PRIMARY KEY (user_id=? AND app_id=? AND tenant_id=?)",
            ),
            (
                REMOVE_CUSTOMER_VALUES,
                "SEARCH customer_values USING PRIMARY KEY (customer_id=? AND tenant_id=?)",
            ),
            (
                REMOVE_ATTRIBUTE_VALUES,
                "SEARCH customer_values USING INDEX customer_values_attribute (tenant_id=? AND attribute_id=?)",
            ),
            (
                WRITE_OUTCOME,
                "SEARCH write_outcomes USING INDEX write_outcomes_transid (transid=? AND tenant_id=?)",
            ),
        ] {
            let steps = plan(sql).await;
            assert_eq!(steps, [search], "{sql}");
        }
    }
}
