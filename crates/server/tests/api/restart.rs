//! Nothing acknowledged is lost across a restart.

use crate::support::{attributes, spawn_app};
use serde_json::json;

#[tokio::test]
async fn a_restart_keeps_every_acknowledged_write() {
    let mut app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let asset = app.app(&tenant, "shop").await;
    let mut acknowledged = Vec::new();
    for batch in 0..5 {
        let records: Vec<_> = (0..20)
            .map(|i| json!({"customerId": format!("c-{batch}-{i}"), "Attributes": {"name": format!("n{batch}{i}")}}))
            .collect();
        let reply = app
            .post(
                "/resources/v2/customerprofile",
                &tenant.key,
                json!({ "Records": records }),
            )
            .await;
        assert_eq!(reply.code(), "1000");
        acknowledged.extend((0..20).map(|i| (format!("c-{batch}-{i}"), format!("n{batch}{i}"))));
    }
    let device = app
        .post(
            &format!("/resources/v2/customerappprofile/{}", asset.app_id),
            &tenant.key,
            json!({"customerId": "c-0-0", "attributes": {"userId": "u", "deviceId": "d", "pushId": "p"}}),
        )
        .await;
    assert_eq!(device.code(), "1000");

    app.restart().await;

    for (id, name) in &acknowledged {
        let reply = app
            .get(&format!("/resources/v2/customerprofile/{id}"), &tenant.key)
            .await;
        assert_eq!(&attributes(&reply.body["Records"][0])["name"], name, "{id}");
    }
    let devices = app
        .get(
            &format!(
                "/resources/v2/customerappprofile/{}?identifier=u",
                asset.app_id
            ),
            &tenant.key,
        )
        .await;
    assert_eq!(attributes(&devices.body["Records"][0])["pushId"], "p");
}
