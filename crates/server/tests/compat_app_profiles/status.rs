//! GET /resources/v2/profile/status/{transid} for app-profile writes (reference §4.5).

use crate::{batch, install, record, setup};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_status_of_an_app_profile_write_repeats_its_envelope() {
    let ctx = setup().await;
    ctx.register("dup", "d1", None).await;
    let written = ctx
        .create(batch(vec![
            record(Some("C-1"), install("u1", "d1")),
            record(None, install("dup", "d1")),
        ]))
        .await;
    assert_eq!(written.code(), "1002");
    let transid = written.body["transid"].as_str().unwrap().to_owned();

    let reply = ctx
        .app
        .get(
            &format!("/resources/v2/profile/status/{transid}"),
            ctx.key(),
        )
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body, written.body,
        "the same envelope, transid included"
    );
}

#[tokio::test]
async fn the_status_of_an_app_profile_delete_repeats_its_envelope() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;
    let deleted = ctx.app.delete(&ctx.path("/u1/d1"), ctx.key()).await;
    assert_eq!(deleted.code(), "1000");
    let transid = deleted.body["transid"].as_str().unwrap();

    let reply = ctx
        .app
        .get(
            &format!("/resources/v2/profile/status/{transid}"),
            ctx.key(),
        )
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, deleted.body);
}

#[tokio::test]
async fn the_status_of_an_update_repeats_its_counters_and_results() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;
    let updated = ctx
        .update(batch(vec![record(
            None,
            json!({ "userId": "u1", "deviceId": "d1", "language": "en" }),
        )]))
        .await;
    let transid = updated.body["transid"].as_str().unwrap();

    let reply = ctx
        .app
        .get(
            &format!("/resources/v2/profile/status/{transid}"),
            ctx.key(),
        )
        .await;

    assert_eq!(reply.code(), "1000");
    for field in ["TotalCount", "SuccessCount", "FailureCount", "Results"] {
        assert_eq!(reply.body[field], updated.body[field], "{field}");
    }
}

#[tokio::test]
async fn an_unknown_transid_is_7600() {
    let ctx = setup().await;

    let reply = ctx
        .app
        .get(
            "/resources/v2/profile/status/00000000-0000-0000-0000-000000000000",
            ctx.key(),
        )
        .await;

    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "7600");
}
