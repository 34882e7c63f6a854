//! The row-level operations of one PostgreSQL profile write transaction.
//!
//! Every such transaction first takes its tenant's advisory lock (`pg_advisory_xact_lock`,
//! released at commit or rollback). Writes of one tenant are thereby serialised across every
//! node on the database, which is what keeps "does it exist? then create it", read-modify-write
//! of attribute maps, custom attribute ids and the gapless event sequence correct under READ
//! COMMITTED: each statement after the lock sees everything the previous holder committed.
//! Writes of different tenants never wait for each other; no lock spans tenants.

use super::rows::{
    fetch_app_profiles, fetch_customer, fetch_customers, fetch_customers_page, fetch_definitions,
    fetch_device_profiles, fetch_linked_app_profiles, fetch_stale_app_profiles, tenant_lock_key,
    to_millis,
};
use crate::error::StoreResult;
use crate::model::{AppProfileSelector, contact_moves_if_before};
use crate::ops::WriteTx;
use crate::outbox::{event_json, event_time, new_event_id};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use profilestore_core::app_profile::{AppProfile, AppProfileKey};
use profilestore_core::batch::BatchOutcome;
use profilestore_core::change::ChangeEvent;
use profilestore_core::customer::CustomerProfile;
use profilestore_core::ids::{AppId, CustomerId, DeviceId};
use profilestore_core::schema::{AttributeDefinition, Schema, StoredValue};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};
use std::sync::Arc;

pub(crate) struct PgTx(pub(crate) Transaction<'static, Postgres>);

impl PgTx {
    /// Begins a transaction holding the tenant's advisory lock.
    pub(crate) async fn begin(pool: &PgPool, tenant: &str) -> StoreResult<Self> {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(tenant_lock_key(tenant))
            .execute(&mut *tx)
            .await?;
        Ok(PgTx(tx))
    }
}

#[async_trait]
impl WriteTx for PgTx {
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
        fetch_customers(&mut *self.0, tenant, ids).await
    }

    async fn put_customer(&mut self, tenant: &str, profile: &CustomerProfile) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO customers (tenant_id, customer_id, email, msisdn, attributes, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (tenant_id, customer_id) DO UPDATE SET email = EXCLUDED.email, msisdn = EXCLUDED.msisdn, \
             attributes = EXCLUDED.attributes, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at",
        )
        .bind(tenant)
        .bind(profile.customer_id.as_str())
        .bind(profile.email_key())
        .bind(profile.msisdn_key())
        .bind(Json(&profile.attributes))
        .bind(profile.version as i64)
        .bind(profile.created_at)
        .bind(profile.updated_at)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn remove_customer(&mut self, tenant: &str, id: &CustomerId) -> StoreResult<()> {
        sqlx::query("DELETE FROM customers WHERE tenant_id = $1 AND customer_id = $2")
            .bind(tenant)
            .bind(id.as_str())
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn remove_customer_values(&mut self, tenant: &str, id: &CustomerId) -> StoreResult<()> {
        sqlx::query("DELETE FROM customer_values WHERE tenant_id = $1 AND customer_id = $2")
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

    async fn schema(&mut self, tenant: &str) -> StoreResult<Arc<Schema>> {
        Ok(Arc::new(Schema::new(
            fetch_definitions(&mut *self.0, tenant).await?,
        )))
    }

    async fn put_definition(
        &mut self,
        tenant: &str,
        definition: &AttributeDefinition,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO custom_attributes (tenant_id, name, id, definition) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, name) DO UPDATE SET definition = EXCLUDED.definition",
        )
        .bind(tenant)
        .bind(&definition.name)
        .bind(definition.id)
        .bind(Json(definition))
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn remove_definition(&mut self, tenant: &str, name: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM custom_attributes WHERE tenant_id = $1 AND name = $2")
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
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, attribute_id, customer_id) \
             DO UPDATE SET sort_key = EXCLUDED.sort_key, is_unique = EXCLUDED.is_unique",
        )
        .bind(tenant)
        .bind(value.attribute_id)
        .bind(customer.as_str())
        .bind(&value.sort_key)
        .bind(value.unique)
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
        sqlx::query("DELETE FROM customer_values WHERE tenant_id = $1 AND attribute_id = $2 AND customer_id = $3")
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
        sqlx::query("DELETE FROM customer_values WHERE tenant_id = $1 AND attribute_id = $2")
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
            "SELECT customer_id FROM customer_values WHERE tenant_id = $1 AND attribute_id = $2 AND sort_key = $3 \
             AND is_unique",
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
            "UPDATE app_profiles SET last_contact = $1 \
             WHERE tenant_id = $2 AND app_id = $3 AND user_id = $4 AND device_id = $5 \
             AND (last_contact IS NULL OR last_contact < $6)",
        )
        .bind(at)
        .bind(tenant)
        .bind(key.app_id.as_str())
        .bind(key.user_id.as_str())
        .bind(key.device_id.as_str())
        .bind(contact_moves_if_before(at))
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
             version, created_at, updated_at, last_contact) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (tenant_id, app_id, user_id, device_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, \
             push_id = EXCLUDED.push_id, attributes = EXCLUDED.attributes, version = EXCLUDED.version, \
             updated_at = EXCLUDED.updated_at, \
             last_contact = CASE WHEN app_profiles.last_contact IS NULL \
                 OR app_profiles.last_contact < $12 THEN COALESCE(EXCLUDED.last_contact, app_profiles.last_contact) \
                 ELSE app_profiles.last_contact END",
        )
        .bind(tenant)
        .bind(profile.key.app_id.as_str())
        .bind(profile.key.user_id.as_str())
        .bind(profile.key.device_id.as_str())
        .bind(profile.customer_id.as_ref().map(CustomerId::as_str))
        .bind(profile.push_id())
        .bind(Json(&profile.attributes))
        .bind(profile.version as i64)
        .bind(profile.created_at)
        .bind(profile.updated_at)
        .bind(contact)
        // A contact within the resolution keeps the stored one (and the update stays HOT).
        .bind(contact.map(contact_moves_if_before))
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn remove_app_profile(&mut self, tenant: &str, key: &AppProfileKey) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM app_profiles WHERE tenant_id = $1 AND app_id = $2 AND user_id = $3 AND device_id = $4",
        )
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
        events: Vec<ChangeEvent>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let occurred_at = to_millis(now);
        // Reserve the whole range at once; the tenant lock makes it gapless and in commit order.
        let count = events.len() as i64;
        // The same statement announces the events: `pg_notify` is delivered at commit to every
        // node's listener (see `listener.rs`), never before, and costs no round trip of its own.
        let last: i64 = sqlx::query_scalar(
            "INSERT INTO event_sequences (tenant_id, last_seq) VALUES ($1, $2) \
             ON CONFLICT (tenant_id) DO UPDATE SET last_seq = event_sequences.last_seq + EXCLUDED.last_seq \
             RETURNING last_seq, pg_notify($3, $1)::text",
        )
        .bind(tenant)
        .bind(count)
        .bind(super::listener::CHANNEL)
        .fetch_one(&mut *self.0)
        .await?;
        let first = last - count + 1;
        let mut seqs = Vec::with_capacity(events.len());
        let mut ids = Vec::with_capacity(events.len());
        let mut types = Vec::with_capacity(events.len());
        let mut payloads = Vec::with_capacity(events.len());
        let time = event_time(now);
        for (seq, event) in (first..).zip(&events) {
            let event_id = new_event_id();
            payloads.push(event_json(tenant, seq, &event_id, &time, event));
            seqs.push(seq);
            ids.push(event_id);
            types.push(event.event_type.as_str());
        }
        sqlx::query(
            "INSERT INTO outbox (tenant_id, seq, event_id, event_type, occurred_at, payload) \
             SELECT $1, e.seq, e.event_id, e.event_type, $2, e.payload::jsonb \
             FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[]) AS e(seq, event_id, event_type, payload)",
        )
        .bind(tenant)
        .bind(occurred_at)
        .bind(&seqs)
        .bind(&ids)
        .bind(&types)
        .bind(&payloads)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn save_outcome(
        &mut self,
        tenant: &str,
        transid: &str,
        outcome: &BatchOutcome,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO write_outcomes (tenant_id, transid, outcome, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant)
        .bind(transid)
        .bind(Json(outcome))
        .bind(expires_at)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }
}
