//! profilestore-store: persistent state behind the [`Store`] trait.
//!
//! # Layout
//! - [`store`]: the trait every backend implements; one transaction per mutation.
//! - [`model`]: tenants, apps, sealed secrets, selectors and the access snapshot.
//! - `ops`: the batch operations, written once over a backend's row-level [`ops::WriteTx`].
//! - `outbox`: the event document, built once for every backend.
//! - [`sqlite`]: the embedded default (WAL, synchronous=FULL, one writer, a read pool).
//! - `metrics`: transaction counts and latency, recorded for /metrics.
//!
//! Deliberately absent: HTTP, wire formats, and business rules (those live in profilestore-core).

pub mod error;
mod metrics;
pub mod model;
pub mod ops;
mod outbox;
pub mod sqlite;
pub mod store;

pub use error::{StoreError, StoreResult};
pub use store::Store;

use std::sync::Arc;

/// Opens the store a database URL names, applying its migrations.
pub async fn open(database_url: &str) -> StoreResult<Arc<dyn Store>> {
    if database_url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(database_url).await?))
    } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        Err(StoreError::Config(
            "the PostgreSQL backend is not built yet; use a sqlite:// URL".into(),
        ))
    } else {
        Err(StoreError::Config(format!(
            "unsupported database URL scheme (expected sqlite://...): {}",
            database_url.split(':').next().unwrap_or_default()
        )))
    }
}
