//! profilestore-store: persistent state behind the [`Store`] trait.
//!
//! # Layout
//! - [`store`]: the trait every backend implements; one transaction per mutation.
//! - [`model`]: tenants, apps, sealed secrets, selectors and the access snapshot.
//! - `ops`: the batch operations, written once over a backend's row-level [`ops::WriteTx`].
//! - `schema_ops`: the schema registry's changes, written once like `ops`.
//! - `outbox`: the event document, built once for every backend.
//! - [`event_delivery`]: the supertrait event delivery uses (webhooks, relay cursors, retention),
//!   with [`webhooks`] (its model) and [`doorbell`] (wakes readers after a commit).
//! - [`sqlite`]: the embedded default (WAL, synchronous=FULL, one writer, a read pool).
//! - [`postgres`]: many nodes on one database (one pool, per-tenant advisory locks).
//! - `metrics`: transaction counts and latency, recorded for /metrics.
//! - [`console`]: the admin console's users, sessions and overview counts (a supertrait).
//!
//! Deliberately absent: HTTP, wire formats, and business rules (those live in profilestore-core).

pub mod console;
pub mod doorbell;
pub mod error;
pub mod event_delivery;
mod metrics;
pub mod model;
pub mod ops;
mod outbox;
pub mod postgres;
mod schema_ops;
mod sdk_ops;
pub mod sqlite;
pub mod store;
pub mod webhooks;

pub use console::ConsoleStore;
pub use doorbell::Doorbell;
pub use error::{StoreError, StoreResult};
pub use event_delivery::EventDelivery;
pub use store::Store;

use std::sync::Arc;
use std::time::Duration;

/// How a store's connections are set up; `Default` leaves every choice to the backend.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// PostgreSQL: the size of the one pool (default
    /// [`postgres::DEFAULT_MAX_CONNECTIONS`]). SQLite: the size of the read pool (default
    /// [`sqlite::DEFAULT_READERS`]); its writer is always one connection.
    pub max_connections: Option<u32>,
    /// PostgreSQL: `statement_timeout` of every pooled connection (zero or `None`: the
    /// server's own setting). SQLite: ignored; its statements do not wait on the network, and
    /// a wait for another process's write lock is bounded by the busy timeout (5 s).
    pub statement_timeout: Option<Duration>,
}

/// Opens the store a database URL names, with default options, applying its migrations.
pub async fn open(database_url: &str) -> StoreResult<Arc<dyn Store>> {
    open_with(database_url, &OpenOptions::default()).await
}

/// Opens the store a database URL names (`sqlite://...`, `postgres://...` or
/// `postgresql://...`), applying its migrations.
pub async fn open_with(database_url: &str, options: &OpenOptions) -> StoreResult<Arc<dyn Store>> {
    if options.max_connections == Some(0) {
        return Err(StoreError::Config(
            "the connection pool needs at least one connection".into(),
        ));
    }
    if database_url.starts_with("sqlite:") {
        Ok(Arc::new(
            sqlite::SqliteStore::open_with(database_url, options).await?,
        ))
    } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        Ok(Arc::new(
            postgres::PgStore::open(database_url, options).await?,
        ))
    } else {
        Err(StoreError::Config(format!(
            "unsupported database URL scheme (expected sqlite://, postgres:// or postgresql://): {}",
            database_url.split(':').next().unwrap_or_default()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_a_store_is_a_send_future() {
        fn send<T: Send>(_: &T) {}
        // Never polled: this only has to compile, so that callers can spawn `open`.
        send(&open_with("postgres://nowhere/db", &OpenOptions::default()));
        send(&open_with("sqlite://nowhere.db", &OpenOptions::default()));
    }
}
