//! Checkpoints the write-ahead log on a thread of its own, so the writer never does.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold: that group
//! of writes then waits while pages are copied into the database file and synced (~8 % of the
//! writer's time under load, measured). Here the writer's commit only tells this thread how big
//! the log is; the thread runs a PASSIVE checkpoint (it copies what no reader still needs and
//! never blocks the writer or a reader) on a connection of its own.
//!
//! The log can only start over from its beginning once a checkpoint has copied all of it, and
//! under a steady load the writer appends while this thread copies: the log would grow without
//! end. So past a hard limit the writer checkpoints itself, after its commit (only what this
//! thread has not copied yet is left to copy), and the log starts over at the next group.

use super::raw::{Conn, WalHook};
use crate::error::{StoreError, StoreResult};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// Log size (pages) from which a checkpoint is asked for: SQLite's own default threshold.
const CHECKPOINT_PAGES: i32 = 1000;
/// Log size (pages, ~40 MiB) from which the writer checkpoints itself.
const WRITER_CHECKPOINT_PAGES: i32 = 10_000;

/// Starts the checkpointer and returns the hook the writer's connection calls after each
/// commit. The thread ends when the hook is dropped (with the writer's connection).
pub(crate) fn start(path: &Path, busy_timeout: Duration) -> StoreResult<WalHook> {
    let mut conn = Conn::open_read_write(path, busy_timeout)?;
    // A checkpoint syncs the database file before the log may be reused.
    conn.execute("PRAGMA synchronous = FULL", &[])?;
    // One pending request is enough: a checkpoint copies everything committed before it.
    let (ask, asked) = mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while asked.recv().is_ok() {
                if let Err(error) = conn.checkpoint() {
                    tracing::warn!(%error, "WAL checkpoint failed; the next commit asks again");
                }
            }
        })
        .map_err(|e| StoreError::Config(format!("cannot start the checkpointer: {e}")))?;
    Ok(Box::new(move |pages| {
        if pages >= CHECKPOINT_PAGES {
            let _ = ask.try_send(());
        }
        pages >= WRITER_CHECKPOINT_PAGES
    }))
}
