//! A database outage under a real server: PostgreSQL (an instance this test creates with
//! `initdb` and runs with `pg_ctl` in a temporary directory, on a free port) is stopped while
//! `profilestore serve` runs on it, then started again. Meanwhile the server stays up, /readyz
//! answers 503 and the compatible API 7006; afterwards it recovers by itself, without a restart.

use crate::code_for_key;
use crate::support::{ServerProcess, http_client, profilestore_command, say};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// Where PostgreSQL's server programs are (`PROFILESTORE_TEST_PG_BIN`, else the newest
/// `/usr/lib/postgresql/<version>/bin` with `initdb` and `pg_ctl`).
fn postgres_bin_dir() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Ok(dir) = std::env::var("PROFILESTORE_TEST_PG_BIN") {
        return Some(PathBuf::from(dir)).filter(|dir| has_tools(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| has_tools(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// A PostgreSQL instance of the test's own, stopped (immediately) when dropped, also when the
/// test panics; its directory is removed after that.
struct OwnPostgres {
    bin: PathBuf,
    /// initdb refuses to run as root: as root, every PostgreSQL command runs as `postgres`.
    run_as_postgres: bool,
    dir: TempDir,
    port: u16,
}

impl OwnPostgres {
    /// Creates and starts an instance, or says why it cannot and returns `None`.
    fn start() -> Option<Self> {
        let Some(bin) = postgres_bin_dir() else {
            say(
                "outage test skipped: PostgreSQL's initdb and pg_ctl were not found \
                 (install postgresql, or set PROFILESTORE_TEST_PG_BIN to their directory)",
            );
            return None;
        };
        let run_as_postgres = is_root();
        if run_as_postgres && !command_works("runuser", &["-u", "postgres", "--", "true"]) {
            say(
                "outage test skipped: running as root, and `runuser -u postgres` does not work \
                 (initdb refuses root; create a postgres user or run the tests as another user)",
            );
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("profilestore-pg-")
            .tempdir()
            .expect("temp dir");
        if run_as_postgres {
            let chown = Command::new("chown")
                .args(["postgres:", dir.path().to_str().unwrap()])
                .output()
                .expect("chown runs");
            assert_success("chown the instance's directory to postgres", &chown);
        }
        let instance = OwnPostgres {
            bin,
            run_as_postgres,
            dir,
            port: free_port(),
        };
        let initdb = instance
            .command("initdb")
            .arg("-D")
            .arg(instance.data_dir())
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
            .output()
            .expect("initdb runs");
        assert_success("initdb", &initdb);
        instance.start_again();
        Some(instance)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.run_as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn pg_ctl(&self, args: &[&str]) -> Output {
        self.command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(args)
            .output()
            .expect("pg_ctl runs")
    }

    /// Starts the instance on its port (TCP on 127.0.0.1, its socket in its own directory)
    /// and waits until it accepts connections. No fsync: the test does not crash the machine.
    fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgres.log");
        let started = self.pg_ctl(&[
            "-w",
            "-t",
            "60",
            "-l",
            log.to_str().unwrap(),
            "-o",
            &options,
            "start",
        ]);
        if !started.status.success() {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            panic!(
                "pg_ctl start failed: {}\n{log}",
                String::from_utf8_lossy(&started.stderr)
            );
        }
    }

    /// A clean, fast shutdown: PostgreSQL ends every session (the server's too) and stops.
    fn stop(&self) {
        assert_success("pg_ctl stop", &self.pg_ctl(&["-w", "-m", "fast", "stop"]));
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        if self.data_dir().join("postmaster.pid").exists() {
            let _ = self.pg_ctl(&["-w", "-m", "immediate", "stop"]);
        }
    }
}

fn command_works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|output| output.status.success())
}

fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A loopback port nothing listens on now (the OS picks it; the instance binds it just after).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Answer {
    status: StatusCode,
    body: Value,
}

async fn create_customer(base_url: &str, key: &str, customer_id: &str) -> Answer {
    let response = http_client()
        .post(format!("{base_url}/resources/v2/customerprofile"))
        .header("key", key)
        .json(&json!({"customerId": customer_id}))
        .send()
        .await
        .expect("the server answers");
    Answer {
        status: response.status(),
        body: response.json().await.unwrap_or(Value::Null),
    }
}

async fn status_of(base_url: &str, path: &str) -> StatusCode {
    http_client()
        .get(format!("{base_url}{path}"))
        .send()
        .await
        .expect("the server answers")
        .status()
}

/// Polls `path` until it answers `expected`, failing after `limit`.
async fn until_status(base_url: &str, path: &str, expected: StatusCode, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let status = status_of(base_url, path).await;
        if status == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path} still answers {status}, expected {expected}, after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_server_rides_out_a_database_outage_and_recovers_by_itself() {
    let Some(postgres) = OwnPostgres::start() else {
        return;
    };
    let data_dir = tempfile::tempdir().expect("temp dir");
    let command = || {
        let mut command = profilestore_command();
        command
            .env("PROFILESTORE_DATA_DIR", data_dir.path())
            .env("RUST_LOG", "info")
            .args(["--database-url", &postgres.url()]);
        command
    };
    let mut server = ServerProcess::start(command());
    let created = command()
        .args(["tenant", "create", "acme", "--json"])
        .output()
        .expect("the binary runs");
    assert_success("tenant create", &created);
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let key = created["profile_key"].as_str().unwrap().to_owned();
    let base_url = server.base_url.clone();
    crate::on_every_node_within_five_seconds(&[&base_url], &key, "7014").await;
    let before = create_customer(&base_url, &key, "before").await;
    assert_eq!(before.body["code"], "1000", "{}", before.body);

    postgres.stop();
    // The first answers may wait for a connection (at most 3 s) before they give up.
    until_status(
        &base_url,
        "/readyz",
        StatusCode::SERVICE_UNAVAILABLE,
        Duration::from_secs(15),
    )
    .await;
    let during = create_customer(&base_url, &key, "during").await;
    let alive = status_of(&base_url, "/healthz").await;
    let running_during = server.is_running();

    postgres.start_again();
    until_status(
        &base_url,
        "/readyz",
        StatusCode::OK,
        Duration::from_secs(15),
    )
    .await;
    let after = create_customer(&base_url, &key, "after").await;
    let read_before = code_for_customer(&base_url, &key, "before").await;
    let read_after = code_for_customer(&base_url, &key, "after").await;

    assert_eq!(during.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(during.body["code"], "7006", "{}", during.body);
    assert_eq!(alive, StatusCode::OK, "/healthz answers during the outage");
    assert!(running_during, "the server stays up during the outage");
    assert_eq!(after.body["code"], "1000", "{}", after.body);
    assert_eq!(
        read_before, "1000",
        "a write from before the outage is kept"
    );
    assert_eq!(read_after, "1000");
    assert_eq!(code_for_key(&base_url, &key).await, "7014");
    assert!(server.is_running(), "the same process served throughout");
}

async fn code_for_customer(base_url: &str, key: &str, customer_id: &str) -> String {
    let response = http_client()
        .get(format!(
            "{base_url}/resources/v2/customerprofile/{customer_id}"
        ))
        .header("key", key)
        .send()
        .await
        .expect("the server answers");
    let body: Value = response.json().await.unwrap_or(Value::Null);
    body["code"].as_str().unwrap_or_default().to_owned()
}
