//! GET /resources/v2/customerappprofile/{appId}?identifier=… , /{appId}/{customerId} and
//! ?customerId=a&customerId=b (reference §3.3, §4.8, §4.9).

use crate::{app_path, device_ids, identities, records, setup};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// `(Name, Value, ID)` of every attribute of a record, in the order returned.
fn named(attributes: &Value) -> Vec<(String, String, i64)> {
    attributes
        .as_array()
        .unwrap_or_else(|| panic!("an attribute array: {attributes:?}"))
        .iter()
        .map(|a| {
            (
                a["Name"].as_str().expect("Name is a string").to_owned(),
                a["Value"].as_str().expect("Value is a string").to_owned(),
                a["ID"].as_i64().expect("ID is a number"),
            )
        })
        .collect()
}

fn owned(items: &[(&str, String, i64)]) -> Vec<(String, String, i64)> {
    items
        .iter()
        .map(|(name, value, id)| ((*name).to_owned(), value.clone(), *id))
        .collect()
}

#[tokio::test]
async fn a_read_by_identifier_has_one_record_per_device() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;
    ctx.register("u1", "d2", Some("C-1")).await;
    ctx.register("u1", "d3", None).await;
    ctx.register("u2", "d4", None).await;

    let reply = ctx.read_user("u1").await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1000");
    assert_eq!(reply.body["Status"], 0);
    assert_eq!(reply.body["Description"], "success");
    assert!(
        reply.body["transid"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(device_ids(&reply), ["d1", "d2", "d3"]);
    let mut customers: Vec<String> = identities(&reply).into_iter().map(|(_, _, c)| c).collect();
    customers.sort();
    assert_eq!(customers, ["", "", "C-1"]);
}

#[tokio::test]
async fn attributes_start_with_the_identity_then_the_catalogue_values() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;

    let reply = ctx.read_user("u1").await;

    let attrs = named(&records(&reply)[0]["Attributes"]);
    assert_eq!(
        attrs[..4],
        owned(&[
            ("appId", ctx.asset.app_id.clone(), 201),
            ("userId", "u1".to_owned(), 202),
            ("deviceId", "d1".to_owned(), 203),
            ("customerId", String::new(), 204),
        ])[..]
    );
    let rest = &attrs[4..];
    let names: Vec<&str> = rest.iter().map(|(name, _, _)| name.as_str()).collect();
    for expected in ["pushId", "status", "createdOn", "os"] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    assert!(
        rest.iter().all(|(_, value, _)| !value.is_empty()),
        "only attributes with values: {rest:?}"
    );
    assert!(
        rest.windows(2).all(|pair| pair[0].2 < pair[1].2),
        "catalogue order: {rest:?}"
    );
    assert!(rest.iter().all(|(_, _, id)| *id > 204), "{rest:?}");
    assert!(rest.contains(&("pushId".to_owned(), "push-u1-d1".to_owned(), 206)));
    assert!(rest.contains(&("os".to_owned(), "Android".to_owned(), 223)));
}

#[tokio::test]
async fn an_unlinked_install_has_no_links() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;

    let reply = ctx.read_user("u1").await;

    let record = &records(&reply)[0];
    assert_eq!(record["OutwardLinks"], json!([]));
    assert_eq!(record["InwardLinks"], json!([]));
}

#[tokio::test]
async fn a_linked_install_carries_its_customer_in_outward_links() {
    let ctx = setup().await;
    ctx.create_customer("C-1", json!({ "name": "Ann", "email": "ann@example.org" }))
        .await;
    ctx.register("u1", "d1", Some("C-1")).await;

    let reply = ctx.read_user("u1").await;

    let links = records(&reply)[0]["OutwardLinks"]
        .as_array()
        .expect("OutwardLinks is an array")
        .clone();
    assert_eq!(links.len(), 1);
    let link = &links[0];
    assert!(
        link["ProfileID"].is_i64(),
        "ProfileID is a number: {link:?}"
    );
    assert_eq!(link["ProfileName"], format!("{}_cpms_1", ctx.tenant.name));
    let outer = link["Records"].as_array().expect("Records is an array");
    assert_eq!(outer.len(), 1);
    assert!(
        outer[0].is_array(),
        "Records is an array of arrays: {outer:?}"
    );
    let customer = named(&outer[0]);
    assert_eq!(
        customer[0],
        ("customerId".to_owned(), "C-1".to_owned(), 101)
    );
    assert!(customer.contains(&("name".to_owned(), "Ann".to_owned(), 102)));
    assert!(customer.contains(&("email".to_owned(), "ann@example.org".to_owned(), 103)));
}

#[tokio::test]
async fn a_read_by_customer_path_finds_the_installs_linked_to_it() {
    let ctx = setup().await;
    ctx.register("u1", "d1", Some("C-1")).await;
    ctx.register("u2", "d2", Some("C-1")).await;
    ctx.register("u3", "d3", Some("C-2")).await;
    ctx.register("u4", "d4", None).await;

    let reply = ctx.read_customer("C-1").await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1000");
    assert_eq!(
        identities(&reply),
        [
            ("u1".to_owned(), "d1".to_owned(), "C-1".to_owned()),
            ("u2".to_owned(), "d2".to_owned(), "C-1".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_read_by_repeated_customer_ids_finds_the_installs_of_each() {
    let ctx = setup().await;
    ctx.register("u1", "d1", Some("C-1")).await;
    ctx.register("u2", "d2", Some("C-2")).await;
    ctx.register("u3", "d3", Some("C-3")).await;

    let reply = ctx
        .app
        .get(&ctx.path("?customerId=C-1&customerId=C-2"), ctx.key())
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1000");
    assert_eq!(device_ids(&reply), ["d1", "d2"]);
}

#[tokio::test]
async fn an_identifier_that_matches_nothing_is_7014() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;

    let reply = ctx.read_user("ghost").await;

    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "7014");
    assert!(reply.body["Records"].is_null(), "{:?}", reply.body);
}

#[tokio::test]
async fn a_customer_path_that_matches_nothing_is_7014() {
    let ctx = setup().await;
    ctx.register("u1", "d1", Some("C-1")).await;

    let reply = ctx.read_customer("C-9").await;

    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "7014");
}

#[tokio::test]
async fn a_read_without_identifier_or_customer_id_is_7003() {
    let ctx = setup().await;
    ctx.register("u1", "d1", None).await;

    let reply = ctx.app.get(&ctx.path(""), ctx.key()).await;

    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "7003");
}

#[tokio::test]
async fn a_read_of_more_than_100_customer_ids_is_7012() {
    let ctx = setup().await;
    let query: Vec<String> = (0..101).map(|i| format!("customerId=C-{i}")).collect();

    let reply = ctx
        .app
        .get(
            &app_path(&ctx.asset.app_id, &format!("?{}", query.join("&"))),
            ctx.key(),
        )
        .await;

    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "7012");
}

#[tokio::test]
async fn outward_links_carry_the_customers_own_attributes_with_their_ids() {
    let ctx = setup().await;
    ctx.create_customer("C-1", json!({ "name": "Ann", "country": "UK" }))
        .await;
    ctx.register("u1", "d1", Some("C-1")).await;
    let customer = ctx
        .app
        .get("/resources/v2/customerprofile/C-1", ctx.key())
        .await;
    let expected = named(&records(&customer)[0]["Attributes"]);

    let reply = ctx.read_user("u1").await;

    let linked = named(&records(&reply)[0]["OutwardLinks"][0]["Records"][0]);
    assert_eq!(
        linked, expected,
        "the same attributes and IDs as a customer read"
    );
    assert!(
        linked
            .iter()
            .any(|(name, value, _)| name == "country" && value == "UK"),
        "{linked:?}"
    );
}

#[tokio::test]
async fn outward_links_show_the_customer_as_it_is_now() {
    let ctx = setup().await;
    ctx.create_customer("C-1", json!({ "name": "Ann" })).await;
    ctx.register("u1", "d1", Some("C-1")).await;
    let updated = ctx
        .app
        .put(
            "/resources/v2/customerprofile",
            ctx.key(),
            crate::batch(vec![crate::record(Some("C-1"), json!({ "name": "Anna" }))]),
        )
        .await;
    assert_eq!(updated.code(), "1000");

    let reply = ctx.read_user("u1").await;

    let linked = named(&records(&reply)[0]["OutwardLinks"][0]["Records"][0]);
    assert!(
        linked.contains(&("name".to_owned(), "Anna".to_owned(), 102)),
        "{linked:?}"
    );
}

#[tokio::test]
async fn a_read_by_customer_id_query_that_matches_nothing_has_no_records() {
    let ctx = setup().await;
    ctx.register("u1", "d1", Some("C-1")).await;

    let reply = ctx
        .app
        .get(&ctx.path("?customerId=C-8&customerId=C-9"), ctx.key())
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.code(), "1000");
    assert!(records(&reply).is_empty());
}
