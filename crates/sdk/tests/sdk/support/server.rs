//! The real `profilestore` binary as a child process on a data dir of its own: a tenant and
//! an app created with the CLI before it serves, then `serve` on a free loopback port, which
//! a restart reuses. Killed when dropped.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

pub struct Server {
    child: Option<Child>,
    data_dir: tempfile::TempDir,
    pub port: u16,
    pub base_url: String,
    pub profile_key: String,
    pub app_id: String,
    pub client_key: String,
    pub http: reqwest::Client,
}

/// The binary: `PROFILESTORE_BIN`, or `profilestore` in the target dir these tests were
/// built into (built once when it is not there: integration tests cannot depend on another
/// package's binary).
fn binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("PROFILESTORE_BIN") {
                return PathBuf::from(path);
            }
            // target/<profile>/deps/<this test> → target/<profile>/profilestore
            let me = std::env::current_exe().expect("test binary path");
            let path = me
                .parent()
                .and_then(Path::parent)
                .expect("target dir")
                .join("profilestore");
            if !path.exists() {
                build_server();
            }
            assert!(path.exists(), "no server binary at {}", path.display());
            path
        })
        .clone()
}

fn build_server() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!("building the profilestore binary for the SDK tests");
    let status = Command::new(cargo)
        .args([
            "build",
            "-p",
            "profilestore-server",
            "--bin",
            "profilestore",
        ])
        .current_dir(workspace)
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "cargo build -p profilestore-server failed"
    );
}

/// A `profilestore --data-dir <dir>` command with no configuration from the environment.
fn command(data_dir: &Path) -> Command {
    let mut command = Command::new(binary());
    for name in [
        "PROFILESTORE_SECRET",
        "PROFILESTORE_DATA_DIR",
        "PROFILESTORE_DATABASE_URL",
        "PROFILESTORE_CONFIG",
        "PROFILESTORE_LISTEN",
    ] {
        command.env_remove(name);
    }
    command.arg("--data-dir").arg(data_dir);
    command
}

fn admin(data_dir: &Path, args: &[&str]) -> Value {
    let output = command(data_dir)
        .args(args)
        .output()
        .expect("admin command");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("--json output")
}

/// Starts `serve` and reads the address it logs.
fn serve(data_dir: &Path, listen: &str) -> (Child, String) {
    let mut child = command(data_dir)
        .args(["serve", "--listen", listen, "--log-format", "json"])
        .env("RUST_LOG", "warn,profilestore_server::server=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let log = Mutex::new(Vec::new());
    let address = loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.wait();
            panic!(
                "the server exited before listening:\n{}",
                log.lock().unwrap().join("\n")
            );
        };
        let entry: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        log.lock().unwrap().push(line);
        if entry["fields"]["message"] == "profilestore listening" {
            break entry["fields"]["address"]
                .as_str()
                .expect("address")
                .to_owned();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    (child, address)
}

impl Server {
    /// A server with tenant `acme` and app `Shop`, on a free port.
    pub fn start() -> Server {
        let data_dir = tempfile::tempdir().expect("data dir");
        let tenant = admin(data_dir.path(), &["tenant", "create", "acme", "--json"]);
        let app = admin(
            data_dir.path(),
            &[
                "app", "create", "--tenant", "acme", "--name", "Shop", "--json",
            ],
        );
        let (child, address) = serve(data_dir.path(), "127.0.0.1:0");
        let port = address
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .expect("port");
        let _ = rustls::crypto::ring::default_provider().install_default();
        Server {
            child: Some(child),
            data_dir,
            port,
            base_url: format!("http://{address}"),
            profile_key: tenant["profile_key"].as_str().unwrap().to_owned(),
            app_id: app["app_id"].as_str().unwrap().to_owned(),
            client_key: app["client_key"].as_str().unwrap().to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    /// Kills the process (SIGKILL: what a crash or a pulled cable looks like to a device).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same data dir and port.
    pub fn restart(&mut self) {
        self.stop();
        let (child, _) = serve(self.data_dir.path(), &format!("127.0.0.1:{}", self.port));
        self.child = Some(child);
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A native API call with the tenant's profile key.
    pub async fn v1(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(&self.profile_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let (status, body) = self.send(request).await;
        assert!((200..300).contains(&status), "{path}: {status} {body}");
        body
    }

    /// Sets the app's device policy for Android.
    pub async fn set_android_policy(&self, monitors: Value) {
        let path = format!("/v1/apps/{}/device-policy", self.app_id);
        let policy = json!({"android": monitors, "ios": [], "web": []});
        self.v1(reqwest::Method::PUT, &path, Some(policy)).await;
    }

    /// The compatible API's read of a user's installs: the attributes of the first, by name
    /// (empty when the user has none), and the whole answer.
    pub async fn install_of(
        &self,
        user_id: &str,
    ) -> (std::collections::BTreeMap<String, String>, Value) {
        let path = format!(
            "/resources/v2/customerappprofile/{}?identifier={user_id}",
            self.app_id
        );
        let (_, body) = self.compat_get(&path).await;
        let attributes = body["Records"][0]["Attributes"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|a| {
                        (
                            a["Name"].as_str().unwrap_or_default().to_owned(),
                            a["Value"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        (attributes, body)
    }

    /// A compatible-API read with the profile key: HTTP status and body.
    pub async fn compat_get(&self, path: &str) -> (u16, Value) {
        let request = self
            .http
            .get(format!("{}{path}", self.base_url))
            .header("key", &self.profile_key);
        self.send(request).await
    }

    /// A compatible-API delete with the profile key.
    pub async fn compat_delete(&self, path: &str) -> Value {
        let request = self
            .http
            .delete(format!("{}{path}", self.base_url))
            .header("key", &self.profile_key);
        self.send(request).await.1
    }

    /// The tenant's change events, oldest first.
    pub async fn events(&self) -> Vec<Value> {
        let page = self
            .v1(reqwest::Method::GET, "/v1/events?limit=1000", None)
            .await;
        page["events"].as_array().cloned().unwrap_or_default()
    }

    /// The app-profile events a device event caused.
    pub async fn events_of(&self, device_event: &str) -> Vec<Value> {
        self.events()
            .await
            .into_iter()
            .filter(|event| event["device_event"] == device_event)
            .collect()
    }

    /// How many requests `/api/v3/{app_id}/<call>` has answered since the server started
    /// (its Prometheus counter), whatever their status.
    pub async fn sdk_requests(&self, call: &str) -> u64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.base_url))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .unwrap();
        let route = format!("route=\"/api/v3/{{app_id}}/{call}\"");
        text.lines()
            .filter(|line| line.starts_with("http_requests_total{") && line.contains(&route))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
