//! The update queue while the server is away: readings wait on disk, coalesced per
//! attribute, and are delivered once it is back.

use crate::support::{Device, Server, changes, wait_until};
use profilestore_sdk::{DeviceEvent, DeviceProfile};
use serde_json::json;
use std::time::Duration;

async fn registered(server: &Server) -> Device {
    server
        .set_android_policy(json!([
            {"attribute": "timezone", "category": "event"},
            {"attribute": "batterylevel", "category": "interval", "interval_seconds": 3600}
        ]))
        .await;
    let mut device = Device::new(server);
    device
        .sdk
        .register(DeviceProfile::new("d1", "ann"))
        .await
        .unwrap();
    // The last of the first updates: everything queued so far is delivered.
    device.event("PERIODICUPDATE").await;
    device
}

fn set_zone(device: &Device, zone: &str) {
    let zone = zone.to_owned();
    device.fake.set(move |v| v.time_zone = Some(zone));
}

#[tokio::test]
async fn readings_taken_offline_arrive_when_the_server_is_back() {
    let mut server = Server::start();
    let mut device = registered(&server).await;

    server.stop();
    // No await between the two reports: the first cannot be in flight when the second
    // replaces it.
    set_zone(&device, "Asia/Tokyo");
    assert!(
        device
            .sdk
            .report_event(DeviceEvent::TimeZoneChange)
            .unwrap()
    );
    set_zone(&device, "America/New_York");
    assert!(
        device
            .sdk
            .report_event(DeviceEvent::TimeZoneChange)
            .unwrap()
    );
    device.fake.set(|v| v.battery = Some(40));
    device.clock.advance(Duration::from_secs(3600));
    wait_until(|| device.sdk.pending_updates().len() == 2).await;

    let pending: Vec<_> = device
        .sdk
        .pending_updates()
        .into_iter()
        .map(|p| (p.event, json!(p.update)))
        .collect();
    assert_eq!(
        pending,
        vec![
            (
                "TIMEZONECHANGE".to_owned(),
                json!({"timezone": "America/New_York"})
            ),
            ("PERIODICUPDATE".to_owned(), json!({"batterylevel": "40%"})),
        ]
    );
    let on_disk = std::fs::read_to_string(device.state_dir.path().join("queue.json")).unwrap();
    assert!(on_disk.contains("America/New_York"), "{on_disk}");

    server.restart();
    let zone = device
        .advance_until(Duration::from_secs(60), "TIMEZONECHANGE")
        .await;
    let battery = device
        .advance_until(Duration::from_secs(60), "PERIODICUPDATE")
        .await;

    assert_eq!(json!(zone.update), json!({"timezone": "America/New_York"}));
    assert!(zone.delivered_at > zone.captured_at);
    assert_eq!(json!(battery.update), json!({"batterylevel": "40%"}));
    assert!(device.sdk.pending_updates().is_empty());
    let zones: Vec<_> = server
        .events_of("TIMEZONECHANGE")
        .await
        .iter()
        .map(|e| changes(e)["timezone"].clone())
        .collect();
    assert_eq!(
        zones,
        vec![json!("Europe/London"), json!("America/New_York")]
    );
    let (install, _) = server.install_of("ann").await;
    assert_eq!(install["batterylevel"], "40%");
}

#[tokio::test]
async fn the_queue_outlives_the_app() {
    let mut server = Server::start();
    let device = registered(&server).await;
    server.stop();
    set_zone(&device, "Asia/Tokyo");
    assert!(
        device
            .sdk
            .report_event(DeviceEvent::TimeZoneChange)
            .unwrap()
    );

    let mut device = device.restarted(&server);
    let waiting = device.sdk.pending_updates();
    server.restart();
    let zone = device
        .advance_until(Duration::from_secs(60), "TIMEZONECHANGE")
        .await;

    assert_eq!(waiting.len(), 1);
    assert_eq!(json!(zone.update), json!({"timezone": "Asia/Tokyo"}));
    let (install, _) = server.install_of("ann").await;
    assert_eq!(install["timezone"], "Asia/Tokyo");
}
