//! The profile reads' connections: read-only SQLite handles driven through the C API on the
//! calling thread (see `raw` for why), each with its cache of prepared statements.
//!
//! A read runs inline, without a hand-over to another thread: the profile reads are key and
//! index lookups of a few rows (tens of microseconds), and the event log is read a bounded
//! page at a time, cheaper to run where they are than to send anywhere. In WAL mode a reader
//! never waits for the writer. Customer listings, admin and console reads stay on sqlx's pool.

use super::raw::Conn;
use crate::error::StoreResult;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

pub(crate) struct Readers {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Conn>>,
    /// Idle connections kept; a read finding none opens one, and one beyond this is closed.
    keep: usize,
}

impl Readers {
    pub(crate) fn new(path: PathBuf, busy_timeout: Duration, keep: usize) -> Self {
        Readers {
            path,
            busy_timeout,
            idle: Mutex::new(Vec::new()),
            keep,
        }
    }

    /// Runs `read` on an idle connection, on this thread.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&mut Conn) -> StoreResult<T>) -> StoreResult<T> {
        let idle = self.lock().pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => Conn::open_read_only(&self.path, self.busy_timeout)?,
        };
        let result = read(&mut conn);
        let mut idle = self.lock();
        if idle.len() < self.keep {
            idle.push(conn);
        }
        result
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Conn>> {
        // A panic while holding the lock cannot leave the list inconsistent (push or pop).
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
