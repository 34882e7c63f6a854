//! Every event type, raised by the writes that cause it, with its subject and device event:
//! the examples of docs/events.md come from this test's output (`-- --nocapture`).

use crate::helpers::Sdk;
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[tokio::test]
async fn every_event_type_is_raised_by_its_write() {
    let sdk = Sdk::start().await;
    sdk.set_policy(json!({"android": [{"attribute": "location", "category": "event"}]}))
        .await;
    let key = sdk.tenant.key.clone();
    let client_id = sdk.client_id("u1", "d1");
    let app = &sdk.app;
    app.post(
        "/resources/v2/customerprofile",
        &key,
        json!({"Records": [{"customerId": "C-1", "Attributes": {"name": "Ann", "email": "ann@example.com"}}]}),
    )
    .await;
    app.put(
        "/resources/v2/customerprofile",
        &key,
        json!({"Records": [{"customerId": "C-1", "Attributes": {"email": "ann@example.org"}}]}),
    )
    .await;
    sdk.register("u1", "d1").await;
    sdk.post(
        "profileupdate",
        json!({"clientId": client_id, "state": "PROFILEUPDATE", "event": "LOCATIONCHANGE",
               "data": {"update": {"location": [51.5, -0.12]}}}),
    )
    .await;
    sdk.post(
        "setCustomerId",
        json!({"clientId": client_id, "customerId": "C-1"}),
    )
    .await;
    sdk.post("removeCustomerId", json!({"clientId": client_id}))
        .await;
    sdk.post("unregister", json!({"clientId": client_id})).await;
    app.delete(
        &format!(
            "/resources/v2/customerappprofile/{}?identifier=u1",
            sdk.asset.app_id
        ),
        &key,
    )
    .await;
    app.delete("/resources/v2/customerprofile/C-1", &key).await;

    let mut first_of_each: BTreeMap<String, Value> = BTreeMap::new();
    for event in sdk.events().await {
        let event_type = event["type"].as_str().unwrap().to_owned();
        first_of_each.entry(event_type).or_insert(event);
    }
    for event in first_of_each.values() {
        eprintln!("{}", serde_json::to_string_pretty(event).unwrap());
    }
    let types: Vec<&str> = first_of_each.keys().map(String::as_str).collect();
    assert_eq!(
        types,
        [
            "app_profile.deleted",
            "app_profile.linked",
            "app_profile.registered",
            "app_profile.unlinked",
            "app_profile.unregistered",
            "app_profile.updated",
            "customer.created",
            "customer.deleted",
            "customer.updated",
        ]
    );
    for (event_type, event) in &first_of_each {
        let subject = &event["subject"];
        if event_type.starts_with("customer.") {
            assert_eq!(subject, &json!({"customer_id": "C-1"}));
        } else {
            assert_eq!(
                subject,
                &json!({"app_id": sdk.asset.app_id, "user_id": "u1", "device_id": "d1"})
            );
        }
    }
    assert_eq!(
        first_of_each["app_profile.updated"]["device_event"],
        "LOCATIONCHANGE"
    );
}
