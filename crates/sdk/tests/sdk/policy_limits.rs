//! What the policy does not enable is never read, never sent, never stored.

use crate::support::{Device, Server, changes};
use profilestore_sdk::{DeviceEvent, DeviceProfile, MonitorCategory, ProfileUpdateEvent};
use serde_json::json;
use std::time::Duration;

/// Events until one of each name in `names` was seen, all of them kept.
async fn collect(device: &mut Device, names: &[&str]) -> Vec<ProfileUpdateEvent> {
    let mut seen: Vec<ProfileUpdateEvent> = Vec::new();
    let wait = async {
        while !names.iter().all(|n| seen.iter().any(|e| e.event == *n)) {
            seen.push(device.events.recv().await.expect("events open"));
        }
    };
    tokio::time::timeout(crate::support::PATIENCE, wait)
        .await
        .expect("the first updates arrive");
    seen
}

#[tokio::test]
async fn a_reading_the_policy_does_not_enable_never_leaves_the_device() {
    let server = Server::start();
    server
        .set_android_policy(json!([{"attribute": "timezone", "category": "event"}]))
        .await;
    let mut device = Device::new(&server);
    device.fake.set(|v| v.watch = Some(Duration::from_secs(60)));
    device
        .sdk
        .register(DeviceProfile::new("d1", "ann"))
        .await
        .unwrap();
    let mut delivered = collect(&mut device, &["TIMEZONECHANGE", "ProfileUpdate"]).await;

    // The app reports events whose monitors are off, the watch and the policy poll run for
    // a day, the battery and location change.
    device.fake.set(|v| {
        v.battery = Some(5);
        v.location = None;
    });
    assert!(
        !device
            .sdk
            .report_event(DeviceEvent::LocationChange)
            .unwrap()
    );
    assert!(!device.sdk.report_event(DeviceEvent::NetworkChange).unwrap());
    for _ in 0..24 {
        device.clock.advance(Duration::from_secs(3600));
        delivered.extend(device.events_within(Duration::from_millis(50)).await);
    }
    delivered.extend(device.events_within(Duration::from_millis(300)).await);

    for family in ["battery", "location", "memory", "user_agent", "language"] {
        assert_eq!(device.fake.reads(family), 0, "{family} was read");
    }
    let sent: Vec<_> = delivered.iter().flat_map(|e| e.update.keys()).collect();
    assert!(
        sent.iter()
            .all(|k| ["timezone", "sdkheartbeat", "sdkversion"].contains(&k.as_str())),
        "{sent:?}"
    );
    // Every profileupdate the server answered is one of those the SDK saw acknowledged.
    assert_eq!(
        server.sdk_requests("profileupdate").await,
        delivered.len() as u64
    );
    let (install, _) = server.install_of("ann").await;
    for attribute in ["batterylevel", "location", "RAM", "useragent", "language"] {
        assert!(!install.contains_key(attribute), "{attribute} stored");
    }
    for event in server.events().await {
        let changed = changes(&event);
        assert!(
            !changed.contains_key("batterylevel") && !changed.contains_key("location"),
            "{event}"
        );
    }
}

#[tokio::test]
async fn an_sdk_of_the_current_band_runs_event_monitors_only() {
    let server = Server::start();
    server
        .set_android_policy(json!([
            {"attribute": "RAM", "category": "one_time"},
            {"attribute": "timezone", "category": "event"},
            {"attribute": "batterylevel", "category": "interval", "interval_seconds": 60}
        ]))
        .await;
    let mut device = Device::with(&server, |builder| builder.sdk_version("2.12.0"));
    device
        .sdk
        .register(DeviceProfile::new("d1", "ann"))
        .await
        .unwrap();
    device.event("TIMEZONECHANGE").await;

    device.clock.advance(Duration::from_secs(600));
    let later = device.events_within(Duration::from_millis(300)).await;

    let policy = device.sdk.policy().unwrap();
    assert_eq!(policy.sdk_band, "2.12+");
    assert_eq!(policy.attributes(MonitorCategory::Event), vec!["timezone"]);
    assert!(
        policy
            .monitors
            .iter()
            .all(|m| m.category == MonitorCategory::Event)
    );
    assert!(
        later.iter().all(|e| e.event == "ProfileUpdate"),
        "{later:?}"
    );
    assert_eq!(device.fake.reads("memory"), 0);
    assert_eq!(device.fake.reads("battery"), 0);
}
