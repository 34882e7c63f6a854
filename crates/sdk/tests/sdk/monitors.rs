//! Policy-driven monitors of each category, and the heartbeat, on the SDK's manual clock.

use crate::support::{Device, Server, changes, wait_until};
use profilestore_sdk::{DeviceEvent, DeviceProfile, HEARTBEAT_INTERVAL, Location};
use serde_json::{Value, json};
use std::time::Duration;

/// One monitor of each category, and a second one-time and event monitor.
fn policy() -> Value {
    json!([
        {"attribute": "RAM", "category": "one_time"},
        {"attribute": "useragent", "category": "one_time"},
        {"attribute": "timezone", "category": "event"},
        {"attribute": "location", "category": "event"},
        {"attribute": "batterylevel", "category": "interval", "interval_seconds": 3600}
    ])
}

async fn registered(server: &Server, device: &Device) {
    server.set_android_policy(policy()).await;
    device
        .sdk
        .register(DeviceProfile::new("d1", "ann"))
        .await
        .unwrap();
}

#[tokio::test]
async fn one_time_monitors_are_captured_once_after_registration() {
    let server = Server::start();
    let mut device = Device::new(&server);
    registered(&server, &device).await;

    let info = device.event("DEVICEINFO").await;

    assert_eq!(
        json!(info.update),
        json!({"RAM": "8.00 GB", "useragent": "test-device/1.0"})
    );
    let (install, _) = server.install_of("ann").await;
    assert_eq!(install["RAM"], "8.00 GB");
    assert_eq!(install["useragent"], "test-device/1.0");

    // The last of the first readings, so everything queued at registration is delivered.
    device.event("PERIODICUPDATE").await;
    device
        .fake
        .set(|v| v.ram_bytes = Some(16 * 1024 * 1024 * 1024));
    let mut device = device.restarted(&server);
    device.clock.advance(Duration::from_secs(24 * 3600));
    let later = device.events_within(Duration::from_millis(500)).await;

    assert!(
        later.iter().all(|event| event.event != "DEVICEINFO"),
        "{later:?}"
    );
    assert_eq!(server.events_of("DEVICEINFO").await.len(), 1);
    let (install, _) = server.install_of("ann").await;
    assert_eq!(install["RAM"], "8.00 GB");
}

#[tokio::test]
async fn event_monitors_send_what_changed_when_the_app_reports_the_event() {
    let server = Server::start();
    let mut device = Device::new(&server);
    registered(&server, &device).await;
    let first = device.event("TIMEZONECHANGE").await;
    assert_eq!(json!(first.update), json!({"timezone": "Europe/London"}));

    device
        .fake
        .set(|v| v.time_zone = Some("Asia/Tokyo".to_owned()));
    let queued = device
        .sdk
        .report_event(DeviceEvent::TimeZoneChange)
        .unwrap();
    let event = device.event("TIMEZONECHANGE").await;

    assert!(queued);
    assert_eq!(json!(event.update), json!({"timezone": "Asia/Tokyo"}));
    let logged = server.events_of("TIMEZONECHANGE").await;
    let last = logged.last().unwrap();
    assert_eq!(last["type"], "app_profile.updated");
    assert_eq!(
        last["changes"],
        json!([{"attribute": "timezone", "old": "Europe/London", "new": "Asia/Tokyo"}])
    );
    // Nothing changed since: nothing to send. Language is not enabled: nothing to read.
    assert!(
        !device
            .sdk
            .report_event(DeviceEvent::TimeZoneChange)
            .unwrap()
    );
    assert!(
        !device
            .sdk
            .report_event(DeviceEvent::LanguageChange)
            .unwrap()
    );
    assert_eq!(device.fake.reads("language"), 0);
}

#[tokio::test]
async fn event_monitors_notice_changes_through_the_providers_watch() {
    let server = Server::start();
    let mut device = Device::new(&server);
    device.fake.set(|v| v.watch = Some(Duration::from_secs(60)));
    registered(&server, &device).await;
    device.event("LOCATIONCHANGE").await;

    device.fake.set(|v| {
        v.location = Some(Location {
            latitude: 48.85,
            longitude: 2.35,
        })
    });
    let event = device
        .advance_until(Duration::from_secs(60), "LOCATIONCHANGE")
        .await;

    assert_eq!(json!(event.update), json!({"location": [48.85, 2.35]}));
    let (install, _) = server.install_of("ann").await;
    assert_eq!(install["location"], "[48.85,2.35]");
}

#[tokio::test]
async fn interval_monitors_read_on_their_period_and_send_changes_only() {
    let server = Server::start();
    let mut device = Device::new(&server);
    registered(&server, &device).await;
    let first = device.event("PERIODICUPDATE").await;
    assert_eq!(json!(first.update), json!({"batterylevel": "80%"}));

    device.fake.set(|v| v.battery = Some(70));
    device.clock.advance(Duration::from_secs(3599));
    let early = device.events_within(Duration::from_millis(300)).await;
    device.clock.advance(Duration::from_secs(1));
    let tick = device.event("PERIODICUPDATE").await;

    assert!(early.is_empty(), "{early:?}");
    assert_eq!(json!(tick.update), json!({"batterylevel": "70%"}));
    let logged = server.events_of("PERIODICUPDATE").await;
    assert_eq!(changes(logged.last().unwrap())["batterylevel"], "70%");

    // The next tick reads the same level: nothing is queued, no request is made.
    let requests = server.sdk_requests("profileupdate").await;
    let reads = device.fake.reads("battery");
    device.clock.advance(Duration::from_secs(3600));
    wait_until(|| device.fake.reads("battery") > reads).await;
    // The read and the decision to queue happen in one poll of the scheduler, on this
    // test's thread: nothing can be queued after this check.
    assert!(device.sdk.pending_updates().is_empty());
    let unchanged = device.events_within(Duration::from_millis(300)).await;
    assert!(unchanged.is_empty(), "{unchanged:?}");
    assert_eq!(device.fake.reads("battery"), reads + 1);
    assert_eq!(server.sdk_requests("profileupdate").await, requests);
}

#[tokio::test]
async fn the_heartbeat_goes_out_at_registration_and_every_fifteen_days() {
    let server = Server::start();
    let mut device = Device::new(&server);
    device
        .sdk
        .register(DeviceProfile::new("d1", "ann"))
        .await
        .unwrap();

    let first = device.event("ProfileUpdate").await;

    assert!(first.heartbeat);
    assert_eq!(
        json!(first.update),
        json!({"sdkheartbeat": 1, "sdkversion": profilestore_sdk::DEFAULT_SDK_VERSION})
    );
    let (install, _) = server.install_of("ann").await;
    assert_eq!(install["sdkheartbeat"], "1");

    let requests = server.sdk_requests("profileupdate").await;
    let hour = Duration::from_secs(3600);
    device.clock.advance(HEARTBEAT_INTERVAL - hour);
    let early = device.events_within(Duration::from_millis(300)).await;
    device.clock.advance(hour);
    let second = device.event("ProfileUpdate").await;

    assert!(early.is_empty(), "{early:?}");
    assert!(second.heartbeat);
    assert_eq!(server.sdk_requests("profileupdate").await, requests + 1);
}
