//! Store errors: what a backend can fail with, apart from domain outcomes (which are data).

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique name or id is taken (tenant name, app id).
    #[error("{0} already exists")]
    Conflict(String),
    /// A tenant or app addressed by an admin command does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The database is unreachable or failed; the request may be retried.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// SQLite, driven through its C API on the hot paths, failed; the request may be retried.
    #[error("database error: {0}")]
    Sqlite(String),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be decoded: a bug or a hand-edited database.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A group transaction (SQLite group commit) failed, so this write was not made.
    #[error("the write was not committed: {0}")]
    Commit(String),
    /// The database URL or options are unusable.
    #[error("invalid store configuration: {0}")]
    Config(String),
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        StoreError::Corrupt(error.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
