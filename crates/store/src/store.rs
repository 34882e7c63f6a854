//! The Store trait: every operation the server performs on persistent state. Object-safe and
//! async, held as `Arc<dyn Store>`. Each mutation is one transaction that writes the new state,
//! its change events (outbox) and, for batch writes, the outcome kept for the status endpoint.

use crate::error::StoreResult;
use crate::model::{
    AccessSnapshot, App, AppProfileCommand, AppProfileSelector, AppUpdate, AttributeIds,
    BatchRecord, CustomerInput, CustomerLookup, ProfileKeyRecord, SdkRequest, SealedSecret,
    StoredEvent, Tenant, WriteMode,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use profilestore_core::DomainError;
use profilestore_core::app_profile::AppProfile;
use profilestore_core::batch::BatchOutcome;
use profilestore_core::customer::CustomerProfile;
use profilestore_core::ids::{AppId, CustomerId};
use profilestore_core::schema::evolution::DefinitionPatch;
use profilestore_core::schema::{AttributeDefinition, Schema};
use std::collections::HashMap;

#[async_trait]
pub trait Store:
    crate::event_delivery::EventDelivery + crate::console::ConsoleStore + Send + Sync + 'static
{
    /// Whether the database answers (for /readyz).
    async fn ping(&self) -> StoreResult<()>;
    /// Flushes and closes every connection; the store is unusable afterwards.
    async fn close(&self);

    // --- Tenants, keys and apps (admin commands; servers read them through the snapshot) ---
    async fn create_tenant(&self, name: &str, profile_key: SealedSecret) -> StoreResult<Tenant>;
    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>>;
    /// A tenant by its id, or else by its name.
    async fn find_tenant(&self, id_or_name: &str) -> StoreResult<Option<Tenant>>;
    /// The newest profile key of a tenant.
    async fn current_profile_key(&self, tenant_id: &str) -> StoreResult<Option<ProfileKeyRecord>>;
    /// Adds a new profile key; every older key stops working at `retire_at` (or earlier, if
    /// an earlier rotation said so).
    async fn rotate_profile_key(
        &self,
        tenant_id: &str,
        new_key: SealedSecret,
        retire_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn set_allowed_ips(&self, tenant_id: &str, cidrs: &[String]) -> StoreResult<()>;
    async fn set_rate_limit(&self, tenant_id: &str, requests_per_second: u32) -> StoreResult<()>;
    /// Creates an app; `Conflict` if the app id is taken by any tenant.
    async fn create_app(
        &self,
        tenant_id: &str,
        app_id: &AppId,
        name: &str,
        client_key: SealedSecret,
    ) -> StoreResult<App>;
    async fn list_apps(&self, tenant_id: &str) -> StoreResult<Vec<App>>;
    /// Changes an app's name, options, JWT secret, client key or device policy (already
    /// checked by core); `NotFound` if the tenant has no such app.
    async fn update_app(
        &self,
        tenant_id: &str,
        app_id: &AppId,
        update: AppUpdate,
    ) -> StoreResult<App>;
    /// A number that changes whenever tenants, keys or apps change.
    async fn settings_version(&self) -> StoreResult<i64>;
    async fn access_snapshot(&self) -> StoreResult<AccessSnapshot>;

    // --- Customer profiles ---
    async fn write_customers(
        &self,
        tenant_id: &str,
        transid: &str,
        mode: WriteMode,
        records: Vec<BatchRecord<CustomerInput>>,
    ) -> StoreResult<BatchOutcome>;
    /// The customers found among `ids`, in the order asked.
    async fn get_customers(
        &self,
        tenant_id: &str,
        ids: &[CustomerId],
    ) -> StoreResult<Vec<CustomerProfile>>;
    /// Customers whose email or msisdn is exactly this value, by customerId.
    async fn find_customers(
        &self,
        tenant_id: &str,
        lookup: &CustomerLookup,
    ) -> StoreResult<Vec<CustomerProfile>>;
    /// Deletes customers and unlinks (does not delete) their app profiles.
    async fn delete_customers(
        &self,
        tenant_id: &str,
        transid: &str,
        records: Vec<BatchRecord<CustomerId>>,
    ) -> StoreResult<BatchOutcome>;
    // --- The schema registry of custom customer attributes ---
    /// Every definition of the tenant (explicit and implicit, active and retired).
    async fn schema(&self, tenant_id: &str) -> StoreResult<Schema>;
    /// Defines an attribute (or adopts an implicit one); refusals are `Ok(Err(..))`.
    async fn create_definition(
        &self,
        tenant_id: &str,
        definition: AttributeDefinition,
    ) -> StoreResult<Result<AttributeDefinition, DomainError>>;
    async fn update_definition(
        &self,
        tenant_id: &str,
        name: &str,
        patch: DefinitionPatch,
    ) -> StoreResult<Result<AttributeDefinition, DomainError>>;
    /// Retires an attribute, or with `purge` removes it and its values.
    async fn retire_definition(
        &self,
        tenant_id: &str,
        name: &str,
        purge: bool,
    ) -> StoreResult<Result<AttributeDefinition, DomainError>>;
    /// Customers whose value of a unique attribute has this typed sort key (only unique
    /// attributes are indexed by value: another attribute's values are never found).
    async fn find_customers_by_value(
        &self,
        tenant_id: &str,
        attribute_id: i64,
        sort_key: &[u8],
    ) -> StoreResult<Vec<CustomerProfile>>;
    /// Column ids of the tenant's custom customer attributes, by name.
    async fn custom_attribute_ids(&self, tenant_id: &str) -> StoreResult<HashMap<String, i64>>;
    /// [`Store::get_customers`] and [`Store::custom_attribute_ids`] together, as a compatible
    /// read needs both (the ids may be empty when no customer is found). A backend may answer
    /// both in one round trip.
    async fn get_customers_with_attribute_ids(
        &self,
        tenant_id: &str,
        ids: &[CustomerId],
    ) -> StoreResult<(Vec<CustomerProfile>, AttributeIds)> {
        let customers = self.get_customers(tenant_id, ids).await?;
        if customers.is_empty() {
            return Ok((customers, AttributeIds::default()));
        }
        let attribute_ids = self.custom_attribute_ids(tenant_id).await?;
        Ok((customers, attribute_ids.into()))
    }

    // --- App profiles ---
    async fn write_app_profiles(
        &self,
        tenant_id: &str,
        transid: &str,
        app_id: &AppId,
        records: Vec<BatchRecord<AppProfileCommand>>,
    ) -> StoreResult<BatchOutcome>;
    async fn find_app_profiles(
        &self,
        tenant_id: &str,
        app_id: &AppId,
        selector: &AppProfileSelector,
    ) -> StoreResult<Vec<AppProfile>>;
    /// App profiles (of any app) holding this push token.
    async fn find_app_profiles_by_push_id(
        &self,
        tenant_id: &str,
        push_id: &str,
    ) -> StoreResult<Vec<AppProfile>>;
    /// Every app profile (of any app) linked to one of these customers.
    async fn linked_app_profiles(
        &self,
        tenant_id: &str,
        customer_ids: &[CustomerId],
    ) -> StoreResult<Vec<AppProfile>>;
    /// Deletes every app profile each selector matches; a selector matching none fails its record.
    async fn delete_app_profiles(
        &self,
        tenant_id: &str,
        transid: &str,
        app_id: &AppId,
        records: Vec<BatchRecord<AppProfileSelector>>,
    ) -> StoreResult<BatchOutcome>;

    // --- Write outcomes and events ---
    /// The outcome of an earlier write, while it is kept (24 hours).
    async fn write_outcome(
        &self,
        tenant_id: &str,
        transid: &str,
    ) -> StoreResult<Option<BatchOutcome>>;
    /// Removes write outcomes that expired before `now`; returns how many.
    async fn prune_write_outcomes(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Events with seq > `after`, in seq order, at most `limit`.
    async fn events_after(
        &self,
        tenant_id: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<StoredEvent>>;

    // --- The device SDK ---
    /// Applies one SDK call in one transaction (state, events, last contact); returns the
    /// install as it is afterwards, or why the call is refused.
    async fn sdk_write(
        &self,
        tenant_id: &str,
        app_id: &AppId,
        request: SdkRequest,
    ) -> StoreResult<Result<crate::model::SdkOutcome, DomainError>>;
    /// Deletes (with events) the installs of an app with no SDK call since `before` (their
    /// stored contact, which lags by up to [`crate::model::CONTACT_RESOLUTION`], older than
    /// `before` less that); installs never contacted by an SDK are not aged. Returns how many.
    async fn expire_app_profiles(
        &self,
        tenant_id: &str,
        app_id: &AppId,
        before: DateTime<Utc>,
    ) -> StoreResult<u64>;
}
