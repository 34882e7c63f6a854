//! Test support: the real server (`server`), a device whose readings the test sets and
//! whose reads it counts, an SDK on a manual clock, waiting for events, and an HS256 signer.
#![allow(dead_code)]

mod server;

pub use server::Server;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use hmac::{Hmac, Mac};
use profilestore_sdk::{
    AttributeProvider, DeviceInfo, Location, ManualClock, Memory, ProfileUpdateEvent, Sdk,
    SdkBuilder,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// How long a test waits, in real time, for something the server or the SDK does.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// What the fake device reads; the test changes it.
#[derive(Debug, Clone)]
pub struct Values {
    pub time_zone: Option<String>,
    pub language: Option<String>,
    pub location: Option<Location>,
    pub battery: Option<u8>,
    pub ram_bytes: Option<u64>,
    pub user_agent: Option<String>,
    pub watch: Option<Duration>,
}

impl Default for Values {
    fn default() -> Self {
        Values {
            time_zone: Some("Europe/London".to_owned()),
            language: Some("en-GB".to_owned()),
            location: Some(Location {
                latitude: 51.5,
                longitude: -0.12,
            }),
            battery: Some(80),
            ram_bytes: Some(8 * 1024 * 1024 * 1024),
            user_agent: Some("test-device/1.0".to_owned()),
            watch: None,
        }
    }
}

/// A device whose readings the test sets, counting which families the SDK read.
#[derive(Debug, Default)]
pub struct FakeDevice {
    pub values: Mutex<Values>,
    reads: Mutex<BTreeMap<&'static str, usize>>,
}

impl FakeDevice {
    pub fn new() -> Arc<FakeDevice> {
        Arc::new(FakeDevice::default())
    }

    pub fn set(&self, change: impl FnOnce(&mut Values)) {
        change(&mut self.values.lock().unwrap());
    }

    /// How often the SDK asked for a family.
    pub fn reads(&self, family: &str) -> usize {
        self.reads
            .lock()
            .unwrap()
            .get(family)
            .copied()
            .unwrap_or_default()
    }

    fn read<T>(&self, family: &'static str, value: impl FnOnce(&Values) -> T) -> T {
        *self.reads.lock().unwrap().entry(family).or_default() += 1;
        value(&self.values.lock().unwrap())
    }
}

impl AttributeProvider for FakeDevice {
    fn device_info(&self) -> Option<DeviceInfo> {
        Some(DeviceInfo {
            os: Some("TestOS".to_owned()),
            os_version: Some("1.0".to_owned()),
            make: Some("Acme".to_owned()),
            model: Some("Kiosk 7".to_owned()),
        })
    }
    fn time_zone(&self) -> Option<String> {
        self.read("time_zone", |v| v.time_zone.clone())
    }
    fn language(&self) -> Option<String> {
        self.read("language", |v| v.language.clone())
    }
    fn location(&self) -> Option<Location> {
        self.read("location", |v| v.location)
    }
    fn battery_level(&self) -> Option<u8> {
        self.read("battery", |v| v.battery)
    }
    fn memory(&self) -> Option<Memory> {
        self.read("memory", |v| {
            Some(Memory {
                ram_bytes: v.ram_bytes,
                ..Memory::default()
            })
        })
    }
    fn user_agent(&self) -> Option<String> {
        self.read("user_agent", |v| v.user_agent.clone())
    }
    fn watch_interval(&self) -> Option<Duration> {
        self.values.lock().unwrap().watch
    }
}

/// A device under test: the SDK, its fake readings, its clock and its state dir.
pub struct Device {
    pub sdk: Sdk,
    pub fake: Arc<FakeDevice>,
    pub clock: ManualClock,
    pub events: broadcast::Receiver<ProfileUpdateEvent>,
    pub state_dir: tempfile::TempDir,
}

impl Device {
    /// An SDK for the server's app, with its own state dir and a manual clock.
    pub fn new(server: &Server) -> Device {
        Device::with(server, |builder| builder)
    }

    pub fn with(server: &Server, configure: impl FnOnce(SdkBuilder) -> SdkBuilder) -> Device {
        let fake = FakeDevice::new();
        let clock = ManualClock::new(Utc::now());
        let state_dir = tempfile::tempdir().expect("state dir");
        let sdk = configure(builder(server, &fake, &clock, state_dir.path())).build();
        let sdk = sdk.expect("the SDK builds");
        let events = sdk.subscribe();
        Device {
            sdk,
            fake,
            clock,
            events,
            state_dir,
        }
    }

    /// Another SDK on the same state dir, fake device and clock (an app restart). Drop the
    /// old one first.
    pub fn restarted(self, server: &Server) -> Device {
        let Device {
            sdk,
            fake,
            clock,
            state_dir,
            ..
        } = self;
        drop(sdk);
        let sdk = builder(server, &fake, &clock, state_dir.path())
            .build()
            .expect("the SDK builds again");
        let events = sdk.subscribe();
        Device {
            sdk,
            fake,
            clock,
            events,
            state_dir,
        }
    }

    /// The next event named `name` the SDK raises (others are skipped).
    pub async fn event(&mut self, name: &str) -> ProfileUpdateEvent {
        let wait = async {
            loop {
                match self.events.recv().await {
                    Ok(event) if event.event == name => return event,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => panic!("events closed"),
                }
            }
        };
        tokio::time::timeout(PATIENCE, wait)
            .await
            .unwrap_or_else(|_| panic!("no {name} event within {PATIENCE:?}"))
    }

    /// Every event raised within `quiet` of real time (to show that none comes).
    pub async fn events_within(&mut self, quiet: Duration) -> Vec<ProfileUpdateEvent> {
        let mut seen = Vec::new();
        while let Ok(Ok(event)) = tokio::time::timeout(quiet, self.events.recv()).await {
            seen.push(event);
        }
        seen
    }

    /// Advances the clock by `step` until an event named `name` arrives: the sender may be
    /// in the middle of a failed attempt when the clock moves, and then sleeps until the
    /// next step.
    pub async fn advance_until(&mut self, step: Duration, name: &str) -> ProfileUpdateEvent {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            self.clock.advance(step);
            let wait = Duration::from_millis(200);
            while let Ok(Ok(event)) = tokio::time::timeout(wait, self.events.recv()).await {
                if event.event == name {
                    return event;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {name} event within {PATIENCE:?}"
            );
        }
    }
}

fn builder(
    server: &Server,
    fake: &Arc<FakeDevice>,
    clock: &ManualClock,
    state_dir: &std::path::Path,
) -> SdkBuilder {
    Sdk::builder(&server.base_url, &server.app_id, &server.client_key)
        .state_dir(state_dir)
        .shared_attribute_provider(fake.clone())
        .clock(Arc::new(clock.clone()))
        .connect_timeout(Duration::from_secs(2))
        .request_timeout(Duration::from_secs(10))
}

/// Waits, in real time, until `condition` holds.
pub async fn wait_until(condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// An HS256 JWT, as an app's backend would sign it.
pub fn hs256(secret: &str, claims: &Value) -> String {
    let head = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(format!("{head}.{body}").as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{head}.{body}.{signature}")
}

/// The attributes an event changed, by name, with their new values.
pub fn changes(event: &Value) -> BTreeMap<String, Value> {
    event["changes"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|c| {
                    (
                        c["attribute"].as_str().unwrap().to_owned(),
                        c["new"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
