//! Where readings come from: the host implements [`AttributeProvider`], one method per
//! family of device attributes, each answering `None` unless the host knows the value.
//!
//! The SDK asks only for the families the policy's enabled monitors need, so a value the
//! policy does not enable is never even read.

use std::time::Duration;

/// Device facts sent with the registration (always stored, whatever the policy).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    /// `os`: the operating system's name ("Linux", "Android").
    pub os: Option<String>,
    /// `osversion`.
    pub os_version: Option<String>,
    /// `make`: the manufacturer.
    pub make: Option<String>,
    /// `model`.
    pub model: Option<String>,
}

/// A position (`location`, sent as `[latitude, longitude]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Location {
    /// Degrees north, -90 to 90.
    pub latitude: f64,
    /// Degrees east, -180 to 180.
    pub longitude: f64,
}

/// The mobile network (`teleco`, `MCC`, `MNC`, `imsi`, `cellid`, `roaming`, `signalstrength`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Telephony {
    /// `teleco`: the carrier's name.
    pub carrier: Option<String>,
    /// `MCC`: mobile country code (3 digits).
    pub mcc: Option<String>,
    /// `MNC`: mobile network code (2-3 digits).
    pub mnc: Option<String>,
    /// `imsi`.
    pub imsi: Option<String>,
    /// `cellid`.
    pub cell_id: Option<String>,
    /// `roaming`.
    pub roaming: Option<bool>,
    /// `signalstrength`, in dBm.
    pub signal_dbm: Option<i32>,
}

/// How the device is connected (`connectType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectType {
    /// `wifi`.
    Wifi,
    /// `ethernet`.
    Ethernet,
    /// `cellular`.
    Cellular,
    /// `none`: no connection.
    None,
    /// Any other kind, sent as given.
    Other(String),
}

impl ConnectType {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            ConnectType::Wifi => "wifi",
            ConnectType::Ethernet => "ethernet",
            ConnectType::Cellular => "cellular",
            ConnectType::None => "none",
            ConnectType::Other(other) => other,
        }
    }
}

/// The network connection (`connectType`, `IP`, `MAC`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Network {
    /// `connectType`.
    pub connect_type: Option<ConnectType>,
    /// `IP`: the device's address on its connection.
    pub ip: Option<String>,
    /// `MAC`: the hardware address of its (Wi-Fi) interface.
    pub mac: Option<String>,
}

/// Memory and storage sizes in bytes (`RAM`, `internalmemory`, `externalmemory`, sent as
/// "7.71 GB").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Memory {
    /// `RAM`: total memory.
    pub ram_bytes: Option<u64>,
    /// `internalmemory`: capacity of the built-in storage.
    pub internal_storage_bytes: Option<u64>,
    /// `externalmemory`: capacity of removable storage.
    pub external_storage_bytes: Option<u64>,
}

/// Hardware facts (`resolution`, `Bluetooth`, `NFC`, `imei`, `serialnumber`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hardware {
    /// `resolution`: screen width and height in pixels (sent as "WxH").
    pub resolution: Option<(u32, u32)>,
    /// `Bluetooth`: whether the device has Bluetooth.
    pub bluetooth: Option<bool>,
    /// `NFC`: whether the device has NFC.
    pub nfc: Option<bool>,
    /// `imei`.
    pub imei: Option<String>,
    /// `serialnumber`.
    pub serial_number: Option<String>,
}

/// What the app is doing (`foreground`, `foregroundapp`, `idlescreen`, `timespent`,
/// `phonemode`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppActivity {
    /// `foreground`: whether the app is in the foreground.
    pub foreground: Option<bool>,
    /// `foregroundapp`: the app in the foreground.
    pub foreground_app: Option<String>,
    /// `idlescreen`: whether the screen is idle (locked or off).
    pub idle_screen: Option<bool>,
    /// `timespent`: seconds spent in the app.
    pub time_spent_seconds: Option<u64>,
    /// `phonemode`: normal, silent or vibrate.
    pub phone_mode: Option<String>,
}

/// The user's accounts on the device (`email`, `accounts`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accounts {
    /// `email`.
    pub email: Option<String>,
    /// `accounts`, sent comma-separated.
    pub accounts: Option<Vec<String>>,
}

/// The source of device readings. Every method defaults to `None` ("not known here"); a
/// host implements those it can answer. Methods are called on the async runtime, so they
/// should answer quickly (read a file, return a cached value), never block on the network.
pub trait AttributeProvider: Send + Sync + 'static {
    /// `os`, `osversion`, `make`, `model`: sent with the registration.
    fn device_info(&self) -> Option<DeviceInfo> {
        None
    }
    /// `timezone`: an IANA name preferred ("Europe/London").
    fn time_zone(&self) -> Option<String> {
        None
    }
    /// `language`: a BCP 47 tag preferred ("en-GB").
    fn language(&self) -> Option<String> {
        None
    }
    /// `location`.
    fn location(&self) -> Option<Location> {
        None
    }
    /// `geofence`: the id of the fence last entered or left.
    fn geofence(&self) -> Option<String> {
        None
    }
    /// The mobile network family.
    fn telephony(&self) -> Option<Telephony> {
        None
    }
    /// The network connection family.
    fn network(&self) -> Option<Network> {
        None
    }
    /// The memory and storage family.
    fn memory(&self) -> Option<Memory> {
        None
    }
    /// The hardware family.
    fn hardware(&self) -> Option<Hardware> {
        None
    }
    /// `batterylevel`: percent charged, 0 to 100 (sent as "56%").
    fn battery_level(&self) -> Option<u8> {
        None
    }
    /// `useragent`.
    fn user_agent(&self) -> Option<String> {
        None
    }
    /// The app activity family.
    fn app_activity(&self) -> Option<AppActivity> {
        None
    }
    /// The accounts family.
    fn accounts(&self) -> Option<Accounts> {
        None
    }
    /// How often the SDK should read the enabled event monitors to notice changes itself,
    /// for hosts that cannot report events. `None` (the default): only
    /// [`crate::Sdk::report_event`] triggers event monitors.
    fn watch_interval(&self) -> Option<Duration> {
        None
    }
}

/// A provider that knows nothing: registration and the heartbeat still work, and no monitor
/// reading is ever sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoReadings;

impl AttributeProvider for NoReadings {}
