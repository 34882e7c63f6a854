//! Change events: what every mutation produces, in the same store transaction as the new state.
//! The store numbers them (gapless per tenant) and stamps them; delivery is the relays' job.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "customer.created")]
    CustomerCreated,
    #[serde(rename = "customer.updated")]
    CustomerUpdated,
    #[serde(rename = "customer.deleted")]
    CustomerDeleted,
    #[serde(rename = "app_profile.registered")]
    AppProfileRegistered,
    #[serde(rename = "app_profile.updated")]
    AppProfileUpdated,
    #[serde(rename = "app_profile.linked")]
    AppProfileLinked,
    #[serde(rename = "app_profile.unlinked")]
    AppProfileUnlinked,
    #[serde(rename = "app_profile.unregistered")]
    AppProfileUnregistered,
    #[serde(rename = "app_profile.deleted")]
    AppProfileDeleted,
}

impl EventType {
    /// Every type, in the order the docs list them.
    pub const ALL: [EventType; 9] = [
        EventType::CustomerCreated,
        EventType::CustomerUpdated,
        EventType::CustomerDeleted,
        EventType::AppProfileRegistered,
        EventType::AppProfileUpdated,
        EventType::AppProfileLinked,
        EventType::AppProfileUnlinked,
        EventType::AppProfileUnregistered,
        EventType::AppProfileDeleted,
    ];

    /// The type a wire name (`customer.updated`) names, if any.
    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::CustomerCreated => "customer.created",
            EventType::CustomerUpdated => "customer.updated",
            EventType::CustomerDeleted => "customer.deleted",
            EventType::AppProfileRegistered => "app_profile.registered",
            EventType::AppProfileUpdated => "app_profile.updated",
            EventType::AppProfileLinked => "app_profile.linked",
            EventType::AppProfileUnlinked => "app_profile.unlinked",
            EventType::AppProfileUnregistered => "app_profile.unregistered",
            EventType::AppProfileDeleted => "app_profile.deleted",
        }
    }
}

/// Whose profile changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Subject {
    Customer {
        customer_id: String,
    },
    AppProfile {
        app_id: String,
        user_id: String,
        device_id: String,
    },
}

/// One attribute's move from `old` to `new`; `None` is "absent".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeChange {
    pub attribute: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEvent {
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub subject: Subject,
    /// The device event that caused the change (LOCATIONCHANGE...), when a device caused it.
    pub device_event: Option<String>,
    pub changes: Vec<AttributeChange>,
    /// The profile's version after the change (the deleted version for deletes).
    pub profile_version: u64,
}

/// Every attribute whose value differs between two attribute maps, in name order.
pub fn diff(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Vec<AttributeChange> {
    differing(old, new)
        .map(|(name, old, new)| AttributeChange {
            attribute: name.clone(),
            old: old.cloned(),
            new: new.cloned(),
        })
        .collect()
}

/// Every name whose value differs between two attribute maps, with its value in each, in name
/// order.
///
/// One walk over both maps side by side (both are in name order): looking each name up in
/// the other map, then sorting, was ~4 % of an SDK profile update's instructions (callgrind).
fn differing<'a>(
    old: &'a BTreeMap<String, String>,
    new: &'a BTreeMap<String, String>,
) -> impl Iterator<Item = (&'a String, Option<&'a String>, Option<&'a String>)> {
    let (mut old, mut new) = (old.iter().peekable(), new.iter().peekable());
    std::iter::from_fn(move || {
        loop {
            // Which map holds the next name: the one whose name comes first, or both.
            let next = match (old.peek(), new.peek()) {
                (None, None) => return None,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some((old_name, _)), Some((new_name, _))) => old_name.cmp(new_name),
            };
            match next {
                Ordering::Less => return old.next().map(|(name, value)| (name, Some(value), None)),
                Ordering::Greater => {
                    return new.next().map(|(name, value)| (name, None, Some(value)));
                }
                Ordering::Equal => {
                    let ((name, old_value), (_, new_value)) = (old.next()?, new.next()?);
                    if old_value != new_value {
                        return Some((name, Some(old_value), Some(new_value)));
                    }
                }
            }
        }
    })
}

/// Sets (`Some`) or clears (`None`) one attribute of a map; the value it replaced.
pub(crate) fn write_attribute(
    attributes: &mut BTreeMap<String, String>,
    name: &str,
    value: Option<&String>,
) -> Option<String> {
    match value {
        Some(value) => attributes.insert(name.to_owned(), value.clone()),
        None => attributes.remove(name),
    }
}

/// An attribute map being changed in place, keeping what each write replaced, so that the
/// change's event needs no copy of the map to compare with (an SDK profile update cloned its
/// install's ~15 attributes and compared both maps whole, ~4k instructions, callgrind).
pub(crate) struct Changing<'a> {
    attributes: &'a mut BTreeMap<String, String>,
    changes: Vec<AttributeChange>,
}

impl<'a> Changing<'a> {
    pub(crate) fn new(attributes: &'a mut BTreeMap<String, String>) -> Self {
        Changing {
            attributes,
            changes: Vec::new(),
        }
    }

    /// Sets (`Some`) or clears (`None`) one attribute.
    pub(crate) fn set(&mut self, key: &str, new: Option<String>) {
        if self.attributes.get(key) == new.as_ref() {
            return;
        }
        let old = write_attribute(self.attributes, key, new.as_ref());
        match self
            .changes
            .iter_mut()
            .find(|change| change.attribute == key)
        {
            // Written again: the change runs from the first old value to the last new one.
            Some(earlier) => earlier.new = new,
            None => self.changes.push(AttributeChange {
                attribute: key.to_owned(),
                old,
                new,
            }),
        }
    }

    /// The attributes that moved, in name order: what [`diff`] of the map before and after
    /// gives.
    pub(crate) fn finish(self) -> Vec<AttributeChange> {
        let mut changes = self.changes;
        changes.retain(|change| change.old != change.new);
        changes.sort_unstable_by(|a, b| a.attribute.cmp(&b.attribute));
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_type_parses_from_its_wire_name_and_nothing_else_does() {
        for event_type in EventType::ALL {
            assert_eq!(EventType::parse(event_type.as_str()), Some(event_type));
            let serialized = serde_json::to_value(event_type).unwrap();
            assert_eq!(serialized, event_type.as_str());
        }
        assert_eq!(EventType::parse("customer.renamed"), None);
    }

    #[test]
    fn diff_reports_added_changed_and_removed() {
        let changes = diff(
            &map(&[("a", "1"), ("b", "2"), ("c", "3")]),
            &map(&[("a", "1"), ("b", "9"), ("d", "4")]),
        );
        let names: Vec<_> = changes.iter().map(|c| c.attribute.as_str()).collect();
        assert_eq!(names, ["b", "c", "d"]);
        assert_eq!(changes[0].old.as_deref(), Some("2"));
        assert_eq!(changes[0].new.as_deref(), Some("9"));
        assert_eq!(changes[1].new, None);
        assert_eq!(changes[2].old, None);
    }

    /// Every pair of maps over three names, each absent or holding one of two values: the
    /// walk finds what looking every name up in both maps finds, in name order.
    #[test]
    fn diff_walks_to_what_a_lookup_of_every_name_finds() {
        let names = ["a", "b", "c"];
        let maps: Vec<BTreeMap<String, String>> = (0..27)
            .map(|mut code: u32| {
                let mut map = BTreeMap::new();
                for name in names {
                    match code % 3 {
                        1 => map.insert(name.to_owned(), "1".to_owned()),
                        2 => map.insert(name.to_owned(), "2".to_owned()),
                        _ => None,
                    };
                    code /= 3;
                }
                map
            })
            .collect();
        type Change = (String, Option<String>, Option<String>);
        for old in &maps {
            for new in &maps {
                let expected: Vec<Change> = names
                    .iter()
                    .map(|name| {
                        (
                            name.to_string(),
                            old.get(*name).cloned(),
                            new.get(*name).cloned(),
                        )
                    })
                    .filter(|(_, old, new)| old != new)
                    .collect();
                let found: Vec<Change> = diff(old, new)
                    .into_iter()
                    .map(|c| (c.attribute, c.old, c.new))
                    .collect();
                assert_eq!(found, expected, "{old:?} -> {new:?}");
            }
        }
    }

    #[test]
    fn event_type_names_match_serde() {
        let json = serde_json::to_string(&EventType::AppProfileLinked).unwrap();
        assert_eq!(
            json,
            format!("\"{}\"", EventType::AppProfileLinked.as_str())
        );
    }

    /// The changes kept while changing in place are what comparing the maps before and after
    /// gives: an attribute written twice runs from its first value to its last, one written
    /// back to its value is no change, and they come in name order.
    #[test]
    fn changing_in_place_keeps_what_a_comparison_of_both_maps_finds() {
        let before = map(&[("b", "1"), ("c", "2"), ("d", "3")]);
        let mut attributes = before.clone();
        let mut changing = Changing::new(&mut attributes);
        changing.set("d", Some("4".to_owned()));
        changing.set("a", Some("0".to_owned()));
        changing.set("c", None);
        changing.set("b", Some("9".to_owned()));
        changing.set("b", Some("1".to_owned()));
        changing.set("d", Some("5".to_owned()));
        changing.set("e", None);
        let changes = changing.finish();
        assert_eq!(changes, diff(&before, &attributes));
        let names: Vec<&str> = changes.iter().map(|c| c.attribute.as_str()).collect();
        assert_eq!(names, ["a", "c", "d"]);
        assert_eq!(changes[2].old.as_deref(), Some("3"));
        assert_eq!(changes[2].new.as_deref(), Some("5"));
    }
}
