//! Backends the suite runs against. Each function opens a fresh, empty store for one test, or
//! returns `None` (after printing why) when the backend is not available on this machine.
//!
//! Adding a backend is one function here and one name in the `backends: [...]` list of
//! `main.rs`. Each test gets an empty store of its own: tests assert exact lists, sequence
//! numbers that start at 1 and prune counts, which a store shared between tests would break.

use profilestore_store::Store;
use sqlx::{Connection, Executor, PgConnection};
use std::io::Write;
use std::sync::{Arc, Once};
use tempfile::TempDir;

/// The PostgreSQL server the PostgreSQL tests use, e.g.
/// `postgres://postgres@127.0.0.1:5432/test`: a database on it to connect to, as a user
/// allowed to create databases. Each test creates one of its own there and drops it afterwards.
pub const TEST_DATABASE_URL: &str = "PROFILESTORE_TEST_DATABASE_URL";
/// Test databases are named this and a random suffix, so that leftovers are easy to find.
const TEST_DATABASE_PREFIX: &str = "psconf_";

/// A store opened for one test, with whatever must outlive it (the SQLite directory, the
/// PostgreSQL database), released when it is dropped (also when the test panics).
pub struct TestStore {
    pub store: Arc<dyn Store>,
    _dir: Option<TempDir>,
    _database: Option<TestDatabase>,
}

impl TestStore {
    pub async fn close(self) {
        self.store.close().await;
    }
}

/// SQLite in a temporary directory: always available.
pub async fn sqlite() -> Option<TestStore> {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let url = format!("sqlite://{}/db.sqlite", dir.path().display());
    let store = profilestore_store::open(&url)
        .await
        .unwrap_or_else(|error| panic!("open {url}: {error}"));
    Some(TestStore {
        store,
        _dir: Some(dir),
        _database: None,
    })
}

/// PostgreSQL, in a database created for this test, when [`TEST_DATABASE_URL`] names a server.
pub async fn postgres() -> Option<TestStore> {
    let database = TestDatabase::create(&postgres_server()?).await;
    let url = database.url();
    let store = profilestore_store::open(&url)
        .await
        .unwrap_or_else(|error| panic!("open {url}: {error}"));
    Some(TestStore {
        store,
        _dir: None,
        _database: Some(database),
    })
}

/// The URL in [`TEST_DATABASE_URL`]; when it is unset, says once that the PostgreSQL tests
/// are skipped, and why.
pub fn postgres_server() -> Option<String> {
    let url = std::env::var(TEST_DATABASE_URL).ok();
    if url.is_none() {
        static SKIPPED: Once = Once::new();
        SKIPPED.call_once(|| {
            // Straight to stderr: the test harness would capture (and hide) eprintln!.
            let _ = writeln!(
                std::io::stderr(),
                "PostgreSQL tests skipped: {TEST_DATABASE_URL} is not set \
                 (set it to e.g. postgres://postgres@127.0.0.1:5432/test to run them)"
            );
        });
    }
    url
}

/// A database created for one test and dropped (`WITH (FORCE)`, closing whatever connections
/// are left) when this is dropped.
pub struct TestDatabase {
    server_url: String,
    name: String,
}

impl TestDatabase {
    pub async fn create(server_url: &str) -> Self {
        let name = format!("{TEST_DATABASE_PREFIX}{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(server_url)
            .await
            .unwrap_or_else(|error| panic!("connect to {TEST_DATABASE_URL}: {error}"));
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap_or_else(|error| panic!("create database {name}: {error}"));
        let _ = admin.close().await;
        TestDatabase {
            server_url: server_url.to_owned(),
            name,
        }
    }

    /// The server's URL with this database in place of the one it names.
    pub fn url(&self) -> String {
        self.url_through(None)
    }

    /// [`TestDatabase::url`], but connecting to `host:port` (a proxy) if one is given.
    pub fn url_through(&self, host_port: Option<&str>) -> String {
        let (base, query) = match self.server_url.split_once('?') {
            Some((base, query)) => (base, format!("?{query}")),
            None => (self.server_url.as_str(), String::new()),
        };
        let authority = base.find("://").map_or(0, |at| at + 3);
        let path = base[authority..]
            .find('/')
            .map_or(base.len(), |at| authority + at);
        let (scheme, mut authority) = (&base[..authority], base[authority..path].to_owned());
        if let Some(host_port) = host_port {
            authority = match authority.rsplit_once('@') {
                Some((user, _)) => format!("{user}@{host_port}"),
                None => host_port.to_owned(),
            };
        }
        format!("{scheme}{authority}/{}{query}", self.name)
    }
}

impl Drop for TestDatabase {
    /// Drop runs inside the test's runtime (or while its panic unwinds), where nothing can be
    /// awaited: the database is dropped from a thread with a runtime of its own.
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&server_url)
                    .await
                    .map_err(|error| error.to_string())?;
                admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .await
                    .map_err(|error| error.to_string())?;
                let _ = admin.close().await;
                Ok::<_, String>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            let _ = writeln!(
                std::io::stderr(),
                "could not drop test database {}: {dropped:?}",
                self.name
            );
        }
    }
}
