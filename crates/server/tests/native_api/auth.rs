//! Admission to the native API: the tenant's profile key as a bearer token or in the `key`
//! header; refusals are problems; tenants never see each other's schema or customers.

use crate::helpers::*;
use crate::support::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn no_key_is_a_401_problem_asking_for_a_bearer_token() {
    let app = spawn_app().await;
    app.tenant("acme").await;

    let response = app
        .client
        .get(format!("{}{ATTRIBUTES}", app.base_url))
        .send()
        .await
        .unwrap();
    let refused = answer(response).await;

    let problem = assert_problem(
        &refused,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Unauthorized",
    );
    assert_eq!(refused.header("www-authenticate"), "Bearer");
    assert!(
        problem["detail"].as_str().unwrap().contains("Bearer"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_wrong_key_is_a_401_problem_as_bearer_and_in_the_key_header() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let wrong = format!("{}x", tenant.key);

    let as_bearer = native_get(&app, ATTRIBUTES, &wrong).await;
    let in_key_header = answer(
        app.client
            .get(format!("{}{ATTRIBUTES}", app.base_url))
            .header("key", &wrong)
            .send()
            .await
            .unwrap(),
    )
    .await;

    for refused in [&as_bearer, &in_key_header] {
        let problem = assert_problem(
            refused,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
        );
        assert_eq!(problem["detail"], "the key is not a valid profile key");
        assert_eq!(refused.header("www-authenticate"), "Bearer");
    }
}

#[tokio::test]
async fn the_key_header_works_as_well_as_a_bearer_token() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(&app, &tenant.key, json!({"name": "age", "type": "integer"})).await;

    let with_bearer = native_get(&app, ATTRIBUTES, &tenant.key).await;
    let with_key_header = app.get(ATTRIBUTES, &tenant.key).await;

    assert_eq!(with_bearer.status, StatusCode::OK);
    assert_eq!(with_bearer.content_type(), "application/json");
    assert_eq!(with_key_header.status, StatusCode::OK);
    assert_eq!(with_bearer.body, with_key_header.body);
    assert_eq!(names(&with_key_header.body), ["age"]);
}

#[tokio::test]
async fn an_apps_client_key_is_a_403_problem() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let mobile = app.app(&tenant, "mobile").await;

    let as_bearer = native_get(&app, ATTRIBUTES, &mobile.client_key).await;
    let in_key_header = app.get(ATTRIBUTES, &mobile.client_key).await;

    let problem = assert_problem(&as_bearer, StatusCode::FORBIDDEN, "client-key", "Forbidden");
    assert!(
        problem["detail"].as_str().unwrap().contains("profile key"),
        "{problem}"
    );
    assert_eq!(in_key_header.status, StatusCode::FORBIDDEN);
    assert_eq!(
        in_key_header.body["type"],
        format!("{PROBLEM_TYPES}client-key")
    );
}

#[tokio::test]
async fn a_tenant_never_sees_another_tenants_attributes_or_customers() {
    let app = spawn_app().await;
    let a = app.tenant("acme").await;
    let b = app.tenant("globex").await;
    define(
        &app,
        &a.key,
        json!({"name": "member_code", "type": "string", "unique": true}),
    )
    .await;
    create_customers(
        &app,
        &a.key,
        vec![record(
            "C-1",
            json!({"email": "ann@example.org", "msisdn": "447700900001", "member_code": "M-1"}),
        )],
    )
    .await;

    let b_list = native_get(&app, ATTRIBUTES, &b.key).await;
    let b_one = get_attribute(&app, &b.key, "member_code").await;
    let b_customer = customer(&app, &b.key, "C-1").await;
    let b_by_email = native_query(&app, CUSTOMERS, &b.key, &[("email", "ann@example.org")]).await;
    let b_by_msisdn = native_query(&app, CUSTOMERS, &b.key, &[("msisdn", "447700900001")]).await;
    let b_by_code = native_query(&app, CUSTOMERS, &b.key, &[("member_code", "M-1")]).await;
    let b_retire = delete_attribute(&app, &b.key, "member_code", true).await;

    assert_eq!(b_list.status, StatusCode::OK);
    assert_eq!(b_list.body, json!({"attributes": []}));
    assert_problem(
        &b_one,
        StatusCode::NOT_FOUND,
        "not-found",
        "Attribute not found",
    );
    assert_problem(
        &b_customer,
        StatusCode::NOT_FOUND,
        "not-found",
        "Customer not found",
    );
    assert_eq!(b_by_email.body, json!({"customers": []}));
    assert_eq!(b_by_msisdn.body, json!({"customers": []}));
    assert_eq!(
        validation_fields(&b_by_code),
        ["query"],
        "member_code is not an attribute of B's schema"
    );
    assert_problem(
        &b_retire,
        StatusCode::NOT_FOUND,
        "not-found",
        "Attribute not found",
    );
    // B's schema is its own: still open, and the same name gets B's first id.
    let b_defined = define(
        &app,
        &b.key,
        json!({"name": "member_code", "type": "integer"}),
    )
    .await;
    assert_eq!(b_defined["id"], 1001);
    let a_view = get_attribute(&app, &a.key, "member_code").await;
    assert_eq!(a_view.body["type"], "string", "A's definition is untouched");
    assert_eq!(
        customer(&app, &a.key, "C-1").await.body["attributes"]["member_code"],
        "M-1"
    );
}

#[tokio::test]
async fn a_client_outside_the_ip_allow_list_is_a_403_problem() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    app.admin
        .allow_ip(&tenant.name, &["10.0.0.0/8".into()], false)
        .await
        .unwrap();
    app.refresh().await;

    let refused = native_get(&app, ATTRIBUTES, &tenant.key).await;

    assert_problem(
        &refused,
        StatusCode::FORBIDDEN,
        "ip-not-allowed",
        "Forbidden",
    );
}
