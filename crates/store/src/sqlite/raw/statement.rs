//! One prepared SQLite statement, driven through the C API: bind, step, read columns, reset.
//! Every `unsafe` block of the raw layer that touches a statement is here.

use crate::error::{StoreError, StoreResult};
use libsqlite3_sys as ffi;
use std::ffi::{CStr, c_int};
use std::ptr::NonNull;

/// A value bound to a `?` of a statement.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(text: &'a str) -> Self {
        Value::Text(text)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(text: &'a String) -> Self {
        Value::Text(text)
    }
}

impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Value::Blob(bytes)
    }
}

impl From<bool> for Value<'_> {
    fn from(flag: bool) -> Self {
        Value::Int(i64::from(flag))
    }
}

impl From<i64> for Value<'_> {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Null, Into::into)
    }
}

/// A prepared statement of one connection. It is finalized when dropped, which its owner
/// ([`super::Conn`]) does before the connection is closed or handed back to sqlx.
pub(crate) struct Statement {
    raw: NonNull<ffi::sqlite3_stmt>,
    db: NonNull<ffi::sqlite3>,
}

// A statement is only used by the one thread that holds its connection at a time.
unsafe impl Send for Statement {}

impl Statement {
    /// How often SQLite has prepared this statement again since it was first prepared.
    #[cfg(test)]
    pub(super) fn times_prepared_again(&self) -> c_int {
        unsafe { ffi::sqlite3_stmt_status(self.raw.as_ptr(), ffi::SQLITE_STMTSTATUS_REPREPARE, 0) }
    }

    pub(super) fn prepare(db: NonNull<ffi::sqlite3>, sql: &str) -> StoreResult<Statement> {
        let mut raw = std::ptr::null_mut();
        let length = c_int::try_from(sql.len())
            .map_err(|_| StoreError::Sqlite("statement too long".into()))?;
        // PERSISTENT: the statement is cached and reused, so SQLite keeps it out of lookaside.
        let code = unsafe {
            ffi::sqlite3_prepare_v3(
                db.as_ptr(),
                sql.as_ptr().cast(),
                length,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut raw,
                std::ptr::null_mut(),
            )
        };
        if code != ffi::SQLITE_OK {
            return Err(error(db, code, sql));
        }
        let raw = NonNull::new(raw)
            .ok_or_else(|| StoreError::Sqlite(format!("empty statement: {sql}")))?;
        Ok(Statement { raw, db })
    }

    /// Binds `params` to `?1..?n`, runs `each` on every row, and leaves the statement reset
    /// with no bindings, whatever happens (the text and blob bindings borrow `params`).
    pub(super) fn run(
        &mut self,
        params: &[Value<'_>],
        each: &mut dyn FnMut(&Row<'_>) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let outcome = self.bind_all(params).and_then(|()| {
            loop {
                match unsafe { ffi::sqlite3_step(self.raw.as_ptr()) } {
                    ffi::SQLITE_ROW => each(&Row { statement: self })?,
                    ffi::SQLITE_DONE => break Ok(()),
                    code => break Err(error(self.db, code, self.sql())),
                }
            }
        });
        unsafe {
            ffi::sqlite3_reset(self.raw.as_ptr());
            ffi::sqlite3_clear_bindings(self.raw.as_ptr());
        }
        outcome
    }

    fn bind_all(&mut self, params: &[Value<'_>]) -> StoreResult<()> {
        let statement = self.raw.as_ptr();
        for (index, value) in params.iter().enumerate() {
            let index = index as c_int + 1;
            // SQLITE_STATIC: the bytes live in `params`, which outlives the run; `run` clears
            // the bindings before it returns.
            let code = unsafe {
                match *value {
                    Value::Null => ffi::sqlite3_bind_null(statement, index),
                    Value::Int(n) => ffi::sqlite3_bind_int64(statement, index, n),
                    Value::Text(text) => ffi::sqlite3_bind_text64(
                        statement,
                        index,
                        text.as_ptr().cast(),
                        text.len() as u64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                    Value::Blob(bytes) => ffi::sqlite3_bind_blob64(
                        statement,
                        index,
                        bytes.as_ptr().cast(),
                        bytes.len() as u64,
                        ffi::SQLITE_STATIC(),
                    ),
                }
            };
            if code != ffi::SQLITE_OK {
                return Err(error(self.db, code, self.sql()));
            }
        }
        Ok(())
    }

    fn sql(&self) -> &str {
        let text = unsafe { ffi::sqlite3_sql(self.raw.as_ptr()) };
        if text.is_null() {
            return "";
        }
        unsafe { CStr::from_ptr(text) }.to_str().unwrap_or("")
    }
}

impl Drop for Statement {
    fn drop(&mut self) {
        unsafe {
            ffi::sqlite3_finalize(self.raw.as_ptr());
        }
    }
}

/// The current row of a running statement; columns are read by position.
pub(crate) struct Row<'s> {
    statement: &'s Statement,
}

impl Row<'_> {
    fn column_type(&self, index: usize) -> c_int {
        unsafe { ffi::sqlite3_column_type(self.statement.raw.as_ptr(), index as c_int) }
    }

    pub(crate) fn int(&self, index: usize) -> i64 {
        unsafe { ffi::sqlite3_column_int64(self.statement.raw.as_ptr(), index as c_int) }
    }

    /// An INTEGER column; NULL is `None`.
    pub(crate) fn int_opt(&self, index: usize) -> Option<i64> {
        (self.column_type(index) != ffi::SQLITE_NULL).then(|| self.int(index))
    }

    pub(crate) fn flag(&self, index: usize) -> bool {
        self.int(index) != 0
    }

    /// A BLOB column (NULL reads as empty).
    pub(crate) fn blob(&self, index: usize) -> Vec<u8> {
        let statement = self.statement.raw.as_ptr();
        let column = index as c_int;
        unsafe {
            let data = ffi::sqlite3_column_blob(statement, column).cast::<u8>();
            let length = ffi::sqlite3_column_bytes(statement, column) as usize;
            if data.is_null() || length == 0 {
                Vec::new()
            } else {
                std::slice::from_raw_parts(data, length).to_vec()
            }
        }
    }

    /// A TEXT column; NULL is `None`.
    pub(crate) fn text_opt(&self, index: usize) -> StoreResult<Option<&str>> {
        if self.column_type(index) == ffi::SQLITE_NULL {
            return Ok(None);
        }
        let bytes = self.text_bytes(index);
        std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("column {index} is not UTF-8: {e}")))
    }

    pub(crate) fn text(&self, index: usize) -> StoreResult<&str> {
        self.text_opt(index)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {index} is NULL")))
    }

    fn text_bytes(&self, index: usize) -> &[u8] {
        let statement = self.statement.raw.as_ptr();
        let column = index as c_int;
        // The pointer stays valid until the next step or reset, which `&self` rules out.
        unsafe {
            let data = ffi::sqlite3_column_text(statement, column);
            let length = ffi::sqlite3_column_bytes(statement, column) as usize;
            if data.is_null() || length == 0 {
                &[]
            } else {
                std::slice::from_raw_parts(data, length)
            }
        }
    }
}

/// The connection's error message for a failed call, with the statement it ran.
pub(super) fn error(db: NonNull<ffi::sqlite3>, code: c_int, sql: &str) -> StoreError {
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) }
        .to_string_lossy()
        .into_owned();
    let statement: String = sql.chars().take(80).collect();
    StoreError::Sqlite(format!("{message} (code {code}) in {statement}"))
}
