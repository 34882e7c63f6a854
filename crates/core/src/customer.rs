//! Customer profiles: keyed by customerId, with the product's default attributes (name, email,
//! msisdn, channel flags) and the tenant's own attributes, typed and checked by its schema.

use crate::DomainError;
use crate::attribute::{
    AttributeValue, RawAttribute, check_custom_name, check_email, check_msisdn, check_text,
    normalise_flag,
};
use crate::change::{AttributeChange, ChangeEvent, EventType, Subject, diff, write_attribute};
use crate::error::ProfileKind;
use crate::ids::CustomerId;
use crate::schema::{AttributeDefinition, Schema, StoredValue, TypedValue};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// At most this many tenant-defined attributes on one profile: a bound on row size.
pub const MAX_CUSTOM_ATTRIBUTES: usize = 256;
/// Tenant-defined attributes get column ids from here up, per tenant, in order of definition.
pub const FIRST_CUSTOM_ATTRIBUTE_ID: i64 = 1001;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DefaultKind {
    Identifier,
    Text,
    Email,
    Msisdn,
    Flag,
}

/// A column every customer profile has, with the stable numeric ID the compatible API prints.
#[derive(Debug, Clone, Copy)]
pub struct DefaultAttribute {
    pub name: &'static str,
    pub id: i64,
    kind: DefaultKind,
}

const fn default_attribute(name: &'static str, id: i64, kind: DefaultKind) -> DefaultAttribute {
    DefaultAttribute { name, id, kind }
}

/// The default columns, in the order reads print them.
pub const DEFAULT_ATTRIBUTES: &[DefaultAttribute] = &[
    default_attribute("customerId", 101, DefaultKind::Identifier),
    default_attribute("name", 102, DefaultKind::Text),
    default_attribute("email", 103, DefaultKind::Email),
    default_attribute("msisdn", 104, DefaultKind::Msisdn),
    default_attribute("sms", 105, DefaultKind::Flag),
    default_attribute("voice", 106, DefaultKind::Flag),
    default_attribute("ussd", 107, DefaultKind::Flag),
    default_attribute("rt", 108, DefaultKind::Flag),
    default_attribute("fb", 109, DefaultKind::Flag),
    default_attribute("fbc", 110, DefaultKind::Flag),
    default_attribute("twitter", 111, DefaultKind::Flag),
    default_attribute("mxit", 112, DefaultKind::Flag),
    default_attribute("wechat", 113, DefaultKind::Flag),
    default_attribute("wa", 114, DefaultKind::Flag),
];

/// The default attribute with this name, matched without regard to case (`customerid`, `Email`).
pub fn default_attribute_named(name: &str) -> Option<&'static DefaultAttribute> {
    DEFAULT_ATTRIBUTES
        .iter()
        .find(|attribute| attribute.name.eq_ignore_ascii_case(name))
}

impl DefaultAttribute {
    /// Channel flags (sms, voice, ...): "0"/"1" on the compatible API, booleans in typed views.
    pub fn is_flag(&self) -> bool {
        self.kind == DefaultKind::Flag
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerProfile {
    pub customer_id: CustomerId,
    /// Every attribute that has a value, default and custom, by canonical name; not customerId.
    pub attributes: BTreeMap<String, String>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl CustomerProfile {
    pub fn email(&self) -> Option<&str> {
        self.attributes.get("email").map(String::as_str)
    }

    pub fn msisdn(&self) -> Option<&str> {
        self.attributes.get("msisdn").map(String::as_str)
    }

    /// The email as lookups match it: without regard to case.
    pub fn email_key(&self) -> Option<String> {
        self.email().map(email_key)
    }

    /// The msisdn as lookups match it: E.164 with a leading `+`.
    pub fn msisdn_key(&self) -> Option<String> {
        self.msisdn().and_then(msisdn_key)
    }

    fn subject(&self) -> Subject {
        Subject::Customer {
            customer_id: self.customer_id.to_string(),
        }
    }

    fn bare(customer_id: CustomerId, now: DateTime<Utc>) -> Self {
        CustomerProfile {
            customer_id,
            attributes: BTreeMap::new(),
            version: 0,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A validated set of attribute writes for one customer: values normalised to their canonical
/// text (flags to 0/1, typed attributes to their type's canonical form); `None` clears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerPatch {
    pub customer_id: CustomerId,
    changes: Vec<(String, Option<String>)>,
}

impl CustomerPatch {
    /// Checks every attribute of one record: default attributes by their own rules, every other
    /// one against the tenant's schema (unknown, retired, mistyped or out-of-bounds values are
    /// refused naming the attribute and the rule). A `customerId` among the attributes must
    /// repeat the record's own.
    pub fn parse(
        customer_id: CustomerId,
        raw: Vec<RawAttribute>,
        schema: &Schema,
    ) -> Result<Self, DomainError> {
        let mut changes: Vec<(String, Option<String>)> = Vec::with_capacity(raw.len());
        for (name, value) in raw {
            let (canonical, value) = match default_attribute_named(&name) {
                Some(attribute) if attribute.kind == DefaultKind::Identifier => match &value {
                    AttributeValue::Text(text) if text == customer_id.as_str() => continue,
                    _ => {
                        return Err(DomainError::invalid(
                            name,
                            "differs from the record's customerId (a customerId cannot change)",
                        ));
                    }
                },
                Some(attribute) => (
                    attribute.name.to_owned(),
                    normalise_default(attribute, &value)?,
                ),
                None if schema.get(&name).is_none() && !schema.is_closed() => {
                    // An open schema: any well-named attribute is a string, registered implicitly.
                    check_custom_name(&name)?;
                    let value = match value {
                        AttributeValue::Clear => None,
                        AttributeValue::Text(text) => {
                            check_text(&name, &text)?;
                            Some(text)
                        }
                        AttributeValue::List(_) => {
                            return Err(DomainError::invalid(
                                &name,
                                "must be a single value, not a list",
                            ));
                        }
                    };
                    (name, value)
                }
                None => {
                    let definition = schema.get(&name).ok_or_else(|| {
                        DomainError::invalid(
                            &name,
                            "not an attribute of this tenant's schema (define it first: POST /v1/customer-attributes)",
                        )
                    })?;
                    let value = match value {
                        AttributeValue::Clear if definition.required && !definition.retired => {
                            return Err(DomainError::invalid(
                                &name,
                                "required: it cannot be cleared",
                            ));
                        }
                        AttributeValue::Clear => None,
                        written => Some(definition.check(&written)?.canonical()),
                    };
                    (name, value)
                }
            };
            // A name given twice in one record: the last value wins, as in a JSON object.
            changes.retain(|(existing, _)| *existing != canonical);
            changes.push((canonical, value));
        }
        Ok(CustomerPatch {
            customer_id,
            changes,
        })
    }

    /// Attributes this patch sets that the schema does not know yet (open schemas only): the
    /// store registers them as implicit string definitions.
    pub fn unregistered_names<'a>(&'a self, schema: &'a Schema) -> impl Iterator<Item = &'a str> {
        self.changes
            .iter()
            .filter(|(name, value)| {
                value.is_some()
                    && default_attribute_named(name).is_none()
                    && schema.get(name).is_none()
            })
            .map(|(name, _)| name.as_str())
    }

    fn apply_to(&self, attributes: &mut BTreeMap<String, String>) {
        for (name, value) in &self.changes {
            write_attribute(attributes, name, value.as_ref());
        }
    }
}

/// The typed index entries of a profile's custom attributes, for range queries, sorting and
/// uniqueness. Attributes without a definition (stored before the schema existed) have none.
pub fn stored_values(profile: &CustomerProfile, schema: &Schema) -> Vec<StoredValue> {
    profile
        .attributes
        .iter()
        .filter_map(|(name, text)| stored_value(schema.get(name)?, name, text))
        .collect()
}

/// The entries of the profile's unique attributes only (what a write checks for duplicates):
/// the other values are not typed at all.
pub fn unique_values(profile: &CustomerProfile, schema: &Schema) -> Vec<StoredValue> {
    // Few definitions are unique (most schemas have none): each is looked up in the profile,
    // instead of every attribute of the profile in the schema (~1.7k instructions a record).
    let mut unique: Vec<&AttributeDefinition> = schema
        .definitions()
        .filter(|definition| definition.unique)
        .collect();
    unique.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    unique
        .into_iter()
        .filter_map(|definition| {
            let text = profile.attributes.get(&definition.name)?;
            stored_value(definition, &definition.name, text)
        })
        .collect()
}

fn stored_value(definition: &AttributeDefinition, name: &str, text: &str) -> Option<StoredValue> {
    // An implicit attribute is text that no definition types (never unique, never looked up):
    // it has no entry until a definition adopts it, which writes its holders' entries.
    if definition.implicit {
        return None;
    }
    let value = TypedValue::parse(
        definition.attribute_type,
        name,
        &AttributeValue::Text(text.to_owned()),
    )
    .ok()?;
    Some(StoredValue {
        attribute_id: definition.id,
        sort_key: value.sort_key(),
        unique: definition.unique,
    })
}

fn normalise_default(
    attribute: &DefaultAttribute,
    value: &AttributeValue,
) -> Result<Option<String>, DomainError> {
    let name = attribute.name;
    let text = match value {
        AttributeValue::Text(text) => text,
        AttributeValue::Clear => return Ok(None),
        AttributeValue::List(_) => {
            return Err(DomainError::invalid(
                name,
                "must be a single value, not a list",
            ));
        }
    };
    let normalised = match attribute.kind {
        DefaultKind::Identifier => unreachable!("customerId is handled by the caller"),
        DefaultKind::Text => {
            check_text(name, text)?;
            text.clone()
        }
        DefaultKind::Email | DefaultKind::Msisdn if text.is_empty() => return Ok(None),
        DefaultKind::Email => {
            check_email(name, text)?;
            text.clone()
        }
        DefaultKind::Msisdn => {
            check_msisdn(name, text)?;
            text.clone()
        }
        DefaultKind::Flag => normalise_flag(name, text)?,
    };
    Ok(Some(normalised))
}

/// Defaults for absent attributes, then the required ones must all be there.
fn complete_on_create(profile: &mut CustomerProfile, schema: &Schema) -> Result<(), DomainError> {
    for definition in schema.active() {
        if !profile.attributes.contains_key(&definition.name) {
            if let Some(default) = &definition.default {
                profile
                    .attributes
                    .insert(definition.name.clone(), default.clone());
            } else if definition.required {
                return Err(DomainError::invalid(
                    &definition.name,
                    "required: a new customer must have it",
                ));
            }
        }
    }
    Ok(())
}

fn check_size(attributes: &BTreeMap<String, String>) -> Result<(), DomainError> {
    // No more attributes than the limit: no more custom ones either, and no name to look at.
    if attributes.len() <= MAX_CUSTOM_ATTRIBUTES {
        return Ok(());
    }
    let custom = attributes
        .keys()
        .filter(|name| default_attribute_named(name).is_none())
        .count();
    if custom > MAX_CUSTOM_ATTRIBUTES {
        return Err(DomainError::invalid(
            "Attributes",
            format!("a profile holds at most {MAX_CUSTOM_ATTRIBUTES} custom attributes"),
        ));
    }
    Ok(())
}

/// An email lookup key: lowercased, so that lookups ignore case.
pub fn email_key(email: &str) -> String {
    email.to_lowercase()
}

/// An msisdn lookup key: E.164 with a leading `+`; None for what is not an msisdn.
pub fn msisdn_key(msisdn: &str) -> Option<String> {
    crate::schema::types::normalise_msisdn("msisdn", msisdn).ok()
}

/// Creates a customer profile; refused if one exists with this customerId.
pub fn create(
    existing: Option<&CustomerProfile>,
    patch: &CustomerPatch,
    schema: &Schema,
    now: DateTime<Utc>,
) -> Result<(CustomerProfile, ChangeEvent), DomainError> {
    if existing.is_some() {
        return Err(DomainError::AlreadyExists {
            kind: ProfileKind::Customer,
        });
    }
    let mut profile = CustomerProfile::bare(patch.customer_id.clone(), now);
    patch.apply_to(&mut profile.attributes);
    complete_on_create(&mut profile, schema)?;
    check_size(&profile.attributes)?;
    profile.version = 1;
    let event = ChangeEvent {
        event_type: EventType::CustomerCreated,
        subject: profile.subject(),
        device_event: None,
        changes: diff(&BTreeMap::new(), &profile.attributes),
        profile_version: profile.version,
    };
    Ok((profile, event))
}

/// A partial update of a stored profile, checked and not applied yet: the attributes whose
/// value it changes, in name order, each with its value before and after.
///
/// Built from the patch alone and applied in place, so that a write neither copies the stored
/// profile nor compares every attribute of the two copies (~3k instructions a record of a
/// batch, callgrind); the store checks it (unique values) before applying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerUpdate {
    changes: Vec<AttributeChange>,
}

/// Checks a partial update of an existing customer profile: `None` when it changes nothing.
pub fn update(
    existing: Option<&CustomerProfile>,
    patch: &CustomerPatch,
) -> Result<Option<CustomerUpdate>, DomainError> {
    let existing = existing.ok_or(DomainError::NotFound {
        kind: ProfileKind::Customer,
    })?;
    // A patch names each attribute once (`parse` keeps the last value of a name given twice).
    let mut changes: Vec<AttributeChange> = patch
        .changes
        .iter()
        .filter_map(|(name, value)| {
            let old = existing.attributes.get(name);
            (old != value.as_ref()).then(|| AttributeChange {
                attribute: name.clone(),
                old: old.cloned(),
                new: value.clone(),
            })
        })
        .collect();
    if changes.is_empty() {
        return Ok(None);
    }
    changes.sort_unstable_by(|a, b| a.attribute.cmp(&b.attribute));
    let update = CustomerUpdate { changes };
    let added = update.changes.iter().filter(|c| c.old.is_none()).count();
    let removed = update.changes.iter().filter(|c| c.new.is_none()).count();
    if existing.attributes.len() + added - removed > MAX_CUSTOM_ATTRIBUTES {
        // Near the limit only: which names are custom is known from the updated map.
        let mut attributes = existing.attributes.clone();
        update.apply_to(&mut attributes);
        check_size(&attributes)?;
    }
    Ok(Some(update))
}

impl CustomerUpdate {
    /// Applies the update to the profile it was checked against; its event.
    pub fn apply(self, profile: &mut CustomerProfile, now: DateTime<Utc>) -> ChangeEvent {
        self.apply_to(&mut profile.attributes);
        profile.version += 1;
        profile.updated_at = now;
        ChangeEvent {
            event_type: EventType::CustomerUpdated,
            subject: profile.subject(),
            device_event: None,
            changes: self.changes,
            profile_version: profile.version,
        }
    }

    fn apply_to(&self, attributes: &mut BTreeMap<String, String>) {
        for change in &self.changes {
            write_attribute(attributes, &change.attribute, change.new.as_ref());
        }
    }

    /// How the profile's typed index entries move with this update: the attribute ids whose
    /// entry goes, and the entries to write. Only the attributes it changes are typed again: a
    /// write that changes one value of a profile with ten costs one parse, not twenty.
    pub fn stored_value_changes(&self, schema: &Schema) -> (Vec<i64>, Vec<StoredValue>) {
        let (mut removed, mut written) = (Vec::new(), Vec::new());
        for change in &self.changes {
            let name = &change.attribute;
            let Some(definition) = schema.get(name) else {
                continue;
            };
            let typed =
                |text: Option<&String>| text.and_then(|text| stored_value(definition, name, text));
            match (typed(change.old.as_ref()), typed(change.new.as_ref())) {
                (old, Some(new)) if old.as_ref() != Some(&new) => written.push(new),
                (Some(old), None) => removed.push(old.attribute_id),
                _ => {}
            }
        }
        (removed, written)
    }

    /// The entries of the unique attributes this update gives a value (what it checks for
    /// duplicates: the values it keeps were checked when they were written).
    pub fn unique_values(&self, schema: &Schema) -> Vec<StoredValue> {
        self.changes
            .iter()
            .filter_map(|change| {
                let definition = schema.get(&change.attribute).filter(|d| d.unique)?;
                stored_value(definition, &change.attribute, change.new.as_ref()?)
            })
            .collect()
    }
}

/// Deletes a customer profile. Its app profiles are unlinked by the caller, not deleted.
pub fn delete(existing: Option<&CustomerProfile>) -> Result<ChangeEvent, DomainError> {
    let existing = existing.ok_or(DomainError::NotFound {
        kind: ProfileKind::Customer,
    })?;
    Ok(ChangeEvent {
        event_type: EventType::CustomerDeleted,
        subject: existing.subject(),
        device_event: None,
        changes: diff(&existing.attributes, &BTreeMap::new()),
        profile_version: existing.version,
    })
}

/// The customer a link points to must exist: linking to an unknown customerId creates it with
/// just its customerId and the schema's defaults (the product's updateProfileData). Returns the
/// new profile and its event, or None if it exists. A schema whose required attributes have
/// no default cannot be satisfied by a link: the link is refused.
pub fn ensure_exists(
    existing: Option<&CustomerProfile>,
    customer_id: &CustomerId,
    schema: &Schema,
    now: DateTime<Utc>,
) -> Result<Option<(CustomerProfile, ChangeEvent)>, DomainError> {
    if existing.is_some() {
        return Ok(None);
    }
    let patch = CustomerPatch {
        customer_id: customer_id.clone(),
        changes: Vec::new(),
    };
    create(None, &patch, schema, now).map(Some)
}

#[cfg(test)]
mod tests;
