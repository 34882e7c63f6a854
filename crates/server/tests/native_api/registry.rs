//! The schema registry: defining, listing and reading attribute definitions, and every reason
//! a definition is refused (each with its problem+json body).

use crate::helpers::*;
use crate::support::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// One definition per type, and the view the API must answer with (without the id).
fn every_type() -> Vec<(Value, Value)> {
    vec![
        (
            json!({"name": "nickname", "type": "string", "description": "what friends say",
                   "min_length": 1, "max_length": 20, "pattern": "[a-z]+"}),
            json!({"name": "nickname", "type": "string", "required": false, "unique": false,
                   "description": "what friends say", "min_length": 1, "max_length": 20,
                   "pattern": "[a-z]+", "retired": false, "implicit": false}),
        ),
        (
            json!({"name": "age", "type": "integer", "min": 0, "max": "150"}),
            json!({"name": "age", "type": "integer", "required": false, "unique": false,
                   "min": 0, "max": 150, "retired": false, "implicit": false}),
        ),
        (
            json!({"name": "balance", "type": "decimal", "min": "0.50", "default": "10.00"}),
            json!({"name": "balance", "type": "decimal", "required": false, "unique": false,
                   "min": "0.5", "default": "10", "retired": false, "implicit": false}),
        ),
        (
            json!({"name": "vip", "type": "boolean", "default": true}),
            json!({"name": "vip", "type": "boolean", "required": false, "unique": false,
                   "default": true, "retired": false, "implicit": false}),
        ),
        (
            json!({"name": "dob", "type": "date", "min": "1900-01-01", "max": "2100-12-31"}),
            json!({"name": "dob", "type": "date", "required": false, "unique": false,
                   "min": "1900-01-01", "max": "2100-12-31", "retired": false, "implicit": false}),
        ),
        (
            json!({"name": "last_seen", "type": "datetime", "max": "2100-01-01T01:00:00+01:00"}),
            json!({"name": "last_seen", "type": "datetime", "required": false, "unique": false,
                   "max": "2100-01-01T00:00:00Z", "retired": false, "implicit": false}),
        ),
        (
            json!({"name": "work_email", "type": "email", "unique": true}),
            json!({"name": "work_email", "type": "email", "required": false, "unique": true,
                   "retired": false, "implicit": false}),
        ),
        (
            json!({"name": "backup_phone", "type": "msisdn", "default": "44 7700 900001"}),
            json!({"name": "backup_phone", "type": "msisdn", "required": false, "unique": false,
                   "default": "+447700900001", "retired": false, "implicit": false}),
        ),
        (
            json!({"name": "tier", "type": "enum", "values": ["gold", "silver"], "default": "silver",
                   "required": true}),
            json!({"name": "tier", "type": "enum", "required": true, "unique": false,
                   "values": ["gold", "silver"], "default": "silver", "retired": false,
                   "implicit": false}),
        ),
        (
            json!({"name": "tags", "type": "list", "max_items": 3, "default": ["new"]}),
            json!({"name": "tags", "type": "list", "required": false, "unique": false,
                   "max_items": 3, "default": ["new"], "retired": false, "implicit": false}),
        ),
    ]
}

#[tokio::test]
async fn every_type_is_defined_with_201_a_location_and_its_view_with_ids_from_1001() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    for (index, (body, expected)) in every_type().into_iter().enumerate() {
        let name = body["name"].as_str().unwrap().to_owned();
        let created = post_attribute(&app, &tenant.key, body).await;

        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{name}: {:?}",
            created.body
        );
        assert_eq!(created.content_type(), "application/json");
        assert_eq!(created.header("location"), format!("{ATTRIBUTES}/{name}"));
        let mut expected = expected;
        expected["id"] = json!(1001 + index as i64);
        assert_eq!(created.body, expected, "{name}");
    }
}

#[tokio::test]
async fn the_list_is_in_id_order_and_each_definition_reads_as_it_was_created() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let mut created = Vec::new();
    for (body, _) in every_type() {
        created.push(define(&app, &tenant.key, body).await);
    }

    let list = native_get(&app, ATTRIBUTES, &tenant.key).await;

    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.content_type(), "application/json");
    assert_eq!(list.body, json!({ "attributes": created }));
    let ids: Vec<i64> = list.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, (1001..=1010).collect::<Vec<_>>());
    for view in &created {
        let name = view["name"].as_str().unwrap();
        let one = get_attribute(&app, &tenant.key, name).await;
        assert_eq!(one.status, StatusCode::OK);
        assert_eq!(&one.body, view, "{name}");
    }
}

#[tokio::test]
async fn the_view_uses_snake_case_fields() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let view = define(
        &app,
        &tenant.key,
        json!({"name": "code", "type": "string", "min_length": 2, "max_length": 4}),
    )
    .await;
    let tags = define(
        &app,
        &tenant.key,
        json!({"name": "tags", "type": "list", "max_items": 2}),
    )
    .await;

    assert_eq!(view["min_length"], 2);
    assert_eq!(view["max_length"], 4);
    assert_eq!(tags["max_items"], 2);
    for camel in [
        "minLength",
        "maxLength",
        "maxItems",
        "attributeType",
        "Id",
        "ID",
    ] {
        assert!(
            view.get(camel).is_none() && tags.get(camel).is_none(),
            "{camel}"
        );
    }
}

#[tokio::test]
async fn an_unknown_attribute_is_a_404_problem_for_get_patch_and_delete() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(&app, &tenant.key, json!({"name": "age", "type": "integer"})).await;

    let read = get_attribute(&app, &tenant.key, "shoe_size").await;
    let changed = patch_attribute(&app, &tenant.key, "shoe_size", json!({"required": false})).await;
    let retired = delete_attribute(&app, &tenant.key, "shoe_size", false).await;

    for missing in [&read, &changed, &retired] {
        let problem = assert_problem(
            missing,
            StatusCode::NOT_FOUND,
            "not-found",
            "Attribute not found",
        );
        assert_eq!(problem["detail"], "attribute not found");
    }
}

#[tokio::test]
async fn a_duplicate_name_is_a_409_problem() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(&app, &tenant.key, json!({"name": "age", "type": "integer"})).await;

    let again = post_attribute(&app, &tenant.key, json!({"name": "age", "type": "string"})).await;

    let problem = assert_problem(
        &again,
        StatusCode::CONFLICT,
        "already-exists",
        "Attribute already exists",
    );
    assert_eq!(problem["detail"], "attribute already exists");
    assert_eq!(
        get_attribute(&app, &tenant.key, "age").await.body["type"],
        "integer"
    );
}

#[tokio::test]
async fn a_default_attribute_name_is_refused_naming_the_name_field() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    for name in ["email", "name", "msisdn", "Email", "customerId", "sms"] {
        let refused =
            post_attribute(&app, &tenant.key, json!({"name": name, "type": "string"})).await;

        assert_eq!(validation_fields(&refused), ["name"], "{name}");
        assert!(
            error_message(&refused, "name").contains("default attribute"),
            "{name}: {:?}",
            refused.body
        );
    }
    assert_eq!(
        native_get(&app, ATTRIBUTES, &tenant.key).await.body,
        json!({"attributes": []})
    );
}

#[tokio::test]
async fn a_name_that_is_not_an_identifier_is_refused_naming_the_name_field() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    for name in ["1st", "has space", "", "semi;colon", &"x".repeat(65)] {
        let refused =
            post_attribute(&app, &tenant.key, json!({"name": name, "type": "string"})).await;

        assert_eq!(validation_fields(&refused), ["name"], "{name:?}");
        assert!(
            refused.body["detail"]
                .as_str()
                .unwrap()
                .starts_with("name: "),
            "{:?}",
            refused.body
        );
    }
}

#[tokio::test]
async fn constraints_that_do_not_fit_the_type_are_refused_naming_each_field() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let on_string = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "nickname", "type": "string", "min": 1, "max_items": 3, "values": ["a"]}),
    )
    .await;
    let on_decimal = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "balance", "type": "decimal", "pattern": "[0-9]+", "max_length": 3}),
    )
    .await;
    let on_boolean = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "vip", "type": "boolean", "max": 1}),
    )
    .await;

    assert_eq!(
        validation_fields(&on_string),
        ["min", "max_items", "values"]
    );
    assert!(error_message(&on_string, "min").contains("not string"));
    assert!(error_message(&on_string, "max_items").contains("applies to list"));
    assert!(error_message(&on_string, "values").contains("enum"));
    assert_eq!(validation_fields(&on_decimal), ["max_length", "pattern"]);
    assert!(error_message(&on_decimal, "pattern").contains("applies to string, not decimal"));
    assert_eq!(validation_fields(&on_boolean), ["max"]);
    assert_eq!(
        native_get(&app, ATTRIBUTES, &tenant.key).await.body,
        json!({"attributes": []}),
        "nothing was defined"
    );
}

#[tokio::test]
async fn min_above_max_is_refused() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let numbers = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "age", "type": "integer", "min": 10, "max": 5}),
    )
    .await;
    let dates = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "dob", "type": "date", "min": "2000-01-02", "max": "2000-01-01"}),
    )
    .await;
    let lengths = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "code", "type": "string", "min_length": 5, "max_length": 4}),
    )
    .await;

    assert_eq!(validation_fields(&numbers), ["max"]);
    assert_eq!(error_message(&numbers, "max"), "max is below min");
    assert_eq!(validation_fields(&dates), ["max"]);
    assert_eq!(validation_fields(&lengths), ["max_length"]);
}

#[tokio::test]
async fn a_bound_that_is_not_a_value_of_the_type_is_refused() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let refused = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "dob", "type": "date", "min": "01/02/1990"}),
    )
    .await;

    assert_eq!(validation_fields(&refused), ["min"]);
    assert!(error_message(&refused, "min").contains("YYYY-MM-DD"));
}

#[tokio::test]
async fn an_invalid_regular_expression_is_refused_naming_pattern() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let refused = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "code", "type": "string", "pattern": "([A-Z"}),
    )
    .await;

    assert_eq!(validation_fields(&refused), ["pattern"]);
    assert!(
        error_message(&refused, "pattern").contains("not a valid regular expression"),
        "{:?}",
        refused.body
    );
}

#[tokio::test]
async fn an_enum_without_values_is_refused_naming_values() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let without = post_attribute(&app, &tenant.key, json!({"name": "tier", "type": "enum"})).await;
    let empty = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "tier", "type": "enum", "values": []}),
    )
    .await;
    let repeated = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "tier", "type": "enum", "values": ["gold", "gold"]}),
    )
    .await;

    assert_eq!(validation_fields(&without), ["values"]);
    assert_eq!(
        error_message(&without, "values"),
        "an enum lists its allowed values"
    );
    assert_eq!(validation_fields(&empty), ["values"]);
    assert_eq!(validation_fields(&repeated), ["values"]);
}

#[tokio::test]
async fn a_default_that_breaks_the_constraints_is_refused_naming_default() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let below_min = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "age", "type": "integer", "min": 18, "default": 10}),
    )
    .await;
    let not_a_value = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "tier", "type": "enum", "values": ["gold"], "default": "bronze"}),
    )
    .await;
    let wrong_type = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "vip", "type": "boolean", "default": "maybe"}),
    )
    .await;
    let too_many = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "tags", "type": "list", "max_items": 1, "default": ["a", "b"]}),
    )
    .await;

    assert_eq!(validation_fields(&below_min), ["default"]);
    assert!(error_message(&below_min, "default").contains("below the minimum 18"));
    assert_eq!(validation_fields(&not_a_value), ["default"]);
    assert!(error_message(&not_a_value, "default").contains("not one of gold"));
    assert_eq!(validation_fields(&wrong_type), ["default"]);
    assert_eq!(validation_fields(&too_many), ["default"]);
}

#[tokio::test]
async fn a_list_cannot_be_unique() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let refused = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "tags", "type": "list", "unique": true}),
    )
    .await;

    assert_eq!(validation_fields(&refused), ["unique"]);
}

#[tokio::test]
async fn an_unknown_body_field_is_refused_naming_it() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let refused = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "age", "type": "integer", "minimum": 3}),
    )
    .await;
    let in_patch = {
        define(&app, &tenant.key, json!({"name": "code", "type": "string"})).await;
        patch_attribute(&app, &tenant.key, "code", json!({"maxLength": 3})).await
    };

    assert_eq!(validation_fields(&refused), ["minimum"]);
    assert!(error_message(&refused, "minimum").contains("unknown field"));
    assert_eq!(validation_fields(&in_patch), ["maxLength"]);
}

#[tokio::test]
async fn a_missing_type_is_refused_naming_type() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let refused = post_attribute(&app, &tenant.key, json!({"name": "age"})).await;

    assert_eq!(validation_fields(&refused), ["type"]);
}

#[tokio::test]
async fn an_unknown_type_is_refused_naming_type() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let refused = post_attribute(&app, &tenant.key, json!({"name": "age", "type": "number"})).await;

    assert_eq!(validation_fields(&refused), ["type"]);
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let response = app
        .client
        .request(Method::POST, format!("{}{ATTRIBUTES}", app.base_url))
        .bearer_auth(&tenant.key)
        .header("content-type", "application/json")
        .body(r#"{"name": "age", "type": "integer""#)
        .send()
        .await
        .unwrap();
    let refused = answer(response).await;

    assert_problem(
        &refused,
        StatusCode::BAD_REQUEST,
        "malformed-json",
        "Malformed JSON",
    );
    assert!(refused.body.get("errors").is_none());
    assert_eq!(
        native_get(&app, ATTRIBUTES, &tenant.key).await.body,
        json!({"attributes": []})
    );
}

#[tokio::test]
async fn a_field_of_the_wrong_json_type_is_refused_naming_it() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let refused = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "age", "type": "integer", "required": "yes"}),
    )
    .await;

    assert_eq!(validation_fields(&refused), ["required"]);
}

#[tokio::test]
async fn a_bound_of_the_wrong_json_shape_is_refused_naming_it() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let refused = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "age", "type": "integer", "min": {"value": 1}}),
    )
    .await;

    assert_eq!(validation_fields(&refused), ["min"]);
}

#[tokio::test]
async fn malformed_json_in_a_patch_is_a_400_problem() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(&app, &tenant.key, json!({"name": "age", "type": "integer"})).await;

    let response = app
        .client
        .request(Method::PATCH, format!("{}{ATTRIBUTES}/age", app.base_url))
        .bearer_auth(&tenant.key)
        .header("content-type", "application/json")
        .body("{min: 3}")
        .send()
        .await
        .unwrap();
    let refused = answer(response).await;

    assert_problem(
        &refused,
        StatusCode::BAD_REQUEST,
        "malformed-json",
        "Malformed JSON",
    );
}
