//! Checkpoints the write-ahead log on a thread of its own, so the writer never does.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold: that group
//! of writes then waits while pages are copied into the database file and synced (~8 % of the
//! writer's time under load, measured). Here the writer's commit only tells this thread how big
//! the log is; the thread runs a PASSIVE checkpoint (it copies what no reader still needs and
//! never blocks the writer or a reader) on a connection of its own.
//!
//! A checkpoint is asked for once CHECKPOINT_PAGES pages have been added to the log since what
//! the last checkpoint copied, not at every commit once the log is that long: each checkpoint
//! syncs the log and the database file, and copies a page once however often it was rewritten
//! (the tail pages of the event log and the write outcomes are rewritten by every group).
//! Asked at every commit, it synced twice per group and copied nearly every page the writer
//! wrote (~20 % of the server's CPU under write load, measured).
//!
//! The log can only start over from its beginning when the writer begins a group right after a
//! checkpoint copied all of it, and under a steady load the writer begins its next group at
//! once while this thread copies: this thread alone never gets the log restarted. So past
//! WRITER_CHECKPOINT_PAGES the writer checkpoints itself after its commit, and the log starts
//! over at its next group. To keep that stall short, from RESTART_PAGES on this thread is asked
//! after every commit that added pages, so little is left for the writer to copy; past the
//! limit it is no longer asked, or it would hold the checkpoint lock and the writer's own
//! checkpoint would find it busy. (With the limit alone the writer copied up to ~1,000 pages
//! itself twice a second under load, measured as p99.9 write latency of 16–24 ms.)

use super::raw::{Conn, WalHook};
use super::readers::SnapshotGate;
use crate::error::{StoreError, StoreResult};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// Pages added to the log since the last checkpoint from which another is asked for. Each
/// checkpoint ends by syncing the database file, and the writer's next sync of the log waits
/// behind it on the disk: at 1,000 pages (SQLite's default) p99 write latency at 16 writers
/// was ~7.5 ms, at 500 ~5.5 ms, at 250 ~4.5 ms (as with a checkpoint after every commit), at
/// the same throughput within the noise (measured side by side).
const CHECKPOINT_PAGES: i32 = 250;
/// Log size (pages) from which every commit that added pages asks for a checkpoint.
const RESTART_PAGES: i32 = 9_500;
/// Log size (pages, ~40 MiB) from which the writer checkpoints itself.
const WRITER_CHECKPOINT_PAGES: i32 = 10_000;

/// Starts the checkpointer and returns the hook the writer's connection calls after each
/// commit. The thread ends when the hook is dropped (with the writer's connection).
/// It also tells the readers, through `gate`, whether the log is long enough to need
/// starting over (then they keep no snapshot that would stop it).
pub(crate) fn start(
    path: &Path,
    busy_timeout: Duration,
    gate: SnapshotGate,
) -> StoreResult<WalHook> {
    let mut conn = Conn::open_read_write(path, busy_timeout)?;
    // A checkpoint syncs the database file before the log may be reused.
    conn.execute("PRAGMA synchronous = FULL", &[])?;
    // One pending request is enough: a checkpoint copies everything committed before it.
    let (ask, asked) = mpsc::sync_channel::<()>(1);
    // How many of the log's pages the last checkpoint left copied.
    let copied = Arc::new(AtomicI32::new(0));
    let copied_by_thread = Arc::clone(&copied);
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while asked.recv().is_ok() {
                match conn.checkpoint() {
                    Ok(pages) => copied_by_thread.store(pages, Ordering::Relaxed),
                    Err(error) => {
                        tracing::warn!(%error, "WAL checkpoint failed; a later commit asks again")
                    }
                }
            }
        })
        .map_err(|e| StoreError::Config(format!("cannot start the checkpointer: {e}")))?;
    Ok(Box::new(move |pages| {
        metrics::gauge!("store_wal_pages").set(pages);
        gate.set_log_is_long(pages >= RESTART_PAGES);
        if pages >= WRITER_CHECKPOINT_PAGES {
            metrics::counter!("store_writer_checkpoints_total").increment(1);
            return true;
        }
        if checkpoint_due(pages, copied.load(Ordering::Relaxed)) {
            // Asked once: the next commits see the same count until the checkpoint has run.
            if ask.try_send(()).is_ok() {
                copied.store(pages, Ordering::Relaxed);
            }
        }
        false
    }))
}

/// Whether a log of `pages`, of which the last checkpoint (asked for) copied `copied`, needs
/// another checkpoint.
fn checkpoint_due(pages: i32, copied: i32) -> bool {
    let left = uncopied(pages, copied);
    left >= CHECKPOINT_PAGES || (pages >= RESTART_PAGES && left > 0)
}

/// The pages of a log of `pages` that no checkpoint has copied, when the last one had copied
/// `copied`. A log shorter than that has started over since: none of it is copied.
fn uncopied(pages: i32, copied: i32) -> i32 {
    if pages < copied {
        pages
    } else {
        pages - copied
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A fresh WAL database at `path` (an empty file is an empty SQLite database) with one
    /// table, and its writer connection.
    fn writer(path: &Path) -> Conn {
        std::fs::File::create(path).unwrap();
        let mut conn = Conn::open_read_write(path, Duration::from_secs(5)).unwrap();
        conn.query_first("PRAGMA journal_mode = WAL", &[], |_| Ok(()))
            .unwrap();
        conn.execute("CREATE TABLE t (b BLOB)", &[]).unwrap();
        conn
    }

    /// Commits ~1,500 pages (more than CHECKPOINT_PAGES, fewer than the writer's limit).
    fn write_pages(conn: &mut Conn) {
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500) \
             INSERT INTO t SELECT randomblob(4000) FROM n",
            &[],
        )
        .unwrap();
    }

    #[test]
    fn a_checkpoint_is_due_once_enough_pages_were_added_since_the_last_one() {
        assert_eq!(uncopied(999, 0), 999);
        assert_eq!(
            uncopied(1_500, 1_000),
            500,
            "only what came after the last copy"
        );
        assert_eq!(uncopied(1_000 + CHECKPOINT_PAGES, 1_000), CHECKPOINT_PAGES);
        assert_eq!(uncopied(40, 9_000), 40, "the log started over");
        assert!(!checkpoint_due(1_000 + CHECKPOINT_PAGES - 1, 1_000));
        assert!(checkpoint_due(1_000 + CHECKPOINT_PAGES, 1_000));
        assert!(
            checkpoint_due(9_510, 9_500),
            "a long log: after every commit"
        );
        assert!(!checkpoint_due(9_510, 9_510), "unless nothing was added");
    }

    fn size(path: &Path) -> u64 {
        std::fs::metadata(path).unwrap().len()
    }

    #[test]
    fn with_a_wal_hook_a_commit_does_not_checkpoint_unless_the_hook_asks() {
        let dir = tempfile::tempdir().unwrap();
        let (quiet, asking) = (dir.path().join("quiet.db"), dir.path().join("asking.db"));

        let mut conn = writer(&quiet);
        conn.set_wal_hook(Box::new(|_| false));
        let before = size(&quiet);
        write_pages(&mut conn);
        assert_eq!(size(&quiet), before, "the pages stay in the log");

        let mut conn = writer(&asking);
        conn.set_wal_hook(Box::new(|pages| pages >= 1000));
        let before = size(&asking);
        write_pages(&mut conn);
        assert!(
            size(&asking) > before + 4_000_000,
            "the commit itself copied the log into the database file"
        );
    }

    #[test]
    fn the_checkpointer_thread_copies_a_long_log_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let mut conn = writer(&path);
        conn.set_wal_hook(start(&path, Duration::from_secs(5), SnapshotGate::default()).unwrap());
        let before = size(&path);
        write_pages(&mut conn);
        let deadline = Instant::now() + Duration::from_secs(30);
        while size(&path) <= before + 4_000_000 {
            assert!(Instant::now() < deadline, "no checkpoint within 30 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
