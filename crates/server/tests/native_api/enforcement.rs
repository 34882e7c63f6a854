//! The schema enforced through the compatible API (POST/PUT /resources/v2/customerprofile):
//! unknown attributes, types, constraints, required and unique, per record; normalisation to
//! canonical forms; open schemas and the adoption of implicit attributes.

use crate::helpers::*;
use crate::support::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// The one result of a single-record write that failed: its code and description.
pub(crate) fn only_failure(written: &Answer) -> (String, String) {
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
