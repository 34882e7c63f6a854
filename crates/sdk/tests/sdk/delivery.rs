//! What the sender does with the server's refusals: a value the server refuses is dropped
//! (it would never pass), an install the server deleted ends the registration.

use crate::support::{Device, Server, wait_until};
use profilestore_sdk::{DeviceEvent, DeviceProfile, Location};
use serde_json::json;

async fn registered(server: &Server) -> Device {
    server
        .set_android_policy(json!([
            {"attribute": "timezone", "category": "event"},
            {"attribute": "location", "category": "event"}
        ]))
        .await;
    let mut device = Device::new(server);
    device
        .sdk
        .register(DeviceProfile::new("d1", "ann"))
        .await
        .unwrap();
    device.event("ProfileUpdate").await;
    device
}

#[tokio::test]
async fn a_value_the_server_refuses_is_dropped_and_later_updates_go_on() {
    let server = Server::start();
    let mut device = registered(&server).await;

    device.fake.set(|v| {
        v.location = Some(Location {
            latitude: 200.0,
            longitude: 0.0,
        });
        v.time_zone = Some("Asia/Tokyo".to_owned());
    });
    assert!(
        device
            .sdk
            .report_event(DeviceEvent::LocationChange)
            .unwrap()
    );
    assert!(
        device
            .sdk
            .report_event(DeviceEvent::TimeZoneChange)
            .unwrap()
    );
    let zone = device.event("TIMEZONECHANGE").await;

    assert_eq!(json!(zone.update), json!({"timezone": "Asia/Tokyo"}));
    assert!(device.sdk.pending_updates().is_empty());
    let (install, _) = server.install_of("ann").await;
    assert_eq!(install["location"], "[51.5,-0.12]");
}

#[tokio::test]
async fn an_install_the_server_deleted_ends_the_registration() {
    let server = Server::start();
    let device = registered(&server).await;
    server
        .compat_delete(&format!(
            "/resources/v2/customerappprofile/{}?identifier=ann",
            server.app_id
        ))
        .await;

    device
        .fake
        .set(|v| v.time_zone = Some("Asia/Tokyo".to_owned()));
    device
        .sdk
        .report_event(DeviceEvent::TimeZoneChange)
        .unwrap();
    wait_until(|| !device.sdk.is_registered()).await;

    assert!(device.sdk.pending_updates().is_empty());
    let device = device.restarted(&server);
    assert!(!device.sdk.is_registered());
}
