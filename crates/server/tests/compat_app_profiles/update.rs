//! PUT /resources/v2/customerappprofile/{appId} and its legacy path
//! PUT /resources/v2/customerprofiles/{appId} (reference §4.7).

use crate::support::attributes;
use crate::{batch, counters, identities, record, records, result_codes, setup};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// `deviceId` → the value of `name` on that device (None when unset), for one user.
async fn attribute_by_device(
    ctx: &crate::Ctx,
    user: &str,
    name: &str,
) -> BTreeMap<String, Option<String>> {
    records(&ctx.read_user(user).await)
        .iter()
        .map(|record| {
            let attrs = attributes(record);
            (attrs["deviceId"].clone(), attrs.get(name).cloned())
        })
        .collect()
}

fn some(value: &str) -> Option<String> {
    Some(value.to_owned())
}

#[tokio::test]
async fn update_by_user_and_device_changes_only_that_device() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;
    ctx.register("u1", "d2", None).await;

    let reply = ctx
        .update(batch(vec![record(
            None,
            json!({ "userId": "u1", "deviceId": "d1", "osversion": "14" }),
        )]))
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1000");
    assert_eq!(counters(&reply), (1, 1, 0));
    let osversion = attribute_by_device(&ctx, "u1", "osversion").await;
    assert_eq!(osversion["d1"], some("14"));
    assert_eq!(osversion["d2"], None);
}

#[tokio::test]
async fn update_keeps_attributes_it_does_not_name() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;

    ctx.update(batch(vec![record(
        None,
        json!({ "userId": "u1", "deviceId": "d1", "osversion": "14" }),
    )]))
    .await;

    let attrs = attributes(&records(&ctx.read_user("u1").await)[0]);
    assert_eq!(attrs["os"], "Android");
    assert_eq!(attrs["pushId"], "push-u1-d1");
    assert_eq!(attrs["osversion"], "14");
}

#[tokio::test]
async fn update_with_null_clears_an_attribute() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;

    let reply = ctx
        .update(batch(vec![record(
            None,
            json!({ "userId": "u1", "deviceId": "d1", "pushId": null }),
        )]))
        .await;

    assert_eq!(reply.code(), "1000");
    let attrs = attributes(&records(&ctx.read_user("u1").await)[0]);
    assert!(!attrs.contains_key("pushId"), "{attrs:?}");
}

#[tokio::test]
async fn update_by_user_only_changes_every_device_of_the_user() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;
    ctx.register("u1", "d2", None).await;
    ctx.register("u2", "d3", None).await;

    let reply = ctx
        .update(batch(vec![record(
            None,
            json!({ "userId": "u1", "language": "en" }),
        )]))
        .await;

    assert_eq!(reply.code(), "1000");
    let language = attribute_by_device(&ctx, "u1", "language").await;
    assert_eq!(language["d1"], some("en"));
    assert_eq!(language["d2"], some("en"));
    assert_eq!(
        attribute_by_device(&ctx, "u2", "language").await["d3"],
        None
    );
}

#[tokio::test]
async fn update_by_customer_only_changes_every_install_linked_to_it() {
    let ctx = setup().await;
    ctx.register("u1", "d1", Some("C-1")).await;
    ctx.register("u2", "d2", Some("C-1")).await;
    ctx.register("u3", "d3", Some("C-2")).await;
    ctx.register("u4", "d4", None).await;

    let reply = ctx
        .update(batch(vec![record(
            Some("C-1"),
            json!({ "timezone": "UTC" }),
        )]))
        .await;

    assert_eq!(reply.code(), "1000", "{:?}", reply.body);
    assert_eq!(
        attribute_by_device(&ctx, "u1", "timezone").await["d1"],
        some("UTC")
    );
    assert_eq!(
        attribute_by_device(&ctx, "u2", "timezone").await["d2"],
        some("UTC")
    );
    assert_eq!(
        attribute_by_device(&ctx, "u3", "timezone").await["d3"],
        None
    );
    assert_eq!(
        attribute_by_device(&ctx, "u4", "timezone").await["d4"],
        None
    );
}

#[tokio::test]
async fn the_legacy_path_updates_too() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;

    let reply = ctx
        .app
        .put(
            &format!("/resources/v2/customerprofiles/{}", ctx.asset.app_id),
            ctx.key(),
            batch(vec![record(
                None,
                json!({ "userId": "u1", "deviceId": "d1", "model": "Pixel 8" }),
            )]),
        )
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.code(), "1000");
    assert_eq!(
        attribute_by_device(&ctx, "u1", "model").await["d1"],
        some("Pixel 8")
    );
}

#[tokio::test]
async fn an_update_that_matches_nothing_is_7014() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;

    let reply = ctx
        .update(batch(vec![record(
            None,
            json!({ "userId": "u1", "deviceId": "other", "language": "en" }),
        )]))
        .await;

    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "7014");
    assert_eq!(counters(&reply), (1, 0, 1));
    assert_eq!(result_codes(&reply), ["7014"]);
    assert_eq!(
        attribute_by_device(&ctx, "u1", "language").await["d1"],
        None
    );
}

#[tokio::test]
async fn an_update_by_an_unlinked_customer_id_is_7014() {
    let ctx = setup().await;
    ctx.register("u1", "d1", Some("C-1")).await;

    let reply = ctx
        .update(batch(vec![record(
            Some("C-9"),
            json!({ "language": "en" }),
        )]))
        .await;

    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "7014");
    let missing = ctx
        .app
        .get("/resources/v2/customerprofile/C-9", ctx.key())
        .await;
    assert_eq!(missing.code(), "7014", "a failed update links nothing");
}

#[tokio::test]
async fn an_update_with_an_unknown_attribute_is_7011_and_changes_nothing() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;

    let reply = ctx
        .update(batch(vec![record(
            None,
            json!({ "userId": "u1", "deviceId": "d1", "language": "en", "favourite_colour": "red" }),
        )]))
        .await;

    assert_eq!(reply.code(), "7011");
    assert_eq!(
        attribute_by_device(&ctx, "u1", "language").await["d1"],
        None
    );
}

#[tokio::test]
async fn a_record_customer_id_with_user_and_device_relinks_the_install() {
    let ctx = setup().await;
    ctx.register("u1", "d1", Some("C-old")).await;

    let reply = ctx
        .update(batch(vec![record(
            Some("C-new"),
            json!({ "userId": "u1", "deviceId": "d1" }),
        )]))
        .await;

    assert_eq!(reply.code(), "1000", "{:?}", reply.body);
    let read = ctx.read_user("u1").await;
    assert_eq!(
        identities(&read),
        [("u1".to_owned(), "d1".to_owned(), "C-new".to_owned())]
    );
    let links = &records(&read)[0]["OutwardLinks"];
    assert_eq!(links.as_array().map(Vec::len), Some(1), "{links:?}");
    let linked: Vec<&Value> = links[0]["Records"][0]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["Name"] == "customerId")
        .collect();
    assert_eq!(linked[0]["Value"], "C-new");
    assert_eq!(ctx.read_customer("C-old").await.code(), "7014");
    assert_eq!(ctx.read_customer("C-new").await.code(), "1000");
}

#[tokio::test]
async fn good_and_unmatched_updates_together_are_1002() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;

    let reply = ctx
        .update(batch(vec![
            record(None, json!({ "userId": "u1", "language": "en" })),
            record(None, json!({ "userId": "ghost", "language": "en" })),
        ]))
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1002");
    assert_eq!(counters(&reply), (2, 1, 1));
    assert_eq!(result_codes(&reply), ["1000", "7014"]);
}

#[tokio::test]
async fn update_by_customer_and_device_changes_only_that_install() {
    let ctx = setup().await;
    ctx.register("u1", "d1", Some("C-1")).await;
    ctx.register("u1", "d2", Some("C-1")).await;
    ctx.register("u2", "d1", Some("C-2")).await;

    let reply = ctx
        .update(batch(vec![record(
            Some("C-1"),
            json!({ "deviceId": "d1", "batterylevel": "56%" }),
        )]))
        .await;

    assert_eq!(reply.code(), "1000", "{:?}", reply.body);
    let battery = attribute_by_device(&ctx, "u1", "batterylevel").await;
    assert_eq!(battery["d1"], some("56%"));
    assert_eq!(battery["d2"], None);
    assert_eq!(
        attribute_by_device(&ctx, "u2", "batterylevel").await["d1"],
        None
    );
}
