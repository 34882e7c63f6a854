//! The event-log entries and write outcomes of a group transaction, held until the group's end
//! and then written in a few multi-row statements: one sequence reservation per tenant and one
//! INSERT per few hundred rows, instead of three statements per write. (Every statement is a
//! round trip to sqlx's SQLite worker thread; those hops, not SQLite, bound the writer.)
//! Sequence numbers are still taken under the writer lock, in write order, so the log stays
//! gapless and in commit order.

use super::rows::millis;
use crate::error::StoreResult;
use crate::outbox::{event_document, new_event_id};
use chrono::{DateTime, Utc};
use profilestore_core::batch::BatchOutcome;
use profilestore_core::change::ChangeEvent;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

/// Rows per multi-row INSERT: 6 (events) or 4 (outcomes) variables each, well under SQLite's
/// limit of 32,766 variables per statement.
const ROWS_PER_INSERT: usize = 500;

#[derive(Default)]
pub(crate) struct Pending {
    events: Vec<PendingEvent>,
    outcomes: Vec<PendingOutcome>,
}

struct PendingEvent {
    tenant: String,
    event: ChangeEvent,
    at: DateTime<Utc>,
}

struct PendingOutcome {
    tenant: String,
    transid: String,
    outcome: String,
    expires_at: i64,
}

/// How much was pending at a point of the group: a failed write goes back to it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    events: usize,
    outcomes: usize,
}

impl Pending {
    pub(crate) fn add_events(&mut self, tenant: &str, events: &[ChangeEvent], at: DateTime<Utc>) {
        self.events.extend(events.iter().map(|event| PendingEvent {
            tenant: tenant.to_owned(),
            event: event.clone(),
            at,
        }));
    }

    pub(crate) fn add_outcome(
        &mut self,
        tenant: &str,
        transid: &str,
        outcome: &BatchOutcome,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.outcomes.push(PendingOutcome {
            tenant: tenant.to_owned(),
            transid: transid.to_owned(),
            outcome: serde_json::to_string(outcome)?,
            expires_at: millis(expires_at),
        });
        Ok(())
    }

    pub(crate) fn mark(&self) -> Mark {
        Mark {
            events: self.events.len(),
            outcomes: self.outcomes.len(),
        }
    }

    pub(crate) fn forget_since(&mut self, mark: Mark) {
        self.events.truncate(mark.events);
        self.outcomes.truncate(mark.outcomes);
    }

    /// Writes everything pending; returns the tenants whose logs grew.
    pub(crate) async fn write(
        &mut self,
        conn: &mut SqliteConnection,
    ) -> Result<Vec<String>, sqlx::Error> {
        let tenants = self.write_events(conn).await?;
        for chunk in self.outcomes.chunks(ROWS_PER_INSERT) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO write_outcomes (tenant_id, transid, outcome, expires_at) ",
            );
            insert.push_values(chunk, |mut row, outcome| {
                row.push_bind(&outcome.tenant)
                    .push_bind(&outcome.transid)
                    .push_bind(&outcome.outcome)
                    .push_bind(outcome.expires_at);
            });
            insert.build().execute(&mut *conn).await?;
        }
        self.outcomes.clear();
        Ok(tenants)
    }

    async fn write_events(
        &mut self,
        conn: &mut SqliteConnection,
    ) -> Result<Vec<String>, sqlx::Error> {
        let mut tenants: Vec<String> = Vec::new();
        for pending in &self.events {
            if !tenants.contains(&pending.tenant) {
                tenants.push(pending.tenant.clone());
            }
        }
        for tenant in &tenants {
            let events: Vec<&PendingEvent> =
                self.events.iter().filter(|e| &e.tenant == tenant).collect();
            // Reserve the tenant's whole range at once.
            let last: i64 = sqlx::query_scalar(
                "INSERT INTO event_sequences (tenant_id, last_seq) VALUES (?1, ?2) \
                 ON CONFLICT (tenant_id) DO UPDATE SET last_seq = last_seq + ?2 RETURNING last_seq",
            )
            .bind(tenant)
            .bind(events.len() as i64)
            .fetch_one(&mut *conn)
            .await?;
            let first = last - events.len() as i64 + 1;
            let rows: Vec<(i64, String, &PendingEvent, String)> = (first..)
                .zip(events)
                .map(|(seq, pending)| {
                    let id = new_event_id();
                    let document =
                        event_document(tenant, seq, &id, pending.at, &pending.event).to_string();
                    (seq, id, pending, document)
                })
                .collect();
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let mut insert = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO outbox (tenant_id, seq, event_id, event_type, occurred_at, payload) ",
                );
                insert.push_values(chunk, |mut row, (seq, id, pending, document)| {
                    row.push_bind(tenant)
                        .push_bind(*seq)
                        .push_bind(id)
                        .push_bind(pending.event.event_type.as_str())
                        .push_bind(millis(pending.at))
                        .push_bind(document);
                });
                insert.build().execute(&mut *conn).await?;
            }
        }
        self.events.clear();
        Ok(tenants)
    }
}
