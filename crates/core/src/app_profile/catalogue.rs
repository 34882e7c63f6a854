//! The fixed catalogue of app-profile attributes: reference §6.1 (device/app channel) and the
//! device attributes of `device-attributes.md`. Tenants cannot extend it; an unknown key is refused.
//! Each attribute has a stable numeric ID for the compatible API's reads: never renumber one.

/// How a catalogue attribute's value is checked and normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeKind {
    /// Free text within the general size limits.
    Text,
    /// "0"/"1" on the wire; true/false accepted.
    Flag,
    /// "true"/"false" on the wire (the product prints `guest` so).
    BoolWord,
    /// A whole number.
    Integer,
    /// "0" active, "1" active (legacy), "2" unregistered.
    Status,
    /// "[lat,lon]" with latitude in ±90 and longitude in ±180.
    Location,
    /// Set by the server, never by a client (createdOn).
    SystemManaged,
}

#[derive(Debug, Clone, Copy)]
pub struct CatalogueAttribute {
    pub key: &'static str,
    pub id: i64,
    pub kind: AttributeKind,
}

const fn attr(key: &'static str, id: i64, kind: AttributeKind) -> CatalogueAttribute {
    CatalogueAttribute { key, id, kind }
}

use AttributeKind::*;

/// Identity keys of an app profile: not attributes in the map, but printed first with these IDs.
pub const IDENTITY_ATTRIBUTES: &[CatalogueAttribute] = &[
    attr("appId", 201, Text),
    attr("userId", 202, Text),
    attr("deviceId", 203, Text),
    attr("customerId", 204, Text),
];

/// Every attribute an app profile may hold, in the order reads print them.
pub const CATALOGUE: &[CatalogueAttribute] = &[
    // Identity and state (§6.1).
    attr("rtmId", 205, Text),
    attr("pushId", 206, Text),
    attr("ios_fcmpushid", 207, Text),
    attr("channel", 208, Text),
    attr("status", 209, Status),
    attr("verified", 210, Flag),
    attr("connectStatus", 211, Flag),
    attr("guest", 212, BoolWord),
    attr("createdOn", 213, SystemManaged),
    attr("last_opened", 214, Text),
    attr("last_upgraded", 215, Text),
    attr("sdkversion", 216, Text),
    attr("sdkheartbeat", 217, Text),
    attr("accounts", 218, Text),
    attr("email", 219, Text),
    attr("foreground", 220, Flag),
    attr("foregroundapp", 221, Text),
    attr("timespent", 222, Integer),
    // Device.
    attr("os", 223, Text),
    attr("osversion", 224, Text),
    attr("make", 225, Text),
    attr("model", 226, Text),
    attr("imei", 227, Text),
    attr("imsi", 228, Text),
    attr("serialnumber", 229, Text),
    attr("resolution", 230, Text),
    attr("RAM", 231, Text),
    attr("internalmemory", 232, Text),
    attr("externalmemory", 233, Text),
    attr("batterylevel", 234, Text),
    attr("Bluetooth", 235, Flag),
    attr("NFC", 236, Flag),
    attr("MAC", 237, Text),
    attr("IP", 238, Text),
    attr("useragent", 239, Text),
    attr("language", 240, Text),
    attr("timezone", 241, Text),
    attr("idlescreen", 242, Flag),
    attr("phonemode", 243, Text),
    attr("presence", 244, Text),
    // Network and location.
    attr("teleco", 245, Text),
    attr("MCC", 246, Text),
    attr("MNC", 247, Text),
    attr("cellid", 248, Text),
    attr("connectType", 249, Text),
    attr("signalstrength", 250, Text),
    attr("roaming", 251, Flag),
    attr("location", 252, Location),
    attr("oldlocation", 253, Text),
    attr("geofence", 254, Text),
    // The platform the SDK registered from (android, ios, web); set by the server.
    attr("channelType", 255, SystemManaged),
];

/// The catalogue attribute with this key, matched without regard to case: the product's own
/// documents spell `Os`, `Timezone` and `os`, `timezone` for the same attribute.
pub fn catalogue_attribute(key: &str) -> Option<&'static CatalogueAttribute> {
    CATALOGUE
        .iter()
        .find(|attribute| attribute.key.eq_ignore_ascii_case(key))
}

/// The ID of any printed app-profile key, identity keys included.
pub fn attribute_id(key: &str) -> Option<i64> {
    IDENTITY_ATTRIBUTES
        .iter()
        .chain(CATALOGUE)
        .find(|attribute| attribute.key == key)
        .map(|attribute| attribute.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn keys_and_ids_are_unique_ignoring_case() {
        let all: Vec<_> = IDENTITY_ATTRIBUTES.iter().chain(CATALOGUE).collect();
        let keys: HashSet<_> = all.iter().map(|a| a.key.to_ascii_lowercase()).collect();
        let ids: HashSet<_> = all.iter().map(|a| a.id).collect();
        assert_eq!(keys.len(), all.len());
        assert_eq!(ids.len(), all.len());
    }

    #[test]
    fn lookup_ignores_case() {
        assert_eq!(catalogue_attribute("Timezone").unwrap().key, "timezone");
        assert_eq!(catalogue_attribute("ram").unwrap().key, "RAM");
        assert!(catalogue_attribute("favourite_colour").is_none());
    }
}
