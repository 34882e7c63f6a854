//! Device attribute monitors and the policy a tenant sets per app and platform, and the app
//! options that change how app profiles behave (reference §8.1, `device-attributes.md`).
//!
//! The catalogue of monitors is data: which attribute each platform's SDK can watch, in which
//! category, per SDK band (2.12 and higher, 2.11.x and lower). A policy may enable only what the
//! catalogue offers; what an SDK is told to run is what the tenant enabled and its band supports.

use crate::DomainError;
use serde::{Deserialize, Serialize};

/// The platform of an app install (`channelType` on the SDK's wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Android,
    Ios,
    Web,
}

impl Platform {
    pub const ALL: [Platform; 3] = [Platform::Android, Platform::Ios, Platform::Web];

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw.to_ascii_lowercase().as_str() {
            "android" => Ok(Platform::Android),
            "ios" => Ok(Platform::Ios),
            "web" => Ok(Platform::Web),
            _ => Err(DomainError::invalid(
                "channelType",
                "the platform is android, ios or web",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Android => "android",
            Platform::Ios => "ios",
            Platform::Web => "web",
        }
    }

    /// The platform of an install: the channelType its SDK registered with, else read from its
    /// `os` attribute (installs written through the compatible API carry only that), if either
    /// names one.
    pub fn of_install(channel_type: Option<&str>, os: Option<&str>) -> Option<Platform> {
        if let Some(platform) = channel_type.and_then(|named| Platform::parse(named).ok()) {
            return Some(platform);
        }
        let os = os?.to_ascii_lowercase();
        if os.contains("android") {
            Some(Platform::Android)
        } else if os == "ios" || os.contains("iphone") || os.contains("ipad") {
            Some(Platform::Ios)
        } else if os == "web" {
            Some(Platform::Web)
        } else {
            None
        }
    }
}

/// An install's `status` attribute: "0" active, "1" active (the legacy value), "2"
/// unregistered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallStatus {
    Active,
    Unregistered,
}

impl InstallStatus {
    /// The status a stored `status` value means; `None` for none or another value.
    pub fn of(status: Option<&str>) -> Option<InstallStatus> {
        match status? {
            "0" | "1" => Some(InstallStatus::Active),
            "2" => Some(InstallStatus::Unregistered),
            _ => None,
        }
    }
}

/// SDK versions differ in the monitors they implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SdkBand {
    /// 2.12 and higher: event monitors only.
    #[serde(rename = "2.12+")]
    Current,
    /// 2.11.x and lower.
    #[serde(rename = "2.11-")]
    Legacy,
}

impl SdkBand {
    pub const ALL: [SdkBand; 2] = [SdkBand::Current, SdkBand::Legacy];

    /// The band of an `sdkversion` header ("2.12.0", "2.11.3", "3.0"); an absent or unreadable
    /// version is taken as current.
    pub fn of(version: Option<&str>) -> SdkBand {
        let Some(version) = version else {
            return SdkBand::Current;
        };
        let mut parts = version.trim().trim_start_matches(['v', 'V']).split('.');
        let major = parts.next().and_then(|p| p.parse::<u32>().ok());
        let minor = parts
            .next()
            .map(|p| {
                p.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            })
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0);
        match major {
            Some(major) if (major, minor) < (2, 12) => SdkBand::Legacy,
            _ => SdkBand::Current,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SdkBand::Current => "2.12+",
            SdkBand::Legacy => "2.11-",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorCategory {
    /// Captured once, right after registration.
    OneTime,
    /// Captured whenever the event occurs on the device.
    Event,
    /// Captured every `interval_seconds`.
    Interval,
}

impl MonitorCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            MonitorCategory::OneTime => "one_time",
            MonitorCategory::Event => "event",
            MonitorCategory::Interval => "interval",
        }
    }
}

/// A device attribute an SDK can monitor: its display name and its app-profile key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceAttribute {
    pub display_name: &'static str,
    pub key: &'static str,
}

const fn da(display_name: &'static str, key: &'static str) -> DeviceAttribute {
    DeviceAttribute { display_name, key }
}

/// Every monitorable device attribute (device-attributes.md, display name → key).
pub const DEVICE_ATTRIBUTES: &[DeviceAttribute] = &[
    da("Telco", "teleco"),
    da("Time Zone", "timezone"),
    da("Location", "location"),
    da("Language", "language"),
    da("Geofence", "geofence"),
    da("Idle Screen", "idlescreen"),
    da("Foreground", "foreground"),
    da("Foreground App", "foregroundapp"),
    da("Resolution", "resolution"),
    da("Internal Storage", "internalmemory"),
    da("External Storage", "externalmemory"),
    da("RAM", "RAM"),
    da("Bluetooth Support", "Bluetooth"),
    da("NFC Support", "NFC"),
    da("User Agent", "useragent"),
    da("Email ID", "email"),
    da("WiFi MAC Address", "MAC"),
    da("List Account", "accounts"),
    da("IMEI", "imei"),
    da("IMSI", "imsi"),
    da("Serial Number", "serialnumber"),
    da("MCC", "MCC"),
    da("MNC", "MNC"),
    da("Roaming", "roaming"),
    da("Connect Type", "connectType"),
    da("Device IP", "IP"),
    da("Time Spent", "timespent"),
    da("Cell ID", "cellid"),
    da("Phone Mode", "phonemode"),
    da("Battery Level", "batterylevel"),
    da("Signal Strength", "signalstrength"),
];

/// The monitors one platform's SDKs of one band offer, by category (attribute keys).
#[derive(Debug, Clone, Copy)]
pub struct OfferedMonitors {
    pub one_time: &'static [&'static str],
    pub event: &'static [&'static str],
    pub interval: &'static [&'static str],
}

impl OfferedMonitors {
    pub fn of(&self, category: MonitorCategory) -> &'static [&'static str] {
        match category {
            MonitorCategory::OneTime => self.one_time,
            MonitorCategory::Event => self.event,
            MonitorCategory::Interval => self.interval,
        }
    }
}

const IOS_CURRENT: OfferedMonitors = OfferedMonitors {
    one_time: &[],
    event: &["teleco", "timezone", "location", "language", "geofence"],
    interval: &[],
};
const ANDROID_CURRENT: OfferedMonitors = OfferedMonitors {
    one_time: &[],
    event: &[
        "teleco",
        "location",
        "idlescreen",
        "timezone",
        "foreground",
        "geofence",
        "language",
    ],
    interval: &[],
};
const IOS_LEGACY: OfferedMonitors = OfferedMonitors {
    one_time: &[
        "resolution",
        "internalmemory",
        "RAM",
        "Bluetooth",
        "useragent",
    ],
    event: &[
        "teleco",
        "foregroundapp",
        "MCC",
        "roaming",
        "connectType",
        "location",
        "MNC",
        "timezone",
        "IP",
        "timespent",
        "language",
        "geofence",
    ],
    interval: &["batterylevel"],
};
const ANDROID_LEGACY: OfferedMonitors = OfferedMonitors {
    one_time: &[
        "resolution",
        "email",
        "internalmemory",
        "MAC",
        "accounts",
        "Bluetooth",
        "useragent",
        "imei",
        "externalmemory",
        "RAM",
        "serialnumber",
        "NFC",
    ],
    event: &[
        "connectType",
        "teleco",
        "imsi",
        "MCC",
        "timespent",
        "roaming",
        "language",
        "cellid",
        "location",
        "idlescreen",
        "phonemode",
        "MNC",
        "timezone",
        "foreground",
        "IP",
        "geofence",
    ],
    interval: &["signalstrength", "foregroundapp", "batterylevel"],
};
/// This project's own web row: the same for every band of the web SDK.
const WEB: OfferedMonitors = OfferedMonitors {
    one_time: &["useragent", "resolution"],
    event: &["language", "timezone", "foreground", "connectType"],
    interval: &[],
};

/// What the SDKs of a platform and band can monitor.
pub fn offered(platform: Platform, band: SdkBand) -> &'static OfferedMonitors {
    match (platform, band) {
        (Platform::Android, SdkBand::Current) => &ANDROID_CURRENT,
        (Platform::Android, SdkBand::Legacy) => &ANDROID_LEGACY,
        (Platform::Ios, SdkBand::Current) => &IOS_CURRENT,
        (Platform::Ios, SdkBand::Legacy) => &IOS_LEGACY,
        (Platform::Web, _) => &WEB,
    }
}

/// The device attribute with this key (exact, as the catalogue spells it).
pub fn device_attribute(key: &str) -> Option<&'static DeviceAttribute> {
    DEVICE_ATTRIBUTES.iter().find(|a| a.key == key)
}

/// Whether an app-profile attribute is a monitor reading (and so subject to the policy).
pub fn is_monitored(key: &str) -> bool {
    device_attribute(key).is_some()
}

/// Bounds of an interval monitor's period: one minute to seven days.
pub const MIN_INTERVAL_SECONDS: u32 = 60;
pub const MAX_INTERVAL_SECONDS: u32 = 7 * 24 * 3600;
/// How often the SDK asks for the policy again (minutes; the product's constant).
pub const POLICY_POLLING_INTERVAL_MINUTES: u32 = 30;

/// One enabled monitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Monitor {
    pub attribute: String,
    pub category: MonitorCategory,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_seconds: Option<u32>,
}

/// The enabled monitors per platform. The default (a new app's) enables nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevicePolicy {
    #[serde(default)]
    pub android: Vec<Monitor>,
    #[serde(default)]
    pub ios: Vec<Monitor>,
    #[serde(default)]
    pub web: Vec<Monitor>,
}

impl DevicePolicy {
    pub fn monitors(&self, platform: Platform) -> &[Monitor] {
        match platform {
            Platform::Android => &self.android,
            Platform::Ios => &self.ios,
            Platform::Web => &self.web,
        }
    }

    /// Checks every monitor against the catalogue; each refusal names `<platform>[i]`.
    pub fn validate(&self) -> Result<(), DomainError> {
        for platform in Platform::ALL {
            let mut seen = Vec::new();
            for (i, monitor) in self.monitors(platform).iter().enumerate() {
                let at = format!("{}[{i}]", platform.as_str());
                let on_offer = SdkBand::ALL.iter().any(|band| {
                    offered(platform, *band)
                        .of(monitor.category)
                        .contains(&monitor.attribute.as_str())
                });
                if !on_offer {
                    return Err(DomainError::invalid(
                        at,
                        format!(
                            "no {} SDK offers a {} monitor of {:?}",
                            platform.as_str(),
                            monitor.category.as_str(),
                            monitor.attribute
                        ),
                    ));
                }
                match (monitor.category, monitor.interval_seconds) {
                    (MonitorCategory::Interval, Some(seconds))
                        if (MIN_INTERVAL_SECONDS..=MAX_INTERVAL_SECONDS).contains(&seconds) => {}
                    (MonitorCategory::Interval, _) => {
                        return Err(DomainError::invalid(
                            at,
                            format!(
                                "an interval monitor needs interval_seconds from {MIN_INTERVAL_SECONDS} to {MAX_INTERVAL_SECONDS}"
                            ),
                        ));
                    }
                    (_, Some(_)) => {
                        return Err(DomainError::invalid(
                            at,
                            "interval_seconds is only for interval monitors",
                        ));
                    }
                    (_, None) => {}
                }
                if seen.contains(&monitor.attribute) {
                    return Err(DomainError::invalid(
                        at,
                        format!("{:?} is enabled twice", monitor.attribute),
                    ));
                }
                seen.push(monitor.attribute.clone());
            }
        }
        Ok(())
    }

    /// What an SDK of this platform and band must run: enabled AND supported by its band.
    pub fn for_sdk(&self, platform: Platform, band: SdkBand) -> Vec<Monitor> {
        let offer = offered(platform, band);
        self.monitors(platform)
            .iter()
            .filter(|m| offer.of(m.category).contains(&m.attribute.as_str()))
            .cloned()
            .collect()
    }

    /// Whether readings of this attribute are stored for this platform: attributes that are
    /// not monitors always are; monitor readings only when a monitor of them is enabled.
    pub fn accepts(&self, platform: Platform, key: &str) -> bool {
        !is_monitored(key)
            || self
                .monitors(platform)
                .iter()
                .any(|monitor| monitor.attribute == key)
    }
}

pub const DEFAULT_PROFILE_TTL_DAYS: u32 = 40;
pub const MAX_PROFILE_TTL_DAYS: u32 = 365;

/// The app options that change app-profile semantics (reference §8.1). The JWT secret is not
/// here: it is a secret, kept sealed beside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppOptions {
    /// Many userIds on one device (they coexist); off: a new userId replaces the old profile.
    #[serde(default)]
    pub multi_user_per_device: bool,
    /// Registering a user on a new device unregisters that user's other devices.
    #[serde(default)]
    pub single_device_per_user: bool,
    /// Days without SDK contact after which an app profile is deleted.
    #[serde(default = "default_ttl")]
    pub profile_ttl_days: u32,
}

fn default_ttl() -> u32 {
    DEFAULT_PROFILE_TTL_DAYS
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            multi_user_per_device: false,
            single_device_per_user: false,
            profile_ttl_days: DEFAULT_PROFILE_TTL_DAYS,
        }
    }
}

impl AppOptions {
    pub fn validate(&self) -> Result<(), DomainError> {
        if !(1..=MAX_PROFILE_TTL_DAYS).contains(&self.profile_ttl_days) {
            return Err(DomainError::invalid(
                "profile_ttl_days",
                format!("from 1 to {MAX_PROFILE_TTL_DAYS} days"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_installs_platform_comes_from_its_channel_type_else_its_os() {
        let of = |channel, os| Platform::of_install(channel, os);
        assert_eq!(of(Some("ios"), Some("whatever")), Some(Platform::Ios));
        assert_eq!(of(None, Some("Android")), Some(Platform::Android));
        assert_eq!(of(None, Some("iPhone OS")), Some(Platform::Ios));
        assert_eq!(of(Some("web"), None), Some(Platform::Web));
        assert_eq!(of(None, Some("Tizen")), None);
        assert_eq!(of(None, None), None);
    }

    #[test]
    fn one_is_the_legacy_active_status() {
        assert_eq!(InstallStatus::of(Some("0")), Some(InstallStatus::Active));
        assert_eq!(InstallStatus::of(Some("1")), Some(InstallStatus::Active));
        assert_eq!(
            InstallStatus::of(Some("2")),
            Some(InstallStatus::Unregistered)
        );
        assert_eq!(InstallStatus::of(None), None);
    }

    use super::*;

    fn monitor(attribute: &str, category: MonitorCategory, interval: Option<u32>) -> Monitor {
        Monitor {
            attribute: attribute.to_owned(),
            category,
            interval_seconds: interval,
        }
    }

    #[test]
    fn every_offered_monitor_is_a_catalogue_attribute() {
        for platform in Platform::ALL {
            for band in SdkBand::ALL {
                let offer = offered(platform, band);
                for key in offer
                    .one_time
                    .iter()
                    .chain(offer.event)
                    .chain(offer.interval)
                {
                    assert!(device_attribute(key).is_some(), "{key}");
                    assert!(crate::app_profile::catalogue::catalogue_attribute(key).is_some());
                }
            }
        }
    }

    #[test]
    fn sdk_band_reads_versions() {
        assert_eq!(SdkBand::of(Some("2.11.9")), SdkBand::Legacy);
        assert_eq!(SdkBand::of(Some("1.0")), SdkBand::Legacy);
        assert_eq!(SdkBand::of(Some("2.12.0")), SdkBand::Current);
        assert_eq!(SdkBand::of(Some("3.1.4")), SdkBand::Current);
        assert_eq!(SdkBand::of(None), SdkBand::Current);
    }

    #[test]
    fn policy_is_checked_against_the_catalogue() {
        let ok = DevicePolicy {
            android: vec![
                monitor("batterylevel", MonitorCategory::Interval, Some(3600)),
                monitor("location", MonitorCategory::Event, None),
            ],
            ..Default::default()
        };
        assert!(ok.validate().is_ok());
        let wrong_category = DevicePolicy {
            ios: vec![monitor("location", MonitorCategory::Interval, Some(600))],
            ..Default::default()
        };
        assert!(wrong_category.validate().is_err());
        let short = DevicePolicy {
            android: vec![monitor("batterylevel", MonitorCategory::Interval, Some(59))],
            ..Default::default()
        };
        assert!(short.validate().is_err());
        let not_on_ios = DevicePolicy {
            ios: vec![monitor("imei", MonitorCategory::OneTime, None)],
            ..Default::default()
        };
        assert!(not_on_ios.validate().is_err());
    }

    #[test]
    fn sdk_gets_enabled_and_supported_only() {
        let policy = DevicePolicy {
            android: vec![
                monitor("batterylevel", MonitorCategory::Interval, Some(3600)),
                monitor("location", MonitorCategory::Event, None),
            ],
            ..Default::default()
        };
        let current = policy.for_sdk(Platform::Android, SdkBand::Current);
        assert_eq!(current.len(), 1);
        assert_eq!(current[0].attribute, "location");
        assert_eq!(policy.for_sdk(Platform::Android, SdkBand::Legacy).len(), 2);
        assert!(policy.for_sdk(Platform::Ios, SdkBand::Legacy).is_empty());
        assert!(policy.accepts(Platform::Android, "location"));
        assert!(!policy.accepts(Platform::Android, "teleco"));
        assert!(policy.accepts(Platform::Android, "pushId"));
    }

    #[test]
    fn ttl_bounds() {
        assert!(AppOptions::default().validate().is_ok());
        for days in [0, 366] {
            let options = AppOptions {
                profile_ttl_days: days,
                ..AppOptions::default()
            };
            assert!(options.validate().is_err());
        }
    }
}
