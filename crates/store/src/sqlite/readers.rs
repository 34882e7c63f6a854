//! The profile reads' connections: read-only SQLite handles driven through the C API on the
//! calling thread (see `raw` for why), each with its cache of prepared statements.
//!
//! A read runs inline, without a hand-over to another thread: the profile reads are key and
//! index lookups of a few rows (tens of microseconds), and the event log is read a bounded
//! page at a time, cheaper to run where they are than to send anywhere. In WAL mode a reader
//! never waits for the writer. Customer listings, admin and console reads stay on sqlx's pool.
//!
//! # Snapshots kept between reads
//! A statement outside a transaction opens a read transaction and closes it: SQLite takes and
//! releases the log's read mark under one process-wide mutex, with an `fcntl` lock on the
//! `-shm` file when the first reader takes it or the last leaves, and concurrent readers wait
//! on that mutex. That was ~9 % of the server's CPU in a read (measured), so an idle connection
//! keeps its read transaction (its snapshot) open, and the next read reuses it while it is
//! still current:
//! - the group writer, which alone writes what these connections read (profiles, attribute
//!   definitions, the event log, webhooks, write outcomes), advances the [`SnapshotGate`]'s
//!   generation after each commit and before it acknowledges any write of it; a read reuses a snapshot
//!   only if it was opened in the current generation, so it sees every acknowledged write;
//! - any other commit (an admin command in another process) is seen within
//!   [`SNAPSHOT_MAX_AGE`]: no snapshot is reused once it is that old;
//! - an idle snapshot holds back checkpoints (they cannot copy log pages it may still need),
//!   so a janitor thread ends every idle snapshot older than [`SNAPSHOT_MAX_AGE`] (and sleeps
//!   while none is kept);
//! - the log starts over from its beginning only when no reader holds a snapshot older than
//!   its last full checkpoint: once the log is long enough to need that (the checkpointer's
//!   `RESTART_PAGES`), no snapshot is kept after its read, until the log has started over.

use super::raw::Conn;
use crate::error::{StoreError, StoreResult};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// The oldest snapshot a read may reuse, and how long an idle one may hold back checkpoints.
pub(crate) const SNAPSHOT_MAX_AGE: Duration = Duration::from_millis(5);

/// What the group writer tells the readers about keeping snapshots: how many commits it made
/// (a snapshot opened in an earlier generation may miss one), and whether the log is long
/// enough to need starting over (then none is kept).
#[derive(Clone, Default)]
pub(crate) struct SnapshotGate(Arc<GateState>);

#[derive(Default)]
struct GateState {
    generation: AtomicU64,
    log_is_long: AtomicBool,
}

impl SnapshotGate {
    /// Called after a commit and before any of its writes is acknowledged.
    pub(crate) fn advance(&self) {
        self.0.generation.fetch_add(1, Ordering::Release);
    }

    /// Said after each commit. The log starts over only when no reader holds a snapshot that
    /// began before its last full checkpoint, so while it is long no snapshot is kept.
    pub(crate) fn set_log_is_long(&self, long: bool) {
        self.0.log_is_long.store(long, Ordering::Relaxed);
    }

    fn current(&self) -> u64 {
        self.0.generation.load(Ordering::Acquire)
    }

    fn snapshots_kept(&self) -> bool {
        !self.0.log_is_long.load(Ordering::Relaxed)
    }
}

/// An idle connection and, when it holds one, its open snapshot's generation and age.
struct Idle {
    conn: Conn,
    snapshot: Option<(u64, Instant)>,
}

/// The idle connections, and whether the janitor sleeps until a read keeps a snapshot.
#[derive(Default)]
struct Shelf {
    conns: Vec<Idle>,
    janitor_asleep: bool,
}

struct Pool {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Shelf>,
    /// Idle connections kept; a read finding none opens one, and one beyond this is closed.
    keep: usize,
    gate: SnapshotGate,
    janitor: OnceLock<Thread>,
}

pub(crate) struct Readers(Arc<Pool>);

impl Readers {
    pub(crate) fn new(
        path: PathBuf,
        busy_timeout: Duration,
        keep: usize,
        gate: SnapshotGate,
    ) -> StoreResult<Self> {
        let pool = Arc::new(Pool {
            path,
            busy_timeout,
            idle: Mutex::new(Shelf::default()),
            keep,
            gate,
            janitor: OnceLock::new(),
        });
        let janitor = start_janitor(Arc::downgrade(&pool))?;
        let _ = pool.janitor.set(janitor);
        Ok(Readers(pool))
    }

    /// Runs `read` on an idle connection, on this thread, in a snapshot that holds every write
    /// the group writer has acknowledged (see the module doc).
    pub(crate) fn read<T>(&self, read: impl FnOnce(&mut Conn) -> StoreResult<T>) -> StoreResult<T> {
        let pool = &self.0;
        let idle = pool.lock().conns.pop();
        let (mut conn, snapshot) = match idle {
            Some(Idle { conn, snapshot }) => (conn, snapshot),
            None => (Conn::open_read_only(&pool.path, pool.busy_timeout)?, None),
        };
        // Read before the snapshot opens: a commit counted here is in the snapshot.
        let generation = pool.gate.current();
        let reusable = snapshot.filter(|(opened_in, opened_at)| {
            *opened_in == generation && opened_at.elapsed() < SNAPSHOT_MAX_AGE
        });
        let snapshot = match reusable {
            Some(current) => current,
            None => {
                end_snapshot(&mut conn);
                // Deferred: the snapshot is taken by the read's first statement, after the
                // generation was read.
                conn.execute("BEGIN", &[])?;
                (generation, Instant::now())
            }
        };
        let result = read(&mut conn);
        // A failed read may have left the transaction in any state: the next one starts anew.
        let snapshot = if result.is_ok() && conn.in_transaction() && pool.gate.snapshots_kept() {
            Some(snapshot)
        } else {
            end_snapshot(&mut conn);
            None
        };
        let mut shelf = pool.lock();
        if shelf.conns.len() < pool.keep {
            // Under the same lock as the janitor's decision to sleep: it cannot miss this one.
            if snapshot.is_some() && std::mem::take(&mut shelf.janitor_asleep) {
                pool.wake_janitor();
            }
            shelf.conns.push(Idle { conn, snapshot });
        }
        result
    }
}

impl Pool {
    fn wake_janitor(&self) {
        if let Some(janitor) = self.janitor.get() {
            janitor.unpark();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shelf> {
        // A panic while holding the lock cannot leave the list inconsistent (push, pop, or
        // ending a snapshot, after which the entry is still a valid idle connection).
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Ends the connection's read transaction, if it has one. A read-only transaction has nothing
/// to lose; should ending it fail, the connection is still usable (the next BEGIN says so).
fn end_snapshot(conn: &mut Conn) {
    if conn.in_transaction() {
        let _ = conn.execute("ROLLBACK", &[]);
    }
}

impl Drop for Pool {
    /// A sleeping janitor wakes to find the pool gone, and ends.
    fn drop(&mut self) {
        self.wake_janitor();
    }
}

/// Ends idle snapshots once they are SNAPSHOT_MAX_AGE old, so that a connection left idle does
/// not hold checkpoints back; stops when the pool is dropped. With no snapshot kept it sleeps
/// until a read keeps one: an idle server does not wake it every few milliseconds.
fn start_janitor(pool: Weak<Pool>) -> StoreResult<Thread> {
    std::thread::Builder::new()
        .name("sqlite-snapshots".into())
        .spawn(move || {
            while let Some(pool) = pool.upgrade() {
                let mut shelf = pool.lock();
                for idle in shelf.conns.iter_mut() {
                    // No read reuses it now; it would only hold back checkpoints.
                    if idle
                        .snapshot
                        .is_some_and(|(_, opened_at)| opened_at.elapsed() >= SNAPSHOT_MAX_AGE)
                    {
                        end_snapshot(&mut idle.conn);
                        idle.snapshot = None;
                    }
                }
                shelf.janitor_asleep = shelf.conns.iter().all(|idle| idle.snapshot.is_none());
                let asleep = shelf.janitor_asleep;
                drop(shelf);
                drop(pool);
                if asleep {
                    std::thread::park();
                } else {
                    std::thread::sleep(SNAPSHOT_MAX_AGE);
                }
            }
        })
        .map(|handle| handle.thread().clone())
        .map_err(|e| StoreError::Config(format!("cannot start the snapshot janitor thread: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database with a table `t` in WAL mode, its writer connection (standing for the group
    /// writer, or another process), and readers told by `gate`.
    fn setup(dir: &tempfile::TempDir, gate: &SnapshotGate) -> (Conn, Readers) {
        let path = dir.path().join("r.db");
        std::fs::File::create(&path).unwrap();
        let mut writer = Conn::open_read_write(&path, Duration::from_secs(5)).unwrap();
        writer
            .query_first("PRAGMA journal_mode = WAL", &[], |_| Ok(()))
            .unwrap();
        writer
            .execute("CREATE TABLE t (n INTEGER PRIMARY KEY)", &[])
            .unwrap();
        let readers = Readers::new(path, Duration::from_secs(5), 4, gate.clone()).unwrap();
        (writer, readers)
    }

    fn count(readers: &Readers) -> i64 {
        readers
            .read(|conn| conn.query_first("SELECT COUNT(*) FROM t", &[], |row| Ok(row.int(0))))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn a_commit_the_generation_counts_is_seen_by_the_next_read() {
        let dir = tempfile::tempdir().unwrap();
        let gate = SnapshotGate::default();
        let (mut writer, readers) = setup(&dir, &gate);
        assert_eq!(count(&readers), 0);
        for n in 1..=3 {
            writer
                .execute("INSERT INTO t (n) VALUES (?)", &[n.into()])
                .unwrap();
            gate.advance();
            // Well within SNAPSHOT_MAX_AGE: only the generation renews the snapshot here.
            assert_eq!(count(&readers), n);
        }
    }

    #[test]
    fn another_processs_commit_is_seen_once_the_snapshot_is_too_old_to_reuse() {
        let dir = tempfile::tempdir().unwrap();
        let (mut writer, readers) = setup(&dir, &SnapshotGate::default());
        assert_eq!(count(&readers), 0);
        writer.execute("INSERT INTO t (n) VALUES (1)", &[]).unwrap();
        std::thread::sleep(SNAPSHOT_MAX_AGE * 2);
        assert_eq!(count(&readers), 1);
    }

    #[test]
    fn while_the_log_is_long_no_snapshot_is_kept_to_hold_back_its_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let gate = SnapshotGate::default();
        let (mut writer, readers) = setup(&dir, &gate);
        gate.set_log_is_long(true);
        assert_eq!(count(&readers), 0);
        // Checked at once: the janitor ends a kept snapshot only once it is SNAPSHOT_MAX_AGE
        // old, so it cannot have hidden one here (the checkpoint below could race it).
        assert!(
            readers
                .0
                .lock()
                .conns
                .iter()
                .all(|idle| idle.snapshot.is_none())
        );
        writer.execute("INSERT INTO t (n) VALUES (1)", &[]).unwrap();
        let (log, copied) = checkpoint(&mut writer);
        assert_eq!(
            copied, log,
            "a reader's snapshot kept log pages from the database file"
        );
    }

    /// A passive checkpoint by `writer`: the log's pages and how many of them were copied.
    fn checkpoint(writer: &mut Conn) -> (i64, i64) {
        writer
            .query_first("PRAGMA wal_checkpoint(PASSIVE)", &[], |row| {
                Ok((row.int(1), row.int(2)))
            })
            .unwrap()
            .unwrap()
    }

    #[test]
    fn the_janitor_sleeps_while_no_snapshot_is_kept_and_a_kept_one_wakes_it() {
        let dir = tempfile::tempdir().unwrap();
        let (mut writer, readers) = setup(&dir, &SnapshotGate::default());
        let deadline = Instant::now() + Duration::from_secs(5);
        while !readers.0.lock().janitor_asleep {
            assert!(Instant::now() < deadline, "the janitor never went to sleep");
            std::thread::sleep(Duration::from_millis(1));
        }
        // Only a woken janitor ends the snapshot kept now.
        let (log, copied) = checkpoint_behind_an_idle_snapshot(&mut writer, &readers);
        assert_eq!(
            copied, log,
            "the sleeping janitor left a reader's snapshot holding log pages back"
        );
    }

    #[test]
    fn an_idle_snapshot_does_not_hold_back_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let (mut writer, readers) = setup(&dir, &SnapshotGate::default());
        let (log, copied) = checkpoint_behind_an_idle_snapshot(&mut writer, &readers);
        assert!(log > 0);
        assert_eq!(
            copied, log,
            "a reader's snapshot kept log pages from the database file"
        );
    }

    /// Leaves an idle connection whose snapshot predates 50 inserts, waits long enough for the
    /// janitor to have ended it, and checkpoints.
    fn checkpoint_behind_an_idle_snapshot(writer: &mut Conn, readers: &Readers) -> (i64, i64) {
        assert_eq!(count(readers), 0);
        for n in 1..=50i64 {
            writer
                .execute("INSERT INTO t (n) VALUES (?)", &[n.into()])
                .unwrap();
        }
        std::thread::sleep(SNAPSHOT_MAX_AGE * 6);
        checkpoint(writer)
    }
}
