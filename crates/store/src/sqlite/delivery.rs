//! Event delivery state in SQLite: webhooks, their attempts, relay cursors and retention.
//! Writes go through the group writer, so a relay's progress shares the profile writes' fsync.

use super::SqliteStore;
use super::rows::{from_millis, millis};
use super::writer::GroupWriter;
use crate::doorbell::Doorbell;
use crate::error::StoreResult;
use crate::event_delivery::EventDelivery;
use crate::metrics::timed;
use crate::model::SealedSecret;
use crate::webhooks::{DeliveryAttempt, DeliveryState, NewWebhook, Webhook, WebhookChange};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

/// Rows deleted per retention transaction, so that pruning never holds the writer for long.
const PRUNE_BATCH: i64 = 5_000;

fn webhook_from_row(row: &SqliteRow) -> StoreResult<Webhook> {
    let event_types: String = row.try_get("event_types")?;
    let attributes: String = row.try_get("attributes")?;
    Ok(Webhook {
        tenant_id: row.try_get("tenant_id")?,
        webhook_id: row.try_get("webhook_id")?,
        url: row.try_get("url")?,
        event_types: serde_json::from_str(&event_types)?,
        attributes: serde_json::from_str(&attributes)?,
        enabled: row.try_get("enabled")?,
        secret: SealedSecret {
            digest: row.try_get("secret_digest")?,
            sealed: row.try_get("secret_sealed")?,
        },
        created_at: from_millis(row.try_get("created_at")?)?,
        updated_at: from_millis(row.try_get("updated_at")?)?,
        state: DeliveryState {
            cursor: row.try_get("cursor")?,
            attempts: row.try_get::<i64, _>("attempts")?.try_into().unwrap_or(0),
            failing_since: row
                .try_get::<Option<i64>, _>("failing_since")?
                .map(from_millis)
                .transpose()?,
            next_attempt_at: from_millis(row.try_get("next_attempt_at")?)?,
            disabled_reason: row.try_get("disabled_reason")?,
        },
    })
}

pub(super) async fn latest_seq(reader: &SqlitePool, tenant: &str) -> StoreResult<i64> {
    let seq: Option<i64> =
        sqlx::query_scalar("SELECT last_seq FROM event_sequences WHERE tenant_id = ?")
            .bind(tenant)
            .fetch_optional(reader)
            .await?;
    Ok(seq.unwrap_or(0))
}

pub(super) async fn create(
    group: &GroupWriter,
    tenant: &str,
    webhook_id: String,
    new: NewWebhook,
    now: DateTime<Utc>,
) -> StoreResult<Webhook> {
    let tenant = tenant.to_owned();
    group
        .write(move |tx| {
            Box::pin(async move {
                // A new webhook receives the events written after it exists.
                let row = sqlx::query(
                    "INSERT INTO webhooks (tenant_id, webhook_id, url, event_types, attributes, enabled, \
                     secret_digest, secret_sealed, created_at, updated_at, cursor, next_attempt_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, \
                     COALESCE((SELECT last_seq FROM event_sequences WHERE tenant_id = ?1), 0), ?9) \
                     RETURNING *",
                )
                .bind(&tenant)
                .bind(&webhook_id)
                .bind(&new.url)
                .bind(serde_json::to_string(&new.event_types)?)
                .bind(serde_json::to_string(&new.attributes)?)
                .bind(new.enabled)
                .bind(&new.secret.digest)
                .bind(&new.secret.sealed)
                .bind(millis(now))
                .fetch_one(&mut *tx.0)
                .await?;
                webhook_from_row(&row)
            })
        })
        .await
}

pub(super) async fn list(reader: &SqlitePool, tenant: &str) -> StoreResult<Vec<Webhook>> {
    sqlx::query("SELECT * FROM webhooks WHERE tenant_id = ? ORDER BY created_at, webhook_id")
        .bind(tenant)
        .fetch_all(reader)
        .await?
        .iter()
        .map(webhook_from_row)
        .collect()
}

pub(super) async fn get(
    reader: &SqlitePool,
    tenant: &str,
    webhook_id: &str,
) -> StoreResult<Option<Webhook>> {
    sqlx::query("SELECT * FROM webhooks WHERE tenant_id = ? AND webhook_id = ?")
        .bind(tenant)
        .bind(webhook_id)
        .fetch_optional(reader)
        .await?
        .as_ref()
        .map(webhook_from_row)
        .transpose()
}

pub(super) async fn change(
    group: &GroupWriter,
    tenant: &str,
    webhook_id: &str,
    change: WebhookChange,
    now: DateTime<Utc>,
) -> StoreResult<Option<Webhook>> {
    let (tenant, webhook_id) = (tenant.to_owned(), webhook_id.to_owned());
    group
        .write(move |tx| {
            Box::pin(async move {
                let event_types = change.event_types.as_ref().map(serde_json::to_string).transpose()?;
                let attributes = change.attributes.as_ref().map(serde_json::to_string).transpose()?;
                let restart = change.enabled == Some(true) || change.replay_from.is_some();
                // Any change takes the lease away, so a relay in the middle of a delivery
                // run stops and the next claim reads the new configuration and cursor.
                let row = sqlx::query(
                    "UPDATE webhooks SET url = COALESCE(?3, url), event_types = COALESCE(?4, event_types), \
                     attributes = COALESCE(?5, attributes), enabled = COALESCE(?6, enabled), \
                     cursor = COALESCE(?7 - 1, cursor), updated_at = ?8, lease_owner = NULL, lease_until = 0, \
                     attempts = CASE WHEN ?9 THEN 0 ELSE attempts END, \
                     failing_since = CASE WHEN ?9 THEN NULL ELSE failing_since END, \
                     next_attempt_at = CASE WHEN ?9 THEN ?8 ELSE next_attempt_at END, \
                     disabled_reason = CASE WHEN ?9 THEN NULL ELSE disabled_reason END \
                     WHERE tenant_id = ?1 AND webhook_id = ?2 RETURNING *",
                )
                .bind(&tenant)
                .bind(&webhook_id)
                .bind(&change.url)
                .bind(event_types)
                .bind(attributes)
                .bind(change.enabled)
                .bind(change.replay_from)
                .bind(millis(now))
                .bind(restart)
                .fetch_optional(&mut *tx.0)
                .await?;
                row.as_ref().map(webhook_from_row).transpose()
            })
        })
        .await
}

pub(super) async fn delete(
    group: &GroupWriter,
    tenant: &str,
    webhook_id: &str,
) -> StoreResult<bool> {
    let (tenant, webhook_id) = (tenant.to_owned(), webhook_id.to_owned());
    group
        .write(move |tx| {
            Box::pin(async move {
                sqlx::query(
                    "DELETE FROM webhook_deliveries WHERE tenant_id = ? AND webhook_id = ?",
                )
                .bind(&tenant)
                .bind(&webhook_id)
                .execute(&mut *tx.0)
                .await?;
                let deleted =
                    sqlx::query("DELETE FROM webhooks WHERE tenant_id = ? AND webhook_id = ?")
                        .bind(&tenant)
                        .bind(&webhook_id)
                        .execute(&mut *tx.0)
                        .await?
                        .rows_affected();
                Ok(deleted > 0)
            })
        })
        .await
}

pub(super) async fn deliveries(
    reader: &SqlitePool,
    tenant: &str,
    webhook_id: &str,
    limit: u32,
) -> StoreResult<Vec<DeliveryAttempt>> {
    sqlx::query(
        "SELECT * FROM webhook_deliveries WHERE tenant_id = ? AND webhook_id = ? \
         ORDER BY delivery_id DESC LIMIT ?",
    )
    .bind(tenant)
    .bind(webhook_id)
    .bind(i64::from(limit))
    .fetch_all(reader)
    .await?
    .iter()
    .map(|row| {
        Ok(DeliveryAttempt {
            attempted_at: from_millis(row.try_get("attempted_at")?)?,
            seq: row.try_get("seq")?,
            event_id: row.try_get("event_id")?,
            status: row
                .try_get::<Option<i64>, _>("status")?
                .and_then(|s| u16::try_from(s).ok()),
            error: row.try_get("error")?,
            duration_ms: row
                .try_get::<i64, _>("duration_ms")?
                .try_into()
                .unwrap_or(u32::MAX),
            succeeded: row.try_get("succeeded")?,
        })
    })
    .collect()
}

/// Webhooks due for delivery: enabled, past their backoff, not leased, behind their log.
pub(super) async fn claim(
    group: &GroupWriter,
    reader: &SqlitePool,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<Webhook>> {
    let due: Vec<(String, String)> = sqlx::query_as(
        "SELECT w.tenant_id, w.webhook_id FROM webhooks w \
         JOIN event_sequences s ON s.tenant_id = w.tenant_id \
         WHERE w.enabled = 1 AND w.next_attempt_at <= ?1 AND w.lease_until <= ?1 AND s.last_seq > w.cursor \
         LIMIT ?2",
    )
    .bind(millis(now))
    .bind(i64::from(limit))
    .fetch_all(reader)
    .await?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let owner = owner.to_owned();
    group
        .write(move |tx| {
            Box::pin(async move {
                let mut claimed = Vec::new();
                for (tenant, webhook_id) in due {
                    // Claimed one by one, each only if still free: no statement spans tenants.
                    let row = sqlx::query(
                        "UPDATE webhooks SET lease_owner = ?3, lease_until = ?4 \
                         WHERE tenant_id = ?1 AND webhook_id = ?2 AND enabled = 1 AND lease_until <= ?5 \
                         RETURNING *",
                    )
                    .bind(&tenant)
                    .bind(&webhook_id)
                    .bind(&owner)
                    .bind(millis(until))
                    .bind(millis(now))
                    .fetch_optional(&mut *tx.0)
                    .await?;
                    if let Some(row) = row {
                        claimed.push(webhook_from_row(&row)?);
                    }
                }
                Ok(claimed)
            })
        })
        .await
}

/// Saves a webhook's new state and the attempts that led there, if `owner` still holds it.
pub(super) async fn advance(
    group: &GroupWriter,
    webhook: &Webhook,
    owner: &str,
    attempts: Vec<DeliveryAttempt>,
    lease_until: DateTime<Utc>,
) -> StoreResult<bool> {
    let (tenant, webhook_id, owner) = (
        webhook.tenant_id.clone(),
        webhook.webhook_id.clone(),
        owner.to_owned(),
    );
    let (state, enabled) = (webhook.state.clone(), webhook.enabled);
    group
        .write(move |tx| {
            Box::pin(async move {
                let held = sqlx::query(
                    "UPDATE webhooks SET cursor = ?4, attempts = ?5, failing_since = ?6, next_attempt_at = ?7, \
                     disabled_reason = ?8, enabled = ?9, lease_until = ?10 \
                     WHERE tenant_id = ?1 AND webhook_id = ?2 AND lease_owner = ?3",
                )
                .bind(&tenant)
                .bind(&webhook_id)
                .bind(&owner)
                .bind(state.cursor)
                .bind(i64::from(state.attempts))
                .bind(state.failing_since.map(millis))
                .bind(millis(state.next_attempt_at))
                .bind(&state.disabled_reason)
                .bind(enabled)
                .bind(millis(lease_until))
                .execute(&mut *tx.0)
                .await?
                .rows_affected()
                    > 0;
                if held {
                    for attempt in &attempts {
                        sqlx::query(
                            "INSERT INTO webhook_deliveries (tenant_id, webhook_id, delivery_id, attempted_at, seq, \
                             event_id, status, error, duration_ms, succeeded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        )
                        .bind(&tenant)
                        .bind(&webhook_id)
                        .bind(uuid::Uuid::now_v7().to_string())
                        .bind(millis(attempt.attempted_at))
                        .bind(attempt.seq)
                        .bind(&attempt.event_id)
                        .bind(attempt.status.map(i64::from))
                        .bind(&attempt.error)
                        .bind(i64::from(attempt.duration_ms))
                        .bind(attempt.succeeded)
                        .execute(&mut *tx.0)
                        .await?;
                    }
                }
                Ok(held)
            })
        })
        .await
}

/// Tenants whose log is ahead of `relay`'s cursor, leased to `owner`: (tenant, cursor).
pub(super) async fn claim_relay(
    group: &GroupWriter,
    reader: &SqlitePool,
    relay: &str,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<(String, i64)>> {
    // A tenant the relay has not seen yet starts at the beginning of its log.
    let due: Vec<String> = sqlx::query_scalar(
        "SELECT s.tenant_id FROM event_sequences s \
         LEFT JOIN relay_cursors r ON r.tenant_id = s.tenant_id AND r.relay = ?1 \
         WHERE s.last_seq > COALESCE(r.cursor, 0) AND COALESCE(r.lease_until, 0) <= ?2 LIMIT ?3",
    )
    .bind(relay)
    .bind(millis(now))
    .bind(i64::from(limit))
    .fetch_all(reader)
    .await?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let (relay, owner) = (relay.to_owned(), owner.to_owned());
    group
        .write(move |tx| {
            Box::pin(async move {
                let mut claimed = Vec::new();
                for tenant in due {
                    // Created at 0 if missing, claimed only if free: one statement either way.
                    let cursor: Option<i64> = sqlx::query_scalar(
                        "INSERT INTO relay_cursors (tenant_id, relay, cursor, lease_owner, lease_until) \
                         VALUES (?1, ?2, 0, ?3, ?4) ON CONFLICT (tenant_id, relay) DO UPDATE \
                         SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until \
                         WHERE relay_cursors.lease_until <= ?5 RETURNING cursor",
                    )
                    .bind(&tenant)
                    .bind(&relay)
                    .bind(&owner)
                    .bind(millis(until))
                    .bind(millis(now))
                    .fetch_optional(&mut *tx.0)
                    .await?;
                    if let Some(cursor) = cursor {
                        claimed.push((tenant, cursor));
                    }
                }
                Ok(claimed)
            })
        })
        .await
}

pub(super) async fn advance_relay(
    group: &GroupWriter,
    tenant: &str,
    relay: &str,
    owner: &str,
    cursor: i64,
    lease_until: DateTime<Utc>,
) -> StoreResult<bool> {
    let (tenant, relay, owner) = (tenant.to_owned(), relay.to_owned(), owner.to_owned());
    group
        .write(move |tx| {
            Box::pin(async move {
                let held = sqlx::query(
                    "UPDATE relay_cursors SET cursor = ?4, lease_until = ?5 \
                     WHERE tenant_id = ?1 AND relay = ?2 AND lease_owner = ?3",
                )
                .bind(&tenant)
                .bind(&relay)
                .bind(&owner)
                .bind(cursor)
                .bind(millis(lease_until))
                .execute(&mut *tx.0)
                .await?
                .rows_affected();
                Ok(held > 0)
            })
        })
        .await
}

/// Deletes events that occurred before `before` and that every enabled webhook (and every
/// relay active since then) has passed; deletes delivery attempts older than `before`.
pub(super) async fn prune(group: &GroupWriter, before: DateTime<Utc>) -> StoreResult<u64> {
    let mut total = 0;
    loop {
        let deleted = group
            .write(move |tx| {
                Box::pin(async move {
                    let deleted = sqlx::query(
                        "DELETE FROM outbox WHERE rowid IN (SELECT o.rowid FROM outbox o WHERE o.occurred_at < ?1 \
                         AND o.seq <= COALESCE((SELECT MIN(w.cursor) FROM webhooks w \
                             WHERE w.tenant_id = o.tenant_id AND w.enabled = 1), o.seq) \
                         AND o.seq <= COALESCE((SELECT MIN(r.cursor) FROM relay_cursors r \
                             WHERE r.tenant_id = o.tenant_id AND r.lease_until >= ?1), o.seq) \
                         LIMIT ?2)",
                    )
                    .bind(millis(before))
                    .bind(PRUNE_BATCH)
                    .execute(&mut *tx.0)
                    .await?
                    .rows_affected();
                    Ok(deleted)
                })
            })
            .await?;
        total += deleted;
        if deleted < PRUNE_BATCH as u64 {
            break;
        }
    }
    // Once, after the batches (it scans the table, inside the writer).
    group
        .write(move |tx| {
            Box::pin(async move {
                sqlx::query("DELETE FROM webhook_deliveries WHERE attempted_at < ?")
                    .bind(millis(before))
                    .execute(&mut *tx.0)
                    .await?;
                Ok(())
            })
        })
        .await?;
    Ok(total)
}

#[async_trait]
impl EventDelivery for SqliteStore {
    fn doorbell(&self) -> &Doorbell {
        &self.doorbell
    }

    async fn latest_event_seq(&self, tenant_id: &str) -> StoreResult<i64> {
        timed("latest_event_seq", latest_seq(&self.reader, tenant_id)).await
    }

    async fn create_webhook(
        &self,
        tenant_id: &str,
        webhook_id: String,
        webhook: NewWebhook,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook> {
        timed(
            "create_webhook",
            create(&self.group, tenant_id, webhook_id, webhook, now),
        )
        .await
    }

    async fn list_webhooks(&self, tenant_id: &str) -> StoreResult<Vec<Webhook>> {
        timed("list_webhooks", list(&self.reader, tenant_id)).await
    }

    async fn get_webhook(&self, tenant_id: &str, webhook_id: &str) -> StoreResult<Option<Webhook>> {
        timed("get_webhook", get(&self.reader, tenant_id, webhook_id)).await
    }

    async fn change_webhook(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        webhook_change: WebhookChange,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Webhook>> {
        timed(
            "change_webhook",
            change(&self.group, tenant_id, webhook_id, webhook_change, now),
        )
        .await
    }

    async fn delete_webhook(&self, tenant_id: &str, webhook_id: &str) -> StoreResult<bool> {
        timed("delete_webhook", delete(&self.group, tenant_id, webhook_id)).await
    }

    async fn webhook_deliveries(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryAttempt>> {
        timed(
            "webhook_deliveries",
            deliveries(&self.reader, tenant_id, webhook_id, limit),
        )
        .await
    }

    async fn claim_webhooks(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Webhook>> {
        timed(
            "claim_webhooks",
            claim(&self.group, &self.reader, owner, now, until, limit),
        )
        .await
    }

    async fn advance_webhook(
        &self,
        webhook: &Webhook,
        owner: &str,
        attempts: Vec<DeliveryAttempt>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        timed(
            "advance_webhook",
            advance(&self.group, webhook, owner, attempts, lease_until),
        )
        .await
    }

    async fn claim_relay(
        &self,
        relay: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<(String, i64)>> {
        timed(
            "claim_relay",
            claim_relay(&self.group, &self.reader, relay, owner, now, until, limit),
        )
        .await
    }

    async fn advance_relay(
        &self,
        tenant_id: &str,
        relay: &str,
        owner: &str,
        cursor: i64,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        timed(
            "advance_relay",
            advance_relay(&self.group, tenant_id, relay, owner, cursor, lease_until),
        )
        .await
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        timed("prune_events", prune(&self.group, before)).await
    }
}
