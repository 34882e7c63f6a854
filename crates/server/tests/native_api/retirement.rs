//! Retiring and purging attributes, and the PATCH rules that remain: `null` clears, incoherent
//! changes name their fields, dropping flags is always accepted, scans cover every page.

use crate::helpers::*;
use crate::support::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn retiring_refuses_writes_but_keeps_stored_values_readable() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let nickname = define(
        &app,
        &tenant.key,
        json!({"name": "nickname", "type": "string"}),
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"nickname": "Nick"}))],
    )
    .await;

    let retired = delete_attribute(&app, &tenant.key, "nickname", false).await;
    let write = compat_write(
        &app,
        Method::PUT,
        &tenant.key,
        vec![record("C-1", json!({"nickname": "Nico"}))],
    )
    .await;
    let create = compat_write(
        &app,
        Method::POST,
        &tenant.key,
        vec![record("C-2", json!({"nickname": "Nico"}))],
    )
    .await;

    assert_eq!(retired.status, StatusCode::OK, "{:?}", retired.body);
    assert_eq!(retired.body["retired"], true);
    assert_eq!(retired.body["id"], nickname["id"]);
    assert_eq!(
        get_attribute(&app, &tenant.key, "nickname").await.body["retired"],
        true
    );
    for refused in [&write, &create] {
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{:?}",
            refused.body
        );
        assert_eq!(refused.body["Results"][0]["code"], "7011");
        let description = refused.body["Results"][0]["description"].as_str().unwrap();
        assert!(
            description.contains("nickname") && description.contains("retired"),
            "{description}"
        );
    }
    assert_eq!(
        compat_values(&app, &tenant.key, "C-1").await["nickname"],
        "Nick"
    );
    assert_eq!(
        compat_ids(&app, &tenant.key, "C-1").await["nickname"],
        nickname["id"].as_i64().unwrap()
    );
    assert_eq!(
        customer(&app, &tenant.key, "C-1").await.body["attributes"]["nickname"],
        "Nick"
    );
}

#[tokio::test]
async fn a_retired_name_cannot_be_defined_again_until_purged() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "nickname", "type": "string"}),
    )
    .await;
    delete_attribute(&app, &tenant.key, "nickname", false).await;

    let refused = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "nickname", "type": "integer"}),
    )
    .await;

    let problem = assert_schema_conflict(&refused);
    assert!(problem["detail"].as_str().unwrap().contains("purge"));
}

#[tokio::test]
async fn purging_removes_the_values_and_the_definition_and_frees_the_name() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(&app, &tenant.key, json!({"name": "age", "type": "integer"})).await;
    define(
        &app,
        &tenant.key,
        json!({"name": "nickname", "type": "string"}),
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![
            record("C-1", json!({"nickname": "Nick", "age": 30})),
            record("C-2", json!({"age": 40})),
        ],
    )
    .await;

    let purged = delete_attribute(&app, &tenant.key, "nickname", true).await;

    assert_eq!(purged.status, StatusCode::OK, "{:?}", purged.body);
    assert_problem(
        &get_attribute(&app, &tenant.key, "nickname").await,
        StatusCode::NOT_FOUND,
        "not-found",
        "Attribute not found",
    );
    assert_eq!(
        names(&native_get(&app, ATTRIBUTES, &tenant.key).await.body),
        ["age"]
    );
    let compat = compat_values(&app, &tenant.key, "C-1").await;
    assert!(!compat.contains_key("nickname"), "{compat:?}");
    assert_eq!(compat["age"], "30");
    let native_c1 = customer(&app, &tenant.key, "C-1").await.body;
    assert!(
        native_c1["attributes"].get("nickname").is_none(),
        "{native_c1}"
    );
    let again = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "nickname", "type": "integer"}),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{:?}", again.body);
    assert_eq!(again.body["type"], "integer");
    update_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"nickname": 7}))],
    )
    .await;
    assert_eq!(
        compat_values(&app, &tenant.key, "C-1").await["nickname"],
        "7"
    );
}

#[tokio::test]
async fn a_retired_attribute_cannot_be_changed() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "nickname", "type": "string"}),
    )
    .await;
    delete_attribute(&app, &tenant.key, "nickname", false).await;

    let refused = patch_attribute(
        &app,
        &tenant.key,
        "nickname",
        json!({"description": "back again"}),
    )
    .await;

    let problem = assert_schema_conflict(&refused);
    assert!(problem["detail"].as_str().unwrap().contains("retired"));
    let view = get_attribute(&app, &tenant.key, "nickname").await.body;
    assert!(view.get("description").is_none(), "{view}");
}

#[tokio::test]
async fn null_in_a_patch_clears_a_constraint() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "code", "type": "string", "max_length": 3, "pattern": "[A-Z]+",
               "description": "short"}),
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"code": "ABC"}))],
    )
    .await;
    let too_long = compat_write(
        &app,
        Method::PUT,
        &tenant.key,
        vec![record("C-1", json!({"code": "ABCDEF"}))],
    )
    .await;

    let cleared = patch_attribute(
        &app,
        &tenant.key,
        "code",
        json!({"max_length": null, "description": null}),
    )
    .await;

    assert_eq!(too_long.body["Results"][0]["code"], "7011");
    assert_eq!(cleared.status, StatusCode::OK, "{:?}", cleared.body);
    assert!(cleared.body.get("max_length").is_none(), "{}", cleared.body);
    assert!(
        cleared.body.get("description").is_none(),
        "{}",
        cleared.body
    );
    assert_eq!(cleared.body["pattern"], "[A-Z]+", "an absent field is kept");
    update_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"code": "ABCDEF"}))],
    )
    .await;
    assert_eq!(
        compat_values(&app, &tenant.key, "C-1").await["code"],
        "ABCDEF"
    );
}

#[tokio::test]
async fn a_purge_flag_that_is_not_a_boolean_is_a_problem_naming_purge() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "nickname", "type": "string"}),
    )
    .await;

    let refused = native(
        &app,
        Method::DELETE,
        &format!("{ATTRIBUTES}/nickname?purge=yes-please"),
        &tenant.key,
        None,
    )
    .await;

    assert_eq!(validation_fields(&refused), ["purge"]);
    assert_eq!(
        get_attribute(&app, &tenant.key, "nickname").await.body["retired"],
        false
    );
}

#[tokio::test]
async fn an_incoherent_change_is_a_422_naming_each_field() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "age", "type": "integer", "max": 65, "default": 30}),
    )
    .await;
    define(&app, &tenant.key, json!({"name": "tags", "type": "list"})).await;

    let wrong_constraint =
        patch_attribute(&app, &tenant.key, "age", json!({"pattern": "[0-9]+"})).await;
    let min_above_max = patch_attribute(&app, &tenant.key, "age", json!({"min": 70})).await;
    let default_out_of_bounds = patch_attribute(&app, &tenant.key, "age", json!({"min": 40})).await;
    let unique_list = patch_attribute(&app, &tenant.key, "tags", json!({"unique": true})).await;

    assert_eq!(validation_fields(&wrong_constraint), ["pattern"]);
    assert_eq!(validation_fields(&min_above_max), ["max"]);
    assert_eq!(validation_fields(&default_out_of_bounds), ["default"]);
    assert_eq!(validation_fields(&unique_list), ["unique"]);
    let age = get_attribute(&app, &tenant.key, "age").await.body;
    assert!(age.get("min").is_none(), "nothing changed: {age}");
}

#[tokio::test]
async fn dropping_required_and_unique_is_always_accepted() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "member_code", "type": "string", "required": true, "unique": true}),
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"member_code": "M-1"}))],
    )
    .await;

    let loosened = patch_attribute(
        &app,
        &tenant.key,
        "member_code",
        json!({"required": false, "unique": false}),
    )
    .await;

    assert_eq!(loosened.status, StatusCode::OK, "{:?}", loosened.body);
    assert_eq!(
        (&loosened.body["required"], &loosened.body["unique"]),
        (&json!(false), &json!(false))
    );
    create_customers(
        &app,
        &tenant.key,
        vec![
            record("C-2", json!({"member_code": "M-1"})),
            record("C-3", json!({"name": "no code"})),
        ],
    )
    .await;
}

#[tokio::test]
async fn checks_cover_every_stored_profile_not_just_the_first_page() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(&app, &tenant.key, json!({"name": "age", "type": "integer"})).await;
    for batch in 0..6 {
        let records = (0..100)
            .map(|n| {
                let id = batch * 100 + n;
                // The last three customers (in customerId order) are the young ones.
                let age = if id >= 597 { 10 } else { 40 };
                record(&format!("C-{id:04}"), json!({ "age": age }))
            })
            .collect();
        create_customers(&app, &tenant.key, records).await;
    }

    let refused = patch_attribute(&app, &tenant.key, "age", json!({"min": 18})).await;
    let filled = patch_attribute(
        &app,
        &tenant.key,
        "age",
        json!({"required": true, "default": 50, "max": 40}),
    )
    .await;

    let problem = assert_schema_conflict(&refused);
    assert_eq!(problem["offending_profiles"], 3);
    assert_eq!(
        problem["sample_customer_ids"],
        json!(["C-0597", "C-0598", "C-0599"])
    );
    assert_eq!(
        filled.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the default is above max"
    );
    create_customers(
        &app,
        &tenant.key,
        vec![record("C-0600", json!({"name": "no age"}))],
    )
    .await;
    let required = patch_attribute(
        &app,
        &tenant.key,
        "age",
        json!({"required": true, "default": 30}),
    )
    .await;
    assert_eq!(required.status, StatusCode::OK, "{:?}", required.body);
    assert_eq!(
        compat_values(&app, &tenant.key, "C-0600").await["age"],
        "30"
    );
}
