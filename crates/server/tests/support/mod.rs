//! Test support shared by the black-box test binaries: a real server on a loopback port with
//! its own data dir, admin operations on the same database, and a real HTTP client.
//!
//! The server runs on the backend `PROFILESTORE_TEST_BACKEND` names (see `backend`): SQLite in
//! the data dir by default, or PostgreSQL in a database made for the one test.
#![allow(dead_code)]

mod backend;
mod process;

// Each test binary uses a part of these.
#[allow(unused_imports)]
pub use backend::*;
#[allow(unused_imports)]
pub use process::*;

use profilestore_server::admin::Admin;
use profilestore_server::config::{LogFormat, ServeSettings, StoreSettings};
use profilestore_server::server::Server;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use tempfile::TempDir;

pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub settings: ServeSettings,
    pub admin: Admin,
    server: Option<Server>,
    _data_dir: TempDir,
    /// Declared last, so dropped last: after the server and the admin store are gone.
    database: Option<TestDatabase>,
}

pub struct TestTenant {
    pub tenant_id: String,
    pub name: String,
    pub key: String,
}

pub struct TestAppAsset {
    pub app_id: String,
    pub client_key: String,
}

/// A parsed response: status and JSON body (Null when the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    /// The compatible API's code, from the body.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

/// A real HTTP client. reqwest is built without a bundled crypto provider (the server uses
/// ring; aws-lc would need a C toolchain build), so install ring first.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// Settings for a server whose data dir is `data_dir` and whose database is at `database_url`
/// (`None`: SQLite in the data dir).
pub fn settings_for(data_dir: PathBuf, database_url: Option<String>) -> ServeSettings {
    let store = StoreSettings {
        database_url: database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("profilestore.db").display())),
        data_dir,
        database_pool_size: None,
        statement_timeout: None,
        log_format: LogFormat::Text,
    };
    ServeSettings {
        store,
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        trusted_proxies: Vec::new(),
        default_rate_limit: 0,
        compat_always_200: false,
        settings_poll: Duration::from_millis(200),
        shutdown_grace: Duration::from_secs(5),
        body_timeout: Duration::from_secs(10),
        delivery: Default::default(),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut ServeSettings)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let database = match backend() {
        Backend::Sqlite => None,
        Backend::Postgres(server) => Some(TestDatabase::create_migrated(&server).await),
    };
    let mut settings = settings_for(
        data_dir.path().to_path_buf(),
        database.as_ref().map(TestDatabase::url),
    );
    configure(&mut settings);
    let admin = Admin::open(&settings.store)
        .await
        .expect("admin opens the store");
    let server = Server::start(settings.clone())
        .await
        .expect("server starts");
    TestApp {
        base_url: server.base_url(),
        client: http_client(),
        settings,
        admin,
        server: Some(server),
        _data_dir: data_dir,
        database,
    }
}

impl TestApp {
    /// The database this app's server uses, when it runs on PostgreSQL.
    pub fn database(&self) -> Option<&TestDatabase> {
        self.database.as_ref()
    }

    /// Makes admin changes visible to the server now (it would see them at its next poll).
    pub async fn refresh(&self) {
        self.server
            .as_ref()
            .unwrap()
            .refresh_access()
            .await
            .unwrap();
    }

    pub async fn tenant(&self, name: &str) -> TestTenant {
        let created = self
            .admin
            .create_tenant(name)
            .await
            .expect("tenant created");
        self.refresh().await;
        TestTenant {
            tenant_id: created.tenant.tenant_id,
            name: created.tenant.name,
            key: created.profile_key.expose().to_owned(),
        }
    }

    pub async fn app(&self, tenant: &TestTenant, name: &str) -> TestAppAsset {
        let created = self
            .admin
            .create_app(&tenant.tenant_id, name)
            .await
            .expect("app created");
        self.refresh().await;
        TestAppAsset {
            app_id: created.app.app_id,
            client_key: created.client_key.expose().to_owned(),
        }
    }

    /// A request with the profile key in the `key` header (none when `key` is None).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url));
        if let Some(key) = key {
            request = request.header("key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        into_reply(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.call(Method::GET, path, Some(key), None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(key), Some(body)).await
    }

    pub async fn put(&self, path: &str, key: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(key), Some(body)).await
    }

    pub async fn delete(&self, path: &str, key: &str) -> Reply {
        self.call(Method::DELETE, path, Some(key), None).await
    }

    /// Stops the server gracefully and starts a new one on the same data dir.
    pub async fn restart(&mut self) {
        self.server
            .take()
            .unwrap()
            .shutdown()
            .await
            .expect("clean shutdown");
        let server = Server::start(self.settings.clone())
            .await
            .expect("server restarts");
        self.base_url = server.base_url();
        self.server = Some(server);
    }

    pub async fn shutdown(mut self) {
        self.server
            .take()
            .unwrap()
            .shutdown()
            .await
            .expect("clean shutdown");
    }
}

pub async fn into_reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    Reply {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// The `Attributes` of one read record as a name → value map.
pub fn attributes(record: &Value) -> std::collections::BTreeMap<String, String> {
    record["Attributes"]
        .as_array()
        .expect("Attributes is an array")
        .iter()
        .map(|a| {
            (
                a["Name"].as_str().unwrap().to_owned(),
                a["Value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
