//! Device events, and turning a provider's answers into the attribute values the server's
//! catalogue expects (exact keys of `GET /v1/device-attributes`, value shapes of
//! device-attributes.md).

use crate::provider::{
    Accounts, AppActivity, AttributeProvider, DeviceInfo, Hardware, Memory, Network, Telephony,
};
use serde_json::{Value, json};
use std::cell::OnceCell;
use std::collections::BTreeMap;

/// Attribute values as sent in `data.update`.
pub type Readings = BTreeMap<String, Value>;

/// The `event` of the one request that carries one-time monitor readings.
pub const ONE_TIME_EVENT: &str = "DEVICEINFO";
/// The `event` of a request carrying interval monitor readings.
pub const INTERVAL_EVENT: &str = "PERIODICUPDATE";
/// The `event` of the heartbeat (the product SDKs' name).
pub const HEARTBEAT_EVENT: &str = "ProfileUpdate";

/// A change on the device that event monitors capture. The first four are the product's
/// names; the others follow their pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceEvent {
    /// `LOCATIONCHANGE`: `location`.
    LocationChange,
    /// `NETWORKCHANGE`: `teleco`, `MCC`, `MNC`, `imsi`, `cellid`, `connectType`, `IP`.
    NetworkChange,
    /// `TIMEZONECHANGE`: `timezone`.
    TimeZoneChange,
    /// `ROAMINGCHANGE`: `roaming`.
    RoamingChange,
    /// `LANGUAGECHANGE`: `language`.
    LanguageChange,
    /// `FOREGROUNDCHANGE`: `foreground`, `foregroundapp`, `timespent`.
    ForegroundChange,
    /// `IDLESCREENCHANGE`: `idlescreen`.
    IdleScreenChange,
    /// `PHONEMODECHANGE`: `phonemode`.
    PhoneModeChange,
    /// `GEOFENCECHANGE`: `geofence`.
    GeofenceChange,
}

impl DeviceEvent {
    /// Every device event.
    pub const ALL: [DeviceEvent; 9] = [
        DeviceEvent::LocationChange,
        DeviceEvent::NetworkChange,
        DeviceEvent::TimeZoneChange,
        DeviceEvent::RoamingChange,
        DeviceEvent::LanguageChange,
        DeviceEvent::ForegroundChange,
        DeviceEvent::IdleScreenChange,
        DeviceEvent::PhoneModeChange,
        DeviceEvent::GeofenceChange,
    ];

    /// The `event` sent with the readings.
    pub fn name(self) -> &'static str {
        match self {
            DeviceEvent::LocationChange => "LOCATIONCHANGE",
            DeviceEvent::NetworkChange => "NETWORKCHANGE",
            DeviceEvent::TimeZoneChange => "TIMEZONECHANGE",
            DeviceEvent::RoamingChange => "ROAMINGCHANGE",
            DeviceEvent::LanguageChange => "LANGUAGECHANGE",
            DeviceEvent::ForegroundChange => "FOREGROUNDCHANGE",
            DeviceEvent::IdleScreenChange => "IDLESCREENCHANGE",
            DeviceEvent::PhoneModeChange => "PHONEMODECHANGE",
            DeviceEvent::GeofenceChange => "GEOFENCECHANGE",
        }
    }

    /// The attributes this event changes.
    pub fn attributes(self) -> &'static [&'static str] {
        match self {
            DeviceEvent::LocationChange => &["location"],
            DeviceEvent::NetworkChange => &[
                "teleco",
                "MCC",
                "MNC",
                "imsi",
                "cellid",
                "connectType",
                "IP",
            ],
            DeviceEvent::TimeZoneChange => &["timezone"],
            DeviceEvent::RoamingChange => &["roaming"],
            DeviceEvent::LanguageChange => &["language"],
            DeviceEvent::ForegroundChange => &["foreground", "foregroundapp", "timespent"],
            DeviceEvent::IdleScreenChange => &["idlescreen"],
            DeviceEvent::PhoneModeChange => &["phonemode"],
            DeviceEvent::GeofenceChange => &["geofence"],
        }
    }

    /// The event an event monitor of `attribute` listens to.
    pub fn of_attribute(attribute: &str) -> Option<DeviceEvent> {
        DeviceEvent::ALL
            .into_iter()
            .find(|event| event.attributes().contains(&attribute))
    }
}

/// `os`, `osversion`, `make`, `model` for the registration.
pub(crate) fn device_info(provider: &dyn AttributeProvider) -> Readings {
    let DeviceInfo {
        os,
        os_version,
        make,
        model,
    } = provider.device_info().unwrap_or_default();
    [
        ("os", os),
        ("osversion", os_version),
        ("make", make),
        ("model", model),
    ]
    .into_iter()
    .filter_map(|(key, value)| Some((key.to_owned(), Value::from(value?))))
    .collect()
}

/// Reads `attributes` from the provider, asking each family at most once. Attributes the
/// provider does not know are left out (the server's value is not cleared).
pub(crate) fn read(provider: &dyn AttributeProvider, attributes: &[String]) -> Readings {
    let families = Families::new(provider);
    attributes
        .iter()
        .filter_map(|key| Some((key.clone(), families.value(key)?)))
        .collect()
}

/// "11.85 GB": sizes as the product prints them (binary gigabytes, two decimals).
pub(crate) fn size_text(bytes: u64) -> String {
    format!("{:.2} GB", bytes as f64 / (1024.0 * 1024.0 * 1024.0))
}

fn flag(value: bool) -> Value {
    Value::from(if value { "1" } else { "0" })
}

/// The provider's families, each read on first use.
struct Families<'a> {
    provider: &'a dyn AttributeProvider,
    telephony: OnceCell<Option<Telephony>>,
    network: OnceCell<Option<Network>>,
    memory: OnceCell<Option<Memory>>,
    hardware: OnceCell<Option<Hardware>>,
    activity: OnceCell<Option<AppActivity>>,
    accounts: OnceCell<Option<Accounts>>,
}

impl<'a> Families<'a> {
    fn new(provider: &'a dyn AttributeProvider) -> Self {
        Families {
            provider,
            telephony: OnceCell::new(),
            network: OnceCell::new(),
            memory: OnceCell::new(),
            hardware: OnceCell::new(),
            activity: OnceCell::new(),
            accounts: OnceCell::new(),
        }
    }

    fn telephony(&self) -> Option<&Telephony> {
        self.telephony
            .get_or_init(|| self.provider.telephony())
            .as_ref()
    }
    fn network(&self) -> Option<&Network> {
        self.network
            .get_or_init(|| self.provider.network())
            .as_ref()
    }
    fn memory(&self) -> Option<&Memory> {
        self.memory.get_or_init(|| self.provider.memory()).as_ref()
    }
    fn hardware(&self) -> Option<&Hardware> {
        self.hardware
            .get_or_init(|| self.provider.hardware())
            .as_ref()
    }
    fn activity(&self) -> Option<&AppActivity> {
        self.activity
            .get_or_init(|| self.provider.app_activity())
            .as_ref()
    }
    fn accounts(&self) -> Option<&Accounts> {
        self.accounts
            .get_or_init(|| self.provider.accounts())
            .as_ref()
    }

    /// The value of one catalogue attribute, in its wire shape.
    fn value(&self, key: &str) -> Option<Value> {
        let text = |value: &Option<String>| value.clone().map(Value::from);
        let size = |value: Option<u64>| value.map(|bytes| Value::from(size_text(bytes)));
        match key {
            "timezone" => self.provider.time_zone().map(Value::from),
            "language" => self.provider.language().map(Value::from),
            "location" => self
                .provider
                .location()
                .map(|at| json!([at.latitude, at.longitude])),
            "geofence" => self.provider.geofence().map(Value::from),
            "batterylevel" => self
                .provider
                .battery_level()
                .map(|percent| Value::from(format!("{}%", percent.min(100)))),
            "useragent" => self.provider.user_agent().map(Value::from),
            "teleco" => text(&self.telephony()?.carrier),
            "MCC" => text(&self.telephony()?.mcc),
            "MNC" => text(&self.telephony()?.mnc),
            "imsi" => text(&self.telephony()?.imsi),
            "cellid" => text(&self.telephony()?.cell_id),
            "roaming" => self.telephony()?.roaming.map(flag),
            "signalstrength" => self.telephony()?.signal_dbm.map(Value::from),
            "connectType" => self
                .network()?
                .connect_type
                .as_ref()
                .map(|kind| Value::from(kind.as_str())),
            "IP" => text(&self.network()?.ip),
            "MAC" => text(&self.network()?.mac),
            "RAM" => size(self.memory()?.ram_bytes),
            "internalmemory" => size(self.memory()?.internal_storage_bytes),
            "externalmemory" => size(self.memory()?.external_storage_bytes),
            "resolution" => self
                .hardware()?
                .resolution
                .map(|(width, height)| Value::from(format!("{width}x{height}"))),
            "Bluetooth" => self.hardware()?.bluetooth.map(flag),
            "NFC" => self.hardware()?.nfc.map(flag),
            "imei" => text(&self.hardware()?.imei),
            "serialnumber" => text(&self.hardware()?.serial_number),
            "foreground" => self.activity()?.foreground.map(flag),
            "foregroundapp" => text(&self.activity()?.foreground_app),
            "idlescreen" => self.activity()?.idle_screen.map(flag),
            "timespent" => self.activity()?.time_spent_seconds.map(Value::from),
            "phonemode" => text(&self.activity()?.phone_mode),
            "email" => text(&self.accounts()?.email),
            "accounts" => self
                .accounts()?
                .accounts
                .as_ref()
                .map(|list| Value::from(list.join(","))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{ConnectType, Location};
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Counting {
        telephony_reads: AtomicUsize,
    }

    impl AttributeProvider for Counting {
        fn telephony(&self) -> Option<Telephony> {
            self.telephony_reads.fetch_add(1, Ordering::SeqCst);
            Some(Telephony {
                carrier: Some("Vodafone".to_owned()),
                mcc: Some("234".to_owned()),
                roaming: Some(false),
                ..Telephony::default()
            })
        }
        fn location(&self) -> Option<Location> {
            Some(Location {
                latitude: 51.5,
                longitude: -0.12,
            })
        }
        fn network(&self) -> Option<Network> {
            Some(Network {
                connect_type: Some(ConnectType::Wifi),
                ..Network::default()
            })
        }
        fn memory(&self) -> Option<Memory> {
            Some(Memory {
                ram_bytes: Some(8 * 1024 * 1024 * 1024),
                ..Memory::default()
            })
        }
        fn battery_level(&self) -> Option<u8> {
            Some(56)
        }
    }

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|key| (*key).to_owned()).collect()
    }

    #[test]
    fn values_take_the_catalogue_shapes() {
        let provider = Counting::default();
        let readings = read(
            &provider,
            &keys(&[
                "teleco",
                "MCC",
                "MNC",
                "roaming",
                "location",
                "connectType",
                "RAM",
                "batterylevel",
                "imei",
            ]),
        );
        assert_eq!(
            Value::Object(readings.into_iter().collect()),
            json!({"teleco": "Vodafone", "MCC": "234", "roaming": "0",
                   "location": [51.5, -0.12], "connectType": "wifi", "RAM": "8.00 GB",
                   "batterylevel": "56%"})
        );
        assert_eq!(provider.telephony_reads.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn families_not_asked_for_are_not_read() {
        let provider = Counting::default();
        read(&provider, &keys(&["batterylevel"]));
        assert_eq!(provider.telephony_reads.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn every_event_monitor_belongs_to_one_event() {
        assert_eq!(
            DeviceEvent::of_attribute("location"),
            Some(DeviceEvent::LocationChange)
        );
        assert_eq!(
            DeviceEvent::of_attribute("MNC"),
            Some(DeviceEvent::NetworkChange)
        );
        assert_eq!(DeviceEvent::of_attribute("batterylevel"), None);
        let mut seen = std::collections::BTreeSet::new();
        for event in DeviceEvent::ALL {
            for attribute in event.attributes() {
                assert!(seen.insert(*attribute), "{attribute} twice");
            }
        }
    }
}
