//! Customer profiles: keyed by customerId, with the product's default attributes (name, email,
//! msisdn, channel flags) and the tenant's own attributes (text for now; typed by the schema issue).

use crate::DomainError;
use crate::attribute::{
    AttributeValue, RawAttribute, check_custom_name, check_email, check_msisdn, check_text,
    normalise_flag,
};
use crate::change::{ChangeEvent, EventType, Subject, diff};
use crate::error::ProfileKind;
use crate::ids::CustomerId;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// At most this many tenant-defined attributes on one profile: a bound on row size.
pub const MAX_CUSTOM_ATTRIBUTES: usize = 256;
/// Tenant-defined attributes get column ids from here up, per tenant, in order of first use.
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

/// A validated set of attribute writes for one customer. Values are normalised (flags to 0/1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerPatch {
    pub customer_id: CustomerId,
    changes: Vec<(String, AttributeValue)>,
}

impl CustomerPatch {
    /// Checks every attribute of one record. A `customerId` among the attributes must repeat the
    /// record's own; anything else that is not a default attribute is a tenant attribute.
    pub fn parse(customer_id: CustomerId, raw: Vec<RawAttribute>) -> Result<Self, DomainError> {
        let mut changes: Vec<(String, AttributeValue)> = Vec::with_capacity(raw.len());
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
                None => {
                    check_custom_name(&name)?;
                    match &value {
                        AttributeValue::Text(text) => check_text(&name, text)?,
                        AttributeValue::List(_) => {
                            return Err(DomainError::invalid(
                                &name,
                                "must be a single value, not a list",
                            ));
                        }
                        AttributeValue::Clear => {}
                    }
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

    fn apply_to(&self, attributes: &mut BTreeMap<String, String>) -> Result<(), DomainError> {
        for (name, value) in &self.changes {
            match value {
                AttributeValue::Text(text) => attributes.insert(name.clone(), text.clone()),
                AttributeValue::Clear | AttributeValue::List(_) => attributes.remove(name),
            };
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

    /// The custom attribute names this patch sets (they need column ids).
    pub fn custom_names(&self) -> impl Iterator<Item = &str> {
        self.changes
            .iter()
            .filter(|(name, value)| {
                matches!(value, AttributeValue::Text(_)) && default_attribute_named(name).is_none()
            })
            .map(|(name, _)| name.as_str())
    }
}

fn normalise_default(
    attribute: &DefaultAttribute,
    value: &AttributeValue,
) -> Result<AttributeValue, DomainError> {
    let AttributeValue::Text(text) = value else {
        return Ok(AttributeValue::Clear);
    };
    let name = attribute.name;
    let normalised = match attribute.kind {
        DefaultKind::Identifier => unreachable!("customerId is handled by the caller"),
        DefaultKind::Text => {
            check_text(name, text)?;
            text.clone()
        }
        DefaultKind::Email if text.is_empty() => return Ok(AttributeValue::Clear),
        DefaultKind::Email => {
            check_email(name, text)?;
            text.clone()
        }
        DefaultKind::Msisdn if text.is_empty() => return Ok(AttributeValue::Clear),
        DefaultKind::Msisdn => {
            check_msisdn(name, text)?;
            text.clone()
        }
        DefaultKind::Flag => normalise_flag(name, text)?,
    };
    Ok(AttributeValue::Text(normalised))
}

/// Creates a customer profile; refused if one exists with this customerId.
pub fn create(
    existing: Option<&CustomerProfile>,
    patch: &CustomerPatch,
    now: DateTime<Utc>,
) -> Result<(CustomerProfile, ChangeEvent), DomainError> {
    if existing.is_some() {
        return Err(DomainError::AlreadyExists {
            kind: ProfileKind::Customer,
        });
    }
    let mut profile = CustomerProfile::bare(patch.customer_id.clone(), now);
    patch.apply_to(&mut profile.attributes)?;
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

/// Applies a partial update to an existing customer profile. No event when nothing changed.
pub fn update(
    existing: Option<&CustomerProfile>,
    patch: &CustomerPatch,
    now: DateTime<Utc>,
) -> Result<(CustomerProfile, Option<ChangeEvent>), DomainError> {
    let existing = existing.ok_or(DomainError::NotFound {
        kind: ProfileKind::Customer,
    })?;
    let mut profile = existing.clone();
    patch.apply_to(&mut profile.attributes)?;
    let changes = diff(&existing.attributes, &profile.attributes);
    if changes.is_empty() {
        return Ok((profile, None));
    }
    profile.version += 1;
    profile.updated_at = now;
    let event = ChangeEvent {
        event_type: EventType::CustomerUpdated,
        subject: profile.subject(),
        device_event: None,
        changes,
        profile_version: profile.version,
    };
    Ok((profile, Some(event)))
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

/// The customer a link points to must exist: linking to an unknown customerId creates it bare
/// (the product's updateProfileData). Returns the new profile and its event, or None if it exists.
pub fn ensure_exists(
    existing: Option<&CustomerProfile>,
    customer_id: &CustomerId,
    now: DateTime<Utc>,
) -> Option<(CustomerProfile, ChangeEvent)> {
    if existing.is_some() {
        return None;
    }
    let patch = CustomerPatch {
        customer_id: customer_id.clone(),
        changes: Vec::new(),
    };
    create(None, &patch, now).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(raw: &str) -> CustomerId {
        CustomerId::parse(raw).unwrap()
    }

    fn text(name: &str, value: &str) -> RawAttribute {
        (name.to_owned(), AttributeValue::Text(value.to_owned()))
    }

    #[test]
    fn default_names_are_canonicalised_and_flags_normalised() {
        let patch = CustomerPatch::parse(
            id("C-1"),
            vec![text("Email", "a@example.org"), text("sms", "true")],
        )
        .unwrap();
        let (profile, event) = create(None, &patch, Utc::now()).unwrap();
        assert_eq!(profile.email(), Some("a@example.org"));
        assert_eq!(profile.attributes["sms"], "1");
        assert_eq!(event.event_type, EventType::CustomerCreated);
        assert_eq!(event.changes.len(), 2);
    }

    #[test]
    fn malformed_email_is_refused() {
        let result = CustomerPatch::parse(id("C-1"), vec![text("email", "nope")]);
        assert!(
            matches!(result, Err(DomainError::InvalidAttribute { attribute, .. }) if attribute == "email")
        );
    }

    #[test]
    fn customer_id_in_attributes_must_match() {
        assert!(CustomerPatch::parse(id("C-1"), vec![text("customerid", "C-1")]).is_ok());
        assert!(CustomerPatch::parse(id("C-1"), vec![text("customerId", "C-2")]).is_err());
    }

    #[test]
    fn create_twice_is_already_exists() {
        let patch = CustomerPatch::parse(id("C-1"), vec![]).unwrap();
        let (profile, _) = create(None, &patch, Utc::now()).unwrap();
        assert_eq!(
            create(Some(&profile), &patch, Utc::now()).unwrap_err(),
            DomainError::AlreadyExists {
                kind: ProfileKind::Customer
            }
        );
    }

    #[test]
    fn update_is_partial_and_silent_when_nothing_changes() {
        let created =
            CustomerPatch::parse(id("C-1"), vec![text("name", "Ann"), text("city", "Leeds")])
                .unwrap();
        let (profile, _) = create(None, &created, Utc::now()).unwrap();
        let same = CustomerPatch::parse(id("C-1"), vec![text("name", "Ann")]).unwrap();
        let (unchanged, event) = update(Some(&profile), &same, Utc::now()).unwrap();
        assert!(event.is_none());
        assert_eq!(unchanged.version, 1);

        let rename = CustomerPatch::parse(
            id("C-1"),
            vec![text("name", "Bea"), ("city".into(), AttributeValue::Clear)],
        )
        .unwrap();
        let (updated, event) = update(Some(&profile), &rename, Utc::now()).unwrap();
        let event = event.unwrap();
        assert_eq!(updated.version, 2);
        assert_eq!(updated.attributes.get("city"), None);
        assert_eq!(event.changes.len(), 2);
    }

    #[test]
    fn update_of_missing_customer_is_not_found() {
        let patch = CustomerPatch::parse(id("C-9"), vec![]).unwrap();
        assert!(matches!(
            update(None, &patch, Utc::now()),
            Err(DomainError::NotFound { .. })
        ));
    }

    #[test]
    fn too_many_custom_attributes_are_refused() {
        let raw = (0..=MAX_CUSTOM_ATTRIBUTES)
            .map(|i| text(&format!("a{i}"), "x"))
            .collect();
        let patch = CustomerPatch::parse(id("C-1"), raw).unwrap();
        assert!(create(None, &patch, Utc::now()).is_err());
    }
}
