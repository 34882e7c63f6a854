//! The schema enforced through the compatible API (POST/PUT /resources/v2/customerprofile):
//! unknown attributes, types, constraints, required and unique, per record; normalisation to
//! canonical forms; open schemas and the adoption of implicit attributes.

use crate::helpers::*;
use crate::support::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The one result of a single-record write that failed: its code and description.
fn only_failure(written: &Answer) -> (String, String) {
    assert_eq!(written.body["TotalCount"], 1, "{:?}", written.body);
    assert_eq!(written.body["FailureCount"], 1, "{:?}", written.body);
    let result = &written.body["Results"][0];
    (
        result["code"].as_str().unwrap().to_owned(),
        result["description"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn an_unknown_attribute_on_a_closed_schema_fails_the_record_with_7011_naming_it() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(&app, &tenant.key, json!({"name": "age", "type": "integer"})).await;

    let created = compat_write(
        &app,
        Method::POST,
        &tenant.key,
        vec![record("C-1", json!({"age": 30, "colour": "red"}))],
    )
    .await;
    let updated = {
        create_customers(&app, &tenant.key, vec![record("C-2", json!({"age": 31}))]).await;
        compat_write(
            &app,
            Method::PUT,
            &tenant.key,
            vec![record("C-2", json!({"colour": "red"}))],
        )
        .await
    };

    for refused in [&created, &updated] {
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(refused.body["code"], "7011");
        let (code, description) = only_failure(refused);
        assert_eq!(code, "7011");
        assert!(
            description.starts_with(
                "Invalid Attribute Value: colour: not an attribute of this tenant's schema"
            ),
            "{description}"
        );
    }
    assert_eq!(
        app.get(&format!("{COMPAT}/C-1"), &tenant.key).await.code(),
        "7014"
    );
    assert_eq!(
        names(&native_get(&app, ATTRIBUTES, &tenant.key).await.body),
        ["age"],
        "a closed schema registers nothing"
    );
}

#[tokio::test]
async fn a_value_of_the_wrong_type_fails_with_7011_naming_the_attribute_and_the_type() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    for (name, kind) in [
        ("age", "integer"),
        ("balance", "decimal"),
        ("vip", "boolean"),
        ("dob", "date"),
        ("last_seen", "datetime"),
        ("work_email", "email"),
        ("backup_phone", "msisdn"),
    ] {
        define(&app, &tenant.key, json!({"name": name, "type": kind})).await;
    }

    for (name, kind, value) in [
        ("age", "integer", json!("thirty")),
        ("age", "integer", json!(12.5)),
        ("balance", "decimal", json!("12,50")),
        ("vip", "boolean", json!("yes")),
        ("dob", "date", json!("01/04/1990")),
        ("dob", "date", json!("1990-02-30")),
        ("last_seen", "datetime", json!("2026-01-31 10:30")),
        ("work_email", "email", json!("ann.example.org")),
        ("backup_phone", "msisdn", json!("07700 900001")),
        ("age", "integer", json!({"years": 3})),
    ] {
        let refused = compat_write(
            &app,
            Method::POST,
            &tenant.key,
            vec![record("C-1", json!({ name: value }))],
        )
        .await;

        let (code, description) = only_failure(&refused);
        assert_eq!(code, "7011", "{name} = {value}");
        assert!(
            description.starts_with(&format!("Invalid Attribute Value: {name}: ")),
            "{description}"
        );
        if !value.is_object() {
            assert!(
                description.contains(&format!("(type {kind})")),
                "{description}"
            );
        }
    }
}

#[tokio::test]
async fn a_constraint_breach_fails_with_7011_naming_the_rule() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "age", "type": "integer", "min": 18, "max": 120}),
    )
    .await;
    define(
        &app,
        &tenant.key,
        json!({"name": "code", "type": "string", "pattern": "[A-Z]{3}", "min_length": 3}),
    )
    .await;
    define(
        &app,
        &tenant.key,
        json!({"name": "tier", "type": "enum", "values": ["gold", "silver"]}),
    )
    .await;
    define(
        &app,
        &tenant.key,
        json!({"name": "tags", "type": "list", "max_items": 2}),
    )
    .await;

    for (attributes, expected) in [
        (json!({"age": 12}), "age: below the minimum 18"),
        (json!({"age": "121"}), "age: above the maximum 120"),
        (json!({"code": "AB"}), "code: shorter than 3 characters"),
        (
            json!({"code": "abc"}),
            "code: does not match the pattern [A-Z]{3}",
        ),
        (json!({"tier": "bronze"}), "tier: not one of gold, silver"),
        (json!({"tags": ["a", "b", "c"]}), "tags: more than 2 items"),
    ] {
        let refused = compat_write(
            &app,
            Method::POST,
            &tenant.key,
            vec![record("C-1", attributes.clone())],
        )
        .await;

        let (code, description) = only_failure(&refused);
        assert_eq!(code, "7011", "{attributes}");
        assert_eq!(description, format!("Invalid Attribute Value: {expected}"));
    }
}

#[tokio::test]
async fn the_other_records_of_a_batch_still_succeed() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "age", "type": "integer", "min": 0}),
    )
    .await;

    let written = compat_write(
        &app,
        Method::POST,
        &tenant.key,
        vec![
            record("C-1", json!({"age": 30})),
            record("C-2", json!({"age": "old"})),
            record("C-3", json!({"age": 40, "shoe_size": 9})),
            record("C-4", json!({"age": -1})),
            record("C-5", json!({"age": "50"})),
        ],
    )
    .await;

    assert_eq!(written.status, StatusCode::OK);
    assert_eq!(written.body["code"], "1002");
    assert_eq!(written.body["description"], "Partial success");
    assert_eq!(written.body["TotalCount"], 5);
    assert_eq!(written.body["SuccessCount"], 2);
    assert_eq!(written.body["FailureCount"], 3);
    let codes: Vec<(&str, &str)> = written.body["Results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["customerId"].as_str().unwrap(),
                r["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("C-1", "1000"),
            ("C-2", "7011"),
            ("C-3", "7011"),
            ("C-4", "7011"),
            ("C-5", "1000")
        ]
    );
    assert!(
        written.body["Results"][2]["description"]
            .as_str()
            .unwrap()
            .contains("shoe_size")
    );
    assert_eq!(compat_values(&app, &tenant.key, "C-5").await["age"], "50");
    for failed in ["C-2", "C-3", "C-4"] {
        assert_eq!(
            app.get(&format!("{COMPAT}/{failed}"), &tenant.key)
                .await
                .code(),
            "7014",
            "{failed}"
        );
    }
}

#[tokio::test]
async fn strings_and_json_scalars_are_normalised_and_reads_return_the_canonical_string() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    for (name, kind) in [
        ("age", "integer"),
        ("balance", "decimal"),
        ("vip", "boolean"),
        ("dob", "date"),
        ("last_seen", "datetime"),
        ("work_email", "email"),
        ("backup_phone", "msisdn"),
        ("tags", "list"),
    ] {
        define(&app, &tenant.key, json!({"name": name, "type": kind})).await;
    }

    create_customers(
        &app,
        &tenant.key,
        vec![
            record(
                "C-1",
                json!({"age": "+042", "balance": "12.50", "vip": "true", "dob": "1990-04-01",
                       "last_seen": "2026-01-31T10:30:00+01:00", "work_email": "Ann@Example.ORG",
                       "backup_phone": "+44 7700 900001", "tags": ["a", "b"]}),
            ),
            record(
                "C-2",
                json!({"age": 42, "balance": 12.5, "vip": true, "dob": "1990-04-01",
                       "last_seen": "2026-01-31T09:30:00.000Z", "work_email": "Ann@example.org",
                       "backup_phone": "447700900001", "tags": "[\"a\",\"b\"]"}),
            ),
            record(
                "C-3",
                json!({"balance": "1.2e1", "vip": "FALSE", "backup_phone": "(44) 7700-900.001"}),
            ),
        ],
    )
    .await;

    for id in ["C-1", "C-2"] {
        let values = compat_values(&app, &tenant.key, id).await;
        assert_eq!(values["age"], "42", "{id}");
        assert_eq!(values["balance"], "12.5", "{id}");
        assert_eq!(values["vip"], "true", "{id}");
        assert_eq!(values["dob"], "1990-04-01", "{id}");
        assert_eq!(values["last_seen"], "2026-01-31T09:30:00Z", "{id}");
        assert_eq!(values["work_email"], "Ann@example.org", "{id}");
        assert_eq!(values["backup_phone"], "+447700900001", "{id}");
        assert_eq!(values["tags"], r#"["a","b"]"#, "{id}");
    }
    let c3 = compat_values(&app, &tenant.key, "C-3").await;
    assert_eq!(c3["balance"], "12");
    assert_eq!(c3["vip"], "false");
    assert_eq!(c3["backup_phone"], "+447700900001");
}

#[tokio::test]
async fn updates_are_normalised_too() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    define(
        &app,
        &tenant.key,
        json!({"name": "balance", "type": "decimal"}),
    )
    .await;
    create_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"balance": "1"}))],
    )
    .await;

    update_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"balance": "0012.3400"}))],
    )
    .await;

    assert_eq!(
        compat_values(&app, &tenant.key, "C-1").await["balance"],
        "12.34"
    );
    assert_eq!(
        customer(&app, &tenant.key, "C-1").await.body["attributes"]["balance"],
        "12.34"
    );
}

#[tokio::test]
async fn custom_attributes_show_their_definition_ids_in_compat_reads() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let age = define(&app, &tenant.key, json!({"name": "age", "type": "integer"})).await;
    let tier = define(
        &app,
        &tenant.key,
        json!({"name": "tier", "type": "enum", "values": ["gold"]}),
    )
    .await;
    let dob = define(&app, &tenant.key, json!({"name": "dob", "type": "date"})).await;
    create_customers(
        &app,
        &tenant.key,
        vec![record(
            "C-1",
            json!({"dob": "2000-01-01", "age": 3, "tier": "gold", "name": "Ann"}),
        )],
    )
    .await;

    let record = compat_record(&app, &tenant.key, "C-1").await;

    let listed: Vec<(String, i64)> = record["Attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["Name"].as_str().unwrap().to_owned(),
                a["ID"].as_i64().unwrap(),
            )
        })
        .collect();
    let custom: Vec<(String, i64)> = listed.into_iter().skip(14).collect();
    let expected: Vec<(String, i64)> = [&age, &tier, &dob]
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_owned(),
                d["id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        custom, expected,
        "custom attributes follow the defaults, in id order"
    );
    assert_eq!(
        expected.iter().map(|(_, id)| *id).collect::<Vec<_>>(),
        [1001, 1002, 1003]
    );
}

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

    match written.body["code"].as_str() {
        Some("1000") => assert_eq!(
            compat_values(&app, &tenant.key, "C-1").await["balance"],
            "1234567890.123456789",
            "stored exactly"
        ),
        _ => assert_eq!(
            written.body["Results"][0]["code"], "7011",
            "or refused: {:?}",
            written.body
        ),
    }
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
