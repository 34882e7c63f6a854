//! `required` and `unique` enforced through the compatible API, open schemas and the adoption
//! of implicit attributes, and decimals that never pass through a float.

use crate::enforcement::only_failure;
use crate::helpers::*;
use crate::support::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn required_is_enforced_on_create() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "region", "type": "string", "required": true}),
    )
    .await;

    let without = compat_write(
        &app,
        Method::POST,
        &tenant.key,
        vec![record("C-1", json!({"name": "Ann"}))],
    )
    .await;
    let with = compat_write(
        &app,
        Method::POST,
        &tenant.key,
        vec![record("C-2", json!({"region": "north"}))],
    )
    .await;

    let (code, description) = only_failure(&without);
    assert_eq!(code, "7011");
    assert_eq!(
        description,
        "Invalid Attribute Value: region: required: a new customer must have it"
    );
    assert_eq!(with.body["code"], "1000");
}

#[tokio::test]
async fn a_required_attribute_cannot_be_cleared_but_other_updates_need_not_repeat_it() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "region", "type": "string", "required": true}),
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"region": "north"}))],
    )
    .await;

    let cleared = compat_write(
        &app,
        Method::PUT,
        &tenant.key,
        vec![record("C-1", json!({"region": null}))],
    )
    .await;
    update_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"name": "Ann"}))],
    )
    .await;

    let (code, description) = only_failure(&cleared);
    assert_eq!(code, "7011");
    assert!(description.contains("region") && description.contains("required"));
    assert_eq!(
        compat_values(&app, &tenant.key, "C-1").await["region"],
        "north"
    );
}

#[tokio::test]
async fn a_default_fills_in_a_required_attribute_on_create() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "tier", "type": "enum", "values": ["gold", "silver"],
               "required": true, "default": "silver"}),
    )
    .await;
    define(
        &app,
        &tenant.key,
        json!({"name": "balance", "type": "decimal", "default": "0.00"}),
    )
    .await;

    create_customers(
        &app,
        &tenant.key,
        vec![
            record("C-1", json!({"name": "Ann"})),
            record("C-2", json!({"tier": "gold"})),
        ],
    )
    .await;

    let c1 = compat_values(&app, &tenant.key, "C-1").await;
    assert_eq!(c1["tier"], "silver");
    assert_eq!(c1["balance"], "0");
    assert_eq!(
        compat_values(&app, &tenant.key, "C-2").await["tier"],
        "gold"
    );
}

#[tokio::test]
async fn a_unique_value_held_by_another_customer_fails_with_7015() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "member_code", "type": "string", "unique": true}),
    )
    .await;
    define(
        &app,
        &tenant.key,
        json!({"name": "account_no", "type": "integer", "unique": true}),
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![record(
            "C-1",
            json!({"member_code": "M-1", "account_no": "0042"}),
        )],
    )
    .await;

    let same_code = compat_write(
        &app,
        Method::POST,
        &tenant.key,
        vec![record("C-2", json!({"member_code": "M-1"}))],
    )
    .await;
    let same_number = compat_write(
        &app,
        Method::POST,
        &tenant.key,
        vec![record("C-3", json!({"account_no": 42}))],
    )
    .await;

    for (refused, attribute) in [(&same_code, "member_code"), (&same_number, "account_no")] {
        assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
        assert_eq!(refused.body["code"], "7015");
        let (code, description) = only_failure(refused);
        assert_eq!(code, "7015");
        assert_eq!(
            description,
            format!(
                "{attribute}: the value is already held by another customer (unique attribute)"
            )
        );
    }
}

#[tokio::test]
async fn a_unique_value_repeated_within_one_batch_fails_the_later_record() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "member_code", "type": "string", "unique": true}),
    )
    .await;

    let written = compat_write(
        &app,
        Method::POST,
        &tenant.key,
        vec![
            record("C-1", json!({"member_code": "M-1"})),
            record("C-2", json!({"member_code": "M-1"})),
        ],
    )
    .await;

    assert_eq!(written.body["code"], "1002");
    assert_eq!(written.body["Results"][0]["code"], "1000");
    assert_eq!(written.body["Results"][1]["code"], "7015");
}

#[tokio::test]
async fn a_customer_rewriting_its_own_unique_value_succeeds() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "member_code", "type": "string", "unique": true}),
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"member_code": "M-1"}))],
    )
    .await;

    update_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"member_code": "M-1"}))],
    )
    .await;
    update_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"member_code": "M-1", "name": "Ann"}))],
    )
    .await;

    let values = compat_values(&app, &tenant.key, "C-1").await;
    assert_eq!(
        (values["member_code"].as_str(), values["name"].as_str()),
        ("M-1", "Ann")
    );
}

#[tokio::test]
async fn a_released_unique_value_can_be_taken_by_another_customer() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "member_code", "type": "string", "unique": true}),
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"member_code": "M-1"}))],
    )
    .await;

    update_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"member_code": "M-2"}))],
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![record("C-2", json!({"member_code": "M-1"}))],
    )
    .await;

    assert_eq!(
        compat_values(&app, &tenant.key, "C-2").await["member_code"],
        "M-1"
    );
}

#[tokio::test]
async fn an_open_schema_accepts_any_well_named_attribute_and_lists_it_as_implicit() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let written = compat_write(
        &app,
        Method::POST,
        &tenant.key,
        vec![
            record("C-1", json!({"favourite_colour": "blue", "shoe_size": 42})),
            record("C-2", json!({"1st-choice": "x"})),
        ],
    )
    .await;
    let list = native_get(&app, ATTRIBUTES, &tenant.key).await;

    assert_eq!(written.body["code"], "1002", "{:?}", written.body);
    assert_eq!(written.body["Results"][0]["code"], "1000");
    assert_eq!(
        written.body["Results"][1]["code"], "7011",
        "names are still checked"
    );
    let values = compat_values(&app, &tenant.key, "C-1").await;
    assert_eq!(values["favourite_colour"], "blue");
    assert_eq!(values["shoe_size"], "42");
    let mut implicit: Vec<Value> = list.body["attributes"].as_array().unwrap().clone();
    implicit.sort_by_key(|d| d["name"].as_str().unwrap().to_owned());
    assert_eq!(implicit.len(), 2, "{}", list.body);
    for (definition, name) in implicit.iter().zip(["favourite_colour", "shoe_size"]) {
        assert_eq!(definition["name"], name);
        assert_eq!(definition["type"], "string");
        assert_eq!(definition["implicit"], true);
        assert_eq!(definition["retired"], false);
    }
    let ids = compat_ids(&app, &tenant.key, "C-1").await;
    for definition in &implicit {
        let name = definition["name"].as_str().unwrap();
        assert_eq!(ids[name], definition["id"].as_i64().unwrap(), "{name}");
    }
    let mut sorted_ids: Vec<i64> = implicit.iter().map(|d| d["id"].as_i64().unwrap()).collect();
    sorted_ids.sort();
    assert_eq!(sorted_ids, [1001, 1002]);
    // Still open: another new attribute is accepted.
    update_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"pet": "cat"}))],
    )
    .await;
}

#[tokio::test]
async fn defining_an_implicit_attribute_with_a_type_its_values_do_not_fit_names_the_customer() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    create_customers(
        &app,
        &tenant.key,
        vec![
            record("C-1", json!({"shoe_size": "42"})),
            record("C-2", json!({"shoe_size": "large"})),
            record("C-3", json!({"shoe_size": 9})),
        ],
    )
    .await;

    let refused = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "shoe_size", "type": "integer"}),
    )
    .await;

    let problem = assert_schema_conflict(&refused);
    assert_eq!(problem["offending_profiles"], 1);
    assert_eq!(problem["sample_customer_ids"], json!(["C-2"]));
    assert!(problem["detail"].as_str().unwrap().contains("shoe_size"));
    let still = get_attribute(&app, &tenant.key, "shoe_size").await.body;
    assert_eq!(
        (&still["type"], &still["implicit"]),
        (&json!("string"), &json!(true))
    );
    create_customers(
        &app,
        &tenant.key,
        vec![record("C-4", json!({"pet": "cat"}))],
    )
    .await;
}

#[tokio::test]
async fn defining_an_implicit_attribute_adopts_it_keeping_its_id_and_canonicalising_values() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    create_customers(
        &app,
        &tenant.key,
        vec![
            record(
                "C-1",
                json!({"favourite_colour": "blue", "shoe_size": "+042"}),
            ),
            record("C-2", json!({"shoe_size": 9})),
        ],
    )
    .await;
    let implicit = get_attribute(&app, &tenant.key, "shoe_size").await.body;

    let adopted = post_attribute(
        &app,
        &tenant.key,
        json!({"name": "shoe_size", "type": "integer", "max": 50}),
    )
    .await;
    let unknown_now = compat_write(
        &app,
        Method::POST,
        &tenant.key,
        vec![record("C-3", json!({"pet": "cat"}))],
    )
    .await;
    let too_big = compat_write(
        &app,
        Method::PUT,
        &tenant.key,
        vec![record("C-2", json!({"shoe_size": 51}))],
    )
    .await;

    assert_eq!(adopted.status, StatusCode::CREATED, "{:?}", adopted.body);
    assert_eq!(adopted.body["id"], implicit["id"], "adoption keeps the id");
    assert_eq!(adopted.body["implicit"], false);
    assert_eq!(adopted.body["type"], "integer");
    assert_eq!(
        compat_values(&app, &tenant.key, "C-1").await["shoe_size"],
        "42"
    );
    assert_eq!(
        customer(&app, &tenant.key, "C-1").await.body["attributes"]["shoe_size"],
        42
    );
    assert_eq!(
        compat_ids(&app, &tenant.key, "C-1").await["shoe_size"],
        implicit["id"].as_i64().unwrap()
    );
    let (code, description) = only_failure(&unknown_now);
    assert_eq!(code, "7011", "the schema is closed now");
    assert!(description.contains("pet"), "{description}");
    assert_eq!(only_failure(&too_big).0, "7011");
    assert_eq!(
        compat_values(&app, &tenant.key, "C-1").await["favourite_colour"],
        "blue",
        "other implicit attributes stay readable"
    );
}

#[tokio::test]
async fn a_decimal_sent_as_a_long_json_number_is_never_rounded_through_a_float() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "balance", "type": "decimal"}),
    )
    .await;
    let body =
        r#"{"Records": [{"customerId": "C-1", "Attributes": {"balance": 1234567890.123456789}}]}"#;

    let written = answer(
        app.client
            .post(format!("{}{COMPAT}", app.base_url))
            .header("key", &tenant.key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await;

    // Accepted (a JSON number keeps its exact text: serde_json's arbitrary_precision), and
    // stored exactly; a server that refused long decimals would fail here.
    assert_eq!(written.body["code"], "1000", "{:?}", written.body);
    assert_eq!(
        compat_values(&app, &tenant.key, "C-1").await["balance"],
        "1234567890.123456789",
        "stored exactly"
    );
}

#[tokio::test]
async fn a_deleted_customers_unique_value_is_free_again() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "member_code", "type": "string", "unique": true}),
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"member_code": "M-1"}))],
    )
    .await;

    let deleted = app.delete(&format!("{COMPAT}/C-1"), &tenant.key).await;
    create_customers(
        &app,
        &tenant.key,
        vec![record("C-2", json!({"member_code": "M-1"}))],
    )
    .await;

    assert_eq!(deleted.code(), "1000");
    assert_eq!(
        compat_values(&app, &tenant.key, "C-2").await["member_code"],
        "M-1"
    );
}
