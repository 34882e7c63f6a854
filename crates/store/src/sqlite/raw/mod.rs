//! SQLite driven directly through its C API (libsqlite3-sys, the library sqlx itself links),
//! for the hot paths: the group writer, its checkpointer, and the profile and delivery reads.
//!
//! Why: sqlx runs every SQLite connection on a worker thread of its own and sends each
//! statement there and back (a channel, a futex wake and a context switch each way). Measured
//! under load, those hops, not SQLite, bounded the store: the writer thread spent ~74 % of its
//! time in the kernel. Here a statement runs on the calling thread, from a cache of prepared
//! statements, so a write costs what SQLite costs. Everything else (admin and console writes,
//! listings, migrations) stays on sqlx.

mod buffered_log;
mod statement;

pub(crate) use statement::{Row, Value};

use crate::error::{StoreError, StoreResult};
use libsqlite3_sys as ffi;
use statement::{Statement, error};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::ffi::CString;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;
use std::ptr::NonNull;
use std::time::Duration;

/// What a WAL hook is told after each commit: the pages now in the write-ahead log. It returns
/// whether the committing connection should checkpoint at once, itself.
pub(crate) type WalHook = Box<dyn Fn(i32) -> bool + Send>;

/// A connection of its own and its prepared statements, keyed by their SQL (always a
/// `&'static str`, so the cache is bounded by the program's text). The statements are
/// finalized, then the connection closed, when it is dropped.
pub(crate) struct Conn {
    statements: HashMap<SqlKey, Statement, BuildHasherDefault<SqlKeyHasher>>,
    db: NonNull<ffi::sqlite3>,
    /// Boxed twice so SQLite holds a thin pointer; freed only after the connection is closed.
    wal_hook: Option<Box<WalHook>>,
}

/// A statement's SQL as a cache key: where its text lies and how long it is. Hashing the text
/// itself (hundreds of bytes, twice per statement) was ~2 % of the group writer's time. A
/// `&'static str` is never freed, so its address names its text for the whole run; the same
/// text at two addresses is merely prepared twice.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct SqlKey(usize, usize);

impl SqlKey {
    fn of(sql: &'static str) -> Self {
        SqlKey(sql.as_ptr() as usize, sql.len())
    }
}

/// Hashes a [`SqlKey`] with a multiply and a rotate a word (FxHash's step). The default,
/// SipHash, resists keys chosen to collide, which program text cannot be, and cost ~200
/// instructions a statement (callgrind).
#[derive(Default)]
struct SqlKeyHasher(u64);

impl Hasher for SqlKeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        bytes
            .iter()
            .for_each(|byte| self.write_u64(u64::from(*byte)));
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }
}

// A connection is used by one thread at a time: a reader is taken out of a pool, the writer
// and the checkpointer each belong to one thread. SQLite then needs no mutex of its own.
unsafe impl Send for Conn {}

impl Conn {
    /// Opens a read-only connection to the database file at `path`.
    pub(crate) fn open_read_only(path: &Path, busy_timeout: Duration) -> StoreResult<Conn> {
        Self::open(path, ffi::SQLITE_OPEN_READONLY, busy_timeout)
    }

    /// Opens a read-write connection to the existing database file at `path`.
    pub(crate) fn open_read_write(path: &Path, busy_timeout: Duration) -> StoreResult<Conn> {
        Self::open(path, ffi::SQLITE_OPEN_READWRITE, busy_timeout)
    }

    /// Opens a read-write connection to the existing database file at `path` whose commits
    /// write their log frames in one system call (see `buffered_log`); it syncs every commit
    /// (`synchronous = FULL`), which that needs. Only the group writer opens one.
    pub(crate) fn open_buffered_log(path: &Path, busy_timeout: Duration) -> StoreResult<Conn> {
        let code = buffered_log::register();
        if code != ffi::SQLITE_OK {
            return Err(StoreError::Sqlite(format!(
                "cannot register the buffered-log VFS (SQLite code {code})"
            )));
        }
        let mut conn = Self::open_with(
            path,
            ffi::SQLITE_OPEN_READWRITE,
            busy_timeout,
            buffered_log::NAME.as_ptr(),
        )?;
        conn.execute("PRAGMA synchronous = FULL", &[])?;
        Ok(conn)
    }

    fn open(path: &Path, mode: i32, busy_timeout: Duration) -> StoreResult<Conn> {
        Self::open_with(path, mode, busy_timeout, std::ptr::null())
    }

    /// Opens through the VFS named `vfs` (null: the default one).
    fn open_with(
        path: &Path,
        mode: i32,
        busy_timeout: Duration,
        vfs: *const std::ffi::c_char,
    ) -> StoreResult<Conn> {
        let name = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| StoreError::Config(format!("bad database path {}", path.display())))?;
        let mut db = std::ptr::null_mut();
        let flags = mode | ffi::SQLITE_OPEN_NOMUTEX;
        let code = unsafe { ffi::sqlite3_open_v2(name.as_ptr(), &mut db, flags, vfs) };
        let Some(db) = NonNull::new(db) else {
            return Err(StoreError::Sqlite(
                "out of memory opening a connection".into(),
            ));
        };
        // From here the handle is closed by Drop, also when opening failed.
        let conn = Conn {
            statements: HashMap::default(),
            db,
            wal_hook: None,
        };
        if code != ffi::SQLITE_OK {
            return Err(error(db, code, "open"));
        }
        let millis = i32::try_from(busy_timeout.as_millis()).unwrap_or(i32::MAX);
        unsafe { ffi::sqlite3_busy_timeout(db.as_ptr(), millis) };
        // Plans must not depend on bound values. Without this, SQLite 3.51 reads the value
        // bound to `LIMIT ?` while planning and marks the statement to be prepared again at
        // its next binding: every run of a cached statement with `LIMIT ?` (the webhook and
        // relay claims, event-log pages) was parsed and planned anew (~8 % of the server's
        // request threads under write load, measured).
        let code = unsafe {
            ffi::sqlite3_db_config(
                db.as_ptr(),
                ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
                1 as std::ffi::c_int,
                std::ptr::null_mut::<std::ffi::c_int>(),
            )
        };
        if code != ffi::SQLITE_OK {
            return Err(error(db, code, "configure"));
        }
        Ok(conn)
    }

    /// Calls `hook` after every commit of this connection with the pages in the WAL, instead
    /// of SQLite's automatic checkpoint (which runs inside every commit that finds the log
    /// long); a PASSIVE checkpoint runs in the commit only when the hook asks for one.
    pub(crate) fn set_wal_hook(&mut self, hook: WalHook) {
        let mut boxed = Box::new(hook);
        let context: *mut WalHook = &mut *boxed;
        unsafe {
            ffi::sqlite3_wal_hook(self.db.as_ptr(), Some(call_wal_hook), context.cast());
        }
        // The old hook (if any) is no longer referenced by SQLite once replaced.
        self.wal_hook = Some(boxed);
    }

    fn statement(&mut self, sql: &'static str) -> StoreResult<&mut Statement> {
        Ok(match self.statements.entry(SqlKey::of(sql)) {
            Entry::Occupied(cached) => cached.into_mut(),
            Entry::Vacant(empty) => empty.insert(Statement::prepare(self.db, sql)?),
        })
    }

    /// Runs a statement that returns no rows; returns how many rows it changed.
    pub(crate) fn execute(&mut self, sql: &'static str, params: &[Value<'_>]) -> StoreResult<u64> {
        self.statement(sql)?.run(params, &mut |_| Ok(()))?;
        Ok(unsafe { ffi::sqlite3_changes64(self.db.as_ptr()) } as u64)
    }

    /// Every row of a query, each decoded by `decode`.
    pub(crate) fn query<T>(
        &mut self,
        sql: &'static str,
        params: &[Value<'_>],
        mut decode: impl FnMut(&Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let mut rows = Vec::new();
        self.statement(sql)?.run(params, &mut |row| {
            rows.push(decode(row)?);
            Ok(())
        })?;
        Ok(rows)
    }

    /// The first row of a query, decoded: for queries of at most one row (a key, a LIMIT 1);
    /// any further row is stepped over.
    pub(crate) fn query_first<T>(
        &mut self,
        sql: &'static str,
        params: &[Value<'_>],
        mut decode: impl FnMut(&Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let mut first = None;
        self.statement(sql)?.run(params, &mut |row| {
            if first.is_none() {
                first = Some(decode(row)?);
            }
            Ok(())
        })?;
        Ok(first)
    }

    /// Checkpoints the WAL without waiting for the writer or readers (PASSIVE): copies what it
    /// can into the database file and syncs it. Returns how many of the log's pages have now
    /// been copied (0 when the checkpoint found the database busy).
    pub(crate) fn checkpoint(&mut self) -> StoreResult<i32> {
        let (mut log, mut copied) = (0, 0);
        let code = unsafe {
            ffi::sqlite3_wal_checkpoint_v2(
                self.db.as_ptr(),
                std::ptr::null(),
                ffi::SQLITE_CHECKPOINT_PASSIVE,
                &mut log,
                &mut copied,
            )
        };
        match code {
            ffi::SQLITE_OK => Ok(copied.max(0)),
            ffi::SQLITE_BUSY => Ok(0),
            code => Err(error(self.db, code, "checkpoint")),
        }
    }

    /// Whether a transaction is open (SQLite is not in autocommit mode).
    pub(crate) fn in_transaction(&self) -> bool {
        unsafe { ffi::sqlite3_get_autocommit(self.db.as_ptr()) == 0 }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Statements first: a connection is closed only once none is left. The WAL hook's box
        // is a field, so it is freed after this, once SQLite can no longer call it.
        self.statements.clear();
        unsafe { ffi::sqlite3_close(self.db.as_ptr()) };
    }
}

unsafe extern "C" fn call_wal_hook(
    context: *mut std::ffi::c_void,
    db: *mut ffi::sqlite3,
    schema: *const std::ffi::c_char,
    pages: std::ffi::c_int,
) -> std::ffi::c_int {
    // SAFETY: `context` is the `WalHook` box `set_wal_hook` stored in the connection, which
    // outlives every call SQLite makes on it.
    let hook = unsafe { &*context.cast::<WalHook>() };
    if hook(pages) {
        // As SQLite's own hook does; a busy or failed checkpoint is retried after a later commit.
        unsafe {
            ffi::sqlite3_wal_checkpoint_v2(
                db,
                schema,
                ffi::SQLITE_CHECKPOINT_PASSIVE,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
    }
    ffi::SQLITE_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cached statement is prepared once, whatever values it is run with: here one whose
    /// `LIMIT ?` SQLite would otherwise read while planning (see `open`).
    #[test]
    fn a_cached_statement_with_a_bound_limit_is_not_prepared_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        std::fs::File::create(&path).unwrap();
        let mut conn = Conn::open_read_write(&path, Duration::from_secs(5)).unwrap();
        conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)", &[])
            .unwrap();
        // A static: one address, so the lookup below finds the entry the loop made.
        static PAGE: &str = "SELECT n FROM t WHERE n > ? ORDER BY n LIMIT ?";
        for limit in 1..=5i64 {
            conn.query(PAGE, &[limit.into(), limit.into()], |row| Ok(row.int(0)))
                .unwrap();
        }
        assert_eq!(conn.statements[&SqlKey::of(PAGE)].times_prepared_again(), 0);
    }
}
