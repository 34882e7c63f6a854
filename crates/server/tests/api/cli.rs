//! The real binary: admin commands (with --json), their effect on a running server (seen
//! within 5 seconds), configuration by flag, environment and file, signals and a crash.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_profilestore");

fn profilestore(data_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("PROFILESTORE_DATA_DIR", data_dir)
        .env_remove("PROFILESTORE_SECRET")
        .env_remove("PROFILESTORE_DATABASE_URL")
        .env_remove("PROFILESTORE_CONFIG")
        .output()
        .expect("the binary runs")
}

fn json_output(data_dir: &Path, args: &[&str]) -> Value {
    let output = profilestore(data_dir, args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        text.trim().lines().count(),
        1,
        "exactly one JSON line: {text}"
    );
    serde_json::from_str(text.trim()).unwrap()
}

/// A `profilestore serve` process on a free loopback port; killed when dropped.
struct ServerProcess {
    child: Child,
    base_url: String,
    /// Everything the server logged so far.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ServerProcess {
    fn start(data_dir: &Path) -> Self {
        Self::start_with_log_level(data_dir, "info")
    }

    fn start_with_log_level(data_dir: &Path, level: &str) -> Self {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .env("RUST_LOG", level)
            .env("PROFILESTORE_DATA_DIR", data_dir)
            .env_remove("PROFILESTORE_SECRET")
            .env_remove("PROFILESTORE_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let address = loop {
            let line = lines
                .next()
                .expect("the server logs that it listens")
                .unwrap();
            log.lock().unwrap().push(line.clone());
            let entry: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
            if entry["fields"]["message"] == "profilestore listening" {
                break entry["fields"]["address"].as_str().unwrap().to_owned();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        ServerProcess {
            child,
            base_url: format!("http://{address}"),
            log,
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn status_code_with_key(base_url: &str, key: &str) -> String {
    let response = crate::support::http_client()
        .get(format!("{base_url}/resources/v2/customerprofile/nobody"))
        .header("key", key)
        .send()
        .await
        .unwrap();
    response.json::<Value>().await.unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Polls until `expected` or 5 seconds: the promise admin commands make to running servers.
async fn within_five_seconds(base_url: &str, key: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let code = status_code_with_key(base_url, key).await;
        if code == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still {code}, expected {expected}, after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn admin_commands_take_effect_on_a_running_server_within_five_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path());

    let created = json_output(dir.path(), &["tenant", "create", "acme", "--json"]);
    let keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["name", "profile_key", "tenant_id"]);
    let key = created["profile_key"].as_str().unwrap().to_owned();
    within_five_seconds(&server.base_url, &key, "7014").await;

    let shown = profilestore(dir.path(), &["tenant", "show-key", "acme"]);
    assert_eq!(String::from_utf8(shown.stdout).unwrap().trim(), key);

    let rotated = profilestore(
        dir.path(),
        &["tenant", "rotate-key", "acme", "--grace-seconds", "0"],
    );
    let new_key = String::from_utf8(rotated.stdout).unwrap().trim().to_owned();
    assert!(new_key.starts_with("psk_") && new_key != key);
    within_five_seconds(&server.base_url, &key, "7001").await;
    within_five_seconds(&server.base_url, &new_key, "7014").await;

    assert!(
        profilestore(dir.path(), &["tenant", "allow-ip", "acme", "10.0.0.0/8"])
            .status
            .success()
    );
    within_five_seconds(&server.base_url, &new_key, "7010").await;
    assert!(
        profilestore(dir.path(), &["tenant", "allow-ip", "acme", "--clear"])
            .status
            .success()
    );
    within_five_seconds(&server.base_url, &new_key, "7014").await;
}

#[tokio::test]
async fn tenant_and_app_listing_and_json_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = json_output(dir.path(), &["tenant", "create", "shop", "--json"]);
    let tenant_id = tenant["tenant_id"].as_str().unwrap();

    let app = json_output(
        dir.path(),
        &[
            "app", "create", "--tenant", tenant_id, "--name", "Shop app", "--json",
        ],
    );
    let listed = json_output(dir.path(), &["tenant", "list", "--json"]);
    let apps = json_output(dir.path(), &["app", "list", "--tenant", "shop", "--json"]);
    let limit = profilestore(dir.path(), &["tenant", "rate-limit", "shop", "50"]);

    let app_id = app["app_id"].as_str().unwrap();
    assert!(
        profilestore_core::ids::AppId::is_generated_shape(app_id),
        "{app_id}"
    );
    assert!(app["client_key"].as_str().unwrap().starts_with("ck_"));
    assert_eq!(app["name"], "Shop app");
    assert_eq!(listed[0]["name"], "shop");
    assert_eq!(apps[0]["app_id"], app_id);
    assert!(limit.status.success());
    assert_eq!(
        json_output(dir.path(), &["tenant", "list", "--json"])[0]["rate_limit"],
        50
    );
}

#[tokio::test]
async fn admin_errors_are_clear_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    json_output(dir.path(), &["tenant", "create", "taken", "--json"]);

    let duplicate = profilestore(dir.path(), &["tenant", "create", "taken"]);
    let unknown = profilestore(dir.path(), &["tenant", "show-key", "nobody"]);
    let bad_cidr = profilestore(dir.path(), &["tenant", "allow-ip", "taken", "10.0.0.0/99"]);
    let bad_name = profilestore(dir.path(), &["tenant", "create", "has space"]);

    for output in [&duplicate, &unknown, &bad_cidr, &bad_name] {
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).starts_with("error: "));
    }
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("nobody"));
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["tenant", "--help"],
        vec!["tenant", "create", "--help"],
        vec!["tenant", "list", "--help"],
        vec!["tenant", "show-key", "--help"],
        vec!["tenant", "rotate-key", "--help"],
        vec!["tenant", "allow-ip", "--help"],
        vec!["tenant", "rate-limit", "--help"],
        vec!["app", "--help"],
        vec!["app", "create", "--help"],
        vec!["app", "list", "--help"],
    ] {
        let output = profilestore(dir.path(), &args);
        assert!(output.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

#[tokio::test]
async fn a_config_file_sets_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("from-config");
    let config = dir.path().join("profilestore.toml");
    std::fs::write(
        &config,
        format!("data_dir = {:?}\n", data.display().to_string()),
    )
    .unwrap();

    let output = Command::new(BIN)
        .args([
            "--config",
            config.to_str().unwrap(),
            "tenant",
            "create",
            "cfg",
            "--json",
        ])
        .env_remove("PROFILESTORE_DATA_DIR")
        .env_remove("PROFILESTORE_DATABASE_URL")
        .output()
        .unwrap();

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(data.join("profilestore.db").exists());
    assert!(data.join("secret.key").exists());
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly_and_sigkill_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let key = json_output(dir.path(), &["tenant", "create", "durable", "--json"])["profile_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = crate::support::http_client();

    let mut server = ServerProcess::start(dir.path());
    for i in 0..30 {
        let reply: Value = client
            .post(format!("{}/resources/v2/customerprofile", server.base_url))
            .header("key", &key)
            .json(&serde_json::json!({"customerId": format!("k-{i}")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(reply["code"], "1000");
    }
    server.signal("KILL");
    let _ = server.child.wait();

    let server = ServerProcess::start(dir.path());
    for i in 0..30 {
        assert_eq!(
            status_code_with_key_for(&server.base_url, &key, &format!("k-{i}")).await,
            "1000",
            "k-{i} was acknowledged before the crash"
        );
    }
    server.signal("TERM");
    let mut server = server;
    let status = wait_with_deadline(&mut server.child, Duration::from_secs(10));
    assert!(status.success(), "graceful exit on SIGTERM: {status:?}");
}

async fn status_code_with_key_for(base_url: &str, key: &str, customer: &str) -> String {
    let response = crate::support::http_client()
        .get(format!(
            "{base_url}/resources/v2/customerprofile/{customer}"
        ))
        .header("key", key)
        .send()
        .await
        .unwrap();
    response.json::<Value>().await.unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn wait_with_deadline(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn keys_never_reach_the_log_even_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let created = json_output(dir.path(), &["tenant", "create", "quiet", "--json"]);
    let key = created["profile_key"].as_str().unwrap().to_owned();
    let app = json_output(
        dir.path(),
        &[
            "app", "create", "--tenant", "quiet", "--name", "a", "--json",
        ],
    );
    let client_key = app["client_key"].as_str().unwrap().to_owned();
    let mut server = ServerProcess::start_with_log_level(dir.path(), "trace");

    within_five_seconds(&server.base_url, &key, "7014").await;
    status_code_with_key(&server.base_url, &client_key).await;
    status_code_with_key(&server.base_url, "psk_wrong-key-attempt").await;
    server.signal("TERM");
    wait_with_deadline(&mut server.child, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(100));

    let log = server.log.lock().unwrap().join("\n");
    assert!(log.len() > 1000, "trace logging produced output");
    for secret in [key.as_str(), client_key.as_str(), "psk_wrong-key-attempt"] {
        assert!(!log.contains(secret), "a key reached the log");
    }
}
