//! The row-level operations of one SQLite write transaction (`BEGIN IMMEDIATE` on the writer).

use super::pending::{Mark, Pending};
use super::rows::{
    fetch_app_profiles, fetch_customer, fetch_customers, fetch_customers_page, fetch_definitions,
    fetch_device_profiles, fetch_linked_app_profiles, fetch_stale_app_profiles, millis,
};
use crate::error::StoreResult;
use crate::model::AppProfileSelector;
use crate::ops::WriteTx;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use profilestore_core::app_profile::{AppProfile, AppProfileKey};
use profilestore_core::batch::BatchOutcome;
use profilestore_core::change::ChangeEvent;
use profilestore_core::customer::CustomerProfile;
use profilestore_core::ids::{AppId, CustomerId, DeviceId};
use profilestore_core::schema::{AttributeDefinition, StoredValue};
use sqlx::{Sqlite, Transaction};
use std::collections::HashMap;

/// A write transaction; the events and outcomes its writes left to be written at its end
/// ([`SqliteTx::commit`]); and the attribute definitions it has read, by tenant.
///
/// The definitions are kept for the transaction's life: it holds the database's write lock
/// (`BEGIN IMMEDIATE`), so only its own writes can change them, and those drop the tenant's
/// copy. The writes of a group transaction then read a tenant's schema once, not once each.
pub(crate) struct SqliteTx(
    pub(crate) Transaction<'static, Sqlite>,
    Pending,
    HashMap<String, Vec<AttributeDefinition>>,
);

impl SqliteTx {
    pub(crate) fn new(tx: Transaction<'static, Sqlite>) -> Self {
        SqliteTx(tx, Pending::default(), HashMap::new())
    }

    /// How much is pending now: what [`SqliteTx::forget_since`] goes back to.
    pub(crate) fn mark(&self) -> Mark {
        self.1.mark()
    }

    /// Forgets what writes left pending since `mark` (a write rolled back to its savepoint),
    /// and every definition read: the write may have read ones it wrote and then undid.
    pub(crate) fn forget_since(&mut self, mark: Mark) {
        self.1.forget_since(mark);
        self.2.clear();
    }

    /// Writes what is pending, commits, and returns the tenants whose logs grew (to ring).
    pub(crate) async fn commit(mut self) -> Result<Vec<String>, sqlx::Error> {
        let tenants = self.1.write(&mut self.0).await?;
        self.0.commit().await?;
        Ok(tenants)
    }
}

#[async_trait]
impl WriteTx for SqliteTx {
    async fn customer(
        &mut self,
        tenant: &str,
        id: &CustomerId,
    ) -> StoreResult<Option<CustomerProfile>> {
        fetch_customer(&mut *self.0, tenant, id).await
    }

    async fn customers(
        &mut self,
        tenant: &str,
        ids: &[CustomerId],
    ) -> StoreResult<Vec<CustomerProfile>> {
        fetch_customers(&mut self.0, tenant, ids).await
    }

    async fn put_customer(&mut self, tenant: &str, profile: &CustomerProfile) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO customers (tenant_id, customer_id, email, msisdn, attributes, version, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (tenant_id, customer_id) DO UPDATE SET email = excluded.email, msisdn = excluded.msisdn, \
             attributes = excluded.attributes, version = excluded.version, updated_at = excluded.updated_at",
        )
        .bind(tenant)
        .bind(profile.customer_id.as_str())
        .bind(profile.email_key())
        .bind(profile.msisdn_key())
        .bind(serde_json::to_string(&profile.attributes)?)
        .bind(profile.version as i64)
        .bind(millis(profile.created_at))
        .bind(millis(profile.updated_at))
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn remove_customer(&mut self, tenant: &str, id: &CustomerId) -> StoreResult<()> {
        sqlx::query("DELETE FROM customers WHERE tenant_id = ? AND customer_id = ?")
            .bind(tenant)
            .bind(id.as_str())
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn remove_customer_values(&mut self, tenant: &str, id: &CustomerId) -> StoreResult<()> {
        // INDEXED BY: without statistics (no ANALYZE has run) SQLite 3.51's planner picks the
        // primary key's tenant_id prefix and walks every value of the tenant (3 ms per write at
        // 20k customers, measured); the customer index finds the customer's few rows.
        sqlx::query(
            "DELETE FROM customer_values INDEXED BY customer_values_customer \
             WHERE tenant_id = ? AND customer_id = ?",
        )
        .bind(tenant)
        .bind(id.as_str())
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn customers_page(
        &mut self,
        tenant: &str,
        after: Option<&CustomerId>,
        limit: u32,
    ) -> StoreResult<Vec<CustomerProfile>> {
        fetch_customers_page(&mut *self.0, tenant, after, limit).await
    }

    async fn definitions(&mut self, tenant: &str) -> StoreResult<Vec<AttributeDefinition>> {
        if let Some(definitions) = self.2.get(tenant) {
            return Ok(definitions.clone());
        }
        let definitions = fetch_definitions(&mut *self.0, tenant).await?;
        self.2.insert(tenant.to_owned(), definitions.clone());
        Ok(definitions)
    }

    async fn put_definition(
        &mut self,
        tenant: &str,
        definition: &AttributeDefinition,
    ) -> StoreResult<()> {
        self.2.remove(tenant);
        sqlx::query(
            "INSERT INTO custom_attributes (tenant_id, name, id, definition) VALUES (?, ?, ?, ?) \
             ON CONFLICT (tenant_id, name) DO UPDATE SET definition = excluded.definition",
        )
        .bind(tenant)
        .bind(&definition.name)
        .bind(definition.id)
        .bind(serde_json::to_string(definition)?)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn remove_definition(&mut self, tenant: &str, name: &str) -> StoreResult<()> {
        self.2.remove(tenant);
        sqlx::query("DELETE FROM custom_attributes WHERE tenant_id = ? AND name = ?")
            .bind(tenant)
            .bind(name)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn replace_stored_values(
        &mut self,
        tenant: &str,
        customer: &CustomerId,
        values: &[StoredValue],
    ) -> StoreResult<()> {
        self.remove_customer_values(tenant, customer).await?;
        for value in values {
            self.put_stored_value(tenant, customer, value).await?;
        }
        Ok(())
    }

    async fn put_stored_value(
        &mut self,
        tenant: &str,
        customer: &CustomerId,
        value: &StoredValue,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO customer_values (tenant_id, attribute_id, customer_id, sort_key, is_unique) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, attribute_id, customer_id) \
             DO UPDATE SET sort_key = excluded.sort_key, is_unique = excluded.is_unique",
        )
        .bind(tenant)
        .bind(value.attribute_id)
        .bind(customer.as_str())
        .bind(&value.sort_key)
        .bind(i64::from(value.unique))
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn remove_stored_value(
        &mut self,
        tenant: &str,
        customer: &CustomerId,
        attribute_id: i64,
    ) -> StoreResult<()> {
        sqlx::query("DELETE FROM customer_values WHERE tenant_id = ? AND attribute_id = ? AND customer_id = ?")
            .bind(tenant)
            .bind(attribute_id)
            .bind(customer.as_str())
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn remove_attribute_values(
        &mut self,
        tenant: &str,
        attribute_id: i64,
    ) -> StoreResult<()> {
        sqlx::query("DELETE FROM customer_values WHERE tenant_id = ? AND attribute_id = ?")
            .bind(tenant)
            .bind(attribute_id)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn unique_holder(
        &mut self,
        tenant: &str,
        attribute_id: i64,
        sort_key: &[u8],
    ) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT customer_id FROM customer_values WHERE tenant_id = ? AND attribute_id = ? AND sort_key = ? \
             AND is_unique = 1",
        )
        .bind(tenant)
        .bind(attribute_id)
        .bind(sort_key)
        .fetch_optional(&mut *self.0)
        .await?)
    }

    async fn app_profiles(
        &mut self,
        tenant: &str,
        app_id: &AppId,
        selector: &AppProfileSelector,
    ) -> StoreResult<Vec<AppProfile>> {
        fetch_app_profiles(&mut *self.0, tenant, app_id, selector).await
    }

    async fn linked_app_profiles(
        &mut self,
        tenant: &str,
        customer: &CustomerId,
    ) -> StoreResult<Vec<AppProfile>> {
        fetch_linked_app_profiles(&mut *self.0, tenant, customer).await
    }

    async fn device_profiles(
        &mut self,
        tenant: &str,
        app_id: &AppId,
        device_id: &DeviceId,
    ) -> StoreResult<Vec<AppProfile>> {
        fetch_device_profiles(&mut *self.0, tenant, app_id, device_id).await
    }

    async fn stale_app_profiles(
        &mut self,
        tenant: &str,
        app_id: &AppId,
        before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<AppProfile>> {
        fetch_stale_app_profiles(&mut *self.0, tenant, app_id, before, limit).await
    }

    async fn touch_app_profile(
        &mut self,
        tenant: &str,
        key: &AppProfileKey,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE app_profiles SET last_contact = ? \
             WHERE tenant_id = ? AND app_id = ? AND user_id = ? AND device_id = ?",
        )
        .bind(millis(at))
        .bind(tenant)
        .bind(key.app_id.as_str())
        .bind(key.user_id.as_str())
        .bind(key.device_id.as_str())
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn put_app_profile(
        &mut self,
        tenant: &str,
        profile: &AppProfile,
        contact: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO app_profiles (tenant_id, app_id, user_id, device_id, customer_id, push_id, attributes, \
             version, created_at, updated_at, last_contact) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (tenant_id, app_id, user_id, device_id) DO UPDATE SET customer_id = excluded.customer_id, \
             push_id = excluded.push_id, attributes = excluded.attributes, version = excluded.version, \
             updated_at = excluded.updated_at, \
             last_contact = COALESCE(excluded.last_contact, app_profiles.last_contact)",
        )
        .bind(tenant)
        .bind(profile.key.app_id.as_str())
        .bind(profile.key.user_id.as_str())
        .bind(profile.key.device_id.as_str())
        .bind(profile.customer_id.as_ref().map(CustomerId::as_str))
        .bind(profile.push_id())
        .bind(serde_json::to_string(&profile.attributes)?)
        .bind(profile.version as i64)
        .bind(millis(profile.created_at))
        .bind(millis(profile.updated_at))
        .bind(contact.map(millis))
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn remove_app_profile(&mut self, tenant: &str, key: &AppProfileKey) -> StoreResult<()> {
        sqlx::query("DELETE FROM app_profiles WHERE tenant_id = ? AND app_id = ? AND user_id = ? AND device_id = ?")
            .bind(tenant)
            .bind(key.app_id.as_str())
            .bind(key.user_id.as_str())
            .bind(key.device_id.as_str())
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn append_events(
        &mut self,
        tenant: &str,
        events: &[ChangeEvent],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.1.add_events(tenant, events, now);
        Ok(())
    }

    async fn save_outcome(
        &mut self,
        tenant: &str,
        transid: &str,
        outcome: &BatchOutcome,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.1.add_outcome(tenant, transid, outcome, expires_at)
    }
}
