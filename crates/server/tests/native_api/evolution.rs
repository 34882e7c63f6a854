//! Evolution of definitions: what may change, what is checked against stored values first
//! (each refusal with its problem+json body), retiring and purging.

use crate::helpers::*;
use crate::support::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn the_type_never_changes() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(&app, &tenant.key, json!({"name": "age", "type": "integer"})).await;

    let refused = patch_attribute(&app, &tenant.key, "age", json!({"type": "string"})).await;
    let same_type = patch_attribute(&app, &tenant.key, "age", json!({"type": "integer"})).await;

    let problem = assert_schema_conflict(&refused);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("age") && detail.contains("integer") && detail.contains("string"),
        "{detail}"
    );
    assert!(problem.get("offending_profiles").is_none());
    assert!(problem.get("sample_customer_ids").is_none());
    assert_eq!(
        same_type.status,
        StatusCode::OK,
        "repeating the type is no change"
    );
    assert_eq!(
        get_attribute(&app, &tenant.key, "age").await.body["type"],
        "integer"
    );
}

#[tokio::test]
async fn raising_min_above_stored_values_is_refused_with_the_offending_profiles() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(&app, &tenant.key, json!({"name": "age", "type": "integer"})).await;
    create_customers(
        &app,
        &tenant.key,
        vec![
            record("C-1", json!({"age": 15})),
            record("C-2", json!({"age": 30})),
            record("C-3", json!({"age": 12})),
            record("C-4", json!({"name": "no age"})),
        ],
    )
    .await;

    let refused = patch_attribute(&app, &tenant.key, "age", json!({"min": 18})).await;

    let problem = assert_schema_conflict(&refused);
    assert_eq!(problem["offending_profiles"], 2);
    assert_eq!(problem["sample_customer_ids"], json!(["C-1", "C-3"]));
    assert_eq!(
        problem["detail"],
        "2 stored value(s) of age are not valid under the new definition"
    );
    let unchanged = get_attribute(&app, &tenant.key, "age").await.body;
    assert!(unchanged.get("min").is_none(), "{unchanged}");
    assert_eq!(compat_values(&app, &tenant.key, "C-3").await["age"], "12");
}

#[tokio::test]
async fn a_shorter_max_length_is_refused_while_a_stored_value_is_longer() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
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
            record("C-1", json!({"nickname": "abcdefgh"})),
            record("C-2", json!({"nickname": "abc"})),
        ],
    )
    .await;

    let refused = patch_attribute(&app, &tenant.key, "nickname", json!({"max_length": 5})).await;

    let problem = assert_schema_conflict(&refused);
    assert_eq!(problem["offending_profiles"], 1);
    assert_eq!(problem["sample_customer_ids"], json!(["C-1"]));
    assert!(problem["detail"].as_str().unwrap().contains("nickname"));
}

#[tokio::test]
async fn a_pattern_is_refused_while_a_stored_value_does_not_match_it() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(&app, &tenant.key, json!({"name": "code", "type": "string"})).await;
    create_customers(
        &app,
        &tenant.key,
        vec![
            record("C-1", json!({"code": "ABC"})),
            record("C-2", json!({"code": "abc"})),
            record("C-3", json!({"code": "XABCX"})),
        ],
    )
    .await;

    let refused = patch_attribute(&app, &tenant.key, "code", json!({"pattern": "[A-Z]{3}"})).await;

    let problem = assert_schema_conflict(&refused);
    assert_eq!(problem["offending_profiles"], 2);
    assert_eq!(
        problem["sample_customer_ids"],
        json!(["C-2", "C-3"]),
        "the pattern matches the whole value"
    );
}

#[tokio::test]
async fn removing_an_enum_value_that_is_stored_is_refused() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "tier", "type": "enum", "values": ["gold", "silver", "bronze"]}),
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![
            record("C-1", json!({"tier": "gold"})),
            record("C-2", json!({"tier": "bronze"})),
        ],
    )
    .await;

    let refused = patch_attribute(
        &app,
        &tenant.key,
        "tier",
        json!({"values": ["gold", "silver"]}),
    )
    .await;

    let problem = assert_schema_conflict(&refused);
    assert_eq!(problem["offending_profiles"], 1);
    assert_eq!(problem["sample_customer_ids"], json!(["C-2"]));
    assert_eq!(
        get_attribute(&app, &tenant.key, "tier").await.body["values"],
        json!(["gold", "silver", "bronze"])
    );
}

#[tokio::test]
async fn the_sample_of_offending_profiles_is_a_few_ids_and_the_count_is_all_of_them() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(&app, &tenant.key, json!({"name": "age", "type": "integer"})).await;
    let records = (1..=8)
        .map(|n| record(&format!("C-{n}"), json!({ "age": n })))
        .collect();
    create_customers(&app, &tenant.key, records).await;

    let refused = patch_attribute(&app, &tenant.key, "age", json!({"max": 1})).await;

    let problem = assert_schema_conflict(&refused);
    assert_eq!(problem["offending_profiles"], 7);
    let sample = problem["sample_customer_ids"].as_array().unwrap();
    assert!(!sample.is_empty() && sample.len() < 7, "{problem}");
    for id in sample {
        assert_ne!(id, "C-1", "C-1 satisfies the new maximum");
    }
}

#[tokio::test]
async fn loosening_constraints_is_accepted() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "age", "type": "integer", "min": 18, "max": 65}),
    )
    .await;
    define(
        &app,
        &tenant.key,
        json!({"name": "tier", "type": "enum", "values": ["gold"]}),
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"age": 40, "tier": "gold"}))],
    )
    .await;

    let age = patch_attribute(&app, &tenant.key, "age", json!({"min": 10, "max": "100"})).await;
    let tier = patch_attribute(
        &app,
        &tenant.key,
        "tier",
        json!({"values": ["gold", "silver"], "description": "loyalty"}),
    )
    .await;

    assert_eq!(age.status, StatusCode::OK, "{:?}", age.body);
    assert_eq!(age.content_type(), "application/json");
    assert_eq!(
        (&age.body["min"], &age.body["max"]),
        (&json!(10), &json!(100))
    );
    assert_eq!(tier.status, StatusCode::OK, "{:?}", tier.body);
    assert_eq!(tier.body["values"], json!(["gold", "silver"]));
    assert_eq!(tier.body["description"], "loyalty");
    assert_eq!(get_attribute(&app, &tenant.key, "age").await.body, age.body);
    update_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"age": 12, "tier": "silver"}))],
    )
    .await;
}

#[tokio::test]
async fn making_an_attribute_unique_is_refused_while_values_repeat() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "member_code", "type": "string"}),
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![
            record("C-1", json!({"member_code": "X"})),
            record("C-2", json!({"member_code": "X"})),
            record("C-3", json!({"member_code": "Y"})),
        ],
    )
    .await;

    let refused = patch_attribute(&app, &tenant.key, "member_code", json!({"unique": true})).await;

    let problem = assert_schema_conflict(&refused);
    assert_eq!(problem["offending_profiles"], 1);
    assert_eq!(problem["sample_customer_ids"], json!(["C-2"]));
    assert!(problem["detail"].as_str().unwrap().contains("unique"));
    assert_eq!(
        get_attribute(&app, &tenant.key, "member_code").await.body["unique"],
        false
    );
}

#[tokio::test]
async fn making_an_attribute_unique_without_repeats_holds_and_then_duplicates_are_refused() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "member_code", "type": "string"}),
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![
            record("C-1", json!({"member_code": "X"})),
            record("C-2", json!({"member_code": "Y"})),
        ],
    )
    .await;

    let made_unique =
        patch_attribute(&app, &tenant.key, "member_code", json!({"unique": true})).await;
    let update_to_taken = compat_write(
        &app,
        Method::PUT,
        &tenant.key,
        vec![record("C-2", json!({"member_code": "X"}))],
    )
    .await;
    let create_with_taken = compat_write(
        &app,
        Method::POST,
        &tenant.key,
        vec![record("C-3", json!({"member_code": "X"}))],
    )
    .await;

    assert_eq!(made_unique.status, StatusCode::OK, "{:?}", made_unique.body);
    assert_eq!(made_unique.body["unique"], true);
    for refused in [&update_to_taken, &create_with_taken] {
        assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
        assert_eq!(refused.body["Results"][0]["code"], "7015");
        assert!(
            refused.body["Results"][0]["description"]
                .as_str()
                .unwrap()
                .contains("member_code")
        );
    }
    assert_eq!(
        compat_values(&app, &tenant.key, "C-2").await["member_code"],
        "Y"
    );
    assert_eq!(
        app.get(&format!("{COMPAT}/C-3"), &tenant.key).await.code(),
        "7014"
    );
}

#[tokio::test]
async fn making_an_attribute_required_without_a_default_is_refused_while_profiles_lack_it() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "region", "type": "string"}),
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![
            record("C-1", json!({"region": "north"})),
            record("C-2", json!({"name": "Bo"})),
            record("C-3", json!({"name": "Cy"})),
        ],
    )
    .await;

    let refused = patch_attribute(&app, &tenant.key, "region", json!({"required": true})).await;

    let problem = assert_schema_conflict(&refused);
    assert_eq!(problem["offending_profiles"], 2);
    assert_eq!(problem["sample_customer_ids"], json!(["C-2", "C-3"]));
    assert_eq!(
        problem["detail"],
        "2 customer(s) lack region, which would be required: give it a default"
    );
    assert_eq!(
        get_attribute(&app, &tenant.key, "region").await.body["required"],
        false
    );
}

#[tokio::test]
async fn making_an_attribute_required_with_a_default_fills_in_the_profiles_that_lack_it() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "region", "type": "string"}),
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![
            record("C-1", json!({"region": "north"})),
            record("C-2", json!({"name": "Bo"})),
        ],
    )
    .await;

    let required = patch_attribute(
        &app,
        &tenant.key,
        "region",
        json!({"required": true, "default": "south"}),
    )
    .await;

    assert_eq!(required.status, StatusCode::OK, "{:?}", required.body);
    assert_eq!(required.body["required"], true);
    assert_eq!(required.body["default"], "south");
    let native_c2 = customer(&app, &tenant.key, "C-2").await;
    assert_eq!(native_c2.body["attributes"]["region"], "south");
    assert_eq!(
        native_c2.body["version"], 2,
        "filling in the default is a new version"
    );
    assert_eq!(
        compat_values(&app, &tenant.key, "C-2").await["region"],
        "south"
    );
    assert_eq!(
        compat_values(&app, &tenant.key, "C-1").await["region"],
        "north",
        "a stored value is kept"
    );
}

#[tokio::test]
async fn a_new_required_attribute_without_a_default_is_refused_while_customers_exist() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(&app, &tenant.key, json!({"name": "age", "type": "integer"})).await;
    create_customers(&app, &tenant.key, vec![record("C-1", json!({"age": 3}))]).await;

    let refused = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "region", "type": "string", "required": true}),
    )
    .await;
    let with_default = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "region", "type": "string", "required": true, "default": "north"}),
    )
    .await;

    let problem = assert_schema_conflict(&refused);
    assert_eq!(problem["offending_profiles"], 1);
    assert_eq!(problem["sample_customer_ids"], json!(["C-1"]));
    assert_eq!(
        with_default.status,
        StatusCode::CREATED,
        "{:?}",
        with_default.body
    );
    assert_eq!(
        compat_values(&app, &tenant.key, "C-1").await["region"],
        "north"
    );
}
