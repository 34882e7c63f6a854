//! Schema registry operations, written once for every backend like `ops`: define, change and
//! retire customer attributes inside one write transaction, checking every stored value that
//! a change affects and rewriting the profiles it must (canonical forms, defaults, purges).

use crate::error::StoreResult;
use crate::ops::{WriteTx, save_customer};
use chrono::{DateTime, Utc};
use profilestore_core::DomainError;
use profilestore_core::attribute::AttributeValue;
use profilestore_core::change::{ChangeEvent, EventType, Subject, diff};
use profilestore_core::customer::CustomerProfile;
use profilestore_core::error::ProfileKind;
use profilestore_core::ids::CustomerId;
use profilestore_core::schema::evolution::{DefinitionPatch, evolve};
use profilestore_core::schema::{AttributeDefinition, Schema, TypedValue};
use std::collections::HashMap;
use std::sync::Arc;

/// Customers read per round trip while scanning a tenant.
const SCAN_PAGE: u32 = 500;
/// customerIds named in a conflict's sample.
const SAMPLE: usize = 5;

/// A domain refusal is data: `Ok(Err(..))`.
pub(crate) type SchemaResult<T> = StoreResult<Result<T, DomainError>>;

#[derive(Default)]
struct Tally {
    count: u64,
    sample: Vec<String>,
}

impl Tally {
    fn add(&mut self, customer: &CustomerId) {
        self.count += 1;
        if self.sample.len() < SAMPLE {
            self.sample.push(customer.to_string());
        }
    }

    fn conflict(&self, reason: String) -> Option<DomainError> {
        (self.count > 0).then(|| DomainError::SchemaConflict {
            reason,
            offending: Some(self.count),
            sample: self.sample.clone(),
        })
    }
}

/// What a definition would do to the stored profiles of a tenant.
#[derive(Default)]
struct Scan {
    /// Values that are not values of the definition, or break its constraints.
    offending: Tally,
    /// Customers repeating another's value of a unique attribute.
    duplicates: Tally,
    /// Customers without a value of a required attribute.
    lacking: Tally,
    /// Profiles to write back: a value in another canonical form, or a default to fill in.
    rewrites: Vec<CustomerProfile>,
    /// Every customer holding a value (their typed index entries are refreshed).
    holders: Vec<CustomerId>,
}

async fn scan(
    tx: &mut dyn WriteTx,
    tenant: &str,
    definition: &AttributeDefinition,
) -> StoreResult<Scan> {
    let mut report = Scan::default();
    let mut seen_unique: HashMap<Vec<u8>, CustomerId> = HashMap::new();
    let mut after: Option<CustomerId> = None;
    loop {
        let page = tx.customers_page(tenant, after.as_ref(), SCAN_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.customer_id.clone());
        for profile in page {
            match profile.attributes.get(&definition.name) {
                Some(stored) => {
                    report.holders.push(profile.customer_id.clone());
                    let parsed = TypedValue::parse(
                        definition.attribute_type,
                        &definition.name,
                        &AttributeValue::Text(stored.clone()),
                    );
                    let value = match parsed
                        .map_err(|_| ())
                        .and_then(|v| definition.check_constraints(&v).map(|_| v).map_err(|_| ()))
                    {
                        Ok(value) => value,
                        Err(()) => {
                            report.offending.add(&profile.customer_id);
                            continue;
                        }
                    };
                    if definition.unique
                        && seen_unique
                            .insert(value.sort_key(), profile.customer_id.clone())
                            .is_some()
                    {
                        report.duplicates.add(&profile.customer_id);
                    }
                    if value.canonical() != *stored {
                        let mut rewritten = profile.clone();
                        rewritten
                            .attributes
                            .insert(definition.name.clone(), value.canonical());
                        report.rewrites.push(rewritten);
                    }
                }
                None if definition.required && !definition.retired => match &definition.default {
                    Some(default) => {
                        let mut rewritten = profile.clone();
                        rewritten
                            .attributes
                            .insert(definition.name.clone(), default.clone());
                        report.rewrites.push(rewritten);
                    }
                    None => report.lacking.add(&profile.customer_id),
                },
                None => {}
            }
        }
    }
    Ok(report)
}

impl Scan {
    fn conflict(&self, name: &str) -> Option<DomainError> {
        self.offending
            .conflict(format!(
                "{} stored value(s) of {name} are not valid under the new definition",
                self.offending.count
            ))
            .or_else(|| {
                self.duplicates.conflict(format!(
                    "{} customer(s) repeat a value of {name}, which would be unique",
                    self.duplicates.count
                ))
            })
            .or_else(|| {
                self.lacking.conflict(format!(
                    "{} customer(s) lack {name}, which would be required: give it a default",
                    self.lacking.count
                ))
            })
    }
}

/// Writes back rewritten profiles (a new version and a `customer.updated` event each) and
/// refreshes the typed index entries of every holder under the new schema.
async fn apply(
    tx: &mut dyn WriteTx,
    tenant: &str,
    scan: Scan,
    schema: &Schema,
    now: DateTime<Utc>,
) -> StoreResult<Vec<ChangeEvent>> {
    let mut events = Vec::new();
    let mut refreshed: std::collections::HashSet<CustomerId> = std::collections::HashSet::new();
    for mut profile in scan.rewrites {
        let Some(before) = tx.customer(tenant, &profile.customer_id).await? else {
            continue;
        };
        let changes = diff(&before.attributes, &profile.attributes);
        profile.version = before.version + 1;
        profile.updated_at = now;
        save_customer(tx, tenant, &profile, schema).await?;
        refreshed.insert(profile.customer_id.clone());
        events.push(ChangeEvent {
            event_type: EventType::CustomerUpdated,
            subject: Subject::Customer {
                customer_id: profile.customer_id.to_string(),
            },
            device_event: None,
            changes,
            profile_version: profile.version,
        });
    }
    for holder in scan
        .holders
        .into_iter()
        .filter(|id| !refreshed.contains(id))
    {
        if let Some(profile) = tx.customer(tenant, &holder).await? {
            save_customer(tx, tenant, &profile, schema).await?;
        }
    }
    Ok(events)
}

/// Defines an attribute. Defining an attribute the tenant wrote before it had a schema
/// (an implicit one) adopts it, keeping its id: its stored values must fit the definition.
pub(crate) async fn create_definition(
    tx: &mut dyn WriteTx,
    tenant: &str,
    mut definition: AttributeDefinition,
) -> SchemaResult<AttributeDefinition> {
    definition.implicit = false;
    definition.retired = false;
    if let Err(refused) = definition.validate() {
        return Ok(Err(refused));
    }
    let mut schema = Arc::unwrap_or_clone(tx.schema(tenant).await?);
    definition.id = match schema.get(&definition.name) {
        Some(existing) if existing.retired => {
            return Ok(Err(DomainError::SchemaConflict {
                reason: format!(
                    "{} is retired; purge it (DELETE ...?purge=true) before defining it again",
                    existing.name
                ),
                offending: None,
                sample: Vec::new(),
            }));
        }
        Some(existing) if !existing.implicit => {
            return Ok(Err(DomainError::AlreadyExists {
                kind: ProfileKind::Attribute,
            }));
        }
        Some(existing) => existing.id,
        None => schema.next_id(),
    };
    let report = scan(tx, tenant, &definition).await?;
    if let Some(conflict) = report.conflict(&definition.name) {
        return Ok(Err(conflict));
    }
    tx.put_definition(tenant, &definition).await?;
    schema.insert(definition.clone());
    let now = Utc::now();
    let events = apply(tx, tenant, report, &schema, now).await?;
    tx.append_events(tenant, events, now).await?;
    Ok(Ok(definition))
}

/// Changes a definition under the evolution rules; stored values are checked first when the
/// change tightens constraints or makes the attribute unique or required.
pub(crate) async fn update_definition(
    tx: &mut dyn WriteTx,
    tenant: &str,
    name: &str,
    patch: DefinitionPatch,
) -> SchemaResult<AttributeDefinition> {
    let mut schema = Arc::unwrap_or_clone(tx.schema(tenant).await?);
    let Some(current) = schema.get(name).cloned() else {
        return Ok(Err(DomainError::NotFound {
            kind: ProfileKind::Attribute,
        }));
    };
    let evolution = match evolve(&current, patch) {
        Ok(evolution) => evolution,
        Err(refused) => return Ok(Err(refused)),
    };
    let needs_scan = evolution.adopted
        || evolution.recheck_values
        || evolution.became_unique
        || evolution.became_required;
    let report = if needs_scan {
        let report = scan(tx, tenant, &evolution.updated).await?;
        if let Some(conflict) = report.conflict(name) {
            return Ok(Err(conflict));
        }
        report
    } else {
        Scan::default()
    };
    tx.put_definition(tenant, &evolution.updated).await?;
    schema.insert(evolution.updated.clone());
    let now = Utc::now();
    let events = apply(tx, tenant, report, &schema, now).await?;
    tx.append_events(tenant, events, now).await?;
    Ok(Ok(evolution.updated))
}

/// Retires an attribute (writes refused, values kept and readable), or with `purge` removes
/// its values from every profile and the definition itself.
pub(crate) async fn retire_definition(
    tx: &mut dyn WriteTx,
    tenant: &str,
    name: &str,
    purge: bool,
) -> SchemaResult<AttributeDefinition> {
    let schema = tx.schema(tenant).await?;
    let Some(mut definition) = schema.get(name).cloned() else {
        return Ok(Err(DomainError::NotFound {
            kind: ProfileKind::Attribute,
        }));
    };
    definition.retired = true;
    if !purge {
        tx.put_definition(tenant, &definition).await?;
        return Ok(Ok(definition));
    }
    let now = Utc::now();
    let mut events = Vec::new();
    let mut after: Option<CustomerId> = None;
    let mut holders = Vec::new();
    loop {
        let page = tx.customers_page(tenant, after.as_ref(), SCAN_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.customer_id.clone());
        holders.extend(page.into_iter().filter(|p| p.attributes.contains_key(name)));
    }
    tx.remove_attribute_values(tenant, definition.id).await?;
    tx.remove_definition(tenant, name).await?;
    let mut remaining = Schema::clone(&schema);
    remaining.remove(name);
    for before in holders {
        let mut profile = before.clone();
        profile.attributes.remove(name);
        profile.version += 1;
        profile.updated_at = now;
        save_customer(tx, tenant, &profile, &remaining).await?;
        events.push(ChangeEvent {
            event_type: EventType::CustomerUpdated,
            subject: Subject::Customer {
                customer_id: profile.customer_id.to_string(),
            },
            device_event: None,
            changes: diff(&before.attributes, &profile.attributes),
            profile_version: profile.version,
        });
    }
    tx.append_events(tenant, events, now).await?;
    Ok(Ok(definition))
}
