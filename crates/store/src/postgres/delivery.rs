//! Event delivery state in PostgreSQL: webhooks, their attempts, relay cursors and retention.
//! Every statement that writes names one tenant's rows (Citus: no lock spans tenants); claims
//! are conditional single-row updates, so two nodes never hold the same lease.

use super::PgStore;
use super::rows::to_millis;
use crate::doorbell::Doorbell;
use crate::error::StoreResult;
use crate::event_delivery::EventDelivery;
use crate::metrics::timed;
use crate::model::SealedSecret;
use crate::webhooks::{DeliveryAttempt, DeliveryState, NewWebhook, Webhook, WebhookChange};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgPool, Row};

/// Rows deleted per retention statement, so that pruning never holds locks for long.
const PRUNE_BATCH: i64 = 5_000;

fn webhook_from_row(row: &PgRow) -> StoreResult<Webhook> {
    let Json(event_types): Json<Vec<String>> = row.try_get("event_types")?;
    let Json(attributes): Json<Vec<String>> = row.try_get("attributes")?;
    Ok(Webhook {
        tenant_id: row.try_get("tenant_id")?,
        webhook_id: row.try_get("webhook_id")?,
        url: row.try_get("url")?,
        event_types,
        attributes,
        enabled: row.try_get("enabled")?,
        secret: SealedSecret {
            digest: row.try_get("secret_digest")?,
            sealed: row.try_get("secret_sealed")?,
        },
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        state: DeliveryState {
            cursor: row.try_get("cursor")?,
            attempts: row.try_get::<i32, _>("attempts")?.try_into().unwrap_or(0),
            failing_since: row.try_get("failing_since")?,
            next_attempt_at: row.try_get("next_attempt_at")?,
            disabled_reason: row.try_get("disabled_reason")?,
        },
    })
}

pub(super) async fn latest_seq(pool: &PgPool, tenant: &str) -> StoreResult<i64> {
    let seq: Option<i64> =
        sqlx::query_scalar("SELECT last_seq FROM event_sequences WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_optional(pool)
            .await?;
    Ok(seq.unwrap_or(0))
}

pub(super) async fn create(
    pool: &PgPool,
    tenant: &str,
    webhook_id: String,
    new: NewWebhook,
    now: DateTime<Utc>,
) -> StoreResult<Webhook> {
    let now = to_millis(now);
    // A new webhook receives the events written after it exists.
    let row = sqlx::query(
        "INSERT INTO webhooks (tenant_id, webhook_id, url, event_types, attributes, enabled, \
         secret_digest, secret_sealed, created_at, updated_at, cursor, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, \
         COALESCE((SELECT last_seq FROM event_sequences WHERE tenant_id = $1), 0), $9) \
         RETURNING *",
    )
    .bind(tenant)
    .bind(&webhook_id)
    .bind(&new.url)
    .bind(Json(&new.event_types))
    .bind(Json(&new.attributes))
    .bind(new.enabled)
    .bind(&new.secret.digest)
    .bind(&new.secret.sealed)
    .bind(now)
    .fetch_one(pool)
    .await?;
    webhook_from_row(&row)
}

pub(super) async fn list(pool: &PgPool, tenant: &str) -> StoreResult<Vec<Webhook>> {
    sqlx::query("SELECT * FROM webhooks WHERE tenant_id = $1 ORDER BY created_at, webhook_id")
        .bind(tenant)
        .fetch_all(pool)
        .await?
        .iter()
        .map(webhook_from_row)
        .collect()
}

pub(super) async fn get(
    pool: &PgPool,
    tenant: &str,
    webhook_id: &str,
) -> StoreResult<Option<Webhook>> {
    sqlx::query("SELECT * FROM webhooks WHERE tenant_id = $1 AND webhook_id = $2")
        .bind(tenant)
        .bind(webhook_id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(webhook_from_row)
        .transpose()
}

pub(super) async fn change(
    pool: &PgPool,
    tenant: &str,
    webhook_id: &str,
    change: WebhookChange,
    now: DateTime<Utc>,
) -> StoreResult<Option<Webhook>> {
    let restart = change.enabled == Some(true) || change.replay_from.is_some();
    // Any change takes the lease away, so a relay in the middle of a delivery run stops and
    // the next claim reads the new configuration and cursor.
    let row = sqlx::query(
        "UPDATE webhooks SET url = COALESCE($3, url), event_types = COALESCE($4, event_types), \
         attributes = COALESCE($5, attributes), enabled = COALESCE($6, enabled), \
         cursor = COALESCE($7::bigint - 1, cursor), updated_at = $8, lease_owner = NULL, lease_until = 'epoch', \
         attempts = CASE WHEN $9 THEN 0 ELSE attempts END, \
         failing_since = CASE WHEN $9 THEN NULL ELSE failing_since END, \
         next_attempt_at = CASE WHEN $9 THEN $8 ELSE next_attempt_at END, \
         disabled_reason = CASE WHEN $9 THEN NULL ELSE disabled_reason END \
         WHERE tenant_id = $1 AND webhook_id = $2 RETURNING *",
    )
    .bind(tenant)
    .bind(webhook_id)
    .bind(&change.url)
    .bind(change.event_types.as_ref().map(Json))
    .bind(change.attributes.as_ref().map(Json))
    .bind(change.enabled)
    .bind(change.replay_from)
    .bind(to_millis(now))
    .bind(restart)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(webhook_from_row).transpose()
}

pub(super) async fn delete(pool: &PgPool, tenant: &str, webhook_id: &str) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM webhook_deliveries WHERE tenant_id = $1 AND webhook_id = $2")
        .bind(tenant)
        .bind(webhook_id)
        .execute(&mut *tx)
        .await?;
    let deleted = sqlx::query("DELETE FROM webhooks WHERE tenant_id = $1 AND webhook_id = $2")
        .bind(tenant)
        .bind(webhook_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(deleted > 0)
}

pub(super) async fn deliveries(
    pool: &PgPool,
    tenant: &str,
    webhook_id: &str,
    limit: u32,
) -> StoreResult<Vec<DeliveryAttempt>> {
    sqlx::query(
        "SELECT * FROM webhook_deliveries WHERE tenant_id = $1 AND webhook_id = $2 \
         ORDER BY delivery_id DESC LIMIT $3",
    )
    .bind(tenant)
    .bind(webhook_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| {
        Ok(DeliveryAttempt {
            attempted_at: row.try_get("attempted_at")?,
            seq: row.try_get("seq")?,
            event_id: row.try_get("event_id")?,
            status: row
                .try_get::<Option<i32>, _>("status")?
                .and_then(|s| u16::try_from(s).ok()),
            error: row.try_get("error")?,
            duration_ms: row
                .try_get::<i32, _>("duration_ms")?
                .try_into()
                .unwrap_or(0),
            succeeded: row.try_get("succeeded")?,
        })
    })
    .collect()
}

/// Webhooks due for delivery: enabled, past their backoff, not leased, behind their log.
pub(super) async fn claim(
    pool: &PgPool,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<Webhook>> {
    let due: Vec<(String, String)> = sqlx::query_as(
        "SELECT w.tenant_id, w.webhook_id FROM webhooks w \
         JOIN event_sequences s ON s.tenant_id = w.tenant_id \
         WHERE w.enabled AND w.next_attempt_at <= $1 AND w.lease_until <= $1 AND s.last_seq > w.cursor \
         LIMIT $2",
    )
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    let mut claimed = Vec::new();
    for (tenant, webhook_id) in due {
        // Claimed one by one, each only if still free: no statement spans tenants.
        let row = sqlx::query(
            "UPDATE webhooks SET lease_owner = $3, lease_until = $4 \
             WHERE tenant_id = $1 AND webhook_id = $2 AND enabled AND lease_until <= $5 RETURNING *",
        )
        .bind(&tenant)
        .bind(&webhook_id)
        .bind(owner)
        .bind(until)
        .bind(now)
        .fetch_optional(pool)
        .await?;
        if let Some(row) = row {
            claimed.push(webhook_from_row(&row)?);
        }
    }
    Ok(claimed)
}

/// Saves a webhook's new state and the attempts that led there, if `owner` still holds it.
pub(super) async fn advance(
    pool: &PgPool,
    webhook: &Webhook,
    owner: &str,
    attempts: Vec<DeliveryAttempt>,
    lease_until: DateTime<Utc>,
) -> StoreResult<bool> {
    let state = &webhook.state;
    let mut tx = pool.begin().await?;
    let held = sqlx::query(
        "UPDATE webhooks SET cursor = $4, attempts = $5, failing_since = $6, next_attempt_at = $7, \
         disabled_reason = $8, enabled = $9, lease_until = $10 \
         WHERE tenant_id = $1 AND webhook_id = $2 AND lease_owner = $3",
    )
    .bind(&webhook.tenant_id)
    .bind(&webhook.webhook_id)
    .bind(owner)
    .bind(state.cursor)
    .bind(i32::try_from(state.attempts).unwrap_or(i32::MAX))
    .bind(state.failing_since.map(to_millis))
    .bind(to_millis(state.next_attempt_at))
    .bind(&state.disabled_reason)
    .bind(webhook.enabled)
    .bind(lease_until)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        > 0;
    if held {
        for attempt in &attempts {
            sqlx::query(
                "INSERT INTO webhook_deliveries (tenant_id, webhook_id, delivery_id, attempted_at, seq, \
                 event_id, status, error, duration_ms, succeeded) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&webhook.tenant_id)
            .bind(&webhook.webhook_id)
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(to_millis(attempt.attempted_at))
            .bind(attempt.seq)
            .bind(&attempt.event_id)
            .bind(attempt.status.map(i32::from))
            .bind(&attempt.error)
            .bind(i32::try_from(attempt.duration_ms).unwrap_or(i32::MAX))
            .bind(attempt.succeeded)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(held)
}

/// Tenants whose log is ahead of `relay`'s cursor, leased to `owner`: (tenant, cursor).
pub(super) async fn claim_relay(
    pool: &PgPool,
    relay: &str,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<(String, i64)>> {
    // A tenant the relay has not seen yet starts at the beginning of its log.
    let due: Vec<String> = sqlx::query_scalar(
        "SELECT s.tenant_id FROM event_sequences s \
         LEFT JOIN relay_cursors r ON r.tenant_id = s.tenant_id AND r.relay = $1 \
         WHERE s.last_seq > COALESCE(r.cursor, 0) AND COALESCE(r.lease_until, 'epoch') <= $2 LIMIT $3",
    )
    .bind(relay)
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    let mut claimed = Vec::new();
    for tenant in due {
        // Created at 0 if missing, claimed only if free: one statement either way.
        let cursor: Option<i64> = sqlx::query_scalar(
            "INSERT INTO relay_cursors (tenant_id, relay, cursor, lease_owner, lease_until) \
             VALUES ($1, $2, 0, $3, $4) ON CONFLICT (tenant_id, relay) DO UPDATE \
             SET lease_owner = EXCLUDED.lease_owner, lease_until = EXCLUDED.lease_until \
             WHERE relay_cursors.lease_until <= $5 RETURNING cursor",
        )
        .bind(&tenant)
        .bind(relay)
        .bind(owner)
        .bind(until)
        .bind(now)
        .fetch_optional(pool)
        .await?;
        if let Some(cursor) = cursor {
            claimed.push((tenant, cursor));
        }
    }
    Ok(claimed)
}

pub(super) async fn advance_relay(
    pool: &PgPool,
    tenant: &str,
    relay: &str,
    owner: &str,
    cursor: i64,
    lease_until: DateTime<Utc>,
) -> StoreResult<bool> {
    let held = sqlx::query(
        "UPDATE relay_cursors SET cursor = $4, lease_until = $5 \
         WHERE tenant_id = $1 AND relay = $2 AND lease_owner = $3",
    )
    .bind(tenant)
    .bind(relay)
    .bind(owner)
    .bind(cursor)
    .bind(lease_until)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(held > 0)
}

/// Deletes events that occurred before `before` and that every enabled webhook (and every
/// relay active since then) has passed; deletes delivery attempts older than `before`.
pub(super) async fn prune(pool: &PgPool, before: DateTime<Utc>) -> StoreResult<u64> {
    let mut total = 0;
    loop {
        let deleted = sqlx::query(
            "DELETE FROM outbox WHERE ctid IN (SELECT o.ctid FROM outbox o WHERE o.occurred_at < $1 \
             AND o.seq <= COALESCE((SELECT MIN(w.cursor) FROM webhooks w \
                 WHERE w.tenant_id = o.tenant_id AND w.enabled), o.seq) \
             AND o.seq <= COALESCE((SELECT MIN(r.cursor) FROM relay_cursors r \
                 WHERE r.tenant_id = o.tenant_id AND r.lease_until >= $1), o.seq) \
             LIMIT $2)",
        )
        .bind(before)
        .bind(PRUNE_BATCH)
        .execute(pool)
        .await?
        .rows_affected();
        total += deleted;
        if deleted < PRUNE_BATCH as u64 {
            break;
        }
    }
    sqlx::query("DELETE FROM webhook_deliveries WHERE attempted_at < $1")
        .bind(before)
        .execute(pool)
        .await?;
    Ok(total)
}

#[async_trait]
impl EventDelivery for PgStore {
    fn doorbell(&self) -> &Doorbell {
        &self.doorbell
    }

    async fn latest_event_seq(&self, tenant_id: &str) -> StoreResult<i64> {
        timed("latest_event_seq", latest_seq(&self.pool, tenant_id)).await
    }

    async fn create_webhook(
        &self,
        tenant_id: &str,
        webhook_id: String,
        webhook: NewWebhook,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook> {
        let created = timed(
            "create_webhook",
            create(&self.pool, tenant_id, webhook_id, webhook, now),
        )
        .await?;
        self.doorbell.ring_webhooks();
        Ok(created)
    }

    async fn list_webhooks(&self, tenant_id: &str) -> StoreResult<Vec<Webhook>> {
        timed("list_webhooks", list(&self.pool, tenant_id)).await
    }

    async fn get_webhook(&self, tenant_id: &str, webhook_id: &str) -> StoreResult<Option<Webhook>> {
        timed("get_webhook", get(&self.pool, tenant_id, webhook_id)).await
    }

    async fn change_webhook(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        webhook_change: WebhookChange,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Webhook>> {
        let changed = timed(
            "change_webhook",
            change(&self.pool, tenant_id, webhook_id, webhook_change, now),
        )
        .await?;
        self.doorbell.ring_webhooks();
        Ok(changed)
    }

    async fn delete_webhook(&self, tenant_id: &str, webhook_id: &str) -> StoreResult<bool> {
        timed("delete_webhook", delete(&self.pool, tenant_id, webhook_id)).await
    }

    async fn webhook_deliveries(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryAttempt>> {
        timed(
            "webhook_deliveries",
            deliveries(&self.pool, tenant_id, webhook_id, limit),
        )
        .await
    }

    async fn any_webhook_enabled(&self) -> StoreResult<bool> {
        let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM webhooks WHERE enabled LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
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
            claim(&self.pool, owner, now, until, limit),
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
            advance(&self.pool, webhook, owner, attempts, lease_until),
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
            claim_relay(&self.pool, relay, owner, now, until, limit),
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
            advance_relay(&self.pool, tenant_id, relay, owner, cursor, lease_until),
        )
        .await
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        timed("prune_events", prune(&self.pool, before)).await
    }
}
