//! Customer reads on the native API: one profile as typed JSON, and lookups by email, msisdn
//! or a unique attribute.

use crate::helpers::*;
use crate::support::{TestApp, TestTenant, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

/// A tenant with typed attributes and two customers, C-1 and C-2.
async fn populated(app: &TestApp) -> TestTenant {
    let tenant = app.tenant("acme").await;
    for body in [
        json!({"name": "age", "type": "integer"}),
        json!({"name": "vip", "type": "boolean"}),
        json!({"name": "balance", "type": "decimal"}),
        json!({"name": "tags", "type": "list"}),
        json!({"name": "dob", "type": "date"}),
        json!({"name": "member_code", "type": "string", "unique": true}),
        json!({"name": "account_no", "type": "integer", "unique": true}),
    ] {
        define(app, &tenant.key, body).await;
    }
    create_customers(
        app,
        &tenant.key,
        vec![
            record(
                "C-1",
                json!({"name": "Ann", "email": "Ann@Example.org", "msisdn": "447700900001",
                       "sms": 1, "voice": "0", "age": "42", "vip": "true", "balance": "12.50",
                       "tags": ["a", "b"], "dob": "1990-04-01", "member_code": "M-1",
                       "account_no": 42}),
            ),
            record(
                "C-2",
                json!({"name": "Bo", "email": "bo@example.org", "msisdn": "+447700900002",
                       "member_code": "M-2"}),
            ),
        ],
    )
    .await;
    tenant
}

fn found_ids(found: &Answer) -> Vec<String> {
    assert_eq!(found.status, StatusCode::OK, "{:?}", found.body);
    assert_eq!(found.content_type(), "application/json");
    found.body["customers"]
        .as_array()
        .unwrap_or_else(|| panic!("a list of customers: {:?}", found.body))
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn one_customer_reads_as_typed_json() {
    let app = spawn_app().await;
    let tenant = populated(&app).await;

    let read = customer(&app, &tenant.key, "C-1").await;

    assert_eq!(read.status, StatusCode::OK, "{:?}", read.body);
    assert_eq!(read.content_type(), "application/json");
    let body = &read.body;
    assert_eq!(body["customer_id"], "C-1");
    assert_eq!(body["version"], 1);
    for stamp in ["created_at", "updated_at"] {
        let text = body[stamp].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(text).is_ok() && text.ends_with('Z'),
            "{stamp}: {text}"
        );
    }
    assert_eq!(
        body["attributes"],
        json!({
            "name": "Ann",
            "email": "Ann@Example.org",
            "msisdn": "447700900001",
            "sms": true,
            "voice": false,
            "age": 42,
            "vip": true,
            "balance": "12.5",
            "tags": ["a", "b"],
            "dob": "1990-04-01",
            "member_code": "M-1",
            "account_no": 42,
        })
    );
    assert!(
        body["attributes"]["balance"].is_string(),
        "a decimal is never a float"
    );
}

#[tokio::test]
async fn an_unknown_customer_is_a_404_problem() {
    let app = spawn_app().await;
    let tenant = populated(&app).await;

    let missing = customer(&app, &tenant.key, "C-404").await;

    let problem = assert_problem(
        &missing,
        StatusCode::NOT_FOUND,
        "not-found",
        "Customer not found",
    );
    assert_eq!(problem["detail"], "customer not found");
}

#[tokio::test]
async fn email_lookups_ignore_case() {
    let app = spawn_app().await;
    let tenant = populated(&app).await;

    for email in ["Ann@Example.org", "ann@example.org", "ANN@EXAMPLE.ORG"] {
        let found = native_query(&app, CUSTOMERS, &tenant.key, &[("email", email)]).await;
        assert_eq!(found_ids(&found), ["C-1"], "{email}");
        assert_eq!(found.body["customers"][0]["attributes"]["age"], 42);
    }
    let none = native_query(&app, CUSTOMERS, &tenant.key, &[("email", "cy@example.org")]).await;
    assert!(found_ids(&none).is_empty());
}

#[tokio::test]
async fn msisdn_lookups_normalise_to_e164_first() {
    let app = spawn_app().await;
    let tenant = populated(&app).await;

    for msisdn in [
        "+44 7700 900001",
        "447700900001",
        "+447700900001",
        "44-7700-900001",
    ] {
        let found = native_query(&app, CUSTOMERS, &tenant.key, &[("msisdn", msisdn)]).await;
        assert_eq!(found_ids(&found), ["C-1"], "{msisdn}");
    }
    let stored_with_plus =
        native_query(&app, CUSTOMERS, &tenant.key, &[("msisdn", "447700900002")]).await;
    assert_eq!(found_ids(&stored_with_plus), ["C-2"]);
    let none = native_query(&app, CUSTOMERS, &tenant.key, &[("msisdn", "447700900009")]).await;
    assert!(found_ids(&none).is_empty());
}

#[tokio::test]
async fn a_unique_attribute_finds_its_holder() {
    let app = spawn_app().await;
    let tenant = populated(&app).await;

    let by_code = native_query(&app, CUSTOMERS, &tenant.key, &[("member_code", "M-2")]).await;
    let by_number = native_query(&app, CUSTOMERS, &tenant.key, &[("account_no", "0042")]).await;
    let nobody = native_query(&app, CUSTOMERS, &tenant.key, &[("member_code", "M-9")]).await;

    assert_eq!(found_ids(&by_code), ["C-2"]);
    assert_eq!(
        found_ids(&by_number),
        ["C-1"],
        "the value is compared as its type"
    );
    assert!(found_ids(&nobody).is_empty());
}

#[tokio::test]
async fn a_non_unique_or_unknown_attribute_cannot_be_looked_up() {
    let app = spawn_app().await;
    let tenant = populated(&app).await;

    let not_unique = native_query(&app, CUSTOMERS, &tenant.key, &[("age", "42")]).await;
    let unknown = native_query(&app, CUSTOMERS, &tenant.key, &[("shoe_size", "9")]).await;
    let default_column = native_query(&app, CUSTOMERS, &tenant.key, &[("name", "Ann")]).await;

    for refused in [&not_unique, &unknown, &default_column] {
        assert_eq!(validation_fields(refused), ["query"]);
    }
    assert!(
        error_message(&not_unique, "query").contains("age"),
        "{:?}",
        not_unique.body
    );
}

#[tokio::test]
async fn a_lookup_value_that_is_not_of_the_attributes_type_is_a_422() {
    let app = spawn_app().await;
    let tenant = populated(&app).await;

    let refused = native_query(&app, CUSTOMERS, &tenant.key, &[("account_no", "forty-two")]).await;

    assert_eq!(validation_fields(&refused), ["account_no"]);
}

#[tokio::test]
async fn zero_or_two_lookup_parameters_are_a_422() {
    let app = spawn_app().await;
    let tenant = populated(&app).await;

    let none = native_get(&app, CUSTOMERS, &tenant.key).await;
    let two = native_query(
        &app,
        CUSTOMERS,
        &tenant.key,
        &[("email", "ann@example.org"), ("msisdn", "447700900001")],
    )
    .await;
    let repeated = native_query(
        &app,
        CUSTOMERS,
        &tenant.key,
        &[("email", "ann@example.org"), ("email", "bo@example.org")],
    )
    .await;

    for refused in [&none, &two, &repeated] {
        assert_eq!(validation_fields(refused), ["query"]);
        assert_eq!(
            refused.body["detail"],
            "query: give exactly one lookup: email, msisdn or a unique attribute"
        );
    }
}

#[tokio::test]
async fn customers_of_an_open_schema_read_as_strings() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    create_customers(
        &app,
        &tenant.key,
        vec![record("C-1", json!({"shoe_size": 42, "wa": "true"}))],
    )
    .await;

    let read = customer(&app, &tenant.key, "C-1").await;

    assert_eq!(
        read.body["attributes"],
        json!({"shoe_size": "42", "wa": true})
    );
}

#[tokio::test]
async fn an_adopted_attribute_made_unique_can_be_looked_up_by_its_typed_value() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    create_customers(
        &app,
        &tenant.key,
        vec![
            record("C-1", json!({"loyalty_no": "007"})),
            record("C-2", json!({"loyalty_no": "8"})),
        ],
    )
    .await;
    define(
        &app,
        &tenant.key,
        json!({"name": "loyalty_no", "type": "integer"}),
    )
    .await;

    let before_unique = native_query(&app, CUSTOMERS, &tenant.key, &[("loyalty_no", "7")]).await;
    let made_unique =
        patch_attribute(&app, &tenant.key, "loyalty_no", json!({"unique": true})).await;
    let found = native_query(&app, CUSTOMERS, &tenant.key, &[("loyalty_no", "7")]).await;

    assert_eq!(validation_fields(&before_unique), ["query"]);
    assert_eq!(made_unique.status, StatusCode::OK, "{:?}", made_unique.body);
    assert_eq!(found_ids(&found), ["C-1"]);
    assert_eq!(found.body["customers"][0]["attributes"]["loyalty_no"], 7);
}
