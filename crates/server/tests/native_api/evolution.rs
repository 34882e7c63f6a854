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
