//! Event delivery state in SQLite: webhooks, their attempts, relay cursors and retention.
//! Writes go through the group writer, so a relay's progress shares the profile writes' fsync;
//! reads use the profile readers (the C API, see `raw`).

use super::SqliteStore;
use super::raw::Row;
use super::readers::Readers;
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

/// Rows deleted per retention transaction, so that pruning never holds the writer for long.
const PRUNE_BATCH: i64 = 5_000;

/// The webhook columns every query returns, in the order `webhook_from_row` reads.
macro_rules! webhook_columns {
    () => {
        "tenant_id, webhook_id, url, event_types, attributes, enabled, secret_digest, \
         secret_sealed, created_at, updated_at, cursor, attempts, failing_since, next_attempt_at, \
         disabled_reason"
    };
}

fn webhook_from_row(row: &Row<'_>) -> StoreResult<Webhook> {
    Ok(Webhook {
        tenant_id: row.text(0)?.to_owned(),
        webhook_id: row.text(1)?.to_owned(),
        url: row.text(2)?.to_owned(),
        event_types: serde_json::from_str(row.text(3)?)?,
        attributes: serde_json::from_str(row.text(4)?)?,
        enabled: row.flag(5),
        secret: SealedSecret {
            digest: row.text(6)?.to_owned(),
            sealed: row.blob(7),
        },
        created_at: from_millis(row.int(8))?,
        updated_at: from_millis(row.int(9))?,
        state: DeliveryState {
            cursor: row.int(10),
            attempts: row.int(11).try_into().unwrap_or(0),
            failing_since: row.int_opt(12).map(from_millis).transpose()?,
            next_attempt_at: from_millis(row.int(13))?,
            disabled_reason: row.text_opt(14)?.map(str::to_owned),
        },
    })
}

pub(super) fn latest_seq(readers: &Readers, tenant: &str) -> StoreResult<i64> {
    let seq = readers.read(|conn| {
        conn.query_first(
            "SELECT last_seq FROM event_sequences WHERE tenant_id = ?",
            &[tenant.into()],
            |row| Ok(row.int(0)),
        )
    })?;
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
                let event_types = serde_json::to_string(&new.event_types)?;
                let attributes = serde_json::to_string(&new.attributes)?;
                // A new webhook receives the events written after it exists.
                let created = tx.0.query_first(
                    concat!(
                        "INSERT INTO webhooks (tenant_id, webhook_id, url, event_types, attributes, enabled, \
                         secret_digest, secret_sealed, created_at, updated_at, cursor, next_attempt_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, \
                         COALESCE((SELECT last_seq FROM event_sequences WHERE tenant_id = ?1), 0), ?9) \
                         RETURNING ",
                        webhook_columns!()
                    ),
                    &[
                        tenant.as_str().into(),
                        webhook_id.as_str().into(),
                        new.url.as_str().into(),
                        event_types.as_str().into(),
                        attributes.as_str().into(),
                        new.enabled.into(),
                        new.secret.digest.as_str().into(),
                        new.secret.sealed.as_slice().into(),
                        millis(now).into(),
                    ],
                    webhook_from_row,
                )?;
                created.ok_or_else(|| crate::StoreError::Sqlite("INSERT returned no row".into()))
            })
        })
        .await
}

pub(super) fn list(readers: &Readers, tenant: &str) -> StoreResult<Vec<Webhook>> {
    readers.read(|conn| {
        conn.query(
            concat!(
                "SELECT ",
                webhook_columns!(),
                " FROM webhooks WHERE tenant_id = ? ORDER BY created_at, webhook_id"
            ),
            &[tenant.into()],
            webhook_from_row,
        )
    })
}

pub(super) fn get(
    readers: &Readers,
    tenant: &str,
    webhook_id: &str,
) -> StoreResult<Option<Webhook>> {
    readers.read(|conn| {
        conn.query_first(
            concat!(
                "SELECT ",
                webhook_columns!(),
                " FROM webhooks WHERE tenant_id = ? AND webhook_id = ?"
            ),
            &[tenant.into(), webhook_id.into()],
            webhook_from_row,
        )
    })
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
                tx.0.query_first(
                    concat!(
                        "UPDATE webhooks SET url = COALESCE(?3, url), event_types = COALESCE(?4, event_types), \
                         attributes = COALESCE(?5, attributes), enabled = COALESCE(?6, enabled), \
                         cursor = COALESCE(?7 - 1, cursor), updated_at = ?8, lease_owner = NULL, lease_until = 0, \
                         attempts = CASE WHEN ?9 THEN 0 ELSE attempts END, \
                         failing_since = CASE WHEN ?9 THEN NULL ELSE failing_since END, \
                         next_attempt_at = CASE WHEN ?9 THEN ?8 ELSE next_attempt_at END, \
                         disabled_reason = CASE WHEN ?9 THEN NULL ELSE disabled_reason END \
                         WHERE tenant_id = ?1 AND webhook_id = ?2 RETURNING ",
                        webhook_columns!()
                    ),
                    &[
                        tenant.as_str().into(),
                        webhook_id.as_str().into(),
                        change.url.as_ref().into(),
                        event_types.as_ref().into(),
                        attributes.as_ref().into(),
                        change.enabled.into(),
                        change.replay_from.into(),
                        millis(now).into(),
                        restart.into(),
                    ],
                    webhook_from_row,
                )
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
                let key = [tenant.as_str().into(), webhook_id.as_str().into()];
                tx.0.execute(
                    "DELETE FROM webhook_deliveries WHERE tenant_id = ? AND webhook_id = ?",
                    &key,
                )?;
                let deleted = tx.0.execute(
                    "DELETE FROM webhooks WHERE tenant_id = ? AND webhook_id = ?",
                    &key,
                )?;
                Ok(deleted > 0)
            })
        })
        .await
}

pub(super) fn deliveries(
    readers: &Readers,
    tenant: &str,
    webhook_id: &str,
    limit: u32,
) -> StoreResult<Vec<DeliveryAttempt>> {
    readers.read(|conn| {
        conn.query(
            "SELECT attempted_at, seq, event_id, status, error, duration_ms, succeeded \
             FROM webhook_deliveries WHERE tenant_id = ? AND webhook_id = ? \
             ORDER BY delivery_id DESC LIMIT ?",
            &[tenant.into(), webhook_id.into(), i64::from(limit).into()],
            |row| {
                Ok(DeliveryAttempt {
                    attempted_at: from_millis(row.int(0))?,
                    seq: row.int(1),
                    event_id: row.text(2)?.to_owned(),
                    status: row.int_opt(3).and_then(|s| u16::try_from(s).ok()),
                    error: row.text_opt(4)?.map(str::to_owned),
                    duration_ms: row.int(5).try_into().unwrap_or(u32::MAX),
                    succeeded: row.flag(6),
                })
            },
        )
    })
}

/// Webhooks due for delivery: enabled, past their backoff, not leased, behind their log.
pub(super) async fn claim(
    group: &GroupWriter,
    readers: &Readers,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<Webhook>> {
    let due: Vec<(String, String)> = readers.read(|conn| {
        conn.query(
            "SELECT w.tenant_id, w.webhook_id FROM webhooks w \
             JOIN event_sequences s ON s.tenant_id = w.tenant_id \
             WHERE w.enabled = 1 AND w.next_attempt_at <= ?1 AND w.lease_until <= ?1 \
             AND s.last_seq > w.cursor LIMIT ?2",
            &[millis(now).into(), i64::from(limit).into()],
            |row| Ok((row.text(0)?.to_owned(), row.text(1)?.to_owned())),
        )
    })?;
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
                    let row = tx.0.query_first(
                        concat!(
                            "UPDATE webhooks SET lease_owner = ?3, lease_until = ?4 \
                             WHERE tenant_id = ?1 AND webhook_id = ?2 AND enabled = 1 \
                             AND lease_until <= ?5 RETURNING ",
                            webhook_columns!()
                        ),
                        &[
                            tenant.as_str().into(),
                            webhook_id.as_str().into(),
                            owner.as_str().into(),
                            millis(until).into(),
                            millis(now).into(),
                        ],
                        webhook_from_row,
                    )?;
                    claimed.extend(row);
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
                let held = tx.0.execute(
                    "UPDATE webhooks SET cursor = ?4, attempts = ?5, failing_since = ?6, next_attempt_at = ?7, \
                     disabled_reason = ?8, enabled = ?9, lease_until = ?10 \
                     WHERE tenant_id = ?1 AND webhook_id = ?2 AND lease_owner = ?3",
                    &[
                        tenant.as_str().into(),
                        webhook_id.as_str().into(),
                        owner.as_str().into(),
                        state.cursor.into(),
                        i64::from(state.attempts).into(),
                        state.failing_since.map(millis).into(),
                        millis(state.next_attempt_at).into(),
                        state.disabled_reason.as_ref().into(),
                        enabled.into(),
                        millis(lease_until).into(),
                    ],
                )? > 0;
                if held {
                    for attempt in &attempts {
                        let delivery_id = uuid::Uuid::now_v7().to_string();
                        tx.0.execute(
                            "INSERT INTO webhook_deliveries (tenant_id, webhook_id, delivery_id, attempted_at, seq, \
                             event_id, status, error, duration_ms, succeeded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            &[
                                tenant.as_str().into(),
                                webhook_id.as_str().into(),
                                delivery_id.as_str().into(),
                                millis(attempt.attempted_at).into(),
                                attempt.seq.into(),
                                attempt.event_id.as_str().into(),
                                attempt.status.map(i64::from).into(),
                                attempt.error.as_ref().into(),
                                i64::from(attempt.duration_ms).into(),
                                attempt.succeeded.into(),
                            ],
                        )?;
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
    readers: &Readers,
    relay: &str,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<(String, i64)>> {
    // A tenant the relay has not seen yet starts at the beginning of its log.
    let due: Vec<String> = readers.read(|conn| {
        conn.query(
            "SELECT s.tenant_id FROM event_sequences s \
             LEFT JOIN relay_cursors r ON r.tenant_id = s.tenant_id AND r.relay = ?1 \
             WHERE s.last_seq > COALESCE(r.cursor, 0) AND COALESCE(r.lease_until, 0) <= ?2 LIMIT ?3",
            &[relay.into(), millis(now).into(), i64::from(limit).into()],
            |row| Ok(row.text(0)?.to_owned()),
        )
    })?;
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
                    let cursor = tx.0.query_first(
                        "INSERT INTO relay_cursors (tenant_id, relay, cursor, lease_owner, lease_until) \
                         VALUES (?1, ?2, 0, ?3, ?4) ON CONFLICT (tenant_id, relay) DO UPDATE \
                         SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until \
                         WHERE relay_cursors.lease_until <= ?5 RETURNING cursor",
                        &[
                            tenant.as_str().into(),
                            relay.as_str().into(),
                            owner.as_str().into(),
                            millis(until).into(),
                            millis(now).into(),
                        ],
                        |row| Ok(row.int(0)),
                    )?;
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
                let held = tx.0.execute(
                    "UPDATE relay_cursors SET cursor = ?4, lease_until = ?5 \
                     WHERE tenant_id = ?1 AND relay = ?2 AND lease_owner = ?3",
                    &[
                        tenant.as_str().into(),
                        relay.as_str().into(),
                        owner.as_str().into(),
                        cursor.into(),
                        millis(lease_until).into(),
                    ],
                )?;
                Ok(held > 0)
            })
        })
        .await
}

/// Deletes events that occurred before `before` and that every enabled webhook (and every
/// relay active since then) has passed; deletes delivery attempts older than `before`.
pub(super) async fn prune(group: &GroupWriter, before: DateTime<Utc>) -> StoreResult<u64> {
    // The log is in rowid order and has no index on time (migration 7): its old end is found
    // once, by walking from its oldest row to the first one to keep. Rows appended later lie
    // past it, and the batches below delete only before it.
    let end = group
        .write(move |tx| {
            Box::pin(async move {
                let first_kept = tx.0.query_first(
                    "SELECT rowid FROM outbox WHERE occurred_at >= ? ORDER BY rowid LIMIT 1",
                    &[millis(before).into()],
                    |row| Ok(row.int(0)),
                )?;
                Ok(first_kept.unwrap_or(i64::MAX))
            })
        })
        .await?;
    let mut total = 0;
    loop {
        let deleted = group
            .write(move |tx| {
                Box::pin(async move {
                    tx.0.execute(
                        "DELETE FROM outbox WHERE rowid IN (SELECT o.rowid FROM outbox o \
                         WHERE o.rowid < ?3 AND o.occurred_at < ?1 \
                         AND o.seq <= COALESCE((SELECT MIN(w.cursor) FROM webhooks w \
                             WHERE w.tenant_id = o.tenant_id AND w.enabled = 1), o.seq) \
                         AND o.seq <= COALESCE((SELECT MIN(r.cursor) FROM relay_cursors r \
                             WHERE r.tenant_id = o.tenant_id AND r.lease_until >= ?1), o.seq) \
                         ORDER BY o.rowid LIMIT ?2)",
                        &[millis(before).into(), PRUNE_BATCH.into(), end.into()],
                    )
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
                tx.0.execute(
                    "DELETE FROM webhook_deliveries WHERE attempted_at < ?",
                    &[millis(before).into()],
                )?;
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
        timed("latest_event_seq", async {
            latest_seq(&self.readers, tenant_id)
        })
        .await
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
            create(&self.group, tenant_id, webhook_id, webhook, now),
        )
        .await?;
        self.doorbell.ring_webhooks();
        Ok(created)
    }

    async fn list_webhooks(&self, tenant_id: &str) -> StoreResult<Vec<Webhook>> {
        timed("list_webhooks", async { list(&self.readers, tenant_id) }).await
    }

    async fn get_webhook(&self, tenant_id: &str, webhook_id: &str) -> StoreResult<Option<Webhook>> {
        timed("get_webhook", async {
            get(&self.readers, tenant_id, webhook_id)
        })
        .await
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
            change(&self.group, tenant_id, webhook_id, webhook_change, now),
        )
        .await?;
        self.doorbell.ring_webhooks();
        Ok(changed)
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
        timed("webhook_deliveries", async {
            deliveries(&self.readers, tenant_id, webhook_id, limit)
        })
        .await
    }

    async fn any_webhook_enabled(&self) -> StoreResult<bool> {
        self.readers.read(|conn| {
            let found = conn.query_first(
                "SELECT 1 FROM webhooks WHERE enabled = 1 LIMIT 1",
                &[],
                |_| Ok(()),
            )?;
            Ok(found.is_some())
        })
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
            claim(&self.group, &self.readers, owner, now, until, limit),
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
            claim_relay(&self.group, &self.readers, relay, owner, now, until, limit),
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
