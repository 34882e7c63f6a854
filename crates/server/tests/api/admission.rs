//! Who may call: keys (missing, wrong, rotated), tenant isolation, the IP allow list (and
//! X-Forwarded-For from trusted proxies only), rate limits, and --compat-always-200.

use crate::support::{spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

const PATH: &str = "/resources/v2/customerprofile";

#[tokio::test]
async fn missing_key_is_7002_and_wrong_key_is_7001() {
    let app = spawn_app().await;
    app.tenant("acme").await;

    let missing = app
        .call(Method::GET, &format!("{PATH}/x"), None, None)
        .await;
    let empty = app
        .call(Method::GET, &format!("{PATH}/x"), Some(""), None)
        .await;
    let wrong = app.get(&format!("{PATH}/x"), "psk_not-a-real-key").await;

    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::UNAUTHORIZED, "7002")
    );
    assert_eq!(missing.body["description"], "Service Key Missing");
    assert_eq!(empty.code(), "7002");
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::UNAUTHORIZED, "7001")
    );
}

#[tokio::test]
async fn the_profile_key_is_also_accepted_in_the_secret_key_header() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let reply = app
        .client
        .post(format!("{}{PATH}", app.base_url))
        .header("secretKey", &tenant.key)
        .json(&json!({"customerId": "via-secret-key"}))
        .send()
        .await
        .unwrap();

    assert_eq!(reply.status(), StatusCode::OK);
}

#[tokio::test]
async fn one_tenants_key_never_reaches_another_tenants_data() {
    let app = spawn_app().await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    let write = app
        .post(
            PATH,
            &a.key,
            json!({"customerId": "shared-id", "attributes": {"name": "A's"}}),
        )
        .await;
    let transid = write.body["transid"].as_str().unwrap().to_owned();

    let read_by_b = app.get(&format!("{PATH}/shared-id"), &b.key).await;
    let multi_by_b = app
        .get(&format!("{PATH}?customerId=shared-id"), &b.key)
        .await;
    let status_by_b = app
        .get(&format!("/resources/v2/profile/status/{transid}"), &b.key)
        .await;
    let update_by_b = app
        .put(
            PATH,
            &b.key,
            json!({"customerId": "shared-id", "attributes": {"name": "B's"}}),
        )
        .await;
    let delete_by_b = app.delete(&format!("{PATH}/shared-id"), &b.key).await;
    let create_by_b = app
        .post(
            PATH,
            &b.key,
            json!({"customerId": "shared-id", "attributes": {"name": "B's own"}}),
        )
        .await;

    assert_eq!(read_by_b.code(), "7014");
    assert_eq!(multi_by_b.body["Records"], json!([]));
    assert_eq!(status_by_b.code(), "7600");
    assert_eq!(update_by_b.code(), "7014");
    assert_eq!(delete_by_b.code(), "7203");
    assert_eq!(
        create_by_b.code(),
        "1000",
        "the same customerId in another tenant is another profile"
    );
    let a_view = app.get(&format!("{PATH}/shared-id"), &a.key).await;
    assert_eq!(
        crate::support::attributes(&a_view.body["Records"][0])["name"],
        "A's"
    );
}

#[tokio::test]
async fn rotation_without_grace_retires_the_old_key_at_once() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    // Used before the rotation, so the server has verified (and remembers) the old key.
    let before = app.get(&format!("{PATH}/x"), &tenant.key).await;

    let new_key = app.admin.rotate_key(&tenant.name, 0).await.unwrap();
    app.refresh().await;

    assert_eq!(before.code(), "7014");
    assert_eq!(
        app.get(&format!("{PATH}/x"), &tenant.key).await.code(),
        "7001"
    );
    assert_eq!(
        app.get(&format!("{PATH}/x"), new_key.expose()).await.code(),
        "7014"
    );
    assert_eq!(app.admin.show_key(&tenant.name).await.unwrap(), new_key);
}

#[tokio::test]
async fn rotation_with_grace_keeps_the_old_key_working_until_the_grace_ends() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let new_key = app.admin.rotate_key(&tenant.tenant_id, 1).await.unwrap();
    app.refresh().await;
    let old_during_grace = app.get(&format!("{PATH}/x"), &tenant.key).await;
    let new_during_grace = app.get(&format!("{PATH}/x"), new_key.expose()).await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let old_after_grace = app.get(&format!("{PATH}/x"), &tenant.key).await;

    assert_eq!(
        old_during_grace.code(),
        "7014",
        "authenticated, then not found"
    );
    assert_eq!(new_during_grace.code(), "7014");
    assert_eq!(old_after_grace.code(), "7001");
}

#[tokio::test]
async fn an_ip_allow_list_refuses_other_sources_with_7010() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    app.admin
        .allow_ip(&tenant.name, &["10.0.0.0/8".into()], false)
        .await
        .unwrap();
    app.refresh().await;
    let refused = app.get(&format!("{PATH}/x"), &tenant.key).await;
    app.admin
        .allow_ip(&tenant.name, &["127.0.0.1".into()], false)
        .await
        .unwrap();
    app.refresh().await;
    let allowed = app.get(&format!("{PATH}/x"), &tenant.key).await;
    app.admin.allow_ip(&tenant.name, &[], true).await.unwrap();
    app.refresh().await;
    let cleared = app.get(&format!("{PATH}/x"), &tenant.key).await;

    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::FORBIDDEN, "7010")
    );
    assert_eq!(allowed.code(), "7014");
    assert_eq!(cleared.code(), "7014");
}

async fn get_with_forwarded_for(
    app: &crate::support::TestApp,
    key: &str,
    forwarded: &str,
) -> String {
    let response = app
        .client
        .get(format!("{}{PATH}/x", app.base_url))
        .header("key", key)
        .header("x-forwarded-for", forwarded)
        .send()
        .await
        .unwrap();
    crate::support::into_reply(response).await.code().to_owned()
}

#[tokio::test]
async fn x_forwarded_for_counts_only_from_trusted_proxies() {
    let behind_proxy =
        spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]).await;
    let direct = spawn_app().await;
    for app in [&behind_proxy, &direct] {
        let tenant = app.tenant("acme").await;
        app.admin
            .allow_ip(&tenant.name, &["198.51.100.0/24".into()], false)
            .await
            .unwrap();
        app.refresh().await;
    }
    let proxied_key = behind_proxy.admin.show_key("acme").await.unwrap();
    let direct_key = direct.admin.show_key("acme").await.unwrap();

    let allowed_client =
        get_with_forwarded_for(&behind_proxy, proxied_key.expose(), "198.51.100.7").await;
    let other_client =
        get_with_forwarded_for(&behind_proxy, proxied_key.expose(), "203.0.113.1").await;
    let spoofed = get_with_forwarded_for(&direct, direct_key.expose(), "198.51.100.7").await;

    assert_eq!(allowed_client, "7014");
    assert_eq!(other_client, "7010");
    assert_eq!(
        spoofed, "7010",
        "a client's own X-Forwarded-For is not believed"
    );
}

#[tokio::test]
async fn a_tenant_rate_limit_answers_7020_past_its_budget() {
    let app = spawn_app().await;
    let limited = app.tenant("limited").await;
    let free = app.tenant("free").await;
    app.admin.set_rate_limit(&limited.name, 3).await.unwrap();
    app.refresh().await;

    let mut limited_codes = Vec::new();
    for _ in 0..10 {
        limited_codes.push(app.get(&format!("{PATH}/x"), &limited.key).await);
    }
    let free_codes: Vec<String> = {
        let mut codes = Vec::new();
        for _ in 0..10 {
            codes.push(
                app.get(&format!("{PATH}/x"), &free.key)
                    .await
                    .code()
                    .to_owned(),
            );
        }
        codes
    };

    assert_eq!(limited_codes[0].code(), "7014");
    let refused: Vec<_> = limited_codes
        .iter()
        .filter(|reply| reply.code() == "7020")
        .collect();
    assert!(!refused.is_empty(), "10 requests at once exceed 3/s");
    assert_eq!(refused[0].status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        free_codes.iter().all(|code| code == "7014"),
        "other tenants are not limited: {free_codes:?}"
    );
}

#[tokio::test]
async fn the_server_default_rate_limit_applies_to_tenants_without_their_own() {
    let app = spawn_app_with(|s| s.default_rate_limit = 2).await;
    let tenant = app.tenant("acme").await;

    let mut codes = Vec::new();
    for _ in 0..8 {
        codes.push(
            app.get(&format!("{PATH}/x"), &tenant.key)
                .await
                .code()
                .to_owned(),
        );
    }

    assert!(codes.contains(&"7020".to_owned()), "{codes:?}");
}

#[tokio::test]
async fn compat_always_200_keeps_the_code_in_the_body() {
    let app = spawn_app_with(|s| s.compat_always_200 = true).await;
    let tenant = app.tenant("acme").await;

    let wrong_key = app.get(&format!("{PATH}/x"), "wrong").await;
    let not_found = app.get(&format!("{PATH}/x"), &tenant.key).await;

    assert_eq!(
        (wrong_key.status, wrong_key.code()),
        (StatusCode::OK, "7001")
    );
    assert_eq!(
        (not_found.status, not_found.code()),
        (StatusCode::OK, "7014")
    );
}

#[tokio::test]
async fn compat_always_200_leaves_unknown_paths_alone() {
    let app = spawn_app_with(|s| s.compat_always_200 = true).await;

    let unknown = app
        .client
        .get(format!("{}/nowhere", app.base_url))
        .send()
        .await
        .unwrap();

    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_empty_key_header_does_not_hide_a_secret_key_header() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let response = app
        .client
        .get(format!("{}{PATH}/x", app.base_url))
        .header("key", "")
        .header("secretKey", &tenant.key)
        .send()
        .await
        .unwrap();

    assert_eq!(crate::support::into_reply(response).await.code(), "7014");
}

#[tokio::test]
async fn another_tenants_app_is_7018_even_with_a_malformed_body() {
    let app = spawn_app().await;
    let owner = app.tenant("owner").await;
    let other = app.tenant("other").await;
    let asset = app.app(&owner, "shop").await;

    let response = app
        .client
        .post(format!(
            "{}/resources/v2/customerappprofile/{}",
            app.base_url, asset.app_id
        ))
        .header("key", &other.key)
        .body("{not json")
        .send()
        .await
        .unwrap();

    assert_eq!(crate::support::into_reply(response).await.code(), "7018");
}
