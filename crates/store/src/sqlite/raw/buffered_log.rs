//! A VFS over SQLite's default one that writes a commit's log frames in one system call.
//!
//! SQLite appends a page to the write-ahead log as two writes, the frame's 24-byte header and
//! then the page: a group commit of ~27 pages made ~54 `pwrite`s before its `fdatasync`
//! (counted with `perf trace` on the group writer), each one a trip through the kernel and
//! ext4's write path. Through this VFS the log's appends are gathered in memory, as long as
//! each one starts where the last ended, and written out in one `pwrite` before anything else
//! is done with the file: a sync, a read, a truncation, a size query, a lock, a file control,
//! a write somewhere else, or closing it. Writes to every other file go straight through.
//!
//! Why that keeps the log's meaning: SQLite assumes nothing of a write until it syncs the
//! file, and the sync writes the appends out first, so what is durable is unchanged. Other
//! connections read the log through their own handles, and only frames that a commit has
//! published in the WAL index, which SQLite does after the commit's sync. That holds only
//! with `synchronous = FULL`, where every commit syncs the log: with NORMAL a commit would
//! publish frames still held here. [`super::Conn::open_buffered_log`] therefore sets FULL
//! itself, and nothing else opens a connection through this VFS.

use libsqlite3_sys as ffi;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicPtr, Ordering};

/// The name connections open with to use this VFS.
pub(super) const NAME: &CStr = c"profilestore-buffered-log";

/// Appends gathered past this are written out at once, so a huge transaction's log is not
/// held twice in memory (a group of 100-record batches logs a few MiB).
const WRITE_OUT_AT: usize = 1 << 20;

/// The most the default (unix) VFS writes in one call: it keeps only the low 17 bits of a
/// write's length (`seekAndWriteFd`), so a longer write would come out short.
const MOST_PER_WRITE: usize = 0x1ffff;

/// The default VFS this one forwards to.
static UNDERLYING: AtomicPtr<ffi::sqlite3_vfs> = AtomicPtr::new(std::ptr::null_mut());

/// Registers the VFS (once per process); returns SQLite's result code.
pub(super) fn register() -> c_int {
    static REGISTERED: OnceLock<c_int> = OnceLock::new();
    *REGISTERED.get_or_init(|| unsafe {
        let underlying = ffi::sqlite3_vfs_find(std::ptr::null());
        if underlying.is_null() {
            return ffi::SQLITE_ERROR;
        }
        UNDERLYING.store(underlying, Ordering::Release);
        // Everything but opening a file (and the size of one) is the default VFS's own:
        // its functions are handed this copy, which carries its app data and limits.
        let vfs = Box::leak(Box::new(ffi::sqlite3_vfs {
            szOsFile: (size_of::<File>() + (*underlying).szOsFile as usize) as c_int,
            pNext: std::ptr::null_mut(),
            zName: NAME.as_ptr(),
            xOpen: Some(open),
            ..*underlying
        }));
        ffi::sqlite3_vfs_register(vfs, 0)
    })
}

/// What SQLite allocates for a file of this VFS (`szOsFile` bytes): this header, then the
/// default VFS's own file, which `inner` points to.
#[repr(C)]
struct File {
    base: ffi::sqlite3_file,
    inner: *mut ffi::sqlite3_file,
    /// The log's appends not yet written; null for every other file.
    appends: *mut Appends,
}

/// Bytes to be written at `start`, in one piece.
#[derive(Default)]
struct Appends {
    start: i64,
    bytes: Vec<u8>,
}

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let underlying = UNDERLYING.load(Ordering::Acquire);
    let this = file.cast::<File>();
    unsafe {
        let inner = file
            .cast::<u8>()
            .add(size_of::<File>())
            .cast::<ffi::sqlite3_file>();
        let xopen = (*underlying).xOpen.expect("every VFS opens files");
        let code = xopen(underlying, name, inner, flags, out_flags);
        // SQLite closes a file after a failed open only if its methods are set.
        if (*inner).pMethods.is_null() {
            (*this).base.pMethods = std::ptr::null();
            return code;
        }
        (*this).inner = inner;
        (*this).appends = if flags & ffi::SQLITE_OPEN_WAL != 0 {
            Box::into_raw(Box::default())
        } else {
            std::ptr::null_mut()
        };
        (*this).base.pMethods = &METHODS;
        code
    }
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

/// The file SQLite passed, and the default VFS's methods for its inner file.
///
/// SAFETY (for every caller): `file` was opened by [`open`], which set its methods to
/// [`METHODS`], so it is a [`File`] whose `inner` is open; SQLite calls a file's methods from
/// one thread at a time.
unsafe fn parts<'f>(file: *mut ffi::sqlite3_file) -> (&'f mut File, &'f ffi::sqlite3_io_methods) {
    unsafe {
        let this = &mut *file.cast::<File>();
        let methods = &*(*this.inner).pMethods;
        (this, methods)
    }
}

/// Writes out the appends held for `this` (a log), if any.
unsafe fn write_out(this: &mut File, methods: &ffi::sqlite3_io_methods) -> c_int {
    let Some(appends) = (unsafe { this.appends.as_mut() }) else {
        return ffi::SQLITE_OK;
    };
    if appends.bytes.is_empty() {
        return ffi::SQLITE_OK;
    }
    let xwrite = methods.xWrite.expect("every file is writable");
    let mut code = ffi::SQLITE_OK;
    let mut offset = appends.start;
    for piece in appends.bytes.chunks(MOST_PER_WRITE) {
        #[cfg(test)]
        tests::LOG_WRITES.with(|writes| writes.set(writes.get() + 1));
        code = unsafe {
            xwrite(
                this.inner,
                piece.as_ptr().cast(),
                piece.len() as c_int,
                offset,
            )
        };
        if code != ffi::SQLITE_OK {
            break;
        }
        offset += piece.len() as i64;
    }
    // Written or failed, they are gone: a failure fails the call that needed them (a sync
    // fails the commit), and SQLite writes the frames of any later commit again.
    appends.bytes.clear();
    code
}

/// Forwards a call to the inner file once the appends are written out.
macro_rules! after_write_out {
    ($file:expr, $method:ident ( $($arg:expr),* )) => {{
        let (this, methods) = unsafe { parts($file) };
        let code = unsafe { write_out(this, methods) };
        if code != ffi::SQLITE_OK {
            return code;
        }
        let method = methods.$method.expect(concat!("the default VFS has ", stringify!($method)));
        unsafe { method(this.inner $(, $arg)*) }
    }};
}

/// Forwards a call that neither reads nor changes the file's contents.
macro_rules! straight {
    ($file:expr, $method:ident ( $($arg:expr),* )) => {{
        let (this, methods) = unsafe { parts($file) };
        let method = methods.$method.expect(concat!("the default VFS has ", stringify!($method)));
        unsafe { method(this.inner $(, $arg)*) }
    }};
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    let (this, methods) = unsafe { parts(file) };
    let Some(appends) = (unsafe { this.appends.as_ref() }) else {
        let xwrite = methods.xWrite.expect("every file is writable");
        return unsafe { xwrite(this.inner, data, amount, offset) };
    };
    let continues = appends.start + appends.bytes.len() as i64 == offset;
    if !appends.bytes.is_empty() && !continues {
        let code = unsafe { write_out(this, methods) };
        if code != ffi::SQLITE_OK {
            return code;
        }
    }
    let appends = unsafe { &mut *this.appends };
    if appends.bytes.is_empty() {
        appends.start = offset;
    }
    // SAFETY: SQLite hands `amount` readable bytes at `data`.
    let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), amount as usize) };
    appends.bytes.extend_from_slice(bytes);
    if appends.bytes.len() >= WRITE_OUT_AT {
        return unsafe { write_out(this, methods) };
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    let (this, methods) = unsafe { parts(file) };
    let written = unsafe { write_out(this, methods) };
    let xclose = methods.xClose.expect("every file closes");
    let closed = unsafe { xclose(this.inner) };
    if !this.appends.is_null() {
        drop(unsafe { Box::from_raw(this.appends) });
        this.appends = std::ptr::null_mut();
    }
    if written != ffi::SQLITE_OK {
        written
    } else {
        closed
    }
}

unsafe extern "C" fn read(
    file: *mut ffi::sqlite3_file,
    data: *mut c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    after_write_out!(file, xRead(data, amount, offset))
}

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    after_write_out!(file, xTruncate(size))
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    after_write_out!(file, xSync(flags))
}

unsafe extern "C" fn file_size(file: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    after_write_out!(file, xFileSize(size))
}

unsafe extern "C" fn lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    after_write_out!(file, xLock(level))
}

unsafe extern "C" fn unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    after_write_out!(file, xUnlock(level))
}

unsafe extern "C" fn check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    after_write_out!(file, xCheckReservedLock(out))
}

unsafe extern "C" fn file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    after_write_out!(file, xFileControl(op, arg))
}

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    straight!(file, xSectorSize())
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    straight!(file, xDeviceCharacteristics())
}

// The shared-memory and memory-map methods are called on the database file, never on the log,
// so there is nothing held to write out.

unsafe extern "C" fn shm_map(
    file: *mut ffi::sqlite3_file,
    region: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    straight!(file, xShmMap(region, size, extend, out))
}

unsafe extern "C" fn shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    straight!(file, xShmLock(offset, n, flags))
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    straight!(file, xShmBarrier())
}

unsafe extern "C" fn shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    straight!(file, xShmUnmap(delete))
}

unsafe extern "C" fn fetch(
    file: *mut ffi::sqlite3_file,
    offset: i64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    straight!(file, xFetch(offset, amount, out))
}

unsafe extern "C" fn unfetch(
    file: *mut ffi::sqlite3_file,
    offset: i64,
    page: *mut c_void,
) -> c_int {
    straight!(file, xUnfetch(offset, page))
}

#[cfg(test)]
mod tests {
    use super::super::Conn;
    use std::cell::Cell;
    use std::path::Path;
    use std::time::Duration;

    thread_local! {
        /// Writes of gathered appends made on this thread (a connection's calls run on the
        /// thread that uses it, so other tests' logs do not count here).
        pub(super) static LOG_WRITES: Cell<usize> = const { Cell::new(0) };
    }

    fn count(conn: &mut Conn) -> i64 {
        conn.query_first("SELECT count(*) FROM t", &[], |row| Ok(row.int(0)))
            .unwrap()
            .unwrap()
    }

    /// A WAL database at `path` with the table `t`, made through the default VFS.
    fn create(path: &Path) {
        std::fs::File::create(path).unwrap();
        let mut conn = Conn::open_read_write(path, Duration::from_secs(5)).unwrap();
        conn.query_first("PRAGMA journal_mode = WAL", &[], |_| Ok(()))
            .unwrap();
        conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, b BLOB)", &[])
            .unwrap();
    }

    /// Commits of every size (a few pages; past the default VFS's 128 KiB a write; past what
    /// is held in memory; spilled from a small cache before the commit; rolled back after a
    /// spill) are whole, at once, for a connection through the default VFS, and the database
    /// is sound after the log is copied into it and after it is opened again.
    #[test]
    fn every_commit_is_whole_for_another_connection_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.db");
        create(&path);
        let mut writer = Conn::open_buffered_log(&path, Duration::from_secs(5)).unwrap();
        // 40 pages of cache: a large transaction writes frames to the log before its commit.
        writer.execute("PRAGMA cache_size = 40", &[]).unwrap();
        let mut reader = Conn::open_read_only(&path, Duration::from_secs(5)).unwrap();
        let mut expected = 0;
        for rows in [1, 3, 40, 300, 1, 700, 2] {
            writer.execute("BEGIN IMMEDIATE", &[]).unwrap();
            for _ in 0..rows {
                writer
                    .execute("INSERT INTO t (b) VALUES (randomblob(3000))", &[])
                    .unwrap();
            }
            writer
                .execute("UPDATE t SET b = randomblob(100) WHERE n % 7 = 0", &[])
                .unwrap();
            writer.execute("COMMIT", &[]).unwrap();
            expected += rows;
            assert_eq!(
                count(&mut reader),
                expected,
                "after a commit of {rows} rows"
            );
        }
        // Spilled, then undone: the next commit overwrites those frames.
        writer.execute("BEGIN IMMEDIATE", &[]).unwrap();
        for _ in 0..200 {
            writer
                .execute("INSERT INTO t (b) VALUES (randomblob(3000))", &[])
                .unwrap();
        }
        writer.execute("ROLLBACK", &[]).unwrap();
        writer
            .execute("INSERT INTO t (b) VALUES (randomblob(10))", &[])
            .unwrap();
        expected += 1;
        assert_eq!(count(&mut reader), expected);

        writer.checkpoint().unwrap();
        drop((writer, reader));
        let mut reopened = Conn::open_read_only(&path, Duration::from_secs(5)).unwrap();
        assert_eq!(count(&mut reopened), expected);
        let check = reopened
            .query_first("PRAGMA integrity_check", &[], |row| {
                Ok(row.text(0)?.to_owned())
            })
            .unwrap();
        assert_eq!(check.as_deref(), Some("ok"));
    }

    /// What the VFS is for: a commit of many pages reaches the log in one write, not two per
    /// page.
    #[test]
    fn a_commit_of_many_pages_writes_the_log_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        create(&path);
        let mut writer = Conn::open_buffered_log(&path, Duration::from_secs(5)).unwrap();
        // The first commit also writes a new log's header, synced on its own.
        writer
            .execute("INSERT INTO t (b) VALUES (randomblob(10))", &[])
            .unwrap();
        writer.execute("BEGIN IMMEDIATE", &[]).unwrap();
        for _ in 0..20 {
            writer
                .execute("INSERT INTO t (b) VALUES (randomblob(3000))", &[])
                .unwrap();
        }
        let before = LOG_WRITES.with(Cell::get);
        writer.execute("COMMIT", &[]).unwrap();
        // ~22 frames of 4,120 bytes: one write (two per page without this VFS).
        assert_eq!(LOG_WRITES.with(Cell::get) - before, 1);
    }

    /// The VFS syncs every commit: without it, a commit would publish frames still in memory.
    #[test]
    fn a_buffered_log_connection_syncs_every_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        create(&path);
        let mut writer = Conn::open_buffered_log(&path, Duration::from_secs(5)).unwrap();
        let level = writer
            .query_first("PRAGMA synchronous", &[], |row| Ok(row.int(0)))
            .unwrap();
        assert_eq!(level, Some(2), "FULL");
    }
}
