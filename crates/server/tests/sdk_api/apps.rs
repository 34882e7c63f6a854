//! The native API's apps: options, client-key rotation, the device policy and the catalogue,
//! in /openapi.json; and the JWT rule of the SDK calls that an app's secret turns on.

use crate::helpers::Sdk;
use crate::support::{Reply, into_reply};
use chrono::Utc;
use profilestore_server::api::sdk::jwt::sign;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const JWT_SECRET: &str = "0123456789abcdef0123456789abcdef";

async fn native(sdk: &Sdk, method: Method, path: &str, body: Option<Value>) -> Reply {
    let mut request = sdk
        .app
        .client
        .request(method, format!("{}{path}", sdk.app.base_url))
        .bearer_auth(&sdk.tenant.key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    into_reply(request.send().await.expect("request sent")).await
}

fn app_path(sdk: &Sdk, rest: &str) -> String {
    format!("/v1/apps/{}{rest}", sdk.asset.app_id)
}

#[tokio::test]
async fn apps_are_listed_created_and_read_with_default_options() {
    let sdk = Sdk::start().await;

    let created = native(&sdk, Method::POST, "/v1/apps", Some(json!({"name": "Web"}))).await;
    let listed = native(&sdk, Method::GET, "/v1/apps", None).await;
    let one = native(&sdk, Method::GET, &app_path(&sdk, ""), None).await;

    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert!(
        created.body["client_key"]
            .as_str()
            .unwrap()
            .starts_with("ck_")
    );
    assert_eq!(listed.body["apps"].as_array().unwrap().len(), 2);
    assert!(listed.body["apps"][0].get("client_key").is_none());
    assert_eq!(
        one.body["options"],
        json!({"multi_user_per_device": false, "single_device_per_user": false,
               "profile_ttl_days": 40, "jwt_required": false})
    );
    let new_key = created.body["client_key"].as_str().unwrap();
    let new_app = created.body["app_id"].as_str().unwrap();
    let registered = sdk
        .app
        .client
        .post(format!("{}/api/v3/{new_app}/register", sdk.app.base_url))
        .header("secretKey", new_key)
        .json(&json!({"userId": "u1", "deviceId": "d1", "channelType": "web"}))
        .send()
        .await
        .unwrap();
    assert_eq!(into_reply(registered).await.body["code"], "0");
}

#[tokio::test]
async fn patch_changes_options_and_refuses_a_ttl_out_of_range() {
    let sdk = Sdk::start().await;

    let changed = native(
        &sdk,
        Method::PATCH,
        &app_path(&sdk, ""),
        Some(json!({"name": "Renamed", "multi_user_per_device": true, "profile_ttl_days": 365})),
    )
    .await;
    let refused = native(
        &sdk,
        Method::PATCH,
        &app_path(&sdk, ""),
        Some(json!({"profile_ttl_days": 366})),
    )
    .await;
    let other = sdk.app.tenant("other").await;
    let foreign = sdk
        .app
        .client
        .get(format!("{}{}", sdk.app.base_url, app_path(&sdk, "")))
        .bearer_auth(&other.key)
        .send()
        .await
        .unwrap();

    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["name"], "Renamed");
    assert_eq!(changed.body["options"]["multi_user_per_device"], true);
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["errors"][0]["field"], "profile_ttl_days");
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        sdk.register("u1", "d1").await.body["multiProfileEnabled"],
        true
    );
}

#[tokio::test]
async fn rotating_the_client_key_returns_the_new_key_once_and_retires_the_old() {
    let sdk = Sdk::start().await;

    let rotated = native(
        &sdk,
        Method::PATCH,
        &app_path(&sdk, ""),
        Some(json!({"rotate_client_key": true})),
    )
    .await;

    let new_key = rotated.body["client_key"].as_str().unwrap().to_owned();
    assert_ne!(new_key, sdk.asset.client_key);
    let old = sdk.register("u1", "d1").await;
    assert_eq!(old.body["code"], "1");
    let body = json!({"userId": "u1", "deviceId": "d1", "channelType": "ios"});
    let new = sdk
        .call_with("register", Some(body), &[("secretKey", &new_key)])
        .await;
    assert_eq!(new.body["code"], "0");
    let read = native(&sdk, Method::GET, &app_path(&sdk, ""), None).await;
    assert!(read.body.get("client_key").is_none());
}

#[tokio::test]
async fn the_device_policy_round_trips_and_bad_monitors_are_refused() {
    let sdk = Sdk::start().await;
    let empty = native(&sdk, Method::GET, &app_path(&sdk, "/device-policy"), None).await;
    assert_eq!(empty.body, json!({"android": [], "ios": [], "web": []}));
    let policy = json!({"android": [{"attribute": "signalstrength", "category": "interval",
                                     "interval_seconds": 600}],
                        "ios": [], "web": [{"attribute": "useragent", "category": "one_time"}]});

    let put = native(
        &sdk,
        Method::PUT,
        &app_path(&sdk, "/device-policy"),
        Some(policy.clone()),
    )
    .await;
    let read = native(&sdk, Method::GET, &app_path(&sdk, "/device-policy"), None).await;
    let wrong_platform = native(
        &sdk,
        Method::PUT,
        &app_path(&sdk, "/device-policy"),
        Some(json!({"ios": [{"attribute": "imei", "category": "one_time"}]})),
    )
    .await;
    let too_often = native(
        &sdk,
        Method::PUT,
        &app_path(&sdk, "/device-policy"),
        Some(
            json!({"android": [{"attribute": "batterylevel", "category": "interval",
                                 "interval_seconds": 30}]}),
        ),
    )
    .await;

    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    assert_eq!(read.body, policy);
    assert_eq!(wrong_platform.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong_platform.body["errors"][0]["field"], "ios[0]");
    assert_eq!(too_often.status, StatusCode::UNPROCESSABLE_ENTITY);
    let misspelt = native(
        &sdk,
        Method::PUT,
        &app_path(&sdk, "/device-policy"),
        Some(json!({"andriod": []})),
    )
    .await;
    assert_eq!(misspelt.status, StatusCode::UNPROCESSABLE_ENTITY);
    let served = sdk
        .call_with("verifyPolicy?os=android", None, &[("sdkversion", "2.10.0")])
        .await;
    assert_eq!(served.body["monitors"], policy["android"]);
}

#[tokio::test]
async fn the_catalogue_and_the_routes_are_published() {
    let sdk = Sdk::start().await;

    let catalogue = native(&sdk, Method::GET, "/v1/device-attributes", None).await;
    let openapi = sdk
        .app
        .client
        .get(format!("{}/openapi.json", sdk.app.base_url))
        .send()
        .await
        .unwrap();
    let openapi: Value = openapi.json().await.unwrap();

    let attributes = catalogue.body["attributes"].as_array().unwrap();
    assert!(attributes.contains(&json!({"key": "teleco", "display_name": "Telco"})));
    let ios_current = catalogue.body["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["platform"] == "ios" && o["sdk_band"] == "2.12+")
        .unwrap()
        .clone();
    assert_eq!(ios_current["one_time"], json!([]));
    assert_eq!(
        ios_current["event"],
        json!(["teleco", "timezone", "location", "language", "geofence"])
    );
    for path in [
        "/v1/apps",
        "/v1/apps/{app_id}",
        "/v1/apps/{app_id}/device-policy",
        "/v1/device-attributes",
    ] {
        assert!(
            openapi["paths"].get(path).is_some(),
            "{path} in openapi.json"
        );
    }
}

#[tokio::test]
async fn with_a_jwt_secret_every_call_needs_a_valid_unexpired_token_of_its_user() {
    let sdk = Sdk::start().await;
    let set = native(
        &sdk,
        Method::PATCH,
        &app_path(&sdk, ""),
        Some(json!({"jwt_secret": JWT_SECRET})),
    )
    .await;
    assert_eq!(set.body["options"]["jwt_required"], true, "{:?}", set.body);
    assert!(!set.body.to_string().contains(JWT_SECRET));
    let body = json!({"userId": "u1", "deviceId": "d1", "channelType": "android"});
    let later = Utc::now().timestamp() + 600;
    let bearer = |token: String| format!("Bearer {token}");

    let missing = sdk.call_with("register", Some(body.clone()), &[]).await;
    let forged = sdk
        .call_with(
            "register",
            Some(body.clone()),
            &[(
                "Authorization",
                &bearer(sign(
                    "x".repeat(32).as_str(),
                    &json!({"sub": "u1", "exp": later}),
                )),
            )],
        )
        .await;
    let other_user = sdk
        .call_with(
            "register",
            Some(body.clone()),
            &[(
                "Authorization",
                &bearer(sign(JWT_SECRET, &json!({"sub": "u2", "exp": later}))),
            )],
        )
        .await;
    let expired = sdk
        .call_with(
            "register",
            Some(body.clone()),
            &[(
                "Authorization",
                &bearer(sign(JWT_SECRET, &json!({"sub": "u1", "exp": 1}))),
            )],
        )
        .await;
    let good = sdk
        .call_with(
            "register",
            Some(body),
            &[(
                "Authorization",
                &bearer(sign(JWT_SECRET, &json!({"sub": "u1", "exp": later}))),
            )],
        )
        .await;

    assert_eq!(missing.body["code"], "39");
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(forged.body["code"], "38");
    assert_eq!(other_user.body["code"], "38");
    assert_eq!(expired.body["code"], "40");
    assert_eq!(good.body["code"], "0", "{:?}", good.body);

    let cleared = native(
        &sdk,
        Method::PATCH,
        &app_path(&sdk, ""),
        Some(json!({"jwt_secret": null})),
    )
    .await;
    assert_eq!(cleared.body["options"]["jwt_required"], false);
    assert_eq!(sdk.register("u1", "d1").await.body["code"], "0");
}
