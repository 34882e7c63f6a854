//! Every SDK call, its admission, and what the compatible API shows of what the SDK wrote.

use crate::helpers::{Sdk, records};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn register_answers_success_and_the_compat_api_lists_every_device() {
    let sdk = Sdk::start().await;

    let first = sdk.register("u1", "d1").await;
    sdk.register("u1", "d2").await;

    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.body["status"], "Success");
    assert_eq!(first.body["code"], "0");
    assert_eq!(first.body["userId"], "u1");
    assert_eq!(first.body["appType"], "rt");
    assert_eq!(first.body["profileTTL"], 40);
    assert_eq!(first.body["multiProfileEnabled"], false);
    assert_eq!(first.body["clientId"], sdk.client_id("u1", "d1"));
    let read = records(&sdk.by_user("u1").await);
    assert_eq!(read.len(), 2);
    let one = &read[0];
    assert_eq!(one["status"], "0");
    assert_eq!(one["guest"], "false");
    assert_eq!(one["sdkversion"], "2.12.0");
    assert_eq!(one["channelType"], "android");
    assert_eq!(one["os"], "Android");
    assert!(one.contains_key("createdOn") && one.contains_key("last_opened"));
}

#[tokio::test]
async fn register_without_user_id_gets_a_system_one() {
    let sdk = Sdk::start().await;

    let reply = sdk
        .post(
            "register",
            json!({"deviceId": "d1", "channel": "rt", "channelType": "web"}),
        )
        .await;

    assert_eq!(reply.body["code"], "0", "{:?}", reply.body);
    assert_eq!(reply.body["isSystemGenerated"], true);
    let user = reply.body["userId"].as_str().unwrap().to_owned();
    assert!(user.starts_with("sys-"));
    assert_eq!(records(&sdk.by_user(&user).await)[0]["guest"], "true");
}

#[tokio::test]
async fn registering_again_is_idempotent() {
    let sdk = Sdk::start().await;
    sdk.register("u1", "d1").await;

    let again = sdk.register("u1", "d1").await;

    assert_eq!(again.body["code"], "0");
    assert_eq!(records(&sdk.by_user("u1").await).len(), 1);
}

#[tokio::test]
async fn another_apps_key_a_profile_key_or_no_key_is_refused() {
    let sdk = Sdk::start().await;
    let other = sdk.app.app(&sdk.tenant, "Other").await;
    let body = json!({"userId": "u1", "deviceId": "d1", "channelType": "ios"});

    let foreign = sdk
        .call_with(
            "register",
            Some(body.clone()),
            &[("secretKey", &other.client_key)],
        )
        .await;
    let profile_key = sdk
        .call_with(
            "register",
            Some(body.clone()),
            &[("secretKey", &sdk.tenant.key)],
        )
        .await;
    let none = sdk
        .call_with("register", Some(body), &[("secretKey", "")])
        .await;

    for reply in [foreign, profile_key, none] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{:?}", reply.body);
        assert_eq!(reply.body["status"], "Failure");
        assert_eq!(reply.body["code"], "1");
    }
}

#[tokio::test]
async fn bad_parameters_are_code_3_naming_the_attribute_and_nothing_is_applied() {
    let sdk = Sdk::start().await;

    let no_platform = sdk
        .post("register", json!({"userId": "u1", "deviceId": "d1"}))
        .await;
    let unknown = sdk
        .post(
            "register",
            json!({"userId": "u1", "deviceId": "d1", "channelType": "android",
                   "data": {"update": {"os": "Android", "favourite_colour": "red"}}}),
        )
        .await;
    let malformed = sdk
        .post(
            "register",
            json!({"userId": "u1", "deviceId": "d1", "channelType": "android",
                   "data": {"update": {"NFC": "perhaps"}}}),
        )
        .await;

    assert_eq!(no_platform.body["code"], "3");
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.body["code"], "3");
    assert!(
        unknown.body["description"]
            .as_str()
            .unwrap()
            .contains("favourite_colour")
    );
    assert!(
        malformed.body["description"]
            .as_str()
            .unwrap()
            .contains("NFC")
    );
    assert!(records(&sdk.by_user("u1").await).is_empty());
}

#[tokio::test]
async fn set_customer_id_links_and_creates_the_customer_and_remove_unlinks() {
    let sdk = Sdk::start().await;
    sdk.register("u1", "d1").await;

    let linked = sdk
        .post(
            "setCustomerId",
            json!({"clientId": sdk.client_id("u1", "d1"), "channel": "rt",
                   "channelType": "android", "customerId": "C-1"}),
        )
        .await;

    assert_eq!(linked.body["code"], "0", "{:?}", linked.body);
    let read = sdk.by_user("u1").await;
    let outward = &read.body["Records"][0]["OutwardLinks"];
    assert_eq!(outward.as_array().unwrap().len(), 1, "{outward:?}");
    assert!(outward.to_string().contains("C-1"));
    let customer = sdk
        .app
        .get(
            "/resources/v2/customerprofile/C-1?showinwardlinks=1",
            &sdk.tenant.key,
        )
        .await;
    assert_eq!(customer.code(), "1000", "{:?}", customer.body);
    let inward = &customer.body["Records"][0]["InwardLinks"];
    assert!(inward.to_string().contains("d1"), "{inward:?}");

    let unlinked = sdk
        .post(
            "removeCustomerId",
            json!({"clientId": sdk.client_id("u1", "d1")}),
        )
        .await;
    assert_eq!(unlinked.body["code"], "0");
    let read = sdk.by_user("u1").await;
    assert_eq!(read.body["Records"][0]["OutwardLinks"], json!([]));
}

#[tokio::test]
async fn set_user_id_and_remove_user_id_move_the_install() {
    let sdk = Sdk::start().await;
    sdk.register("u1", "d1").await;

    let set = sdk
        .post(
            "setUserId",
            json!({"clientId": sdk.client_id("u1", "d1"), "userId": "u2"}),
        )
        .await;
    assert_eq!(set.body["code"], "0", "{:?}", set.body);
    assert_eq!(set.body["clientId"], sdk.client_id("u2", "d1"));
    assert!(records(&sdk.by_user("u1").await).is_empty());
    assert_eq!(records(&sdk.by_user("u2").await).len(), 1);

    let removed = sdk
        .post(
            "removeUserId",
            json!({"clientId": sdk.client_id("u2", "d1")}),
        )
        .await;
    let system = removed.body["userId"].as_str().unwrap().to_owned();
    assert!(system.starts_with("sys-"));
    assert_eq!(removed.body["isSystemGenerated"], true);
    assert_eq!(records(&sdk.by_user(&system).await)[0]["guest"], "true");
}

#[tokio::test]
async fn unregister_sets_status_2_clears_the_push_id_and_keeps_the_record() {
    let sdk = Sdk::start().await;
    sdk.post(
        "register",
        json!({"userId": "u1", "deviceId": "d1", "channelType": "android",
               "data": {"update": {"pushId": "tok-1"}}}),
    )
    .await;

    let reply = sdk
        .post("unregister", json!({"clientId": sdk.client_id("u1", "d1")}))
        .await;

    assert_eq!(reply.body["code"], "0");
    let read = records(&sdk.by_user("u1").await);
    assert_eq!(read[0]["status"], "2");
    assert!(!read[0].contains_key("pushId"));
    let last = sdk.events().await.pop().unwrap();
    assert_eq!(last["type"], "app_profile.unregistered");
    assert_eq!(last["device_event"], "unregister");
}

#[tokio::test]
async fn calls_on_an_unregistered_device_or_a_bad_client_id_are_refused() {
    let sdk = Sdk::start().await;

    let missing = sdk
        .post("unregister", json!({"clientId": sdk.client_id("u1", "d1")}))
        .await;
    let other_app = sdk
        .post("unregister", json!({"clientId": "ZZ00000000/u1/d1"}))
        .await;

    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["code"], "5");
    assert_eq!(other_app.body["code"], "3");
}

#[tokio::test]
async fn profile_update_records_the_device_event_and_old_values() {
    let sdk = Sdk::start().await;
    sdk.set_policy(json!({"android": [{"attribute": "location", "category": "event"}]}))
        .await;
    sdk.post(
        "register",
        json!({"userId": "u1", "deviceId": "d1", "channelType": "android",
               "data": {"update": {"location": "[1,2]"}}}),
    )
    .await;

    let reply = sdk
        .post(
            "profileupdate",
            json!({"clientId": sdk.client_id("u1", "d1"), "state": "PROFILEUPDATE",
                   "event": "LOCATIONCHANGE", "data": {"update": {"location": [51.5, -0.12]}}}),
        )
        .await;

    assert_eq!(reply.body["code"], "0", "{:?}", reply.body);
    assert_eq!(
        records(&sdk.by_user("u1").await)[0]["location"],
        "[51.5,-0.12]"
    );
    let last = sdk.events().await.pop().unwrap();
    assert_eq!(last["type"], "app_profile.updated");
    assert_eq!(last["device_event"], "LOCATIONCHANGE");
    assert_eq!(
        last["changes"],
        json!([{"attribute": "location", "old": "[1,2]", "new": "[51.5,-0.12]"}])
    );
}

#[tokio::test]
async fn a_heartbeat_that_changes_nothing_writes_no_event() {
    let sdk = Sdk::start().await;
    sdk.register("u1", "d1").await;
    let beat = json!({"clientId": sdk.client_id("u1", "d1"), "state": "PROFILEUPDATE",
                      "event": "ProfileUpdate", "data": {"update": {"sdkheartbeat": 1}}});
    sdk.post("profileupdate", beat.clone()).await;
    let before = sdk.events().await.len();

    let reply = sdk.post("profileupdate", beat).await;

    assert_eq!(reply.body["code"], "0");
    assert_eq!(sdk.events().await.len(), before);
}

#[tokio::test]
async fn web_client_ids_carry_the_web_device_prefix() {
    let sdk = Sdk::start().await;
    sdk.post(
        "register",
        json!({"userId": "u1", "deviceId": "browser-1", "channel": "rt", "channelType": "web"}),
    )
    .await;

    let reply = sdk
        .post(
            "unregister",
            json!({"clientId": sdk.client_id("u1", "v2_web_browser-1")}),
        )
        .await;

    assert_eq!(reply.body["code"], "0", "{:?}", reply.body);
    assert_eq!(records(&sdk.by_user("u1").await)[0]["status"], "2");
}
