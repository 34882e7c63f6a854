//! Backends the suite runs against. Each function opens a fresh, empty store for one test, or
//! returns `None` (after printing why) when the backend is not available on this machine.
//!
//! Adding a backend is one function here and one name in the `backends: [...]` list of
//! `main.rs`. The PostgreSQL one (a later issue) reads `PROFILESTORE_TEST_DATABASE_URL`, prints
//! a skip message and returns `None` when it is unset, and must still hand each test an empty
//! store (a fresh database or schema per test): tests assert exact lists, sequence numbers that
//! start at 1 and prune counts, which a store shared between tests would break.

use profilestore_store::Store;
use std::sync::Arc;
use tempfile::TempDir;

/// A store opened for one test, with whatever must outlive it (the SQLite directory).
pub struct TestStore {
    pub store: Arc<dyn Store>,
    _dir: Option<TempDir>,
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
    })
}
