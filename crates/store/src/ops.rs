//! The batch operations, written once for every backend: load the current state inside the
//! backend's write transaction, let the core decide, write the new state and its events, and
//! keep the outcome. Backends supply the row-level operations ([`WriteTx`]) and the commit.

use crate::error::StoreResult;
use crate::model::{AppProfileCommand, AppProfileSelector, BatchRecord, WriteMode};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use profilestore_core::DomainError;
use profilestore_core::app_profile::{self, AppProfile, AppProfileKey};
use profilestore_core::batch::BatchOutcome;
use profilestore_core::change::ChangeEvent;
use profilestore_core::customer::{self, CustomerPatch, CustomerProfile};
use profilestore_core::error::ProfileKind;
use profilestore_core::ids::{AppId, CustomerId};

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
    async fn put_customer(&mut self, tenant: &str, profile: &CustomerProfile) -> StoreResult<()>;
    async fn remove_customer(&mut self, tenant: &str, id: &CustomerId) -> StoreResult<()>;
    /// Gives each name that has no column id yet the next free one.
    async fn assign_custom_attribute_ids(
        &mut self,
        tenant: &str,
        names: &[String],
    ) -> StoreResult<()>;
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
    async fn put_app_profile(&mut self, tenant: &str, profile: &AppProfile) -> StoreResult<()>;
    async fn remove_app_profile(&mut self, tenant: &str, key: &AppProfileKey) -> StoreResult<()>;
    /// Numbers the events from the tenant's counter and appends them to the outbox.
    async fn append_events(
        &mut self,
        tenant: &str,
        events: &[ChangeEvent],
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
type RecordResult = StoreResult<Result<(), DomainError>>;

async fn finish(
    tx: &mut dyn WriteTx,
    tenant: &str,
    transid: &str,
    outcome: &BatchOutcome,
    events: &[ChangeEvent],
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
    records: Vec<BatchRecord<CustomerPatch>>,
) -> StoreResult<BatchOutcome> {
    let now = Utc::now();
    let mut outcome = BatchOutcome::default();
    let mut events = Vec::new();
    for (record, parsed) in records {
        let result = match parsed {
            Ok(patch) => apply_customer(tx, tenant, mode, &patch, now, &mut events).await?,
            Err(refused) => Err(refused),
        };
        outcome.push(record, result);
    }
    finish(tx, tenant, transid, &outcome, &events, now).await?;
    Ok(outcome)
}

async fn apply_customer(
    tx: &mut dyn WriteTx,
    tenant: &str,
    mode: WriteMode,
    patch: &CustomerPatch,
    now: DateTime<Utc>,
    events: &mut Vec<ChangeEvent>,
) -> RecordResult {
    let existing = tx.customer(tenant, &patch.customer_id).await?;
    let applied = match mode {
        WriteMode::Create => {
            customer::create(existing.as_ref(), patch, now).map(|(p, e)| (p, Some(e)))
        }
        WriteMode::Update => customer::update(existing.as_ref(), patch, now),
    };
    let (profile, event) = match applied {
        Ok(applied) => applied,
        Err(refused) => return Ok(Err(refused)),
    };
    if let Some(event) = event {
        let names: Vec<String> = patch.custom_names().map(str::to_owned).collect();
        tx.assign_custom_attribute_ids(tenant, &names).await?;
        tx.put_customer(tenant, &profile).await?;
        events.push(event);
    }
    Ok(Ok(()))
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
    finish(tx, tenant, transid, &outcome, &events, now).await?;
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
    events.push(event);
    for linked in tx.linked_app_profiles(tenant, id).await? {
        if let Some((unlinked, event)) = app_profile::unlink(&linked, now) {
            tx.put_app_profile(tenant, &unlinked).await?;
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
    finish(tx, tenant, transid, &outcome, &events, now).await?;
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
    if let Some(customer_id) = &link {
        ensure_customer(tx, tenant, customer_id, now, events).await?;
    }
    for (profile, new_events) in changed {
        if !new_events.is_empty() {
            tx.put_app_profile(tenant, &profile).await?;
            events.extend(new_events);
        }
    }
    Ok(Ok(()))
}

/// A link to an unknown customer creates the customer with just its customerId.
async fn ensure_customer(
    tx: &mut dyn WriteTx,
    tenant: &str,
    customer_id: &CustomerId,
    now: DateTime<Utc>,
    events: &mut Vec<ChangeEvent>,
) -> StoreResult<()> {
    let existing = tx.customer(tenant, customer_id).await?;
    if let Some((profile, event)) = customer::ensure_exists(existing.as_ref(), customer_id, now) {
        tx.put_customer(tenant, &profile).await?;
        events.push(event);
    }
    Ok(())
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
    finish(tx, tenant, transid, &outcome, &events, now).await?;
    Ok(outcome)
}
