//! Customer profiles on the compatible API: §4.1–§4.5.

use crate::support::{attributes, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

const PATH: &str = "/resources/v2/customerprofile";

#[tokio::test]
async fn create_then_read_returns_every_default_column_and_custom_attributes_with_stable_ids() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let created = app
        .post(
            PATH,
            &tenant.key,
            json!({"Records": [{"customerId": "C-1", "Attributes": {"name": "Ann", "email": "ann@example.org", "msisdn": "447700900001", "sms": 1, "dob": "1990-02-03", "balance": 12.5}}]}),
        )
        .await;
    let read = app.get(&format!("{PATH}/C-1"), &tenant.key).await;

    assert_eq!(created.status, StatusCode::OK);
    assert_eq!(created.code(), "1000");
    assert_eq!(created.body["description"], "SUCCESS");
    assert_eq!(created.body["TotalCount"], 1);
    assert_eq!(created.body["SuccessCount"], 1);
    assert_eq!(created.body["FailureCount"], 0);
    assert_eq!(
        created.body["Results"][0],
        json!({"customerId": "C-1", "code": "1000", "description": "SUCCESS"})
    );
    assert!(created.body["transid"].as_str().unwrap().len() >= 32);

    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["Status"], 0);
    assert_eq!(read.body["Description"], "success");
    assert_eq!(read.code(), "1000");
    let record = &read.body["Records"][0];
    let values = attributes(record);
    assert_eq!(values["customerId"], "C-1");
    assert_eq!(values["email"], "ann@example.org");
    assert_eq!(values["sms"], "1");
    assert_eq!(values["voice"], "");
    assert_eq!(values["dob"], "1990-02-03");
    assert_eq!(values["balance"], "12.5");
    let ids: Vec<i64> = record["Attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["ID"].as_i64().unwrap())
        .collect();
    assert_eq!(&ids[..4], &[101, 102, 103, 104]);
    assert_eq!(
        &ids[14..],
        &[1001, 1002],
        "custom attributes get ids in order of first use"
    );
    assert_eq!(record["InwardLinks"], json!([]));
    assert_eq!(record["OutwardLinks"], json!([]));
}

#[tokio::test]
async fn single_object_form_and_lowercase_spellings_are_accepted() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let created = app
        .post(
            PATH,
            &tenant.key,
            json!({"customerid": "C-2", "attributes": {"name": "Bo"}}),
        )
        .await;

    assert_eq!(created.code(), "1000");
    assert_eq!(
        attributes(&app.get(&format!("{PATH}/C-2"), &tenant.key).await.body["Records"][0])["name"],
        "Bo"
    );
}

#[tokio::test]
async fn v1_alias_serves_customer_profiles() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let created = app
        .post(
            "/resources/v1/customerprofile",
            &tenant.key,
            json!({"customerId": "C-v1"}),
        )
        .await;
    let read = app
        .get("/resources/v2/customerprofile/C-v1", &tenant.key)
        .await;

    assert_eq!(created.code(), "1000");
    assert_eq!(read.code(), "1000");
}

#[tokio::test]
async fn creating_an_existing_customer_is_7015_and_changes_nothing() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    app.post(
        PATH,
        &tenant.key,
        json!({"customerId": "C-1", "attributes": {"name": "Ann"}}),
    )
    .await;

    let again = app
        .post(
            PATH,
            &tenant.key,
            json!({"customerId": "C-1", "attributes": {"name": "Changed"}}),
        )
        .await;

    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "7015");
    assert_eq!(again.body["Results"][0]["code"], "7015");
    assert_eq!(
        attributes(&app.get(&format!("{PATH}/C-1"), &tenant.key).await.body["Records"][0])["name"],
        "Ann"
    );
}

#[tokio::test]
async fn partial_success_reports_each_record_and_correct_counters() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let reply = app
        .post(
            PATH,
            &tenant.key,
            json!({"Records": [
                {"customerId": "ok-1", "Attributes": {"email": "a@example.org"}},
                {"customerId": "bad-email", "Attributes": {"email": "not-an-email"}},
                {"customerId": "bad-msisdn", "Attributes": {"msisdn": "12ab"}},
                {"Attributes": {"name": "no id"}},
                {"customerId": "ok-2"}
            ]}),
        )
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1002");
    assert_eq!(reply.body["description"], "Partial success");
    assert_eq!(reply.body["TotalCount"], 5);
    assert_eq!(reply.body["SuccessCount"], 2);
    assert_eq!(reply.body["FailureCount"], 3);
    let codes: Vec<&str> = reply.body["Results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["1000", "7011", "7011", "7003", "1000"]);
    let missing = app.get(&format!("{PATH}/bad-email"), &tenant.key).await;
    assert_eq!(missing.code(), "7014");
}

#[tokio::test]
async fn update_is_partial_and_null_clears_an_attribute() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    app.post(PATH, &tenant.key, json!({"customerId": "C-1", "attributes": {"name": "Ann", "city": "Leeds", "email": "a@example.org"}})).await;

    let updated = app
        .put(PATH, &tenant.key, json!({"Records": [{"customerId": "C-1", "Attributes": {"name": "Bea", "city": null}}]}))
        .await;
    let values = attributes(&app.get(&format!("{PATH}/C-1"), &tenant.key).await.body["Records"][0]);

    assert_eq!(updated.code(), "1000");
    assert_eq!(values["name"], "Bea");
    assert_eq!(values["email"], "a@example.org");
    assert!(!values.contains_key("city"));
}

#[tokio::test]
async fn update_of_an_unknown_customer_is_7014_not_an_upsert() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    let reply = app
        .put(
            PATH,
            &tenant.key,
            json!({"customerId": "ghost", "attributes": {"name": "x"}}),
        )
        .await;

    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "7014");
    assert_eq!(
        app.get(&format!("{PATH}/ghost"), &tenant.key).await.code(),
        "7014"
    );
}

#[tokio::test]
async fn multi_read_by_repeated_customer_id_returns_found_ones_in_order() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    app.post(
        PATH,
        &tenant.key,
        json!({"Records": [{"customerId": "a"}, {"customerId": "b"}]}),
    )
    .await;

    let reply = app
        .get(
            &format!("{PATH}?customerId=b&customerId=missing&customerId=a&showinwardlinks=0"),
            &tenant.key,
        )
        .await;

    assert_eq!(reply.code(), "1000");
    let ids: Vec<String> = reply.body["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| attributes(r)["customerId"].clone())
        .collect();
    assert_eq!(ids, ["b", "a"]);
}

#[tokio::test]
async fn read_without_customer_id_is_7003_and_bad_showinwardlinks_is_7011() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;

    assert_eq!(app.get(PATH, &tenant.key).await.code(), "7003");
    let bad = app
        .get(&format!("{PATH}/x?showinwardlinks=7"), &tenant.key)
        .await;
    assert_eq!(bad.code(), "7011");
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn showinwardlinks_lists_linked_app_profiles_by_level() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let asset = app.app(&tenant, "shop").await;
    app.post(PATH, &tenant.key, json!({"customerId": "C-1"}))
        .await;
    app.post(
        &format!("/resources/v2/customerappprofile/{}", asset.app_id),
        &tenant.key,
        json!({"customerId": "C-1", "attributes": {"userId": "u1", "deviceId": "d1", "os": "Android"}}),
    )
    .await;

    let none = app
        .get(&format!("{PATH}/C-1?showinwardlinks=0"), &tenant.key)
        .await;
    let identities = app
        .get(&format!("{PATH}/C-1?showinwardlinks=1"), &tenant.key)
        .await;
    let full = app
        .get(&format!("{PATH}/C-1?showinwardlinks=2"), &tenant.key)
        .await;

    assert_eq!(none.body["Records"][0]["InwardLinks"], json!([]));
    let link = &identities.body["Records"][0]["InwardLinks"][0];
    assert_eq!(link["AppId"], asset.app_id.as_str());
    let device = &link["Records"][0];
    let names: Vec<&str> = device
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["appId", "userId", "deviceId", "customerId"]);
    let full_names: Vec<&str> = full.body["Records"][0]["InwardLinks"][0]["Records"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["Name"].as_str().unwrap())
        .collect();
    assert!(full_names.contains(&"os"), "{full_names:?}");
}

#[tokio::test]
async fn delete_by_path_and_by_repeated_query_with_7203_for_unknown_customers() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    app.post(
        PATH,
        &tenant.key,
        json!({"Records": [{"customerId": "a"}, {"customerId": "b"}, {"customerId": "c"}]}),
    )
    .await;

    let one = app.delete(&format!("{PATH}/a"), &tenant.key).await;
    let many = app
        .delete(&format!("{PATH}?customerId=b&customerId=zzz"), &tenant.key)
        .await;
    let unknown = app.delete(&format!("{PATH}/a"), &tenant.key).await;

    assert_eq!(one.code(), "1000");
    assert_eq!(many.code(), "1002");
    assert_eq!(
        many.body["Results"][1],
        json!({"customerId": "zzz", "code": "7203", "description": "Customer not found"})
    );
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "7203");
    assert_eq!(
        app.get(&format!("{PATH}/b"), &tenant.key).await.code(),
        "7014"
    );
    assert_eq!(
        app.get(&format!("{PATH}/c"), &tenant.key).await.code(),
        "1000"
    );
    assert_eq!(app.delete(PATH, &tenant.key).await.code(), "7003");
}

#[tokio::test]
async fn a_deleted_customer_id_can_be_created_again() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    app.post(
        PATH,
        &tenant.key,
        json!({"customerId": "again", "attributes": {"name": "One"}}),
    )
    .await;
    app.delete(&format!("{PATH}/again"), &tenant.key).await;

    let recreated = app
        .post(PATH, &tenant.key, json!({"customerId": "again"}))
        .await;

    assert_eq!(recreated.code(), "1000");
    assert_eq!(
        attributes(&app.get(&format!("{PATH}/again"), &tenant.key).await.body["Records"][0])["name"],
        ""
    );
}

#[tokio::test]
async fn status_endpoint_returns_the_write_envelope_and_7600_for_unknown_transids() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let write = app
        .post(
            PATH,
            &tenant.key,
            json!({"Records": [{"customerId": "s-1"}, {"customerId": "s-1"}]}),
        )
        .await;
    let transid = write.body["transid"].as_str().unwrap();

    let status = app
        .get(
            &format!("/resources/v2/profile/status/{transid}"),
            &tenant.key,
        )
        .await;
    let unknown = app
        .get(
            "/resources/v2/profile/status/00000000-0000-0000-0000-000000000000",
            &tenant.key,
        )
        .await;

    assert_eq!(status.status, StatusCode::OK);
    assert_eq!(status.body, write.body);
    assert_eq!(status.body["Results"][1]["code"], "7015");
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "7600");
    assert_eq!(unknown.body["description"], "No result found");
}
