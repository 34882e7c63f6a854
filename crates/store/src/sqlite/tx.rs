//! The row-level operations of one SQLite write transaction (`BEGIN IMMEDIATE` on the writer),
//! run through the C API on the writer's thread: every method completes without waiting, so
//! the group writer can drive the (async, backend-neutral) batch operations by polling once.

use super::attribute_map;
use super::pending::{Mark, Pending};
use super::raw::Conn;
use super::rows::{
    fetch_app_profiles, fetch_customer, fetch_customers, fetch_customers_page, fetch_definitions,
    fetch_device_profiles, fetch_linked_app_profiles, fetch_stale_app_profiles, millis,
};
use crate::error::StoreResult;
use crate::model::{AppProfileSelector, contact_moves_if_before};
use crate::ops::WriteTx;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use profilestore_core::app_profile::{AppProfile, AppProfileKey};
use profilestore_core::batch::BatchOutcome;
use profilestore_core::change::ChangeEvent;
use profilestore_core::customer::CustomerProfile;
use profilestore_core::ids::{AppId, CustomerId, DeviceId};
use profilestore_core::schema::{AttributeDefinition, Schema, StoredValue};
use std::collections::HashMap;
use std::sync::Arc;

/// A write transaction; the events and outcomes its writes left to be written at its end
/// ([`SqliteTx::commit`]); and the schemas it has read, by tenant.
///
/// The schemas are kept for the transaction's life: it holds the database's write lock
/// (`BEGIN IMMEDIATE`), so only its own writes can change them, and those drop the tenant's
/// copy. The writes of a group transaction then read a tenant's schema once, not once each.
pub(crate) struct SqliteTx<'c>(
    pub(crate) &'c mut Conn,
    Pending,
    HashMap<String, Arc<Schema>>,
);

impl<'c> SqliteTx<'c> {
    /// Wraps a connection on which `BEGIN IMMEDIATE` has run.
    pub(crate) fn new(conn: &'c mut Conn) -> Self {
        SqliteTx(conn, Pending::default(), HashMap::new())
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
    pub(crate) fn commit(mut self) -> StoreResult<Vec<String>> {
        let tenants = self.1.write(self.0)?;
        self.0.execute("COMMIT", &[])?;
        Ok(tenants)
    }
}

/// A customer's typed values: the primary key's prefix (schema 12) finds its few rows.
pub(super) const REMOVE_CUSTOMER_VALUES: &str =
    "DELETE FROM customer_values WHERE customer_id = ? AND tenant_id = ?";
/// An attribute's typed values (its definition dropped): through the index by attribute.
pub(super) const REMOVE_ATTRIBUTE_VALUES: &str =
    "DELETE FROM customer_values WHERE tenant_id = ? AND attribute_id = ?";

#[async_trait]
impl WriteTx for SqliteTx<'_> {
    async fn customer(
        &mut self,
        tenant: &str,
        id: &CustomerId,
    ) -> StoreResult<Option<CustomerProfile>> {
        fetch_customer(self.0, tenant, id)
    }

    async fn customers(
        &mut self,
        tenant: &str,
        ids: &[CustomerId],
    ) -> StoreResult<Vec<CustomerProfile>> {
        fetch_customers(self.0, tenant, ids)
    }

    async fn put_customer(&mut self, tenant: &str, profile: &CustomerProfile) -> StoreResult<()> {
        let attributes = attribute_map::encode(&profile.attributes);
        let (email, msisdn) = (profile.email_key(), profile.msisdn_key());
        // Most updates keep the email and msisdn: an UPDATE that does not name them leaves
        // their indexes alone (SQLite rewrites an index whenever its column is SET, even to
        // the same value: two more pages to log per write).
        let kept = self.0.execute(
            "UPDATE customers SET attributes = ?3, version = ?4, updated_at = ?5 \
             WHERE tenant_id = ?1 AND customer_id = ?2 AND email IS ?6 AND msisdn IS ?7",
            &[
                tenant.into(),
                profile.customer_id.as_str().into(),
                attributes.as_str().into(),
                (profile.version as i64).into(),
                millis(profile.updated_at).into(),
                email.as_ref().into(),
                msisdn.as_ref().into(),
            ],
        )?;
        if kept > 0 {
            return Ok(());
        }
        self.0.execute(
            "INSERT INTO customers (tenant_id, customer_id, email, msisdn, attributes, version, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (tenant_id, customer_id) DO UPDATE SET email = excluded.email, msisdn = excluded.msisdn, \
             attributes = excluded.attributes, version = excluded.version, updated_at = excluded.updated_at",
            &[
                tenant.into(),
                profile.customer_id.as_str().into(),
                email.as_ref().into(),
                msisdn.as_ref().into(),
                attributes.as_str().into(),
                (profile.version as i64).into(),
                millis(profile.created_at).into(),
                millis(profile.updated_at).into(),
            ],
        )?;
        Ok(())
    }

    async fn remove_customer(&mut self, tenant: &str, id: &CustomerId) -> StoreResult<()> {
        self.0.execute(
            "DELETE FROM customers WHERE tenant_id = ? AND customer_id = ?",
            &[tenant.into(), id.as_str().into()],
        )?;
        Ok(())
    }

    async fn remove_customer_values(&mut self, tenant: &str, id: &CustomerId) -> StoreResult<()> {
        self.0
            .execute(REMOVE_CUSTOMER_VALUES, &[id.as_str().into(), tenant.into()])?;
        Ok(())
    }

    async fn customers_page(
        &mut self,
        tenant: &str,
        after: Option<&CustomerId>,
        limit: u32,
    ) -> StoreResult<Vec<CustomerProfile>> {
        fetch_customers_page(self.0, tenant, after, limit)
    }

    async fn schema(&mut self, tenant: &str) -> StoreResult<Arc<Schema>> {
        if let Some(schema) = self.2.get(tenant) {
            return Ok(Arc::clone(schema));
        }
        let schema = Arc::new(Schema::new(fetch_definitions(self.0, tenant)?));
        self.2.insert(tenant.to_owned(), Arc::clone(&schema));
        Ok(schema)
    }

    async fn put_definition(
        &mut self,
        tenant: &str,
        definition: &AttributeDefinition,
    ) -> StoreResult<()> {
        self.2.remove(tenant);
        let document = serde_json::to_string(definition)?;
        self.0.execute(
            "INSERT INTO custom_attributes (tenant_id, name, id, definition) VALUES (?, ?, ?, ?) \
             ON CONFLICT (tenant_id, name) DO UPDATE SET definition = excluded.definition",
            &[
                tenant.into(),
                definition.name.as_str().into(),
                definition.id.into(),
                document.as_str().into(),
            ],
        )?;
        Ok(())
    }

    async fn remove_definition(&mut self, tenant: &str, name: &str) -> StoreResult<()> {
        self.2.remove(tenant);
        self.0.execute(
            "DELETE FROM custom_attributes WHERE tenant_id = ? AND name = ?",
            &[tenant.into(), name.into()],
        )?;
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
        self.0.execute(
            "INSERT INTO customer_values (tenant_id, attribute_id, customer_id, sort_key, is_unique) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, attribute_id, customer_id) \
             DO UPDATE SET sort_key = excluded.sort_key, is_unique = excluded.is_unique",
            &[
                tenant.into(),
                value.attribute_id.into(),
                customer.as_str().into(),
                value.sort_key.as_slice().into(),
                i64::from(value.unique).into(),
            ],
        )?;
        Ok(())
    }

    async fn remove_stored_value(
        &mut self,
        tenant: &str,
        customer: &CustomerId,
        attribute_id: i64,
    ) -> StoreResult<()> {
        self.0.execute(
            "DELETE FROM customer_values WHERE tenant_id = ? AND attribute_id = ? AND customer_id = ?",
            &[tenant.into(), attribute_id.into(), customer.as_str().into()],
        )?;
        Ok(())
    }

    async fn remove_attribute_values(
        &mut self,
        tenant: &str,
        attribute_id: i64,
    ) -> StoreResult<()> {
        self.0.execute(
            REMOVE_ATTRIBUTE_VALUES,
            &[tenant.into(), attribute_id.into()],
        )?;
        Ok(())
    }

    async fn unique_holder(
        &mut self,
        tenant: &str,
        attribute_id: i64,
        sort_key: &[u8],
    ) -> StoreResult<Option<String>> {
        self.0.query_first(
            "SELECT customer_id FROM customer_values WHERE tenant_id = ? AND attribute_id = ? \
             AND sort_key = ? AND is_unique = 1",
            &[tenant.into(), attribute_id.into(), sort_key.into()],
            |row| Ok(row.text(0)?.to_owned()),
        )
    }

    async fn app_profiles(
        &mut self,
        tenant: &str,
        app_id: &AppId,
        selector: &AppProfileSelector,
    ) -> StoreResult<Vec<AppProfile>> {
        fetch_app_profiles(self.0, tenant, app_id, selector)
    }

    async fn linked_app_profiles(
        &mut self,
        tenant: &str,
        customer: &CustomerId,
    ) -> StoreResult<Vec<AppProfile>> {
        fetch_linked_app_profiles(self.0, tenant, customer)
    }

    async fn device_profiles(
        &mut self,
        tenant: &str,
        app_id: &AppId,
        device_id: &DeviceId,
    ) -> StoreResult<Vec<AppProfile>> {
        fetch_device_profiles(self.0, tenant, app_id, device_id)
    }

    async fn stale_app_profiles(
        &mut self,
        tenant: &str,
        app_id: &AppId,
        before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<AppProfile>> {
        fetch_stale_app_profiles(self.0, tenant, app_id, before, limit)
    }

    async fn touch_app_profile(
        &mut self,
        tenant: &str,
        key: &AppProfileKey,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        // Only a contact older than the resolution is moved: an UPDATE that matches no row
        // leaves the contact index alone (naming the column, even to keep it, would not).
        self.0.execute(
            "UPDATE app_profiles SET last_contact = ?1 \
             WHERE tenant_id = ?2 AND app_id = ?3 AND user_id = ?4 AND device_id = ?5 \
             AND (last_contact IS NULL OR last_contact < ?6)",
            &[
                millis(at).into(),
                tenant.into(),
                key.app_id.as_str().into(),
                key.user_id.as_str().into(),
                key.device_id.as_str().into(),
                millis(contact_moves_if_before(at)).into(),
            ],
        )?;
        Ok(())
    }

    async fn put_app_profile(
        &mut self,
        tenant: &str,
        profile: &AppProfile,
        contact: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        let attributes = attribute_map::encode(&profile.attributes);
        // As for customers: an update keeping the link and push id leaves their indexes alone;
        // the contact is recorded apart, and only when it moved (see touch_app_profile).
        let kept = self.0.execute(
            "UPDATE app_profiles SET attributes = ?5, version = ?6, updated_at = ?7 \
             WHERE tenant_id = ?1 AND app_id = ?2 AND user_id = ?3 AND device_id = ?4 \
             AND customer_id IS ?8 AND push_id IS ?9",
            &[
                tenant.into(),
                profile.key.app_id.as_str().into(),
                profile.key.user_id.as_str().into(),
                profile.key.device_id.as_str().into(),
                attributes.as_str().into(),
                (profile.version as i64).into(),
                millis(profile.updated_at).into(),
                profile.customer_id.as_ref().map(CustomerId::as_str).into(),
                profile.push_id().into(),
            ],
        )?;
        if kept > 0 {
            if let Some(at) = contact {
                self.touch_app_profile(tenant, &profile.key, at).await?;
            }
            return Ok(());
        }
        self.0.execute(
            "INSERT INTO app_profiles (tenant_id, app_id, user_id, device_id, customer_id, push_id, attributes, \
             version, created_at, updated_at, last_contact) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (tenant_id, app_id, user_id, device_id) DO UPDATE SET customer_id = excluded.customer_id, \
             push_id = excluded.push_id, attributes = excluded.attributes, version = excluded.version, \
             updated_at = excluded.updated_at, \
             last_contact = COALESCE(excluded.last_contact, app_profiles.last_contact)",
            &[
                tenant.into(),
                profile.key.app_id.as_str().into(),
                profile.key.user_id.as_str().into(),
                profile.key.device_id.as_str().into(),
                profile.customer_id.as_ref().map(CustomerId::as_str).into(),
                profile.push_id().into(),
                attributes.as_str().into(),
                (profile.version as i64).into(),
                millis(profile.created_at).into(),
                millis(profile.updated_at).into(),
                contact.map(millis).into(),
            ],
        )?;
        Ok(())
    }

    async fn remove_app_profile(&mut self, tenant: &str, key: &AppProfileKey) -> StoreResult<()> {
        self.0.execute(
            "DELETE FROM app_profiles WHERE tenant_id = ? AND app_id = ? AND user_id = ? AND device_id = ?",
            &[
                tenant.into(),
                key.app_id.as_str().into(),
                key.user_id.as_str().into(),
                key.device_id.as_str().into(),
            ],
        )?;
        Ok(())
    }

    async fn append_events(
        &mut self,
        tenant: &str,
        events: Vec<ChangeEvent>,
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
