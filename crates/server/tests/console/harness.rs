//! The real `profilestore` binary for the console's tests: a fresh data dir (and, under
//! `PROFILESTORE_TEST_BACKEND=postgres`, a fresh database), a tenant and a console user made
//! with the CLI, and `serve` on a free loopback port.

use crate::browser::Browser;
use crate::support::{
    Backend, ServerProcess, TestDatabase, backend, http_client, profilestore_command,
};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

pub const TENANT: &str = "acme";
pub const EMAIL: &str = "ann@example.org";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct Console {
    pub base_url: String,
    pub http: reqwest::Client,
    /// The tenant's profile key, as `tenant create` printed it.
    pub profile_key: String,
    pub tenant_id: String,
    // Dropped in this order: the server before its data dir and database.
    server: ServerProcess,
    data_dir: tempfile::TempDir,
    database: Option<TestDatabase>,
}

impl Console {
    /// A server with tenant `acme` and its console user `ann@example.org`.
    pub async fn start() -> Console {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let database = match backend() {
            Backend::Sqlite => None,
            Backend::Postgres(server) => Some(TestDatabase::create_migrated(&server).await),
        };
        let mut console = Console {
            base_url: String::new(),
            http: http_client(),
            profile_key: String::new(),
            tenant_id: String::new(),
            server: ServerProcess::start(base_command(data_dir.path(), database.as_ref())),
            data_dir,
            database,
        };
        console.base_url = console.server.base_url.clone();
        let created: Value =
            serde_json::from_str(&console.cli(&["tenant", "create", TENANT, "--json"], None))
                .expect("tenant JSON");
        console.profile_key = created["profile_key"].as_str().unwrap().to_owned();
        console.tenant_id = created["tenant_id"].as_str().unwrap().to_owned();
        console.cli(
            &["user", "create", "--tenant", TENANT, "--email", EMAIL],
            Some(PASSWORD),
        );
        // The server sees the CLI's tenant within one settings poll (1 s).
        console.wait_for_key(&console.profile_key.clone()).await;
        console
    }

    /// Runs an admin command on the server's database; its stdout. Fails the test if it fails.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> String {
        let output = self.cli_output(args, stdin);
        assert!(
            output.status.success(),
            "profilestore {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs an admin command that must fail (exit 1); its stderr.
    pub fn cli_failure(&self, args: &[&str], stdin: &str) -> String {
        let output = self.cli_output(args, Some(stdin));
        assert_eq!(
            output.status.code(),
            Some(1),
            "profilestore {args:?} should fail"
        );
        String::from_utf8(output.stderr).unwrap()
    }

    fn cli_output(&self, args: &[&str], stdin: Option<&str>) -> std::process::Output {
        let mut command = base_command(self.data_dir.path(), self.database.as_ref());
        let mut child = command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the CLI starts");
        {
            let mut input = child.stdin.take().unwrap();
            if let Some(text) = stdin {
                writeln!(input, "{text}").unwrap();
            }
        }
        child.wait_with_output().unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Waits until the API accepts a profile key.
    pub async fn wait_for_key(&self, key: &str) {
        for _ in 0..100 {
            if self.v1_status(key, "/v1/apps").await == 200 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the server never accepted the key");
    }

    /// The status of a native-API GET with a profile key.
    pub async fn v1_status(&self, key: &str, path: &str) -> u16 {
        self.http
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("request sent")
            .status()
            .as_u16()
    }

    /// A request with the profile key; (status, JSON body).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.profile_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        json_reply(request).await
    }

    /// Creates a customer (POST), or updates it (PUT) when it exists, through the compatible API.
    pub async fn write_customer(&self, customer_id: &str, attributes: Value) {
        let record = json!({"Records": [{"customerId": customer_id, "Attributes": attributes}]});
        let mut body = Value::Null;
        for method in [reqwest::Method::POST, reqwest::Method::PUT] {
            let response = self
                .http
                .request(method, self.url("/resources/v2/customerprofile"))
                .header("key", &self.profile_key)
                .json(&record)
                .send()
                .await
                .expect("request sent");
            body = response.json().await.unwrap_or(Value::Null);
            if body["code"] != "7015" {
                break;
            }
        }
        assert_eq!(body["code"], "1000", "write refused: {body}");
    }

    /// An app made through the native API: (app id, client key).
    pub async fn app(&self, name: &str) -> (String, String) {
        let (status, app) = self
            .call(
                reqwest::Method::POST,
                "/v1/apps",
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, 201, "{app}");
        (
            app["app_id"].as_str().unwrap().to_owned(),
            app["client_key"].as_str().unwrap().to_owned(),
        )
    }

    /// Registers a device through the SDK API, linked to a customer.
    pub async fn register_device(
        &self,
        app: &(String, String),
        user: &str,
        device: &str,
        platform: &str,
        update: Value,
    ) {
        let (app_id, client_key) = app;
        let response = self
            .http
            .post(self.url(&format!("/api/v3/{app_id}/register")))
            .header("secretKey", client_key)
            .header("sdkversion", "2.11.4")
            .json(&json!({"userId": user, "deviceId": device, "channel": "rt", "channelType": platform,
                          "data": {"update": update}}))
            .send()
            .await
            .expect("request sent");
        assert_eq!(
            response.status(),
            200,
            "{}",
            response.text().await.unwrap_or_default()
        );
    }

    /// Signs in through the sign-in form and waits for the console's shell.
    pub async fn sign_in(&self, browser: &Browser, email: &str, password: &str) {
        browser.goto(&self.url("/console")).await;
        browser.fill("input[name=email]", email).await;
        browser.fill("input[name=password]", password).await;
        browser.click("form button[type=submit]").await;
        browser.find("[data-testid=signed-in-as]").await;
    }

    /// Opens a page of the console (`#/tenant`...) and waits for its heading.
    pub async fn open(&self, browser: &Browser, hash: &str, heading: &str) {
        browser
            .run("location.hash = arguments[0];", vec![json!(hash)])
            .await;
        browser.until_text("main h1", heading).await;
    }
}

fn base_command(data_dir: &std::path::Path, database: Option<&TestDatabase>) -> Command {
    let mut command = profilestore_command();
    command.arg("--data-dir").arg(data_dir);
    if let Some(database) = database {
        command.arg("--database-url").arg(database.url());
    }
    command
}

/// Sends a request and returns its status and JSON body (`null` when the body is not JSON).
pub async fn json_reply(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
