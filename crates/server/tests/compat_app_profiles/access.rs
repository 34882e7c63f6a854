//! Which keys reach which app: 7018 for an app that is not the tenant's, and an app's client
//! key (header `secretKey`) scoped to its own app (reference §2.2, §4.6 code 7018).

use crate::support::TestApp;
use crate::{Ctx, app_path, batch, call_with_secret_key, identities, install, record, setup};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Every app-profile route of the compatible API for `app_id`, with a valid body where one
/// is needed.
fn app_routes(app_id: &str) -> Vec<(Method, String, Option<Value>)> {
    let body = batch(vec![record(Some("C-1"), install("u1", "d1"))]);
    vec![
        (Method::POST, app_path(app_id, ""), Some(body.clone())),
        (Method::PUT, app_path(app_id, ""), Some(body.clone())),
        (
            Method::PUT,
            format!("/resources/v2/customerprofiles/{app_id}"),
            Some(body),
        ),
        (Method::GET, app_path(app_id, "?identifier=u1"), None),
        (Method::GET, app_path(app_id, "?customerId=C-1"), None),
        (Method::GET, app_path(app_id, "/C-1"), None),
        (Method::DELETE, app_path(app_id, "?identifier=u1"), None),
        (Method::DELETE, app_path(app_id, "?customerId=C-1"), None),
        (Method::DELETE, app_path(app_id, "/C-1"), None),
        (Method::DELETE, app_path(app_id, "/u1/d1"), None),
        (
            Method::DELETE,
            app_path(app_id, "/deviceid/d1?customerId=C-1"),
            None,
        ),
        (
            Method::DELETE,
            format!("/resources/v2/{app_id}/deviceid/d1?customerId=C-1"),
            None,
        ),
    ]
}

async fn assert_every_route_is_7018(app: &TestApp, app_id: &str, key: &str) {
    for (method, path, body) in app_routes(app_id) {
        let reply = app.call(method.clone(), &path, Some(key), body).await;
        assert_eq!(
            reply.code(),
            "7018",
            "{method} {path} answered {:?}",
            reply.body
        );
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{method} {path}");
    }
}

/// A tenant whose app already holds u1/d1 linked to C-1, so that a refused request cannot be
/// mistaken for a request that merely found nothing.
async fn populated() -> Ctx {
    let ctx = setup().await;
    ctx.register("u1", "d1", Some("C-1")).await;
    ctx
}

#[tokio::test]
async fn another_tenants_app_is_7018_on_every_app_route() {
    let ctx = populated().await;
    let other = ctx.app.tenant("globex").await;

    assert_every_route_is_7018(&ctx.app, &ctx.asset.app_id, &other.key).await;

    assert_eq!(identities(&ctx.read_user("u1").await).len(), 1);
}

#[tokio::test]
async fn an_unknown_app_id_is_7018_on_every_app_route() {
    let ctx = populated().await;
    let unknown = if ctx.asset.app_id == "ZZ00000000" {
        "ZZ00000001"
    } else {
        "ZZ00000000"
    };

    assert_every_route_is_7018(&ctx.app, unknown, ctx.key()).await;
}

#[tokio::test]
async fn the_client_key_as_secret_key_creates_and_reads_on_its_own_app() {
    let ctx = setup().await;
    let client_key = &ctx.asset.client_key;

    let created = call_with_secret_key(
        &ctx.app,
        Method::POST,
        &ctx.path(""),
        client_key,
        Some(batch(vec![record(None, install("u1", "d1"))])),
    )
    .await;
    let read = call_with_secret_key(
        &ctx.app,
        Method::GET,
        &ctx.path("?identifier=u1"),
        client_key,
        None,
    )
    .await;

    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    assert_eq!(created.code(), "1000");
    assert_eq!(read.code(), "1000");
    assert_eq!(
        identities(&read),
        [("u1".to_owned(), "d1".to_owned(), String::new())]
    );
}

#[tokio::test]
async fn the_client_key_updates_and_deletes_on_its_own_app() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;
    let client_key = &ctx.asset.client_key;

    let updated = call_with_secret_key(
        &ctx.app,
        Method::PUT,
        &ctx.path(""),
        client_key,
        Some(batch(vec![record(
            None,
            json!({ "userId": "u1", "deviceId": "d1", "language": "en" }),
        )])),
    )
    .await;
    let deleted = call_with_secret_key(
        &ctx.app,
        Method::DELETE,
        &ctx.path("/u1/d1"),
        client_key,
        None,
    )
    .await;

    assert_eq!(updated.code(), "1000", "{:?}", updated.body);
    assert_eq!(deleted.code(), "1000", "{:?}", deleted.body);
    crate::assert_no_profiles_of(&ctx, "u1").await;
}

#[tokio::test]
async fn the_client_key_is_refused_for_another_app_of_the_same_tenant() {
    let ctx = setup().await;
    let sibling = ctx.app.app(&ctx.tenant, "web").await;
    let on_sibling = crate::Ctx {
        app: ctx.app,
        tenant: ctx.tenant,
        asset: sibling,
    };
    on_sibling.register("u1", "d1", None).await;

    let create = call_with_secret_key(
        &on_sibling.app,
        Method::POST,
        &on_sibling.path(""),
        &ctx.asset.client_key,
        Some(batch(vec![record(None, install("u2", "d2"))])),
    )
    .await;
    let read = call_with_secret_key(
        &on_sibling.app,
        Method::GET,
        &on_sibling.path("?identifier=u1"),
        &ctx.asset.client_key,
        None,
    )
    .await;
    let delete = call_with_secret_key(
        &on_sibling.app,
        Method::DELETE,
        &on_sibling.path("?identifier=u1"),
        &ctx.asset.client_key,
        None,
    )
    .await;

    for reply in [&create, &read, &delete] {
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
        assert_eq!(reply.code(), "7018");
    }
    assert_eq!(identities(&on_sibling.read_user("u1").await).len(), 1);
    crate::assert_no_profiles_of(&on_sibling, "u2").await;
}

#[tokio::test]
async fn the_client_key_is_refused_on_customer_profile_routes() {
    let ctx = setup().await;
    ctx.create_customer("C-1", json!({ "name": "Ann" })).await;

    let read = call_with_secret_key(
        &ctx.app,
        Method::GET,
        "/resources/v2/customerprofile/C-1",
        &ctx.asset.client_key,
        None,
    )
    .await;
    let create = call_with_secret_key(
        &ctx.app,
        Method::POST,
        "/resources/v2/customerprofile",
        &ctx.asset.client_key,
        Some(batch(vec![record(Some("C-2"), json!({ "name": "Bob" }))])),
    )
    .await;

    for reply in [&read, &create] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{:?}", reply.body);
        assert_eq!(reply.code(), "7001");
    }
    let missing = ctx
        .app
        .get("/resources/v2/customerprofile/C-2", ctx.key())
        .await;
    assert_eq!(missing.code(), "7014", "the refused create created nothing");
}

#[tokio::test]
async fn the_profile_key_is_also_accepted_as_secret_key() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;

    let read = call_with_secret_key(
        &ctx.app,
        Method::GET,
        &ctx.path("?identifier=u1"),
        ctx.key(),
        None,
    )
    .await;

    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(identities(&read).len(), 1);
}

#[tokio::test]
async fn no_key_is_7002_and_a_wrong_key_is_7001() {
    let ctx = populated().await;

    let missing = ctx
        .app
        .call(Method::GET, &ctx.path("?identifier=u1"), None, None)
        .await;
    let wrong = ctx.app.get(&ctx.path("?identifier=u1"), "not-a-key").await;

    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.code(), "7002");
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), "7001");
}
