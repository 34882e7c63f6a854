//! App profiles: one per app install (appId + userId + deviceId), with a fixed attribute
//! catalogue and an optional link to a customer profile.

pub mod catalogue;
pub mod sdk;

use crate::DomainError;
use crate::attribute::{
    AttributeValue, RawAttribute, check_integer, check_text, normalise_bool_word, normalise_flag,
};
use crate::change::{AttributeChange, ChangeEvent, Changing, EventType, Subject, diff};
use crate::error::ProfileKind;
use crate::ids::{AppId, CustomerId, DeviceId, UserId};
use catalogue::{AttributeKind, CatalogueAttribute, catalogue_attribute};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// The format the product prints `createdOn` in.
pub const CREATED_ON_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppProfileKey {
    pub app_id: AppId,
    pub user_id: UserId,
    pub device_id: DeviceId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppProfile {
    pub key: AppProfileKey,
    pub customer_id: Option<CustomerId>,
    /// Catalogue attributes that have a value, by canonical key.
    pub attributes: BTreeMap<String, String>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The install's last SDK contact as the store holds it (to the store's resolution, for
    /// the TTL): `None` when it has none, or when this state is not stored under its key yet.
    /// Set by the store when it reads the install; a new state carries its source's.
    pub last_contact: Option<DateTime<Utc>>,
}

impl AppProfile {
    pub fn push_id(&self) -> Option<&str> {
        self.attributes.get("pushId").map(String::as_str)
    }

    fn subject(&self) -> Subject {
        Subject::AppProfile {
            app_id: self.key.app_id.to_string(),
            user_id: self.key.user_id.to_string(),
            device_id: self.key.device_id.to_string(),
        }
    }

    pub(crate) fn event(
        &self,
        event_type: EventType,
        changes: Vec<AttributeChange>,
    ) -> ChangeEvent {
        ChangeEvent {
            event_type,
            subject: self.subject(),
            device_event: None,
            changes,
            profile_version: self.version,
        }
    }
}

/// Validated writes to catalogue attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppProfilePatch {
    /// Normalised values by catalogue key; `None` clears the attribute.
    changes: Vec<(&'static str, Option<String>)>,
}

/// One app-profile record of a write: the identity keys it names and the attributes it sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppProfileWrite {
    pub user_id: Option<UserId>,
    pub device_id: Option<DeviceId>,
    pub customer_id: Option<CustomerId>,
    pub patch: AppProfilePatch,
}

impl AppProfileWrite {
    /// Splits the identity keys (userId, deviceId, customerId, appId) from the catalogue
    /// attributes and checks each attribute against the catalogue. An `appId` among the
    /// attributes must repeat the app the write is addressed to.
    pub fn parse(app_id: &AppId, raw: Vec<RawAttribute>) -> Result<Self, DomainError> {
        let mut write = AppProfileWrite {
            user_id: None,
            device_id: None,
            customer_id: None,
            patch: AppProfilePatch::default(),
        };
        for (key, value) in raw {
            let text = match &value {
                AttributeValue::Text(text) => Some(text.as_str()),
                AttributeValue::Clear => None,
                AttributeValue::List(_) => {
                    return Err(DomainError::invalid(
                        &key,
                        "must be a single value, not a list",
                    ));
                }
            };
            match key.to_ascii_lowercase().as_str() {
                "userid" => write.user_id = text.map(UserId::parse).transpose()?,
                "deviceid" => write.device_id = text.map(DeviceId::parse).transpose()?,
                "customerid" => {
                    write.customer_id = text
                        .filter(|text| !text.is_empty())
                        .map(CustomerId::parse)
                        .transpose()?
                }
                "appid" if text == Some(app_id.as_str()) => {}
                "appid" => return Err(DomainError::invalid(key, "differs from the app addressed")),
                _ => {
                    let attribute = catalogue_attribute(&key).ok_or_else(|| {
                        DomainError::invalid(
                            &key,
                            "not an app-profile attribute (the catalogue is fixed)",
                        )
                    })?;
                    let value = normalise(attribute, value)?;
                    write
                        .patch
                        .changes
                        .retain(|(existing, _)| *existing != attribute.key);
                    write.patch.changes.push((attribute.key, value));
                }
            }
        }
        Ok(write)
    }
}

impl AppProfilePatch {
    /// A patch from catalogue keys set by the server itself (registration, device monitors).
    pub fn from_raw(raw: Vec<RawAttribute>) -> Result<Self, DomainError> {
        let mut patch = AppProfilePatch::default();
        for (key, value) in raw {
            let attribute = catalogue_attribute(&key).ok_or_else(|| {
                DomainError::invalid(
                    &key,
                    "not an app-profile attribute (the catalogue is fixed)",
                )
            })?;
            patch
                .changes
                .push((attribute.key, normalise(attribute, value)?));
        }
        Ok(patch)
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Splits off the changes `keep` refuses; returns them by key (the SDK's `ignored`).
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) -> Vec<String> {
        let mut dropped = Vec::new();
        self.changes.retain(|(key, _)| {
            let kept = keep(key);
            if !kept {
                dropped.push((*key).to_owned());
            }
            kept
        });
        dropped
    }

    fn apply_to(&self, attributes: &mut Changing<'_>) {
        for (key, value) in &self.changes {
            attributes.set(key, value.clone());
        }
    }
}

fn normalise(
    attribute: &CatalogueAttribute,
    value: AttributeValue,
) -> Result<Option<String>, DomainError> {
    let key = attribute.key;
    let text = match value {
        AttributeValue::Text(text) => text,
        AttributeValue::List(_) => {
            return Err(DomainError::invalid(
                key,
                "must be a single value, not a list",
            ));
        }
        AttributeValue::Clear if attribute.kind == AttributeKind::SystemManaged => {
            return Err(DomainError::invalid(key, "set by the server; read-only"));
        }
        AttributeValue::Clear => return Ok(None),
    };
    check_text(key, &text)?;
    let normalised = match attribute.kind {
        AttributeKind::Text => text,
        AttributeKind::Flag => normalise_flag(key, &text)?,
        AttributeKind::BoolWord => normalise_bool_word(key, &text)?,
        AttributeKind::Integer => {
            check_integer(key, &text)?;
            text
        }
        AttributeKind::Status => match text.as_str() {
            "0" | "1" | "2" => text,
            _ => {
                return Err(DomainError::invalid(
                    key,
                    "status is 0, 1 or 2 (unregistered)",
                ));
            }
        },
        AttributeKind::Location => normalise_location(key, &text)?,
        AttributeKind::SystemManaged => {
            return Err(DomainError::invalid(key, "set by the server; read-only"));
        }
    };
    Ok(Some(normalised))
}

/// "[lat,lon]" (spaces allowed), latitude within ±90 and longitude within ±180.
fn normalise_location(key: &str, text: &str) -> Result<String, DomainError> {
    let bad = || DomainError::invalid(key, "a location is \"[latitude,longitude]\"");
    let inner = text
        .trim()
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .ok_or_else(bad)?;
    let (lat_text, lon_text) = inner.split_once(',').ok_or_else(bad)?;
    let lat: f64 = lat_text.trim().parse().map_err(|_| bad())?;
    let lon: f64 = lon_text.trim().parse().map_err(|_| bad())?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(bad());
    }
    // A device sends its readings as they are printed: most already are, and are kept as
    // sent (formatting the two numbers again was ~2.5k instructions an SDK location update).
    if text.len() == inner.len() + 2 && is_printed_form(lat_text) && is_printed_form(lon_text) {
        return Ok(text.to_owned());
    }
    Ok(format!("[{lat},{lon}]"))
}

/// Whether `number` is already what `f64`'s `Display` prints for the value it parses to: an
/// optional minus, an integer part without leading zeros, and a fraction without trailing
/// zeros, of at most 15 significant digits in all (such a decimal is the shortest that parses
/// to its double, since two of them never share one: 10^15 < 2^53).
fn is_printed_form(number: &str) -> bool {
    let digits = number.strip_prefix('-').unwrap_or(number);
    let (integer, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    let integer_ok =
        integer == "0" || (!integer.is_empty() && !integer.starts_with('0') && all_digits(integer));
    let fraction_ok = fraction.is_empty() && !digits.ends_with('.')
        || (!fraction.is_empty() && !fraction.ends_with('0') && all_digits(fraction));
    let significant = if integer == "0" {
        fraction.trim_start_matches('0').len()
    } else {
        integer.len() + fraction.len()
    };
    integer_ok && fraction_ok && significant <= 15
}

fn link_change(old: Option<&CustomerId>, new: Option<&CustomerId>) -> Vec<AttributeChange> {
    vec![AttributeChange {
        attribute: "customerId".to_owned(),
        old: old.map(ToString::to_string),
        new: new.map(ToString::to_string),
    }]
}

/// Creates an app profile (registration); refused if this app install already has one.
/// A link, if given, is part of the same change and raises its own event.
pub fn register(
    existing: Option<&AppProfile>,
    key: AppProfileKey,
    link: Option<CustomerId>,
    patch: &AppProfilePatch,
    now: DateTime<Utc>,
) -> Result<(AppProfile, Vec<ChangeEvent>), DomainError> {
    if existing.is_some() {
        return Err(DomainError::AlreadyExists {
            kind: ProfileKind::AppProfile,
        });
    }
    let mut profile = AppProfile {
        key,
        customer_id: None,
        attributes: BTreeMap::new(),
        version: 1,
        created_at: now,
        updated_at: now,
        last_contact: None,
    };
    let mut changing = Changing::new(&mut profile.attributes);
    changing.set("createdOn", Some(now.format(CREATED_ON_FORMAT).to_string()));
    changing.set("status", Some("0".to_owned()));
    patch.apply_to(&mut changing);
    let changes = changing.finish();
    let mut events = vec![profile.event(EventType::AppProfileRegistered, changes)];
    if let Some(customer_id) = link {
        profile.customer_id = Some(customer_id);
        events.push(profile.event(
            EventType::AppProfileLinked,
            link_change(None, profile.customer_id.as_ref()),
        ));
    }
    Ok((profile, events))
}

/// Updates attributes and, when `link` names another customer, moves the link.
/// Returns no events (and the same version) when nothing changed.
pub fn update(
    existing: &AppProfile,
    link: Option<CustomerId>,
    patch: &AppProfilePatch,
    now: DateTime<Utc>,
) -> (AppProfile, Vec<ChangeEvent>) {
    let mut profile = existing.clone();
    let mut changing = Changing::new(&mut profile.attributes);
    patch.apply_to(&mut changing);
    let changes = changing.finish();
    let relink = link.filter(|customer_id| existing.customer_id.as_ref() != Some(customer_id));
    if changes.is_empty() && relink.is_none() {
        return (profile, Vec::new());
    }
    profile.version += 1;
    profile.updated_at = now;
    let mut events = Vec::new();
    if !changes.is_empty() {
        events.push(profile.event(EventType::AppProfileUpdated, changes));
    }
    if let Some(customer_id) = relink {
        profile.customer_id = Some(customer_id);
        events.push(profile.event(
            EventType::AppProfileLinked,
            link_change(existing.customer_id.as_ref(), profile.customer_id.as_ref()),
        ));
    }
    (profile, events)
}

/// Removes the link to a customer profile; None when there was none.
pub fn unlink(existing: &AppProfile, now: DateTime<Utc>) -> Option<(AppProfile, ChangeEvent)> {
    existing.customer_id.as_ref()?;
    let mut profile = existing.clone();
    profile.customer_id = None;
    profile.version += 1;
    profile.updated_at = now;
    let event = profile.event(
        EventType::AppProfileUnlinked,
        link_change(existing.customer_id.as_ref(), None),
    );
    Some((profile, event))
}

pub fn delete(existing: &AppProfile) -> ChangeEvent {
    existing.event(
        EventType::AppProfileDeleted,
        diff(&existing.attributes, &BTreeMap::new()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> AppId {
        AppId::parse("AB12345678").unwrap()
    }

    fn text(key: &str, value: &str) -> RawAttribute {
        (key.to_owned(), AttributeValue::Text(value.to_owned()))
    }

    fn key() -> AppProfileKey {
        AppProfileKey {
            app_id: app(),
            user_id: UserId::parse("u1").unwrap(),
            device_id: DeviceId::parse("d1").unwrap(),
        }
    }

    proptest::proptest! {
        /// A number kept as sent is exactly what formatting its value prints, and what is
        /// printed is kept.
        #[test]
        fn a_number_in_printed_form_is_what_display_prints(
            text in "-?(0|[1-9][0-9]{0,3})(\\.[0-9]{1,14})?",
            microdegrees in -180_000_000i64..180_000_000,
        ) {
            if is_printed_form(&text) {
                let parsed: f64 = text.parse().unwrap();
                proptest::prop_assert_eq!(parsed.to_string(), text);
            }
            // A reading to the micro-degree, as devices give them.
            let printed = (microdegrees as f64 / 1e6).to_string();
            proptest::prop_assert!(is_printed_form(&printed), "{}", printed);
        }
    }

    #[test]
    fn a_location_is_kept_as_sent_when_printed_and_printed_otherwise() {
        for (sent, stored) in [
            ("[51.5,-0.12]", "[51.5,-0.12]"),
            ("[0,0]", "[0,0]"),
            ("[-0,5]", "[-0,5]"),
            ("[51.50,-0.12]", "[51.5,-0.12]"),
            ("[051.5,1]", "[51.5,1]"),
            ("[1.,2]", "[1,2]"),
            ("[.5,2]", "[0.5,2]"),
            ("[+1,2]", "[1,2]"),
            ("[1e1,2]", "[10,2]"),
            (" [1,2] ", "[1,2]"),
            ("[1, 2]", "[1,2]"),
            ("[0.1234567890123456,2]", "[0.1234567890123456,2]"),
            ("[1.0000000000000001,2]", "[1,2]"),
        ] {
            assert_eq!(
                normalise_location("location", sent).unwrap(),
                stored,
                "{sent}"
            );
        }
    }

    #[test]
    fn parse_splits_identity_from_catalogue_attributes() {
        let write = AppProfileWrite::parse(
            &app(),
            vec![
                text("userId", "u1"),
                text("deviceId", "d1"),
                text("Timezone", "Europe/London"),
                text("NFC", "true"),
            ],
        )
        .unwrap();
        assert_eq!(write.user_id.unwrap().as_str(), "u1");
        assert_eq!(write.device_id.unwrap().as_str(), "d1");
        let (profile, _) = register(None, key(), None, &write.patch, Utc::now()).unwrap();
        assert_eq!(profile.attributes["timezone"], "Europe/London");
        assert_eq!(profile.attributes["NFC"], "1");
    }

    #[test]
    fn unknown_and_read_only_attributes_are_refused() {
        assert!(AppProfileWrite::parse(&app(), vec![text("favourite_colour", "red")]).is_err());
        assert!(
            AppProfileWrite::parse(&app(), vec![text("createdOn", "2020-01-01 00:00:00")]).is_err()
        );
        assert!(AppProfileWrite::parse(&app(), vec![text("appId", "XY00000000")]).is_err());
    }

    #[test]
    fn typed_catalogue_values_are_checked() {
        assert!(AppProfileWrite::parse(&app(), vec![text("timespent", "12")]).is_ok());
        assert!(AppProfileWrite::parse(&app(), vec![text("timespent", "twelve")]).is_err());
        assert!(AppProfileWrite::parse(&app(), vec![text("status", "7")]).is_err());
        assert!(AppProfileWrite::parse(&app(), vec![text("location", "[91,0]")]).is_err());
        let write =
            AppProfileWrite::parse(&app(), vec![text("location", "[ 51.5, -0.12 ]")]).unwrap();
        let (profile, _) = register(None, key(), None, &write.patch, Utc::now()).unwrap();
        assert_eq!(profile.attributes["location"], "[51.5,-0.12]");
    }

    #[test]
    fn register_with_link_raises_two_events() {
        let customer = CustomerId::parse("C-1").unwrap();
        let (profile, events) = register(
            None,
            key(),
            Some(customer.clone()),
            &AppProfilePatch::default(),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(profile.customer_id, Some(customer));
        let types: Vec<_> = events.iter().map(|e| e.event_type).collect();
        assert_eq!(
            types,
            [EventType::AppProfileRegistered, EventType::AppProfileLinked]
        );
        assert!(
            register(
                Some(&profile),
                key(),
                None,
                &AppProfilePatch::default(),
                Utc::now()
            )
            .is_err()
        );
    }

    #[test]
    fn update_without_changes_is_silent_and_relink_is_an_event() {
        let (profile, _) =
            register(None, key(), None, &AppProfilePatch::default(), Utc::now()).unwrap();
        let (same, events) = update(&profile, None, &AppProfilePatch::default(), Utc::now());
        assert!(events.is_empty());
        assert_eq!(same.version, profile.version);

        let (linked, events) = update(
            &profile,
            Some(CustomerId::parse("C-2").unwrap()),
            &AppProfilePatch::default(),
            Utc::now(),
        );
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type, EventType::AppProfileLinked);
        let (unlinked, event) = unlink(&linked, Utc::now()).unwrap();
        assert_eq!(unlinked.customer_id, None);
        assert_eq!(event.changes[0].old.as_deref(), Some("C-2"));
        assert!(unlink(&unlinked, Utc::now()).is_none());
    }
}
