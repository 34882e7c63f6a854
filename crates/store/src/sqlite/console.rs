//! The admin console's users, sessions and overview counts in SQLite. Console writes are rare
//! (a sign-in, a sign-out), so they use the writer connection directly, not group commit.

use super::SqliteStore;
use super::rows::{from_millis, millis};
use crate::console::{ConsoleOverview, ConsoleSession, ConsoleStore, ConsoleUser, DeviceGroup};
use crate::error::{StoreError, StoreResult};
use crate::metrics::timed;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

const USER_COLUMNS: &str = "user_id, email, tenant_id, password_hash, created_at";

fn user_from_row(row: &SqliteRow) -> StoreResult<ConsoleUser> {
    Ok(ConsoleUser {
        user_id: row.try_get("user_id")?,
        email: row.try_get("email")?,
        tenant_id: row.try_get("tenant_id")?,
        password_hash: row.try_get("password_hash")?,
        created_at: from_millis(row.try_get("created_at")?)?,
    })
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn conflict_on_unique(error: sqlx::Error, what: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(what.to_owned())
        }
        _ => StoreError::Database(error),
    }
}

#[async_trait]
impl ConsoleStore for SqliteStore {
    async fn create_console_user(&self, user: ConsoleUser) -> StoreResult<ConsoleUser> {
        timed("create_console_user", async {
            sqlx::query(
                "INSERT INTO console_users (user_id, email, tenant_id, password_hash, created_at) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&user.user_id)
            .bind(&user.email)
            .bind(&user.tenant_id)
            .bind(&user.password_hash)
            .bind(millis(user.created_at))
            .execute(&self.writer)
            .await
            .map_err(|e| conflict_on_unique(e, &format!("console user {:?}", user.email)))?;
            Ok(user)
        })
        .await
    }

    async fn list_console_users(&self, tenant_id: Option<&str>) -> StoreResult<Vec<ConsoleUser>> {
        timed("list_console_users", async {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM console_users WHERE tenant_id IS ? ORDER BY email"
            )))
            .bind(tenant_id)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(user_from_row)
            .collect()
        })
        .await
    }

    async fn console_user_by_email(&self, email: &str) -> StoreResult<Option<ConsoleUser>> {
        timed("console_user_by_email", async {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM console_users WHERE email = ?"
            )))
            .bind(email)
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
        })
        .await
    }

    async fn set_console_password(&self, user_id: &str, password_hash: &str) -> StoreResult<bool> {
        timed("set_console_password", async {
            let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
            let changed =
                sqlx::query("UPDATE console_users SET password_hash = ? WHERE user_id = ?")
                    .bind(password_hash)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            sqlx::query("DELETE FROM console_sessions WHERE user_id = ?")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(changed > 0)
        })
        .await
    }

    async fn delete_console_user(&self, user_id: &str) -> StoreResult<bool> {
        timed("delete_console_user", async {
            let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
            sqlx::query("DELETE FROM console_sessions WHERE user_id = ?")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            let deleted = sqlx::query("DELETE FROM console_users WHERE user_id = ?")
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn create_console_session(&self, session: ConsoleSession) -> StoreResult<()> {
        timed("create_console_session", async {
            sqlx::query(
                "INSERT INTO console_sessions (token_digest, user_id, tenant_id, created_at, expires_at) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&session.token_digest)
            .bind(&session.user_id)
            .bind(&session.tenant_id)
            .bind(millis(session.created_at))
            .bind(millis(session.expires_at))
            .execute(&self.writer)
            .await?;
            Ok(())
        })
        .await
    }

    async fn console_session(
        &self,
        token_digest: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(ConsoleSession, ConsoleUser)>> {
        timed("console_session", async {
            let row = sqlx::query(
                "SELECT s.token_digest, s.tenant_id AS session_tenant, s.created_at AS session_created, \
                 s.expires_at, u.user_id, u.email, u.tenant_id, u.password_hash, u.created_at \
                 FROM console_sessions s JOIN console_users u ON u.user_id = s.user_id \
                 WHERE s.token_digest = ? AND s.expires_at > ?",
            )
            .bind(token_digest)
            .bind(millis(now))
            .fetch_optional(&self.reader)
            .await?;
            let Some(row) = row else { return Ok(None) };
            let user = user_from_row(&row)?;
            let session = ConsoleSession {
                token_digest: row.try_get("token_digest")?,
                user_id: user.user_id.clone(),
                tenant_id: row.try_get("session_tenant")?,
                created_at: from_millis(row.try_get("session_created")?)?,
                expires_at: from_millis(row.try_get("expires_at")?)?,
            };
            Ok(Some((session, user)))
        })
        .await
    }

    async fn set_console_session_tenant(
        &self,
        token_digest: &str,
        tenant_id: &str,
    ) -> StoreResult<bool> {
        timed("set_console_session_tenant", async {
            let changed =
                sqlx::query("UPDATE console_sessions SET tenant_id = ? WHERE token_digest = ?")
                    .bind(tenant_id)
                    .bind(token_digest)
                    .execute(&self.writer)
                    .await?
                    .rows_affected();
            Ok(changed > 0)
        })
        .await
    }

    async fn delete_console_session(&self, token_digest: &str) -> StoreResult<bool> {
        timed("delete_console_session", async {
            let deleted = sqlx::query("DELETE FROM console_sessions WHERE token_digest = ?")
                .bind(token_digest)
                .execute(&self.writer)
                .await?
                .rows_affected();
            Ok(deleted > 0)
        })
        .await
    }

    async fn prune_console_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        timed("prune_console_sessions", async {
            Ok(
                sqlx::query("DELETE FROM console_sessions WHERE expires_at <= ?")
                    .bind(millis(now))
                    .execute(&self.writer)
                    .await?
                    .rows_affected(),
            )
        })
        .await
    }

    async fn console_overview(
        &self,
        tenant_id: &str,
        events_since: DateTime<Utc>,
    ) -> StoreResult<ConsoleOverview> {
        timed("console_overview", overview(self, tenant_id, events_since)).await
    }
}

/// Four read-only aggregate queries; each scans one tenant's rows (an overview is asked for
/// by a person, not per request of the API).
async fn overview(
    store: &SqliteStore,
    tenant_id: &str,
    events_since: DateTime<Utc>,
) -> StoreResult<ConsoleOverview> {
    let customers: i64 = sqlx::query_scalar("SELECT count(*) FROM customers WHERE tenant_id = ?")
        .bind(tenant_id)
        .fetch_one(&store.reader)
        .await?;
    let devices = sqlx::query(
        "SELECT json_extract(attributes, '$.channelType') AS channel_type, \
         json_extract(attributes, '$.os') AS os, json_extract(attributes, '$.status') AS status, \
         count(*) AS n FROM app_profiles WHERE tenant_id = ? GROUP BY 1, 2, 3",
    )
    .bind(tenant_id)
    .fetch_all(&store.reader)
    .await?
    .iter()
    .map(|row| {
        Ok(DeviceGroup {
            channel_type: row.try_get("channel_type")?,
            os: row.try_get("os")?,
            status: row.try_get("status")?,
            count: count(row.try_get("n")?),
        })
    })
    .collect::<StoreResult<Vec<_>>>()?;
    let attribute_counts = sqlx::query(
        "SELECT j.key AS key, count(*) AS n FROM app_profiles, json_each(app_profiles.attributes) AS j \
         WHERE app_profiles.tenant_id = ? GROUP BY j.key ORDER BY j.key",
    )
    .bind(tenant_id)
    .fetch_all(&store.reader)
    .await?
    .iter()
    .map(|row| Ok((row.try_get("key")?, count(row.try_get("n")?))))
    .collect::<StoreResult<Vec<_>>>()?;
    let first_seq = first_seq_since(store, tenant_id, millis(events_since)).await?;
    let events_per_minute = sqlx::query(
        "SELECT occurred_at / 60000 AS minute, count(*) AS n FROM outbox \
         WHERE tenant_id = ? AND seq >= ? AND occurred_at >= ? GROUP BY 1 ORDER BY 1",
    )
    .bind(tenant_id)
    .bind(first_seq)
    .bind(millis(events_since))
    .fetch_all(&store.reader)
    .await?
    .iter()
    .map(|row| Ok((row.try_get("minute")?, count(row.try_get("n")?))))
    .collect::<StoreResult<Vec<_>>>()?;
    Ok(ConsoleOverview {
        customers: count(customers),
        devices,
        attribute_counts,
        events_per_minute,
    })
}

/// The first seq of the tenant's log that occurred at or after `since` (ms), by bisection over
/// its seq range: the log has no index on time (see migration 7), and its times grow with seq.
async fn first_seq_since(store: &SqliteStore, tenant_id: &str, since: i64) -> StoreResult<i64> {
    let occurred_at_or_after = |seq: i64| {
        sqlx::query_scalar::<_, i64>(
            "SELECT occurred_at FROM outbox WHERE tenant_id = ? AND seq >= ? ORDER BY seq LIMIT 1",
        )
        .bind(tenant_id)
        .bind(seq)
        .fetch_optional(&store.reader)
    };
    // One aggregate per statement: SQLite answers a lone MIN or MAX from the index's end, but
    // both in one statement by scanning the tenant's whole log.
    let end = |sql| {
        sqlx::query_scalar::<_, Option<i64>>(sql)
            .bind(tenant_id)
            .fetch_one(&store.reader)
    };
    let mut low = end("SELECT MIN(seq) FROM outbox WHERE tenant_id = ?")
        .await?
        .unwrap_or(0);
    let mut high = end("SELECT MAX(seq) FROM outbox WHERE tenant_id = ?")
        .await?
        .map_or(0, |last| last + 1);
    // Invariant: every seq below `low` occurred before `since`; `high` is past the answer.
    while low < high {
        let middle = low + (high - low) / 2;
        match occurred_at_or_after(middle).await? {
            Some(occurred_at) if occurred_at < since => low = middle + 1,
            _ => high = middle,
        }
    }
    Ok(low)
}
