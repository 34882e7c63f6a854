//! POST /resources/v2/customerappprofile/{appId} (reference §4.6).

use crate::support::attributes;
use crate::{
    assert_no_profiles_of, batch, counters, identities, install, record, records, result_codes,
    setup,
};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn create_answers_1000_with_one_result_per_record() {
    let ctx = setup().await;

    let reply = ctx
        .create(batch(vec![
            record(None, install("u1", "d1")),
            record(None, install("u2", "d2")),
        ]))
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1000");
    assert_eq!(reply.body["description"], "SUCCESS");
    assert!(
        reply.body["transid"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(counters(&reply), (2, 2, 0));
    assert_eq!(result_codes(&reply), ["1000", "1000"]);
    let results = reply.body["Results"].as_array().unwrap();
    assert_eq!(results[0]["userId"], "u1");
    assert_eq!(results[0]["deviceId"], "d1");
    assert_eq!(results[1]["userId"], "u2");
    assert_eq!(results[1]["deviceId"], "d2");
}

#[tokio::test]
async fn created_profile_is_readable_with_its_attributes() {
    let ctx = setup().await;
    let mut attrs = install("u1", "d1");
    attrs["osversion"] = json!("14");
    attrs["NFC"] = json!(true);

    ctx.create(batch(vec![record(None, attrs)])).await;

    let reply = ctx.read_user("u1").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1000");
    let read = records(&reply);
    assert_eq!(read.len(), 1);
    let attrs = attributes(&read[0]);
    assert_eq!(attrs["appId"], ctx.asset.app_id);
    assert_eq!(attrs["userId"], "u1");
    assert_eq!(attrs["deviceId"], "d1");
    assert_eq!(attrs["customerId"], "");
    assert_eq!(attrs["os"], "Android");
    assert_eq!(attrs["osversion"], "14");
    assert_eq!(attrs["pushId"], "push-u1-d1");
    assert_eq!(attrs["NFC"], "1", "flags are printed as 0/1");
    assert_eq!(attrs["status"], "0", "a new install is active");
    assert!(attrs.contains_key("createdOn"));
}

#[tokio::test]
async fn creating_the_same_install_again_is_7015_and_409() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;

    let reply = ctx
        .create(batch(vec![record(None, install("u1", "d1"))]))
        .await;

    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.code(), "7015");
    assert_eq!(counters(&reply), (1, 0, 1));
    assert_eq!(result_codes(&reply), ["7015"]);
    assert_eq!(identities(&ctx.read_user("u1").await).len(), 1);
}

#[tokio::test]
async fn a_duplicate_within_one_batch_fails_only_the_second_record() {
    let ctx = setup().await;

    let reply = ctx
        .create(batch(vec![
            record(None, install("u1", "d1")),
            record(None, install("u1", "d1")),
        ]))
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1002");
    assert_eq!(counters(&reply), (2, 1, 1));
    assert_eq!(result_codes(&reply), ["1000", "7015"]);
}

#[tokio::test]
async fn an_unknown_attribute_is_7011_and_creates_nothing() {
    let ctx = setup().await;
    let mut attrs = install("u1", "d1");
    attrs["favourite_colour"] = json!("red");

    let reply = ctx.create(batch(vec![record(None, attrs)])).await;

    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "7011");
    assert_eq!(counters(&reply), (1, 0, 1));
    assert_eq!(result_codes(&reply), ["7011"]);
    assert_no_profiles_of(&ctx, "u1").await;
}

#[tokio::test]
async fn a_non_numeric_timespent_is_7011() {
    let ctx = setup().await;
    let mut attrs = install("u1", "d1");
    attrs["timespent"] = json!("abc");

    let reply = ctx.create(batch(vec![record(None, attrs)])).await;

    assert_eq!(reply.code(), "7011");
    assert_eq!(result_codes(&reply), ["7011"]);
    assert_no_profiles_of(&ctx, "u1").await;
}

#[tokio::test]
async fn a_location_outside_the_globe_is_7011() {
    let ctx = setup().await;
    let mut attrs = install("u1", "d1");
    attrs["location"] = json!("[100,0]");

    let reply = ctx.create(batch(vec![record(None, attrs)])).await;

    assert_eq!(reply.code(), "7011");
    assert_eq!(result_codes(&reply), ["7011"]);
    assert_no_profiles_of(&ctx, "u1").await;
}

#[tokio::test]
async fn a_record_without_user_id_or_customer_id_is_7003() {
    let ctx = setup().await;

    let reply = ctx
        .create(batch(vec![record(
            None,
            json!({ "deviceId": "d1", "os": "ios" }),
        )]))
        .await;

    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "7003");
    assert_eq!(result_codes(&reply), ["7003"]);
}

#[tokio::test]
async fn a_social_profile_takes_user_id_from_customer_id_and_device_id_from_channel() {
    let ctx = setup().await;

    let reply = ctx
        .create(batch(vec![record(
            Some("C-fb"),
            json!({ "channel": "fb", "verified": "1", "timezone": "5.5" }),
        )]))
        .await;
    assert_eq!(reply.code(), "1000", "{:?}", reply.body);

    let read = ctx.read_user("C-fb").await;
    assert_eq!(
        identities(&read),
        [("C-fb".to_owned(), "fb".to_owned(), "C-fb".to_owned())]
    );
    let attrs = attributes(&records(&read)[0]);
    assert_eq!(attrs["channel"], "fb");
    assert_eq!(attrs["verified"], "1");
    assert_eq!(attrs["timezone"], "5.5");
}

#[tokio::test]
async fn linking_to_an_unknown_customer_creates_that_customer() {
    let ctx = setup().await;
    let missing = ctx
        .app
        .get("/resources/v2/customerprofile/C-new", ctx.key())
        .await;
    assert_eq!(missing.code(), "7014", "the customer does not exist yet");

    ctx.register("u1", "d1", Some("C-new")).await;

    let reply = ctx
        .app
        .get("/resources/v2/customerprofile/C-new", ctx.key())
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1000");
    assert_eq!(records(&reply).len(), 1);
    assert_eq!(attributes(&records(&reply)[0])["customerId"], "C-new");
}

#[tokio::test]
async fn the_single_object_form_is_accepted() {
    let ctx = setup().await;

    let reply = ctx
        .create(json!({ "customerId": "C-1", "attributes": install("u1", "d1") }))
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1000");
    assert_eq!(counters(&reply), (1, 1, 0));
    assert_eq!(
        identities(&ctx.read_user("u1").await),
        [("u1".to_owned(), "d1".to_owned(), "C-1".to_owned())]
    );
}

#[tokio::test]
async fn more_than_100_records_is_7012_and_creates_nothing() {
    let ctx = setup().await;
    let many = (0..101)
        .map(|i| record(None, install(&format!("u{i}"), "d1")))
        .collect();

    let reply = ctx.create(batch(many)).await;

    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "7012");
    assert_no_profiles_of(&ctx, "u0").await;
}

#[tokio::test]
async fn exactly_100_records_are_accepted() {
    let ctx = setup().await;
    let hundred = (0..100)
        .map(|i| record(None, install(&format!("u{i}"), "d1")))
        .collect();

    let reply = ctx.create(batch(hundred)).await;

    assert_eq!(reply.code(), "1000");
    assert_eq!(counters(&reply), (100, 100, 0));
}

#[tokio::test]
async fn good_and_bad_records_together_are_1002_with_counters() {
    let ctx = setup().await;
    ctx.register("dup", "d1", None).await;
    let mut unknown = install("bad", "d1");
    unknown["favourite_colour"] = json!("red");

    let reply = ctx
        .create(batch(vec![
            record(None, install("good1", "d1")),
            record(None, unknown),
            record(None, install("dup", "d1")),
            record(None, install("good2", "d1")),
        ]))
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1002");
    assert_eq!(reply.body["description"], "Partial success");
    assert_eq!(counters(&reply), (4, 2, 2));
    assert_eq!(result_codes(&reply), ["1000", "7011", "7015", "1000"]);
    assert_eq!(identities(&ctx.read_user("good1").await).len(), 1);
    assert_eq!(identities(&ctx.read_user("good2").await).len(), 1);
    assert_no_profiles_of(&ctx, "bad").await;
}

#[tokio::test]
async fn created_on_is_read_only_and_7011() {
    let ctx = setup().await;
    let mut attrs = install("u1", "d1");
    attrs["createdOn"] = json!("2020-01-01 00:00:00");

    let reply = ctx.create(batch(vec![record(None, attrs)])).await;

    assert_eq!(reply.code(), "7011");
    assert_no_profiles_of(&ctx, "u1").await;
}

#[tokio::test]
async fn an_app_id_attribute_naming_another_app_is_7011() {
    let ctx = setup().await;
    let mut attrs = install("u1", "d1");
    attrs["appId"] = json!("XY00000000");

    let reply = ctx.create(batch(vec![record(None, attrs)])).await;

    assert_eq!(reply.code(), "7011");
    assert_no_profiles_of(&ctx, "u1").await;
}

#[tokio::test]
async fn a_numeric_customer_id_links_as_text() {
    let ctx = setup().await;

    let reply = ctx
        .create(json!({ "Records": [{ "customerId": 12345, "Attributes": install("u1", "d1") }] }))
        .await;

    assert_eq!(reply.code(), "1000", "{:?}", reply.body);
    assert_eq!(
        identities(&ctx.read_user("u1").await),
        [("u1".to_owned(), "d1".to_owned(), "12345".to_owned())]
    );
}

#[tokio::test]
async fn an_empty_batch_is_7003() {
    let ctx = setup().await;

    let reply = ctx.create(json!({ "Records": [] })).await;

    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "7003");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_7000() {
    let ctx = setup().await;

    let response = ctx
        .app
        .client
        .post(format!("{}{}", ctx.app.base_url, ctx.path("")))
        .header("key", ctx.key())
        .header("content-type", "application/json")
        .body("{\"Records\": [")
        .send()
        .await
        .expect("request sent");
    let reply = crate::support::into_reply(response).await;

    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "7000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_install_create_it_once() {
    let ctx = setup().await;
    let body = batch(vec![record(None, install("u1", "d1"))]);
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let request = ctx
            .app
            .client
            .post(format!("{}{}", ctx.app.base_url, ctx.path("")))
            .header("key", ctx.key())
            .json(&body);
        requests.spawn(async move {
            crate::support::into_reply(request.send().await.expect("request sent")).await
        });
    }

    let replies = requests.join_all().await;

    let mut codes: Vec<&str> = replies.iter().map(|reply| reply.code()).collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            "1000", "7015", "7015", "7015", "7015", "7015", "7015", "7015"
        ]
    );
    assert_eq!(identities(&ctx.read_user("u1").await).len(), 1);
}
