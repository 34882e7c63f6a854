//! Tenant isolation on the app-profile routes: another tenant's key never reaches them.

use crate::support::{TestTenant, attributes};
use crate::{Ctx, batch, device_ids, install, record, records, setup};
use reqwest::StatusCode;
use serde_json::json;

/// Tenant A (the context) with u1/d1 linked to C-1 in its app, and a second tenant B.
async fn two_tenants() -> (Ctx, TestTenant) {
    let ctx = setup().await;
    ctx.register("u1", "d1", Some("C-1")).await;
    let other = ctx.app.tenant("globex").await;
    (ctx, other)
}

#[tokio::test]
async fn another_tenant_cannot_read_the_app_profiles() {
    let (ctx, other) = two_tenants().await;

    let by_user = ctx.app.get(&ctx.path("?identifier=u1"), &other.key).await;
    let by_customer = ctx.app.get(&ctx.path("/C-1"), &other.key).await;

    for reply in [&by_user, &by_customer] {
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.code(), "7018");
        assert!(reply.body["Records"].is_null(), "{:?}", reply.body);
    }
}

#[tokio::test]
async fn another_tenant_cannot_update_the_app_profiles() {
    let (ctx, other) = two_tenants().await;

    let reply = ctx
        .app
        .put(
            &ctx.path(""),
            &other.key,
            batch(vec![record(
                Some("C-evil"),
                json!({ "userId": "u1", "deviceId": "d1", "pushId": "stolen" }),
            )]),
        )
        .await;

    assert_eq!(reply.code(), "7018");
    let read = ctx.read_user("u1").await;
    let attrs = attributes(&records(&read)[0]);
    assert_eq!(attrs["pushId"], "push-u1-d1");
    assert_eq!(attrs["customerId"], "C-1");
}

#[tokio::test]
async fn another_tenant_cannot_delete_the_app_profiles() {
    let (ctx, other) = two_tenants().await;

    let by_user = ctx
        .app
        .delete(&ctx.path("?identifier=u1"), &other.key)
        .await;
    let by_device = ctx.app.delete(&ctx.path("/u1/d1"), &other.key).await;
    let by_customer = ctx.app.delete(&ctx.path("/C-1"), &other.key).await;

    for reply in [&by_user, &by_device, &by_customer] {
        assert_eq!(reply.code(), "7018");
    }
    assert_eq!(device_ids(&ctx.read_user("u1").await), ["d1"]);
}

#[tokio::test]
async fn another_tenant_cannot_read_the_status_of_a_write() {
    let ctx = setup().await;
    let written = ctx
        .create(batch(vec![record(None, install("u1", "d1"))]))
        .await;
    let other = ctx.app.tenant("globex").await;
    let transid = written.body["transid"].as_str().unwrap();

    let reply = ctx
        .app
        .get(
            &format!("/resources/v2/profile/status/{transid}"),
            &other.key,
        )
        .await;

    assert_eq!(reply.code(), "7600");
    assert!(reply.body["Results"].is_null(), "{:?}", reply.body);
}

#[tokio::test]
async fn the_same_install_in_two_tenants_apps_is_two_profiles() {
    let (ctx, other) = two_tenants().await;
    let other_asset = ctx.app.app(&other, "mobile").await;
    let other_path = crate::app_path(&other_asset.app_id, "");

    let created = ctx
        .app
        .post(
            &other_path,
            &other.key,
            batch(vec![record(None, install("u1", "d1"))]),
        )
        .await;

    assert_eq!(
        created.code(),
        "1000",
        "no conflict with tenant A's install"
    );
    let theirs = ctx
        .app
        .get(&format!("{other_path}?identifier=u1"), &other.key)
        .await;
    assert_eq!(attributes(&records(&theirs)[0])["customerId"], "");
    let ours = ctx.read_user("u1").await;
    assert_eq!(attributes(&records(&ours)[0])["customerId"], "C-1");
}

#[tokio::test]
async fn a_customer_created_by_a_link_belongs_to_the_linking_tenant_only() {
    let (ctx, other) = two_tenants().await;

    let ours = ctx
        .app
        .get("/resources/v2/customerprofile/C-1", ctx.key())
        .await;
    let theirs = ctx
        .app
        .get("/resources/v2/customerprofile/C-1", &other.key)
        .await;

    assert_eq!(ours.code(), "1000");
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(theirs.code(), "7014");
}

#[tokio::test]
async fn another_tenant_deleting_its_own_customer_leaves_our_links_alone() {
    let (ctx, other) = two_tenants().await;
    let created = ctx
        .app
        .post(
            "/resources/v2/customerprofile",
            &other.key,
            batch(vec![record(Some("C-1"), json!({ "name": "Other" }))]),
        )
        .await;
    assert_eq!(created.code(), "1000");

    let deleted = ctx
        .app
        .delete("/resources/v2/customerprofile/C-1", &other.key)
        .await;

    assert_eq!(deleted.code(), "1000");
    let read = ctx.read_user("u1").await;
    assert_eq!(attributes(&records(&read)[0])["customerId"], "C-1");
    assert_eq!(
        records(&read)[0]["OutwardLinks"].as_array().map(Vec::len),
        Some(1)
    );
}
