//! verifyPolicy: what the tenant enabled AND the SDK's version supports; readings of monitors
//! the policy does not enable are ignored.

use crate::helpers::{Sdk, records};
use serde_json::json;

async fn with_policy() -> Sdk {
    let sdk = Sdk::start().await;
    sdk.set_policy(json!({
        "android": [
            {"attribute": "location", "category": "event"},
            {"attribute": "batterylevel", "category": "interval", "interval_seconds": 3600},
            {"attribute": "imei", "category": "one_time"}
        ],
        "ios": [{"attribute": "timezone", "category": "event"}]
    }))
    .await;
    sdk
}

#[tokio::test]
async fn a_new_app_enables_nothing() {
    let sdk = Sdk::start().await;

    let reply = sdk
        .call_with("verifyPolicy?os=android", None, &[("sdkversion", "2.11.0")])
        .await;

    assert_eq!(reply.body["code"], "0", "{:?}", reply.body);
    assert_eq!(reply.body["monitors"], json!([]));
    assert_eq!(reply.body["policyPollingInterval"], 30);
}

#[tokio::test]
async fn a_current_sdk_gets_only_event_monitors() {
    let sdk = with_policy().await;

    let reply = sdk
        .call_with("verifyPolicy?os=android", None, &[("sdkversion", "2.12.3")])
        .await;

    assert_eq!(
        reply.body["monitors"],
        json!([{"attribute": "location", "category": "event"}])
    );
    assert_eq!(reply.body["sdkBand"], "2.12+");
}

#[tokio::test]
async fn a_legacy_sdk_gets_every_enabled_monitor_with_intervals() {
    let sdk = with_policy().await;

    let reply = sdk
        .call_with("verifyPolicy?os=android", None, &[("sdkversion", "2.11.4")])
        .await;

    assert_eq!(
        reply.body["monitors"],
        json!([
            {"attribute": "location", "category": "event"},
            {"attribute": "batterylevel", "category": "interval", "interval_seconds": 3600},
            {"attribute": "imei", "category": "one_time"}
        ])
    );
}

#[tokio::test]
async fn each_platform_gets_its_own_monitors_and_a_bad_os_is_refused() {
    let sdk = with_policy().await;

    let ios = sdk
        .call_with("verifyPolicy?os=ios", None, &[("sdkversion", "3.0.0")])
        .await;
    let web = sdk
        .call_with("verifyPolicy?os=web", None, &[("sdkversion", "3.0.0")])
        .await;
    let bad = sdk.call_with("verifyPolicy?os=palm", None, &[]).await;

    assert_eq!(
        ios.body["monitors"],
        json!([{"attribute": "timezone", "category": "event"}])
    );
    assert_eq!(web.body["monitors"], json!([]));
    assert_eq!(bad.body["code"], "3");
}

#[tokio::test]
async fn readings_of_monitors_not_enabled_are_ignored_and_listed() {
    let sdk = with_policy().await;
    sdk.register("u1", "d1").await;

    let reply = sdk
        .post(
            "profileupdate",
            json!({"clientId": sdk.client_id("u1", "d1"), "event": "NETWORKCHANGE",
                   "data": {"update": {"teleco": "Vodafone", "location": "[1,2]"}}}),
        )
        .await;

    assert_eq!(reply.body["code"], "0", "{:?}", reply.body);
    assert_eq!(reply.body["ignored"], json!(["teleco"]));
    let stored = &records(&sdk.by_user("u1").await)[0];
    assert_eq!(stored["location"], "[1,2]");
    assert!(!stored.contains_key("teleco"));
}
