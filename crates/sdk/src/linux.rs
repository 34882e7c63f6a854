//! [`LinuxProvider`]: readings from what a Linux desktop or server offers, read from
//! `/proc`, `/sys`, `/etc` and the environment on every call (cheap file reads), so changes
//! are noticed by the SDK's watch.

use crate::provider::{AttributeProvider, ConnectType, DeviceInfo, Hardware, Memory, Network};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Device readings of a Linux system: time zone, language, RAM, storage, user agent,
/// connection type, IP and MAC, battery level (where a battery exists), Bluetooth and NFC
/// presence, and the machine's make and model for the registration.
#[derive(Debug, Clone)]
pub struct LinuxProvider {
    /// Prefix of every system path (`/` on a real system; a fake tree in tests).
    root: PathBuf,
    /// The environment to read, or `None` for the process's own.
    env: Option<BTreeMap<String, String>>,
    watch_interval: Option<Duration>,
}

impl Default for LinuxProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl LinuxProvider {
    /// Reads the running system; event monitors are checked for changes every minute.
    pub fn new() -> Self {
        LinuxProvider {
            root: PathBuf::from("/"),
            env: None,
            watch_interval: Some(Duration::from_secs(60)),
        }
    }

    /// Reads the system files under `root` instead of `/` (a container's root, a test tree).
    pub fn with_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = root.into();
        self
    }

    /// Reads these variables (`TZ`, `LC_ALL`, `LANG`...) instead of the process environment.
    pub fn with_env(mut self, env: BTreeMap<String, String>) -> Self {
        self.env = Some(env);
        self
    }

    /// How often the SDK reads the enabled event monitors to notice changes; `None` leaves
    /// them to [`crate::Sdk::report_event`].
    pub fn with_watch_interval(mut self, every: Option<Duration>) -> Self {
        self.watch_interval = every;
        self
    }

    fn path(&self, absolute: &str) -> PathBuf {
        self.root.join(absolute.trim_start_matches('/'))
    }

    fn read(&self, absolute: &str) -> Option<String> {
        let text = fs::read_to_string(self.path(absolute)).ok()?;
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    }

    fn var(&self, name: &str) -> Option<String> {
        let value = match &self.env {
            Some(env) => env.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        value.filter(|value| !value.is_empty())
    }

    /// The network interfaces that are up, loopback excepted, by name.
    fn interfaces_up(&self) -> Vec<(String, PathBuf)> {
        let Ok(entries) = fs::read_dir(self.path("/sys/class/net")) else {
            return Vec::new();
        };
        let mut up: Vec<_> = entries
            .flatten()
            .map(|entry| {
                (
                    entry.file_name().to_string_lossy().into_owned(),
                    entry.path(),
                )
            })
            .filter(|(name, dir)| {
                name != "lo"
                    && fs::read_to_string(dir.join("operstate"))
                        .is_ok_and(|state| state.trim() == "up")
            })
            .collect();
        up.sort();
        up
    }

    fn os_release(&self) -> BTreeMap<String, String> {
        let text = self
            .read("/etc/os-release")
            .or_else(|| self.read("/usr/lib/os-release"))
            .unwrap_or_default();
        text.lines()
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.trim_matches('"').to_owned()))
            .collect()
    }

    fn class_has_devices(&self, class: &str) -> bool {
        fs::read_dir(self.path(class)).is_ok_and(|mut entries| entries.next().is_some())
    }
}

impl AttributeProvider for LinuxProvider {
    fn device_info(&self) -> Option<DeviceInfo> {
        let release = self.os_release();
        Some(DeviceInfo {
            os: Some("Linux".to_owned()),
            os_version: release
                .get("PRETTY_NAME")
                .cloned()
                .or_else(|| self.read("/proc/sys/kernel/osrelease")),
            make: self.read("/sys/class/dmi/id/sys_vendor"),
            model: self.read("/sys/class/dmi/id/product_name"),
        })
    }

    fn time_zone(&self) -> Option<String> {
        if let Some(tz) = self.var("TZ") {
            let tz = tz.trim_start_matches(':');
            return Some(zone_of_path(tz).unwrap_or(tz).to_owned());
        }
        if let Some(zone) = self.read("/etc/timezone") {
            return zone.lines().next().map(str::to_owned);
        }
        let target = fs::read_link(self.path("/etc/localtime")).ok()?;
        zone_of_path(&target.to_string_lossy()).map(str::to_owned)
    }

    fn language(&self) -> Option<String> {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|name| self.var(name))
            .and_then(|locale| bcp47(&locale))
    }

    fn memory(&self) -> Option<Memory> {
        let meminfo = self.read("/proc/meminfo");
        let ram_bytes = meminfo.as_deref().and_then(|text| {
            let line = text.lines().find(|line| line.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        });
        Some(Memory {
            ram_bytes,
            internal_storage_bytes: filesystem_size(&self.root),
            external_storage_bytes: None,
        })
    }

    fn hardware(&self) -> Option<Hardware> {
        Some(Hardware {
            bluetooth: Some(self.class_has_devices("/sys/class/bluetooth")),
            nfc: Some(self.class_has_devices("/sys/class/nfc")),
            // Readable by root only on most systems; absent otherwise.
            serial_number: self.read("/sys/class/dmi/id/product_serial"),
            ..Hardware::default()
        })
    }

    fn network(&self) -> Option<Network> {
        let up = self.interfaces_up();
        let kind = |(name, dir): &(String, PathBuf)| {
            if dir.join("wireless").exists() || dir.join("phy80211").exists() {
                ConnectType::Wifi
            } else if name.starts_with("ww") {
                ConnectType::Cellular
            } else {
                ConnectType::Ethernet
            }
        };
        // Wi-Fi first when several are up: it is what `MAC` names.
        let main = up
            .iter()
            .find(|interface| kind(interface) == ConnectType::Wifi)
            .or_else(|| up.first());
        Some(Network {
            connect_type: Some(main.map_or(ConnectType::None, kind)),
            ip: main.and_then(|_| local_ip()),
            mac: main.and_then(|(_, dir)| {
                let mac = fs::read_to_string(dir.join("address")).ok()?;
                Some(mac.trim().to_owned()).filter(|mac| !mac.is_empty())
            }),
        })
    }

    fn battery_level(&self) -> Option<u8> {
        let mut supplies: Vec<_> = fs::read_dir(self.path("/sys/class/power_supply"))
            .ok()?
            .flatten()
            .map(|entry| entry.path())
            .collect();
        supplies.sort();
        supplies.iter().find_map(|dir| {
            let kind = fs::read_to_string(dir.join("type")).ok()?;
            if kind.trim() != "Battery" {
                return None;
            }
            let capacity = fs::read_to_string(dir.join("capacity")).ok()?;
            capacity
                .trim()
                .parse::<u8>()
                .ok()
                .map(|percent| percent.min(100))
        })
    }

    fn user_agent(&self) -> Option<String> {
        let kernel = self
            .read("/proc/sys/kernel/osrelease")
            .unwrap_or_else(|| "unknown".to_owned());
        Some(format!(
            "profilestore-sdk/{} (Linux {kernel}; {})",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::ARCH
        ))
    }

    fn watch_interval(&self) -> Option<Duration> {
        self.watch_interval
    }
}

/// `Europe/London` from `/usr/share/zoneinfo/Europe/London` (or `../zoneinfo/...`).
fn zone_of_path(path: &str) -> Option<&str> {
    let (_, zone) = path.rsplit_once("zoneinfo/")?;
    (!zone.is_empty()).then_some(zone)
}

/// `en-GB` from `en_GB.UTF-8` or `en_GB@euro`; `None` for the `C`/`POSIX` locales, which
/// name no language.
fn bcp47(locale: &str) -> Option<String> {
    let base = locale.split(['.', '@']).next()?;
    if base.is_empty() || base == "C" || base == "POSIX" {
        return None;
    }
    Some(base.replace('_', "-"))
}

/// The total size of the filesystem holding `path`.
fn filesystem_size(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is a valid NUL-terminated string and `stats` is writable memory of
    // the right type; statvfs fills it when it answers 0.
    let answer = unsafe { libc::statvfs(path.as_ptr(), stats.as_mut_ptr()) };
    if answer != 0 {
        return None;
    }
    // SAFETY: statvfs answered 0, so it initialised `stats`.
    let stats = unsafe { stats.assume_init() };
    // The field types differ between targets (32 or 64 bits); both fit u64.
    #[allow(clippy::useless_conversion)]
    let (blocks, fragment) = (u64::from(stats.f_blocks), u64::from(stats.f_frsize));
    Some(blocks.saturating_mul(fragment))
}

/// The address this machine's traffic leaves from: connecting a UDP socket chooses the
/// route and source address without sending a packet.
fn local_ip() -> Option<String> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then(|| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn time_zone_from_tz_then_etc_timezone_then_the_localtime_link() {
        let root = tempfile::tempdir().unwrap();
        let provider = LinuxProvider::new().with_root(root.path());

        let with_tz = provider
            .clone()
            .with_env(env(&[("TZ", ":/usr/share/zoneinfo/Asia/Tokyo")]));
        assert_eq!(with_tz.time_zone().as_deref(), Some("Asia/Tokyo"));

        let bare = provider.with_env(env(&[]));
        fs::create_dir_all(root.path().join("etc")).unwrap();
        std::os::unix::fs::symlink(
            "/usr/share/zoneinfo/America/New_York",
            root.path().join("etc/localtime"),
        )
        .unwrap();
        assert_eq!(bare.time_zone().as_deref(), Some("America/New_York"));

        write(root.path(), "etc/timezone", "Europe/London\n");
        assert_eq!(bare.time_zone().as_deref(), Some("Europe/London"));
    }

    #[test]
    fn language_is_a_bcp47_tag_of_the_locale() {
        let provider = LinuxProvider::new();
        let language = |pairs| provider.clone().with_env(env(pairs)).language();
        assert_eq!(
            language(&[("LANG", "en_GB.UTF-8")]).as_deref(),
            Some("en-GB")
        );
        assert_eq!(
            language(&[("LANG", "en_GB.UTF-8"), ("LC_ALL", "fr_FR@euro")]).as_deref(),
            Some("fr-FR")
        );
        assert_eq!(language(&[("LANG", "C.UTF-8")]), None);
    }

    #[test]
    fn ram_battery_and_connection_come_from_proc_and_sys() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        write(
            r,
            "proc/meminfo",
            "MemTotal:       8048576 kB\nMemFree: 1 kB\n",
        );
        write(r, "sys/class/power_supply/AC/type", "Mains\n");
        write(r, "sys/class/power_supply/BAT0/type", "Battery\n");
        write(r, "sys/class/power_supply/BAT0/capacity", "56\n");
        write(r, "sys/class/net/lo/operstate", "unknown\n");
        write(r, "sys/class/net/eth0/operstate", "down\n");
        write(r, "sys/class/net/wlan0/operstate", "up\n");
        write(r, "sys/class/net/wlan0/address", "aa:bb:cc:dd:ee:ff\n");
        fs::create_dir_all(r.join("sys/class/net/wlan0/wireless")).unwrap();
        let provider = LinuxProvider::new().with_root(r);

        assert_eq!(provider.memory().unwrap().ram_bytes, Some(8048576 * 1024));
        assert!(provider.memory().unwrap().internal_storage_bytes.unwrap() > 0);
        assert_eq!(provider.battery_level(), Some(56));
        let network = provider.network().unwrap();
        assert_eq!(network.connect_type, Some(ConnectType::Wifi));
        assert_eq!(network.mac.as_deref(), Some("aa:bb:cc:dd:ee:ff"));

        write(r, "sys/class/net/wlan0/operstate", "down\n");
        write(r, "sys/class/net/eth0/operstate", "up\n");
        assert_eq!(
            provider.network().unwrap().connect_type,
            Some(ConnectType::Ethernet)
        );
        write(r, "sys/class/net/eth0/operstate", "down\n");
        assert_eq!(
            provider.network().unwrap().connect_type,
            Some(ConnectType::None)
        );
    }

    #[test]
    fn no_battery_no_reading() {
        let root = tempfile::tempdir().unwrap();
        write(root.path(), "sys/class/power_supply/AC/type", "Mains\n");
        let provider = LinuxProvider::new().with_root(root.path());
        assert_eq!(provider.battery_level(), None);
    }

    #[test]
    fn the_running_system_answers_something() {
        let provider = LinuxProvider::new();
        assert!(
            provider
                .user_agent()
                .unwrap()
                .starts_with("profilestore-sdk/")
        );
        assert_eq!(provider.device_info().unwrap().os.as_deref(), Some("Linux"));
        assert!(provider.memory().unwrap().ram_bytes.unwrap() > 0);
    }
}
