//! The batch operations, written once for every backend: load the current state inside the
//! backend's write transaction, let the core decide, write the new state and its events, and
//! keep the outcome. Backends supply the row-level operations ([`WriteTx`]) and the commit.

use crate::error::StoreResult;
use crate::model::{AppProfileCommand, AppProfileSelector, BatchRecord, CustomerInput, WriteMode};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use profilestore_core::DomainError;
use profilestore_core::app_profile::{self, AppProfile, AppProfileKey};
use profilestore_core::batch::BatchOutcome;
use profilestore_core::change::ChangeEvent;
use profilestore_core::customer::{
    self, CustomerPatch, CustomerProfile, stored_values, unique_values,
};
use profilestore_core::error::ProfileKind;
use profilestore_core::ids::{AppId, CustomerId, DeviceId};
use profilestore_core::schema::{AttributeDefinition, Schema, StoredValue};
use std::sync::Arc;

/// How long a write's outcome stays retrievable through the status endpoint.
pub const OUTCOME_RETENTION: Duration = Duration::hours(24);

/// Row-level operations inside one open write transaction of a backend.
#[async_trait]
pub(crate) trait WriteTx: Send {
    async fn customer(
        &mut self,
        tenant: &str,
        id: &CustomerId,
    ) -> StoreResult<Option<CustomerProfile>>;
    /// The customers found among `ids`, in one round trip (missing ones skipped).
    async fn customers(
        &mut self,
        tenant: &str,
        ids: &[CustomerId],
    ) -> StoreResult<Vec<CustomerProfile>>;
    async fn put_customer(&mut self, tenant: &str, profile: &CustomerProfile) -> StoreResult<()>;
    async fn remove_customer(&mut self, tenant: &str, id: &CustomerId) -> StoreResult<()>;
    /// Removes the customer and its typed values.
    async fn remove_customer_values(&mut self, tenant: &str, id: &CustomerId) -> StoreResult<()>;
    /// Customers in customerId order after `after`, at most `limit` (schema scans).
    async fn customers_page(
        &mut self,
        tenant: &str,
        after: Option<&CustomerId>,
        limit: u32,
    ) -> StoreResult<Vec<CustomerProfile>>;
    /// The tenant's schema: its attribute definitions (explicit and implicit, active and
    /// retired). Shared: a backend may keep it for the rest of the transaction, so a caller
    /// that changes its copy clones it first (`Arc::make_mut`).
    async fn schema(&mut self, tenant: &str) -> StoreResult<Arc<Schema>>;
    async fn put_definition(
        &mut self,
        tenant: &str,
        definition: &AttributeDefinition,
    ) -> StoreResult<()>;
    async fn remove_definition(&mut self, tenant: &str, name: &str) -> StoreResult<()>;
    /// Replaces the typed index entries of one customer.
    async fn replace_stored_values(
        &mut self,
        tenant: &str,
        customer: &CustomerId,
        values: &[StoredValue],
    ) -> StoreResult<()>;
    /// Writes one typed index entry of a customer, replacing its entry of that attribute.
    async fn put_stored_value(
        &mut self,
        tenant: &str,
        customer: &CustomerId,
        value: &StoredValue,
    ) -> StoreResult<()>;
    /// Removes a customer's typed index entry of one attribute.
    async fn remove_stored_value(
        &mut self,
        tenant: &str,
        customer: &CustomerId,
        attribute_id: i64,
    ) -> StoreResult<()>;
    /// Removes every typed index entry of one attribute (purge).
    async fn remove_attribute_values(&mut self, tenant: &str, attribute_id: i64)
    -> StoreResult<()>;
    /// The customer that holds this value of a unique attribute, if any.
    async fn unique_holder(
        &mut self,
        tenant: &str,
        attribute_id: i64,
        sort_key: &[u8],
    ) -> StoreResult<Option<String>>;
    async fn app_profiles(
        &mut self,
        tenant: &str,
        app_id: &AppId,
        selector: &AppProfileSelector,
    ) -> StoreResult<Vec<AppProfile>>;
    /// App profiles of every app linked to this customer.
    async fn linked_app_profiles(
        &mut self,
        tenant: &str,
        customer: &CustomerId,
    ) -> StoreResult<Vec<AppProfile>>;
    /// Every install of one device id in one app, whatever its userId.
    async fn device_profiles(
        &mut self,
        tenant: &str,
        app_id: &AppId,
        device_id: &DeviceId,
    ) -> StoreResult<Vec<AppProfile>>;
    /// Installs whose last SDK contact is before `before`, at most `limit`.
    async fn stale_app_profiles(
        &mut self,
        tenant: &str,
        app_id: &AppId,
        before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<AppProfile>>;
    /// Records an SDK contact (the profile row must exist).
    async fn touch_app_profile(
        &mut self,
        tenant: &str,
        key: &AppProfileKey,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Writes an app profile; with `contact`, also records that SDK contact (one statement
    /// where a write and a touch would take two), otherwise its last contact stays as it is.
    async fn put_app_profile(
        &mut self,
        tenant: &str,
        profile: &AppProfile,
        contact: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;
    async fn remove_app_profile(&mut self, tenant: &str, key: &AppProfileKey) -> StoreResult<()>;
    /// Numbers a write's events from the tenant's counter and appends them to the outbox
    /// (taken, not copied: a group transaction keeps them until its end).
    async fn append_events(
        &mut self,
        tenant: &str,
        events: Vec<ChangeEvent>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn save_outcome(
        &mut self,
        tenant: &str,
        transid: &str,
        outcome: &BatchOutcome,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
}

/// A domain refusal of one record is data, not an error of the store: `Ok(Err(..))`.
pub(crate) type RecordResult = StoreResult<Result<(), DomainError>>;

async fn finish(
    tx: &mut dyn WriteTx,
    tenant: &str,
    transid: &str,
    outcome: &BatchOutcome,
    events: Vec<ChangeEvent>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    tx.append_events(tenant, events, now).await?;
    tx.save_outcome(tenant, transid, outcome, now + OUTCOME_RETENTION)
        .await
}

pub(crate) async fn write_customers(
    tx: &mut dyn WriteTx,
    tenant: &str,
    transid: &str,
    mode: WriteMode,
    records: Vec<BatchRecord<CustomerInput>>,
) -> StoreResult<BatchOutcome> {
    let now = Utc::now();
    let mut outcome = BatchOutcome::default();
    let mut events = Vec::new();
    // Read inside the write transaction: the schema cannot change under the batch.
    let mut schema = tx.schema(tenant).await?;
    // Every record's customer in one read; each record then sees the batch's earlier records.
    let ids: Vec<CustomerId> = records
        .iter()
        .filter_map(|(_, parsed)| parsed.as_ref().ok())
        .map(|input| input.customer_id.clone())
        .collect();
    let mut stored: foldhash::HashMap<CustomerId, CustomerProfile> = tx
        .customers(tenant, &ids)
        .await?
        .into_iter()
        .map(|profile| (profile.customer_id.clone(), profile))
        .collect();
    let batch = Batch { tenant, mode, now };
    for (record, parsed) in records {
        let result = match parsed {
            Ok(input) => {
                apply_customer(tx, &batch, input, &mut schema, &mut stored, &mut events).await?
            }
            Err(refused) => Err(refused),
        };
        outcome.push(record, result);
    }
    finish(tx, tenant, transid, &outcome, events, now).await?;
    Ok(outcome)
}

/// What every record of one customer batch shares.
struct Batch<'a> {
    tenant: &'a str,
    mode: WriteMode,
    now: DateTime<Utc>,
}

/// One record of a customer batch; `stored` holds the batch's customers as they are now in the
/// transaction (read once before the first record, kept up to date here).
async fn apply_customer(
    tx: &mut dyn WriteTx,
    batch: &Batch<'_>,
    input: CustomerInput,
    schema: &mut Arc<Schema>,
    stored: &mut foldhash::HashMap<CustomerId, CustomerProfile>,
    events: &mut Vec<ChangeEvent>,
) -> RecordResult {
    let Batch { tenant, mode, now } = *batch;
    let patch = match CustomerPatch::parse(input.customer_id, input.attributes, schema) {
        Ok(patch) => patch,
        Err(refused) => return Ok(Err(refused)),
    };
    let existing = stored.get(&patch.customer_id);
    let decided = match mode {
        WriteMode::Create => customer::create(existing, &patch, schema, now)
            .map(|(profile, event)| Some(Decided::Created(profile, event))),
        WriteMode::Update => {
            customer::update(existing, &patch).map(|update| update.map(Decided::Updated))
        }
    };
    let decided = match decided {
        Ok(Some(decided)) => decided,
        Ok(None) => return Ok(Ok(())),
        Err(refused) => return Ok(Err(refused)),
    };
    let unique = match &decided {
        Decided::Created(profile, _) => unique_values(profile, schema),
        Decided::Updated(update) => update.unique_values(schema),
    };
    if let Some(attribute) =
        duplicate_unique_value(tx, tenant, &patch.customer_id, unique, schema).await?
    {
        return Ok(Err(DomainError::DuplicateValue { attribute }));
    }
    let unregistered: Vec<String> = patch
        .unregistered_names(schema)
        .map(str::to_owned)
        .collect();
    let schema_grew = !unregistered.is_empty();
    for name in unregistered {
        let definition = AttributeDefinition::implicit_string(schema.next_id(), &name);
        tx.put_definition(tenant, &definition).await?;
        Arc::make_mut(schema).insert(definition);
    }
    let (profile, event, moved) = match decided {
        Decided::Created(profile, event) => {
            let profile = stored.entry(patch.customer_id).insert_entry(profile);
            (&*profile.into_mut(), event, None)
        }
        Decided::Updated(update) => {
            // Entries written before a definition this write registered are not known to be
            // in step: they are all written again.
            let moved = (!schema_grew).then(|| update.stored_value_changes(schema));
            let profile = stored
                .get_mut(&patch.customer_id)
                .expect("an update is decided over a stored profile");
            let event = update.apply(profile, now);
            (&*profile, event, moved)
        }
    };
    tx.put_customer(tenant, profile).await?;
    save_stored_values(tx, tenant, profile, schema, moved).await?;
    events.push(event);
    Ok(Ok(()))
}

/// What a customer write decided: a new profile, or an update of the stored one.
enum Decided {
    Created(CustomerProfile, ChangeEvent),
    Updated(customer::CustomerUpdate),
}

/// Writes a customer row and its typed index entries together.
pub(crate) async fn save_customer(
    tx: &mut dyn WriteTx,
    tenant: &str,
    profile: &CustomerProfile,
    schema: &Schema,
) -> StoreResult<()> {
    tx.put_customer(tenant, profile).await?;
    save_stored_values(tx, tenant, profile, schema, None).await
}

/// Writes a profile's typed index entries: with `moved` (the entries that went and the ones to
/// write, of a write over entries written under this same schema), only those, so a write
/// that changes the name costs no statement and one that changes a balance one; without, all
/// of them in place of the stored ones.
async fn save_stored_values(
    tx: &mut dyn WriteTx,
    tenant: &str,
    profile: &CustomerProfile,
    schema: &Schema,
    moved: Option<(Vec<i64>, Vec<StoredValue>)>,
) -> StoreResult<()> {
    let Some((removed, written)) = moved else {
        let values = stored_values(profile, schema);
        return tx
            .replace_stored_values(tenant, &profile.customer_id, &values)
            .await;
    };
    for attribute_id in removed {
        tx.remove_stored_value(tenant, &profile.customer_id, attribute_id)
            .await?;
    }
    for value in &written {
        tx.put_stored_value(tenant, &profile.customer_id, value)
            .await?;
    }
    Ok(())
}

/// The name of the first unique attribute among `values` that another customer holds.
async fn duplicate_unique_value(
    tx: &mut dyn WriteTx,
    tenant: &str,
    customer: &CustomerId,
    values: Vec<StoredValue>,
    schema: &Schema,
) -> StoreResult<Option<String>> {
    for value in values {
        if let Some(holder) = tx
            .unique_holder(tenant, value.attribute_id, &value.sort_key)
            .await?
            && holder != customer.as_str()
        {
            return Ok(schema.by_id(value.attribute_id).map(|d| d.name.clone()));
        }
    }
    Ok(None)
}

pub(crate) async fn delete_customers(
    tx: &mut dyn WriteTx,
    tenant: &str,
    transid: &str,
    records: Vec<BatchRecord<CustomerId>>,
) -> StoreResult<BatchOutcome> {
    let now = Utc::now();
    let mut outcome = BatchOutcome::default();
    let mut events = Vec::new();
    for (record, parsed) in records {
        let result = match parsed {
            Ok(id) => delete_customer(tx, tenant, &id, now, &mut events).await?,
            Err(refused) => Err(refused),
        };
        outcome.push(record, result);
    }
    finish(tx, tenant, transid, &outcome, events, now).await?;
    Ok(outcome)
}

async fn delete_customer(
    tx: &mut dyn WriteTx,
    tenant: &str,
    id: &CustomerId,
    now: DateTime<Utc>,
    events: &mut Vec<ChangeEvent>,
) -> RecordResult {
    let existing = tx.customer(tenant, id).await?;
    let event = match customer::delete(existing.as_ref()) {
        Ok(event) => event,
        Err(refused) => return Ok(Err(refused)),
    };
    tx.remove_customer(tenant, id).await?;
    tx.remove_customer_values(tenant, id).await?;
    events.push(event);
    for linked in tx.linked_app_profiles(tenant, id).await? {
        if let Some((unlinked, event)) = app_profile::unlink(&linked, now) {
            tx.put_app_profile(tenant, &unlinked, None).await?;
            events.push(event);
        }
    }
    Ok(Ok(()))
}

pub(crate) async fn write_app_profiles(
    tx: &mut dyn WriteTx,
    tenant: &str,
    transid: &str,
    app_id: &AppId,
    records: Vec<BatchRecord<AppProfileCommand>>,
) -> StoreResult<BatchOutcome> {
    let now = Utc::now();
    let mut outcome = BatchOutcome::default();
    let mut events = Vec::new();
    for (record, parsed) in records {
        let result = match parsed {
            Ok(command) => apply_app_profile(tx, tenant, app_id, command, now, &mut events).await?,
            Err(refused) => Err(refused),
        };
        outcome.push(record, result);
    }
    finish(tx, tenant, transid, &outcome, events, now).await?;
    Ok(outcome)
}

async fn apply_app_profile(
    tx: &mut dyn WriteTx,
    tenant: &str,
    app_id: &AppId,
    command: AppProfileCommand,
    now: DateTime<Utc>,
    events: &mut Vec<ChangeEvent>,
) -> RecordResult {
    let (link, changed) = match command {
        AppProfileCommand::Create {
            user_id,
            device_id,
            link,
            patch,
        } => {
            let selector = AppProfileSelector::Device {
                user_id: user_id.clone(),
                device_id: device_id.clone(),
            };
            let key = AppProfileKey {
                app_id: app_id.clone(),
                user_id,
                device_id,
            };
            let existing = tx
                .app_profiles(tenant, app_id, &selector)
                .await?
                .into_iter()
                .next();
            match app_profile::register(existing.as_ref(), key, link.clone(), &patch, now) {
                Ok((profile, new_events)) => (link, vec![(profile, new_events)]),
                Err(refused) => return Ok(Err(refused)),
            }
        }
        AppProfileCommand::Update {
            selector,
            link,
            patch,
        } => {
            let matched = tx.app_profiles(tenant, app_id, &selector).await?;
            if matched.is_empty() {
                return Ok(Err(DomainError::NotFound {
                    kind: ProfileKind::AppProfile,
                }));
            }
            let updated = matched
                .iter()
                .map(|profile| app_profile::update(profile, link.clone(), &patch, now))
                .collect();
            (link, updated)
        }
    };
    if let Some(customer_id) = &link
        && let Err(refused) = ensure_customer(tx, tenant, customer_id, now, events).await?
    {
        return Ok(Err(refused));
    }
    for (profile, new_events) in changed {
        if !new_events.is_empty() {
            tx.put_app_profile(tenant, &profile, None).await?;
            events.extend(new_events);
        }
    }
    Ok(Ok(()))
}

/// A link to an unknown customer creates the customer with just its customerId (and the
/// schema's defaults); a schema that requires attributes without defaults refuses the link.
pub(crate) async fn ensure_customer(
    tx: &mut dyn WriteTx,
    tenant: &str,
    customer_id: &CustomerId,
    now: DateTime<Utc>,
    events: &mut Vec<ChangeEvent>,
) -> RecordResult {
    if tx.customer(tenant, customer_id).await?.is_some() {
        return Ok(Ok(()));
    }
    let schema = tx.schema(tenant).await?;
    match customer::ensure_exists(None, customer_id, &schema, now) {
        Ok(Some((profile, event))) => {
            save_customer(tx, tenant, &profile, &schema).await?;
            events.push(event);
            Ok(Ok(()))
        }
        Ok(None) => Ok(Ok(())),
        Err(refused) => Ok(Err(refused)),
    }
}

pub(crate) async fn delete_app_profiles(
    tx: &mut dyn WriteTx,
    tenant: &str,
    transid: &str,
    app_id: &AppId,
    records: Vec<BatchRecord<AppProfileSelector>>,
) -> StoreResult<BatchOutcome> {
    let now = Utc::now();
    let mut outcome = BatchOutcome::default();
    let mut events = Vec::new();
    for (record, parsed) in records {
        let result = match parsed {
            Ok(selector) => {
                let matched = tx.app_profiles(tenant, app_id, &selector).await?;
                if matched.is_empty() {
                    Err(DomainError::NotFound {
                        kind: ProfileKind::AppProfile,
                    })
                } else {
                    for profile in &matched {
                        tx.remove_app_profile(tenant, &profile.key).await?;
                        events.push(app_profile::delete(profile));
                    }
                    Ok(())
                }
            }
            Err(refused) => Err(refused),
        };
        outcome.push(record, result);
    }
    finish(tx, tenant, transid, &outcome, events, now).await?;
    Ok(outcome)
}
