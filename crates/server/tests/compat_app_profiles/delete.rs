//! DELETE on app profiles (reference §4.10–§4.13) and the effect of deleting a customer.

use crate::{
    assert_no_profiles_of, counters, device_ids, identities, records, result_codes, setup,
};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn delete_by_identifier_removes_every_device_of_the_user() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;
    ctx.register("u1", "d2", Some("C-1")).await;
    ctx.register("u2", "d3", None).await;

    let reply = ctx.app.delete(&ctx.path("?identifier=u1"), ctx.key()).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1000");
    assert_eq!(counters(&reply), (1, 1, 0));
    assert_eq!(reply.body["Results"][0]["userId"], "u1");
    assert_no_profiles_of(&ctx, "u1").await;
    assert_eq!(device_ids(&ctx.read_user("u2").await), ["d3"]);
}

#[tokio::test]
async fn delete_by_repeated_customer_ids_removes_the_installs_of_each() {
    let ctx = setup().await;
    ctx.register("u1", "d1", Some("C-1")).await;
    ctx.register("u2", "d2", Some("C-2")).await;
    ctx.register("u3", "d3", Some("C-3")).await;

    let reply = ctx
        .app
        .delete(&ctx.path("?customerId=C-1&customerId=C-2"), ctx.key())
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1000");
    assert_eq!(counters(&reply), (2, 2, 0));
    assert_eq!(reply.body["Results"][0]["customerId"], "C-1");
    assert_eq!(reply.body["Results"][1]["customerId"], "C-2");
    assert_no_profiles_of(&ctx, "u1").await;
    assert_no_profiles_of(&ctx, "u2").await;
    assert_eq!(device_ids(&ctx.read_user("u3").await), ["d3"]);
}

#[tokio::test]
async fn delete_by_customer_path_removes_the_installs_linked_to_it() {
    let ctx = setup().await;
    ctx.register("u1", "d1", Some("C-1")).await;
    ctx.register("u1", "d2", None).await;

    let reply = ctx.app.delete(&ctx.path("/C-1"), ctx.key()).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1000");
    assert_eq!(counters(&reply), (1, 1, 0));
    assert_eq!(device_ids(&ctx.read_user("u1").await), ["d2"]);
}

#[tokio::test]
async fn delete_of_one_device_keeps_the_users_other_devices() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;
    ctx.register("u1", "d2", None).await;

    let reply = ctx.app.delete(&ctx.path("/u1/d1"), ctx.key()).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1000");
    assert_eq!(reply.body["Results"][0]["userId"], "u1");
    assert_eq!(reply.body["Results"][0]["deviceId"], "d1");
    assert_eq!(device_ids(&ctx.read_user("u1").await), ["d2"]);
}

#[tokio::test]
async fn delete_of_a_device_of_a_customer_removes_only_that_install() {
    let ctx = setup().await;
    ctx.register("u1", "d1", Some("C-1")).await;
    ctx.register("u1", "d2", Some("C-1")).await;
    ctx.register("u2", "d1", Some("C-2")).await;

    let reply = ctx
        .app
        .delete(&ctx.path("/deviceid/d1?customerId=C-1"), ctx.key())
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1000");
    assert_eq!(reply.body["Results"][0]["customerId"], "C-1");
    assert_eq!(reply.body["Results"][0]["deviceId"], "d1");
    assert_eq!(device_ids(&ctx.read_user("u1").await), ["d2"]);
    assert_eq!(
        device_ids(&ctx.read_user("u2").await),
        ["d1"],
        "the same device id under another customer stays"
    );
}

#[tokio::test]
async fn the_printed_device_delete_path_works_too() {
    let ctx = setup().await;
    ctx.register("u1", "d1", Some("C-1")).await;
    ctx.register("u1", "d2", Some("C-1")).await;

    let reply = ctx
        .app
        .delete(
            &format!(
                "/resources/v2/{}/deviceid/d1?customerId=C-1",
                ctx.asset.app_id
            ),
            ctx.key(),
        )
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.code(), "1000");
    assert_eq!(device_ids(&ctx.read_user("u1").await), ["d2"]);
}

#[tokio::test]
async fn a_device_delete_without_customer_id_is_7003_on_both_paths() {
    let ctx = setup().await;
    ctx.register("u1", "d1", Some("C-1")).await;

    let long = ctx.app.delete(&ctx.path("/deviceid/d1"), ctx.key()).await;
    let printed = ctx
        .app
        .delete(
            &format!("/resources/v2/{}/deviceid/d1", ctx.asset.app_id),
            ctx.key(),
        )
        .await;

    for reply in [&long, &printed] {
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
        assert_eq!(reply.code(), "7003");
    }
    assert_eq!(device_ids(&ctx.read_user("u1").await), ["d1"]);
}

#[tokio::test]
async fn a_device_of_another_customer_is_not_deleted_and_is_7014() {
    let ctx = setup().await;
    ctx.register("u1", "d1", Some("C-1")).await;

    let reply = ctx
        .app
        .delete(&ctx.path("/deviceid/d1?customerId=C-2"), ctx.key())
        .await;

    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "7014");
    assert_eq!(device_ids(&ctx.read_user("u1").await), ["d1"]);
}

#[tokio::test]
async fn deleting_nothing_is_7014() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;

    let by_identifier = ctx
        .app
        .delete(&ctx.path("?identifier=ghost"), ctx.key())
        .await;
    let by_device = ctx.app.delete(&ctx.path("/u1/ghost"), ctx.key()).await;
    let by_customer = ctx.app.delete(&ctx.path("/C-9"), ctx.key()).await;

    for reply in [&by_identifier, &by_device, &by_customer] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.body);
        assert_eq!(reply.code(), "7014");
        assert_eq!(counters(reply), (1, 0, 1));
        assert_eq!(result_codes(reply), ["7014"]);
    }
    assert_eq!(device_ids(&ctx.read_user("u1").await), ["d1"]);
}

#[tokio::test]
async fn deleting_a_found_and_a_missing_customer_is_1002() {
    let ctx = setup().await;
    ctx.register("u1", "d1", Some("C-1")).await;

    let reply = ctx
        .app
        .delete(&ctx.path("?customerId=C-1&customerId=C-9"), ctx.key())
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1002");
    assert_eq!(counters(&reply), (2, 1, 1));
    assert_eq!(result_codes(&reply), ["1000", "7014"]);
}

#[tokio::test]
async fn a_delete_without_identifier_or_customer_id_is_7003() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;

    let reply = ctx.app.delete(&ctx.path(""), ctx.key()).await;

    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "7003");
    assert_eq!(device_ids(&ctx.read_user("u1").await), ["d1"]);
}

#[tokio::test]
async fn deleting_a_customer_unlinks_its_app_profiles_without_deleting_them() {
    let ctx = setup().await;
    ctx.create_customer("C-1", json!({ "name": "Ann" })).await;
    ctx.register("u1", "d1", Some("C-1")).await;
    ctx.register("u1", "d2", Some("C-1")).await;

    let reply = ctx
        .app
        .delete("/resources/v2/customerprofile/C-1", ctx.key())
        .await;

    assert_eq!(reply.code(), "1000", "{:?}", reply.body);
    let read = ctx.read_user("u1").await;
    assert_eq!(
        identities(&read),
        [
            ("u1".to_owned(), "d1".to_owned(), String::new()),
            ("u1".to_owned(), "d2".to_owned(), String::new()),
        ]
    );
    for record in records(&read) {
        assert_eq!(record["OutwardLinks"], json!([]));
    }
    assert_eq!(ctx.read_customer("C-1").await.code(), "7014");
}

#[tokio::test]
async fn deleting_a_customer_unlinks_its_installs_in_every_app() {
    let ctx = setup().await;
    let web = ctx.app.app(&ctx.tenant, "web").await;
    ctx.register("u1", "d1", Some("C-1")).await;
    let web_path = crate::app_path(&web.app_id, "");
    let created = ctx
        .app
        .post(
            &web_path,
            ctx.key(),
            crate::batch(vec![crate::record(
                Some("C-1"),
                crate::install("u1", "browser"),
            )]),
        )
        .await;
    assert_eq!(created.code(), "1000");

    let reply = ctx
        .app
        .delete("/resources/v2/customerprofile/C-1", ctx.key())
        .await;

    assert_eq!(reply.code(), "1000");
    assert_eq!(identities(&ctx.read_user("u1").await)[0].2, "");
    let web_read = ctx
        .app
        .get(&format!("{web_path}?identifier=u1"), ctx.key())
        .await;
    assert_eq!(
        identities(&web_read),
        [("u1".to_owned(), "browser".to_owned(), String::new())]
    );
}
