//! The row-level operations of one SQLite write transaction (`BEGIN IMMEDIATE` on the writer).

use super::rows::{
    fetch_app_profiles, fetch_customer, fetch_customers_page, fetch_definitions,
    fetch_device_profiles, fetch_linked_app_profiles, fetch_stale_app_profiles, millis,
};
use crate::error::StoreResult;
use crate::model::AppProfileSelector;
use crate::ops::WriteTx;
use crate::outbox::{event_document, new_event_id};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use profilestore_core::app_profile::{AppProfile, AppProfileKey};
use profilestore_core::batch::BatchOutcome;
use profilestore_core::change::ChangeEvent;
use profilestore_core::customer::CustomerProfile;
use profilestore_core::ids::{AppId, CustomerId, DeviceId};
use profilestore_core::schema::{AttributeDefinition, StoredValue};
use sqlx::{Sqlite, Transaction};

/// A write transaction, and the tenants whose logs it appended to (rung after the commit).
pub(crate) struct SqliteTx(
    pub(crate) Transaction<'static, Sqlite>,
    pub(crate) Vec<String>,
);

impl SqliteTx {
    pub(crate) fn new(tx: Transaction<'static, Sqlite>) -> Self {
        SqliteTx(tx, Vec::new())
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
        fetch_definitions(&mut *self.0, tenant).await
    }

    async fn put_definition(
        &mut self,
        tenant: &str,
        definition: &AttributeDefinition,
    ) -> StoreResult<()> {
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
            sqlx::query(
                "INSERT INTO customer_values (tenant_id, attribute_id, customer_id, sort_key, is_unique) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(tenant)
            .bind(value.attribute_id)
            .bind(customer.as_str())
            .bind(&value.sort_key)
            .bind(i64::from(value.unique))
            .execute(&mut *self.0)
            .await?;
        }
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

    async fn put_app_profile(&mut self, tenant: &str, profile: &AppProfile) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO app_profiles (tenant_id, app_id, user_id, device_id, customer_id, push_id, attributes, \
             version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (tenant_id, app_id, user_id, device_id) DO UPDATE SET customer_id = excluded.customer_id, \
             push_id = excluded.push_id, attributes = excluded.attributes, version = excluded.version, \
             updated_at = excluded.updated_at",
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
        if events.is_empty() {
            return Ok(());
        }
        if !self.1.iter().any(|t| t == tenant) {
            self.1.push(tenant.to_owned());
        }
        // Reserve the whole range at once; the writer lock makes it gapless and in commit order.
        let last: i64 = sqlx::query_scalar(
            "INSERT INTO event_sequences (tenant_id, last_seq) VALUES (?1, ?2) \
             ON CONFLICT (tenant_id) DO UPDATE SET last_seq = last_seq + ?2 RETURNING last_seq",
        )
        .bind(tenant)
        .bind(events.len() as i64)
        .fetch_one(&mut *self.0)
        .await?;
        let first = last - events.len() as i64 + 1;
        for (seq, event) in (first..).zip(events) {
            let event_id = new_event_id();
            let document = event_document(tenant, seq, &event_id, now, event);
            sqlx::query(
                "INSERT INTO outbox (tenant_id, seq, event_id, event_type, occurred_at, payload) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(tenant)
            .bind(seq)
            .bind(&event_id)
            .bind(event.event_type.as_str())
            .bind(millis(now))
            .bind(document.to_string())
            .execute(&mut *self.0)
            .await?;
        }
        Ok(())
    }

    async fn save_outcome(
        &mut self,
        tenant: &str,
        transid: &str,
        outcome: &BatchOutcome,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO write_outcomes (tenant_id, transid, outcome, expires_at) VALUES (?, ?, ?, ?)")
            .bind(tenant)
            .bind(transid)
            .bind(serde_json::to_string(outcome)?)
            .bind(millis(expires_at))
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }
}
