//! Which database the black-box tests run on, and databases made for one test.
//!
//! `PROFILESTORE_TEST_BACKEND=postgres` runs every test server on PostgreSQL, in a database
//! created for it on the server `PROFILESTORE_TEST_DATABASE_URL` names and dropped afterwards;
//! unset (or `sqlite`), they run on SQLite in a temporary data dir. Test binaries that need
//! PostgreSQL whatever the backend (several nodes on one database) ask [`postgres_server`],
//! which says why they skip when it is not configured.

use sqlx::{Connection, Executor, PgConnection};
use std::io::Write;
use std::path::Path;
use std::sync::Once;

/// The PostgreSQL server to make test databases on, e.g. `postgres://postgres@127.0.0.1:5432/test`
/// (a database on it to connect to, as a user allowed to create databases).
pub const TEST_DATABASE_URL: &str = "PROFILESTORE_TEST_DATABASE_URL";
/// `postgres` runs the black-box suites on PostgreSQL; `sqlite` (the default) on SQLite.
pub const TEST_BACKEND: &str = "PROFILESTORE_TEST_BACKEND";
/// Databases made by these tests are named this and a random suffix, so leftovers are easy to find.
const DATABASE_PREFIX: &str = "ps_api_";
/// The migrated, empty database that test databases are copied from, named this and a hash of
/// the migrations: kept between runs (a cache, safe to drop), replaced when the schema changes.
const TEMPLATE_PREFIX: &str = "ps_api_template_";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    /// The server's URL (from [`TEST_DATABASE_URL`]).
    Postgres(String),
}

/// The backend the black-box suites run on. Asking for PostgreSQL without saying where it is
/// is a mistake, not a reason to skip: it panics.
pub fn backend() -> Backend {
    match std::env::var(TEST_BACKEND).as_deref() {
        Err(_) | Ok("" | "sqlite") => Backend::Sqlite,
        Ok("postgres") => match std::env::var(TEST_DATABASE_URL) {
            Ok(url) if !url.is_empty() => Backend::Postgres(url),
            _ => panic!("{TEST_BACKEND}=postgres needs {TEST_DATABASE_URL} (a PostgreSQL server)"),
        },
        Ok(other) => panic!("{TEST_BACKEND}={other:?}: expected sqlite or postgres"),
    }
}

pub fn on_postgres() -> bool {
    matches!(backend(), Backend::Postgres(_))
}

/// Writes straight to stderr: the test harness captures (and hides) `eprintln!`.
pub fn say(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// When the suite runs on PostgreSQL, says that `test` is skipped there and why, and returns
/// true (the test then returns).
pub fn skipped_on_postgres(test: &str, reason: &str) -> bool {
    let skip = on_postgres();
    if skip {
        say(&format!("{test}: skipped on PostgreSQL: {reason}"));
    }
    skip
}

/// The server in [`TEST_DATABASE_URL`]; when it is unset, says once that the PostgreSQL-only
/// tests of this binary are skipped, and why.
pub fn postgres_server() -> Option<String> {
    let url = std::env::var(TEST_DATABASE_URL)
        .ok()
        .filter(|url| !url.is_empty());
    if url.is_none() {
        static SKIPPED: Once = Once::new();
        SKIPPED.call_once(|| {
            say(&format!(
                "PostgreSQL tests skipped: {TEST_DATABASE_URL} is not set \
                 (set it to e.g. postgres://postgres@127.0.0.1:5432/test to run them)"
            ))
        });
    }
    url
}

/// A database created for one test, dropped (`WITH (FORCE)`, closing whatever connections are
/// left) when this is dropped, also while a failing test unwinds.
pub struct TestDatabase {
    server_url: String,
    name: String,
}

impl TestDatabase {
    /// An empty database: the server that opens it first applies the migrations.
    pub async fn create(server_url: &str) -> Self {
        Self::create_from(server_url, None).await
    }

    /// A database with the schema already in place, copied from a template that is migrated
    /// once (migrating takes longer than copying; servers still run the migrator, which finds
    /// nothing to do).
    pub async fn create_migrated(server_url: &str) -> Self {
        let template = template(server_url).await;
        Self::create_from(server_url, Some(&template)).await
    }

    async fn create_from(server_url: &str, template: Option<&str>) -> Self {
        let name = format!("{DATABASE_PREFIX}{}", uuid::Uuid::new_v4().simple());
        let statement = match template {
            Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
            None => format!("CREATE DATABASE {name}"),
        };
        let mut admin = PgConnection::connect(server_url)
            .await
            .unwrap_or_else(|error| panic!("connect to {TEST_DATABASE_URL}: {error}"));
        admin
            .execute(sqlx::AssertSqlSafe(statement))
            .await
            .unwrap_or_else(|error| panic!("create database {name}: {error}"));
        let _ = admin.close().await;
        TestDatabase {
            server_url: server_url.to_owned(),
            name,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The server's URL with this database in place of the one it names (query kept).
    pub fn url(&self) -> String {
        let (base, query) = match self.server_url.split_once('?') {
            Some((base, query)) => (base, format!("?{query}")),
            None => (self.server_url.as_str(), String::new()),
        };
        let authority = base.find("://").map_or(0, |at| at + 3);
        let path = base[authority..]
            .find('/')
            .map_or(base.len(), |at| authority + at);
        format!("{}/{}{query}", &base[..path], self.name)
    }
}

/// The name of the migrated template database, creating it if this schema has none yet.
///
/// Made under a temporary name and renamed when complete, so that a database with the
/// template's name is always a finished one, also when several test processes race to make it.
async fn template(server_url: &str) -> String {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("{TEMPLATE_PREFIX}{:016x}", schema_hash());
            let mut admin = PgConnection::connect(server_url)
                .await
                .unwrap_or_else(|error| panic!("connect to {TEST_DATABASE_URL}: {error}"));
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                    .bind(&name)
                    .fetch_one(&mut admin)
                    .await
                    .expect("look for the template database");
            if !exists {
                let draft = TestDatabase::create(server_url).await;
                let store = profilestore_store::open(&draft.url())
                    .await
                    .expect("migrate the template database");
                store.close().await;
                let renamed = rename_when_unused(&mut admin, &draft.name, &name).await;
                if renamed {
                    // It is the template now: nothing to drop.
                    std::mem::forget(draft);
                }
                // Otherwise another test process made it first; `draft` is dropped.
            }
            let _ = admin.close().await;
            name
        })
        .await
        .clone()
}

/// Renames database `from` to `to`; false when `to` exists already. Waits for the sessions of
/// a just-closed pool to end (a database in use cannot be renamed).
async fn rename_when_unused(admin: &mut PgConnection, from: &str, to: &str) -> bool {
    for _ in 0..100 {
        let renamed = admin
            .execute(sqlx::AssertSqlSafe(format!(
                "ALTER DATABASE {from} RENAME TO {to}"
            )))
            .await;
        match renamed {
            Ok(_) => return true,
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("42P04") => {
                return false;
            }
            // 55006: the database is still being accessed by the closing sessions.
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("55006") => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(error) => panic!("rename database {from} to {to}: {error}"),
        }
    }
    panic!("database {from} stayed in use");
}

/// A hash of the PostgreSQL migrations (versions and checksums), naming the template database.
fn schema_hash() -> u64 {
    static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../store/migrations/postgres");
    // FNV-1a: stable across builds and runs, unlike std's DefaultHasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for migration in MIGRATIONS.iter() {
        for byte in migration
            .version
            .to_le_bytes()
            .iter()
            .chain(migration.checksum.iter())
        {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
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
            say(&format!(
                "could not drop test database {}: {dropped:?}",
                self.name
            ));
        }
    }
}

/// Where one test's data lives, for tests that run the real binary: a data dir (the server
/// secret, and on SQLite the database) and, on PostgreSQL, a database of its own.
pub struct TestStorage {
    pub dir: tempfile::TempDir,
    pub database: Option<TestDatabase>,
}

impl TestStorage {
    /// On the suite's backend.
    pub async fn new() -> Self {
        let database = match backend() {
            Backend::Sqlite => None,
            Backend::Postgres(server) => Some(TestDatabase::create_migrated(&server).await),
        };
        TestStorage {
            dir: tempfile::tempdir().expect("temp dir"),
            database,
        }
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The environment that points a `profilestore` process at this storage.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![(
            "PROFILESTORE_DATA_DIR",
            self.dir.path().display().to_string(),
        )];
        if let Some(database) = &self.database {
            env.push(("PROFILESTORE_DATABASE_URL", database.url()));
        }
        env
    }
}
