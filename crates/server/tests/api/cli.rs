//! The real binary: admin commands (with --json), their effect on a running server (seen
//! within 5 seconds), configuration by flag, environment and file, signals and a crash.

use crate::support::{ServerProcess, TestStorage, on_postgres, profilestore_command};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Runs an admin command on the test's storage (its data dir and, on PostgreSQL, its database).
fn profilestore(storage: &TestStorage, args: &[&str]) -> std::process::Output {
    profilestore_command()
        .args(args)
        .envs(storage.env())
        .output()
        .expect("the binary runs")
}

fn json_output(storage: &TestStorage, args: &[&str]) -> Value {
    let output = profilestore(storage, args);
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

/// `profilestore serve` on the test's storage, logging at `level`.
fn serve(storage: &TestStorage, level: &str) -> ServerProcess {
    let mut command = profilestore_command();
    command.env("RUST_LOG", level).envs(storage.env());
    ServerProcess::start(command)
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
    let storage = TestStorage::new().await;
    let server = serve(&storage, "info");

    let created = json_output(&storage, &["tenant", "create", "acme", "--json"]);
    let keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["name", "profile_key", "tenant_id"]);
    let key = created["profile_key"].as_str().unwrap().to_owned();
    within_five_seconds(&server.base_url, &key, "7014").await;

    let shown = profilestore(&storage, &["tenant", "show-key", "acme"]);
    assert_eq!(String::from_utf8(shown.stdout).unwrap().trim(), key);

    // The grace period has the console's limit (30 days); a longer one changes nothing.
    let too_long = profilestore(
        &storage,
        &["tenant", "rotate-key", "acme", "--grace-seconds", "2592001"],
    );
    assert!(!too_long.status.success());
    assert!(String::from_utf8_lossy(&too_long.stderr).contains("at most 2592000"));
    let shown = profilestore(&storage, &["tenant", "show-key", "acme"]);
    assert_eq!(String::from_utf8(shown.stdout).unwrap().trim(), key);

    let rotated = profilestore(
        &storage,
        &["tenant", "rotate-key", "acme", "--grace-seconds", "0"],
    );
    let new_key = String::from_utf8(rotated.stdout).unwrap().trim().to_owned();
    assert!(new_key.starts_with("psk_") && new_key != key);
    within_five_seconds(&server.base_url, &key, "7001").await;
    within_five_seconds(&server.base_url, &new_key, "7014").await;

    assert!(
        profilestore(&storage, &["tenant", "allow-ip", "acme", "10.0.0.0/8"])
            .status
            .success()
    );
    within_five_seconds(&server.base_url, &new_key, "7010").await;
    assert!(
        profilestore(&storage, &["tenant", "allow-ip", "acme", "--clear"])
            .status
            .success()
    );
    within_five_seconds(&server.base_url, &new_key, "7014").await;
}

#[tokio::test]
async fn tenant_and_app_listing_and_json_shapes() {
    let storage = TestStorage::new().await;
    let tenant = json_output(&storage, &["tenant", "create", "shop", "--json"]);
    let tenant_id = tenant["tenant_id"].as_str().unwrap();

    let app = json_output(
        &storage,
        &[
            "app", "create", "--tenant", tenant_id, "--name", "Shop app", "--json",
        ],
    );
    let listed = json_output(&storage, &["tenant", "list", "--json"]);
    let apps = json_output(&storage, &["app", "list", "--tenant", "shop", "--json"]);
    let limit = profilestore(&storage, &["tenant", "rate-limit", "shop", "50"]);

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
        json_output(&storage, &["tenant", "list", "--json"])[0]["rate_limit"],
        50
    );
}

#[tokio::test]
async fn admin_errors_are_clear_and_exit_non_zero() {
    let storage = TestStorage::new().await;
    json_output(&storage, &["tenant", "create", "taken", "--json"]);

    let duplicate = profilestore(&storage, &["tenant", "create", "taken"]);
    let unknown = profilestore(&storage, &["tenant", "show-key", "nobody"]);
    let bad_cidr = profilestore(&storage, &["tenant", "allow-ip", "taken", "10.0.0.0/99"]);
    let bad_name = profilestore(&storage, &["tenant", "create", "has space"]);

    for output in [&duplicate, &unknown, &bad_cidr, &bad_name] {
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).starts_with("error: "));
    }
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("nobody"));
}

#[test]
fn every_command_has_help() {
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
        let output = profilestore_command().args(&args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

/// On PostgreSQL the file also names the database: the data dir then keeps only the secret.
#[tokio::test]
async fn a_config_file_sets_the_data_dir() {
    let storage = TestStorage::new().await;
    let data = storage.data_dir().join("from-config");
    let config = storage.data_dir().join("profilestore.toml");
    let mut text = format!("data_dir = {:?}\n", data.display().to_string());
    if let Some(database) = &storage.database {
        text.push_str(&format!("database_url = {:?}\n", database.url()));
    }
    std::fs::write(&config, text).unwrap();
    let with_config = |args: &[&str]| {
        profilestore_command()
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap()
    };

    let output = with_config(&["tenant", "create", "cfg", "--json"]);
    let listed = with_config(&["tenant", "list", "--json"]);

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(data.join("secret.key").exists());
    assert_eq!(data.join("profilestore.db").exists(), !on_postgres());
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["name"], "cfg");
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly_and_sigkill_loses_no_acknowledged_write() {
    let storage = TestStorage::new().await;
    let key = json_output(&storage, &["tenant", "create", "durable", "--json"])["profile_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = crate::support::http_client();

    let mut server = serve(&storage, "info");
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

    let server = serve(&storage, "info");
    for i in 0..30 {
        assert_eq!(
            status_code_with_key_for(&server.base_url, &key, &format!("k-{i}")).await,
            "1000",
            "k-{i} was acknowledged before the crash"
        );
    }
    server.signal("TERM");
    let mut server = server;
    let status = server.wait_with_deadline(Duration::from_secs(10));
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

#[tokio::test]
async fn keys_never_reach_the_log_even_at_trace_level() {
    let storage = TestStorage::new().await;
    let created = json_output(&storage, &["tenant", "create", "quiet", "--json"]);
    let key = created["profile_key"].as_str().unwrap().to_owned();
    let app = json_output(
        &storage,
        &[
            "app", "create", "--tenant", "quiet", "--name", "a", "--json",
        ],
    );
    let client_key = app["client_key"].as_str().unwrap().to_owned();
    let mut server = serve(&storage, "trace");

    within_five_seconds(&server.base_url, &key, "7014").await;
    status_code_with_key(&server.base_url, &client_key).await;
    status_code_with_key(&server.base_url, "psk_wrong-key-attempt").await;
    server.signal("TERM");
    server.wait_with_deadline(Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(100));

    let log = server.log.lock().unwrap().join("\n");
    assert!(log.len() > 1000, "trace logging produced output");
    for secret in [key.as_str(), client_key.as_str(), "psk_wrong-key-attempt"] {
        assert!(!log.contains(secret), "a key reached the log");
    }
}
