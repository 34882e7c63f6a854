//! A device: SDK calls with the app's client key, and a few arrangements.

use crate::support::{Reply, TestApp, TestAppAsset, TestTenant, into_reply, spawn_app};
use profilestore_core::device::{AppOptions, DevicePolicy};
use profilestore_core::ids::AppId;
use profilestore_store::model::AppUpdate;
use serde_json::{Value, json};

pub struct Sdk {
    pub app: TestApp,
    pub tenant: TestTenant,
    pub asset: TestAppAsset,
}

impl Sdk {
    pub async fn start() -> Sdk {
        let app = spawn_app().await;
        let tenant = app.tenant("acme").await;
        let asset = app.app(&tenant, "Shop").await;
        Sdk { app, tenant, asset }
    }

    pub fn path(&self, call: &str) -> String {
        format!("{}/api/v3/{}/{call}", self.app.base_url, self.asset.app_id)
    }

    /// A call with this app's client key, an sdkversion and optional extra headers.
    pub async fn call_with(
        &self,
        call: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = match &body {
            Some(body) => self.app.client.post(self.path(call)).json(body),
            None => self.app.client.get(self.path(call)),
        };
        let mut has_key = false;
        for (name, value) in headers {
            has_key |= name.eq_ignore_ascii_case("secretKey");
            request = request.header(*name, *value);
        }
        if !has_key {
            request = request.header("secretKey", &self.asset.client_key);
        }
        into_reply(request.send().await.expect("request sent")).await
    }

    pub async fn post(&self, call: &str, body: Value) -> Reply {
        self.call_with(call, Some(body), &[("sdkversion", "2.12.0")])
            .await
    }

    pub async fn register(&self, user: &str, device: &str) -> Reply {
        self.post(
            "register",
            json!({"userId": user, "deviceId": device, "channel": "rt", "channelType": "android",
                   "profileVersion": 2, "data": {"update": {"os": "Android", "model": "Pixel"}}}),
        )
        .await
    }

    pub fn client_id(&self, user: &str, device: &str) -> String {
        format!("{}/{user}/{device}", self.asset.app_id)
    }

    /// Changes the app's settings in the store and makes the server see them now.
    pub async fn set(&self, update: AppUpdate) {
        self.app
            .admin
            .store
            .update_app(
                &self.tenant.tenant_id,
                &AppId::parse(self.asset.app_id.clone()).unwrap(),
                update,
            )
            .await
            .expect("app updated");
        self.app.refresh().await;
    }

    pub async fn set_options(&self, options: AppOptions) {
        self.set(AppUpdate {
            options: Some(options),
            ..AppUpdate::default()
        })
        .await;
    }

    pub async fn set_policy(&self, policy: Value) {
        let policy: DevicePolicy = serde_json::from_value(policy).unwrap();
        policy.validate().unwrap();
        self.set(AppUpdate {
            device_policy: Some(policy),
            ..AppUpdate::default()
        })
        .await;
    }

    /// The compatible API's read of a user's app profiles.
    pub async fn by_user(&self, user: &str) -> Reply {
        self.app
            .get(
                &format!(
                    "/resources/v2/customerappprofile/{}?identifier={user}",
                    self.asset.app_id
                ),
                &self.tenant.key,
            )
            .await
    }

    /// The event types of the tenant's log, in order.
    pub async fn events(&self) -> Vec<Value> {
        self.app
            .admin
            .store
            .events_after(&self.tenant.tenant_id, 0, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|event| event.payload)
            .collect()
    }
}

/// The attributes of every record of a compat read, as name → value maps.
pub fn records(reply: &Reply) -> Vec<std::collections::BTreeMap<String, String>> {
    reply.body["Records"]
        .as_array()
        .map(|records| records.iter().map(crate::support::attributes).collect())
        .unwrap_or_default()
}
