//! The app options: one user per device, one device per user, and the TTL job.

use crate::helpers::{Sdk, records};
use chrono::{Duration, Utc};
use profilestore_core::device::AppOptions;
use serde_json::json;

#[tokio::test]
async fn by_default_another_user_on_a_device_replaces_the_old_install() {
    let sdk = Sdk::start().await;
    sdk.register("u1", "d1").await;

    sdk.register("u2", "d1").await;

    assert_eq!(records(&sdk.by_user("u1").await)[0]["status"], "2");
    assert_eq!(records(&sdk.by_user("u2").await)[0]["status"], "0");
    let types: Vec<_> = sdk
        .events()
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    assert!(types.contains(&"app_profile.unregistered".to_owned()));
}

#[tokio::test]
async fn multi_user_per_device_keeps_both_users_and_the_last_is_active() {
    let sdk = Sdk::start().await;
    sdk.set_options(AppOptions {
        multi_user_per_device: true,
        ..AppOptions::default()
    })
    .await;
    sdk.register("u1", "d1").await;

    let reply = sdk.register("u2", "d1").await;

    assert_eq!(reply.body["multiProfileEnabled"], true);
    let (u1, u2) = (
        records(&sdk.by_user("u1").await).remove(0),
        records(&sdk.by_user("u2").await).remove(0),
    );
    assert_eq!((u1["status"].as_str(), u2["status"].as_str()), ("0", "0"));
    // Only the last registered is the device's active install.
    assert_eq!(
        (u1["connectStatus"].as_str(), u2["connectStatus"].as_str()),
        ("0", "1")
    );
}

#[tokio::test]
async fn single_device_per_user_unregisters_the_users_other_devices() {
    let sdk = Sdk::start().await;
    sdk.set_options(AppOptions {
        single_device_per_user: true,
        ..AppOptions::default()
    })
    .await;
    sdk.register("u1", "d1").await;

    sdk.register("u1", "d2").await;

    let read = records(&sdk.by_user("u1").await);
    let status: Vec<_> = read
        .iter()
        .map(|r| (r["deviceId"].clone(), r["status"].clone()))
        .collect();
    assert_eq!(
        status,
        [
            ("d1".to_owned(), "2".to_owned()),
            ("d2".to_owned(), "0".to_owned())
        ]
    );
}

#[tokio::test]
async fn without_the_option_a_user_keeps_every_device() {
    let sdk = Sdk::start().await;
    sdk.register("u1", "d1").await;

    sdk.register("u1", "d2").await;

    let read = records(&sdk.by_user("u1").await);
    assert!(read.iter().all(|r| r["status"] == "0"));
}

#[tokio::test]
async fn the_ttl_job_deletes_installs_without_contact_for_the_apps_ttl() {
    let sdk = Sdk::start().await;
    sdk.set_options(AppOptions {
        profile_ttl_days: 10,
        ..AppOptions::default()
    })
    .await;
    sdk.register("u1", "d1").await;

    let kept = sdk
        .app
        .admin
        .expire_app_profiles(Utc::now() + Duration::days(9))
        .await
        .unwrap();
    let deleted = sdk
        .app
        .admin
        .expire_app_profiles(Utc::now() + Duration::days(11))
        .await
        .unwrap();

    assert_eq!((kept, deleted), (0, 1));
    assert!(records(&sdk.by_user("u1").await).is_empty());
    let last = sdk.events().await.pop().unwrap();
    assert_eq!(last["type"], "app_profile.deleted");
}

#[tokio::test]
async fn a_heartbeat_keeps_an_install_alive() {
    let sdk = Sdk::start().await;
    sdk.register("u1", "d1").await;
    sdk.post(
        "profileupdate",
        json!({"clientId": sdk.client_id("u1", "d1"), "event": "ProfileUpdate",
               "data": {"update": {"sdkheartbeat": 1}}}),
    )
    .await;

    let deleted = sdk
        .app
        .admin
        .expire_app_profiles(Utc::now() + Duration::days(39))
        .await
        .unwrap();

    assert_eq!(deleted, 0);
    assert_eq!(records(&sdk.by_user("u1").await).len(), 1);
}

#[tokio::test]
async fn installs_written_through_the_compat_api_are_not_aged() {
    let sdk = Sdk::start().await;
    let created = sdk
        .app
        .post(
            &format!("/resources/v2/customerappprofile/{}", sdk.asset.app_id),
            &sdk.tenant.key,
            json!({"Records": [{"Attributes": {"userId": "u9", "deviceId": "d9"}}]}),
        )
        .await;
    assert_eq!(created.code(), "1000", "{:?}", created.body);

    let deleted = sdk
        .app
        .admin
        .expire_app_profiles(Utc::now() + Duration::days(400))
        .await
        .unwrap();

    assert_eq!(deleted, 0);
}
