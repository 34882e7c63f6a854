//! Apps with a JWT secret: every call carries the provider's token, and the server's token
//! codes come back as the SDK's token errors.

use crate::support::{Device, Server, hs256};
use profilestore_sdk::{DeviceEvent, DeviceProfile, ProfileParam, SdkError};
use serde_json::json;

const SECRET: &str = "the-app-jwt-secret-of-at-least-32-chars";

async fn with_jwt_secret() -> Server {
    let server = Server::start();
    let path = format!("/v1/apps/{}", server.app_id);
    let body = json!({"jwt_secret": SECRET});
    server.v1(reqwest::Method::PATCH, &path, Some(body)).await;
    server
}

fn in_an_hour() -> i64 {
    chrono::Utc::now().timestamp() + 3600
}

#[tokio::test]
async fn without_a_token_provider_registering_needs_a_token() {
    let server = with_jwt_secret().await;
    let device = Device::new(&server);

    let refused = device.sdk.register(DeviceProfile::new("d1", "ann")).await;

    assert_eq!(refused, Err(SdkError::TokenRequired));
    assert!(!device.sdk.is_registered());
}

#[tokio::test]
async fn a_token_provider_signs_every_call_for_its_user() {
    let server = with_jwt_secret().await;
    server
        .set_android_policy(json!([{"attribute": "timezone", "category": "event"}]))
        .await;
    let mut device = Device::with(&server, |builder| {
        builder.token_provider(|user_id: Option<&str>| {
            Some(hs256(SECRET, &json!({"sub": user_id, "exp": in_an_hour()})))
        })
    });

    device
        .sdk
        .register(DeviceProfile::new("d1", "ann"))
        .await
        .unwrap();
    device.event("TIMEZONECHANGE").await;
    device
        .sdk
        .update_profile_data(ProfileParam::CustomerId, "C-1")
        .await
        .unwrap();
    device
        .fake
        .set(|v| v.time_zone = Some("Asia/Tokyo".to_owned()));
    device
        .sdk
        .report_event(DeviceEvent::TimeZoneChange)
        .unwrap();
    device.event("TIMEZONECHANGE").await;

    let (install, _) = server.install_of("ann").await;
    assert_eq!(install["customerId"], "C-1");
    assert_eq!(install["timezone"], "Asia/Tokyo");
    assert!(device.sdk.policy().is_some());
}

#[tokio::test]
async fn a_guest_registers_with_a_token_naming_no_user() {
    let server = with_jwt_secret().await;
    let device = Device::with(&server, |builder| {
        builder.token_provider(|user_id: Option<&str>| {
            let claims = match user_id {
                Some(user) => json!({"sub": user}),
                None => json!({}),
            };
            Some(hs256(SECRET, &claims))
        })
    });

    let user_id = device
        .sdk
        .register(DeviceProfile::guest("d1"))
        .await
        .unwrap();

    assert!(user_id.starts_with("sys-"));
    device
        .sdk
        .update_profile_data(ProfileParam::CustomerId, "C-1")
        .await
        .unwrap();
}

#[tokio::test]
async fn expired_and_foreign_tokens_are_told_apart() {
    let server = with_jwt_secret().await;
    let expired = Device::with(&server, |builder| {
        builder.token_provider(|user_id: Option<&str>| {
            Some(hs256(SECRET, &json!({"sub": user_id, "exp": 1_000})))
        })
    });
    let other_secret = Device::with(&server, |builder| {
        builder.token_provider(|user_id: Option<&str>| {
            let secret = "another-secret-of-at-least-32-characters";
            Some(hs256(secret, &json!({"sub": user_id})))
        })
    });
    let other_user = Device::with(&server, |builder| {
        builder.token_provider(|_: Option<&str>| Some(hs256(SECRET, &json!({"sub": "eve"}))))
    });

    let profile = || DeviceProfile::new("d1", "ann");
    assert_eq!(
        expired.sdk.register(profile()).await,
        Err(SdkError::TokenExpired)
    );
    assert_eq!(
        other_secret.sdk.register(profile()).await,
        Err(SdkError::TokenInvalid)
    );
    assert_eq!(
        other_user.sdk.register(profile()).await,
        Err(SdkError::TokenInvalid)
    );
}
