//! The server under test, as a child process with a data dir of its own (and, with
//! `--database-url`, on that database instead of SQLite in the data dir): the harness can read
//! its RSS, the size of its database and the time it takes to start again.

use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct ServerProcess {
    binary: PathBuf,
    data_dir: tempfile::TempDir,
    /// The database the server and the admin commands use; `None`: SQLite in the data dir.
    database_url: Option<String>,
    child: Child,
    pub base_url: String,
}

fn default_binary() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let sibling = me.with_file_name("profilestore");
    if sibling.exists() {
        return Ok(sibling);
    }
    bail!(
        "no profilestore binary next to {}; build it (cargo build --release -p profilestore-server) or pass --server-bin",
        me.display()
    )
}

impl ServerProcess {
    pub async fn start(
        binary: Option<PathBuf>,
        database_url: Option<String>,
    ) -> anyhow::Result<Self> {
        let binary = match binary {
            Some(path) => path,
            None => default_binary()?,
        };
        let data_dir = tempfile::tempdir()?;
        let child = spawn(&binary, data_dir.path(), database_url.as_deref())?;
        let mut server = ServerProcess {
            binary,
            data_dir,
            database_url,
            child: child.0,
            base_url: child.1,
        };
        server.wait_ready(Duration::from_secs(30)).await?;
        Ok(server)
    }

    /// Runs an admin command on the server's data dir and database, and returns its JSON output.
    pub fn admin_json(&self, args: &[&str]) -> anyhow::Result<serde_json::Value> {
        let output = store_command(
            &self.binary,
            self.data_dir.path(),
            self.database_url.as_deref(),
        )
        .args(args)
        .output()?;
        if !output.status.success() {
            bail!(
                "{args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(serde_json::from_slice(&output.stdout)?)
    }

    async fn wait_ready(&mut self, limit: Duration) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let endpoint = crate::client::Endpoint::parse(&self.base_url)?;
        loop {
            if let Ok(mut connection) = crate::client::Connection::open(&endpoint).await
                && let Ok(reply) = connection
                    .send(hyper::Method::GET, "/readyz", None, None)
                    .await
                && reply.status.is_success()
            {
                return Ok(started.elapsed());
            }
            if started.elapsed() > limit {
                bail!("the server was not ready after {limit:?}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident set size of the server process.
    pub fn rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// On PostgreSQL, gathers the planner's statistics after seeding, as autovacuum would
    /// shortly: right after a bulk load the tables have none, and the planner may choose an
    /// index that does not fit a query. Returns whether it did (false on SQLite).
    pub async fn analyze(&self) -> anyhow::Result<bool> {
        let Some(url) = self.database_url.as_deref() else {
            return Ok(false);
        };
        let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(url).await?;
        sqlx::query("ANALYZE").execute(&mut connection).await?;
        let _ = sqlx::Connection::close(connection).await;
        Ok(true)
    }

    /// The size of the database: on SQLite every file in the data dir (database, WAL,
    /// secret); on PostgreSQL `pg_database_size` of its database (tables, indexes, TOAST).
    pub async fn database_bytes(&self) -> anyhow::Result<u64> {
        if let Some(url) = self.database_url.as_deref() {
            let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(url).await?;
            let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
                .fetch_one(&mut connection)
                .await?;
            let _ = sqlx::Connection::close(connection).await;
            return Ok(u64::try_from(bytes)?);
        }
        let mut total = 0;
        for entry in std::fs::read_dir(self.data_dir.path())? {
            total += entry?.metadata()?.len();
        }
        Ok(total)
    }

    /// Stops the server gracefully, starts it again on the same data, and returns the time from
    /// spawning the process to its first ready answer.
    pub async fn restart(&mut self) -> anyhow::Result<Duration> {
        self.terminate()?;
        let started = Instant::now();
        let (child, base_url) = spawn(
            &self.binary,
            self.data_dir.path(),
            self.database_url.as_deref(),
        )?;
        self.child = child;
        self.base_url = base_url;
        self.wait_ready(Duration::from_secs(60)).await?;
        Ok(started.elapsed())
    }

    fn terminate(&mut self) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()?;
        anyhow::ensure!(status.success(), "could not signal the server");
        self.child.wait()?;
        Ok(())
    }

    pub async fn stop(mut self) {
        let _ = self.terminate();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `profilestore --data-dir <dir> [--database-url <url>]`, with no store settings inherited
/// from the environment.
fn store_command(binary: &Path, data_dir: &Path, database_url: Option<&str>) -> Command {
    let mut command = Command::new(binary);
    command
        .env_remove("PROFILESTORE_DATABASE_URL")
        .env_remove("PROFILESTORE_CONFIG")
        .arg("--data-dir")
        .arg(data_dir);
    if let Some(url) = database_url {
        command.args(["--database-url", url]);
    }
    command
}

/// Starts `profilestore serve` on a free loopback port and reads the address it logs.
fn spawn(
    binary: &Path,
    data_dir: &Path,
    database_url: Option<&str>,
) -> anyhow::Result<(Child, String)> {
    let mut child = store_command(binary, data_dir, database_url)
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("RUST_LOG", "warn,profilestore_server::server=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let mut lines = BufReader::new(child.stderr.take().context("stderr")?).lines();
    let address = loop {
        let line = lines
            .next()
            .context("the server exited before listening")??;
        let entry: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if entry["fields"]["message"] == "profilestore listening" {
            break entry["fields"]["address"]
                .as_str()
                .context("address")?
                .to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Ok((child, format!("http://{address}")))
}
