//! The real `profilestore` binary as a child process: admin commands and `serve` on a free
//! loopback port, with everything it logs kept for the test to read.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_profilestore");

/// A `profilestore` command with no configuration inherited from the test's environment.
pub fn profilestore_command() -> Command {
    let mut command = Command::new(BIN);
    for name in [
        "PROFILESTORE_SECRET",
        "PROFILESTORE_DATA_DIR",
        "PROFILESTORE_DATABASE_URL",
        "PROFILESTORE_CONFIG",
    ] {
        command.env_remove(name);
    }
    command
}

/// A `profilestore serve` process on a free loopback port; killed when dropped.
pub struct ServerProcess {
    pub child: Child,
    pub base_url: String,
    /// Everything the server logged so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Runs `command serve --listen 127.0.0.1:0 --log-format json` (the command says where the
    /// data is) and waits until it logs the address it listens on.
    pub fn start(mut command: Command) -> Self {
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let address = loop {
            let Some(line) = lines.next() else {
                let _ = child.wait();
                panic!(
                    "the server exited before it listened:\n{}",
                    log.lock().unwrap().join("\n")
                );
            };
            let line = line.unwrap();
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

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Whether the process is still running (it has not exited or crashed).
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits for the process to exit, failing the test after `limit`.
    pub fn wait_with_deadline(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
