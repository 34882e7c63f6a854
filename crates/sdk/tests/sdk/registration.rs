//! register, is_registered, device_profile, unregister, and the state that survives a
//! restart of the app.

use crate::support::{Device, Server};
use profilestore_sdk::{DeviceEvent, DeviceProfile, ProfileParam, SdkError};

#[tokio::test]
async fn registering_with_a_user_id_answers_it_and_creates_the_install() {
    let server = Server::start();
    let device = Device::new(&server);

    let user_id = device
        .sdk
        .register(DeviceProfile::new("d1", "ann"))
        .await
        .unwrap();

    assert_eq!(user_id, "ann");
    assert!(device.sdk.is_registered());
    let profile = device.sdk.device_profile().unwrap();
    assert_eq!(profile.client_id, format!("{}/ann/d1", server.app_id));
    assert!(!profile.is_guest);
    let (install, _) = server.install_of("ann").await;
    assert_eq!(install["deviceId"], "d1");
    assert_eq!(install["os"], "TestOS");
    assert_eq!(install["model"], "Kiosk 7");
    assert_eq!(install["guest"], "false");
    assert_eq!(install["channelType"], "android");
    assert_eq!(install["sdkversion"], profilestore_sdk::DEFAULT_SDK_VERSION);
}

#[tokio::test]
async fn registering_without_a_user_id_gets_one_from_the_server() {
    let server = Server::start();
    let device = Device::new(&server);

    let user_id = device
        .sdk
        .register(DeviceProfile::guest("d1"))
        .await
        .unwrap();

    assert!(user_id.starts_with("sys-"), "{user_id}");
    let profile = device.sdk.device_profile().unwrap();
    assert_eq!(profile.user_id, user_id);
    assert!(profile.is_guest);
    let (install, _) = server.install_of(&user_id).await;
    assert_eq!(install["guest"], "true");
}

#[tokio::test]
async fn a_restarted_app_does_not_register_again() {
    let server = Server::start();
    let device = Device::new(&server);
    device
        .sdk
        .register(DeviceProfile::new("d1", "ann"))
        .await
        .unwrap();

    let device = device.restarted(&server);

    assert!(device.sdk.is_registered());
    assert_eq!(device.sdk.device_profile().unwrap().user_id, "ann");
    let again = device.sdk.register(DeviceProfile::new("d1", "ann")).await;
    assert_eq!(again, Err(SdkError::AlreadyRegistered));
    assert_eq!(server.events_of("Register").await.len(), 1);
}

#[tokio::test]
async fn calls_before_registering_are_refused_locally() {
    let server = Server::start();
    let device = Device::new(&server);

    let link = device
        .sdk
        .update_profile_data(ProfileParam::CustomerId, "C-1")
        .await;
    let event = device.sdk.report_event(DeviceEvent::TimeZoneChange);
    let unregister = device.sdk.unregister().await;

    assert_eq!(link, Err(SdkError::NotRegistered));
    assert_eq!(event, Err(SdkError::NotRegistered));
    assert_eq!(unregister, Err(SdkError::NotRegistered));
    assert_eq!(server.sdk_requests("register").await, 0);
}

#[tokio::test]
async fn invalid_profiles_are_refused_before_anything_is_sent() {
    let server = Server::start();
    let device = Device::new(&server);
    let guest_with_user = DeviceProfile {
        is_guest: true,
        ..DeviceProfile::new("d1", "ann")
    };

    for profile in [
        DeviceProfile::new("", "ann"),
        DeviceProfile::new("d1", "a/b"),
        guest_with_user,
    ] {
        let refused = device.sdk.register(profile).await;
        assert!(
            matches!(refused, Err(SdkError::InvalidParameter(_))),
            "{refused:?}"
        );
    }
    assert_eq!(server.sdk_requests("register").await, 0);
}

#[tokio::test]
async fn unregistering_marks_the_install_and_forgets_it_here() {
    let server = Server::start();
    let device = Device::new(&server);
    device
        .sdk
        .register(DeviceProfile::new("d1", "ann"))
        .await
        .unwrap();

    device.sdk.unregister().await.unwrap();

    assert!(!device.sdk.is_registered());
    let (install, _) = server.install_of("ann").await;
    assert_eq!(install["status"], "2");
    let device = device.restarted(&server);
    assert!(!device.sdk.is_registered());
    device
        .sdk
        .register(DeviceProfile::new("d1", "ann"))
        .await
        .unwrap();
    let (install, _) = server.install_of("ann").await;
    assert_eq!(install["status"], "0");
}

#[tokio::test]
async fn an_install_the_server_deleted_is_forgotten_at_the_next_call() {
    let server = Server::start();
    let device = Device::new(&server);
    device
        .sdk
        .register(DeviceProfile::new("d1", "ann"))
        .await
        .unwrap();
    server
        .compat_delete(&format!(
            "/resources/v2/customerappprofile/{}?identifier=ann",
            server.app_id
        ))
        .await;

    let link = device
        .sdk
        .update_profile_data(ProfileParam::CustomerId, "C-1")
        .await;

    assert_eq!(link, Err(SdkError::NotRegistered));
    assert!(!device.sdk.is_registered());
}

#[tokio::test]
async fn a_shut_down_sdk_answers_not_initialized() {
    let server = Server::start();
    let device = Device::new(&server);

    device.sdk.shutdown();

    let refused = device.sdk.register(DeviceProfile::new("d1", "ann")).await;
    assert_eq!(refused, Err(SdkError::NotInitialized));
}
