//! The event-log entries and write outcomes of a group transaction, held until the group's end
//! and then written together: one sequence reservation per tenant instead of one per write.
//! Sequence numbers are still taken under the writer lock, in write order, so the log stays
//! gapless and in commit order; a failed write's entries are forgotten with its savepoint.

use super::raw::{Conn, Value};
use super::rows::millis;
use crate::error::StoreResult;
use crate::outbox::{event_json, event_time, new_event_id};
use chrono::{DateTime, Utc};
use profilestore_core::batch::BatchOutcome;
use profilestore_core::change::ChangeEvent;

#[derive(Default)]
pub(crate) struct Pending {
    events: Vec<PendingEvents>,
    outcomes: Vec<PendingOutcome>,
}

/// The events one write appended: its tenant and time, kept once for all of them.
struct PendingEvents {
    tenant: String,
    at: DateTime<Utc>,
    events: Vec<ChangeEvent>,
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
    pub(crate) fn add_events(&mut self, tenant: &str, events: Vec<ChangeEvent>, at: DateTime<Utc>) {
        if !events.is_empty() {
            self.events.push(PendingEvents {
                tenant: tenant.to_owned(),
                at,
                events,
            });
        }
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
    pub(crate) fn write(&mut self, conn: &mut Conn) -> StoreResult<Vec<String>> {
        let tenants = self.write_events(conn)?;
        let outcomes = std::mem::take(&mut self.outcomes);
        for chunk in outcomes.chunks(ROWS_PER_INSERT) {
            let mut params = Vec::with_capacity(chunk.len() * 4);
            for outcome in chunk {
                params.extend::<[Value<'_>; 4]>([
                    outcome.tenant.as_str().into(),
                    outcome.transid.as_str().into(),
                    outcome.outcome.as_str().into(),
                    outcome.expires_at.into(),
                ]);
            }
            conn.execute(OUTCOME_INSERTS.for_rows(chunk.len()), &params)?;
        }
        Ok(tenants)
    }

    fn write_events(&mut self, conn: &mut Conn) -> StoreResult<Vec<String>> {
        let mut tenants: Vec<String> = Vec::new();
        for pending in &self.events {
            if !tenants.contains(&pending.tenant) {
                tenants.push(pending.tenant.clone());
            }
        }
        for tenant in &tenants {
            let writes: Vec<&PendingEvents> = self
                .events
                .iter()
                .filter(|write| &write.tenant == tenant)
                .collect();
            // Reserve the tenant's whole range at once.
            let count = writes.iter().map(|write| write.events.len()).sum::<usize>() as i64;
            let last = conn
                .query_first(
                    "INSERT INTO event_sequences (tenant_id, last_seq) VALUES (?1, ?2) \
                     ON CONFLICT (tenant_id) DO UPDATE SET last_seq = last_seq + ?2 \
                     RETURNING last_seq",
                    &[tenant.into(), count.into()],
                    |row| Ok(row.int(0)),
                )?
                .unwrap_or_default();
            let mut seq = last - count;
            let mut rows: Vec<OutboxRow<'_>> = Vec::with_capacity(count as usize);
            for write in writes {
                let time = event_time(write.at);
                for event in &write.events {
                    seq += 1;
                    let id = new_event_id();
                    let document = event_json(tenant, seq, &id, &time, event);
                    rows.push(OutboxRow {
                        seq,
                        id,
                        event_type: event.event_type.as_str(),
                        occurred_at: millis(write.at),
                        document,
                    });
                }
            }
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let mut params = Vec::with_capacity(chunk.len() * 6);
                for row in chunk {
                    params.extend::<[Value<'_>; 6]>([
                        tenant.into(),
                        row.seq.into(),
                        row.id.as_str().into(),
                        row.event_type.into(),
                        row.occurred_at.into(),
                        row.document.as_str().into(),
                    ]);
                }
                conn.execute(OUTBOX_INSERTS.for_rows(chunk.len()), &params)?;
            }
        }
        self.events.clear();
        Ok(tenants)
    }
}

/// One event-log row, ready to insert.
struct OutboxRow<'a> {
    seq: i64,
    id: String,
    event_type: &'a str,
    occurred_at: i64,
    document: String,
}

/// Most rows one INSERT writes. A group's event-log rows and write outcomes go in statements
/// of many rows each: a statement per row cost ~3k instructions more a row (cursors opened and
/// closed, the statement looked up, reset and stepped; callgrind, a 100-record batch).
const ROWS_PER_INSERT: usize = 32;

static OUTBOX_INSERTS: MultiRowInsert = MultiRowInsert::new(
    "INSERT INTO outbox (tenant_id, seq, event_id, event_type, occurred_at, payload) VALUES ",
    "(?, ?, ?, ?, ?, ?)",
);

static OUTCOME_INSERTS: MultiRowInsert = MultiRowInsert::new(
    "INSERT INTO write_outcomes (tenant_id, transid, outcome, expires_at) VALUES ",
    "(?, ?, ?, ?)",
);

/// An INSERT's text for each number of rows from 1 to ROWS_PER_INSERT, made once: the
/// connection caches a prepared statement by its text's address, so each text must live for
/// the whole run.
struct MultiRowInsert {
    head: &'static str,
    row: &'static str,
    texts: std::sync::OnceLock<Vec<String>>,
}

impl MultiRowInsert {
    const fn new(head: &'static str, row: &'static str) -> Self {
        MultiRowInsert {
            head,
            row,
            texts: std::sync::OnceLock::new(),
        }
    }

    /// The text inserting `rows` rows (1 to ROWS_PER_INSERT).
    fn for_rows(&'static self, rows: usize) -> &'static str {
        let texts = self.texts.get_or_init(|| {
            (1..=ROWS_PER_INSERT)
                .map(|rows| format!("{}{}", self.head, vec![self.row; rows].join(", ")))
                .collect()
        });
        &texts[rows - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::{SqliteStore, test_event};
    use std::time::Duration;

    /// A group's rows go in by statements of several rows each: 75 events of one write and the
    /// outcomes of 40 writes (more than one statement takes of each) all land, in order.
    #[tokio::test]
    async fn a_groups_rows_span_several_inserts_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        // Opening the store migrates the database.
        drop(
            SqliteStore::open(&format!("sqlite://{}", path.display()))
                .await
                .unwrap(),
        );
        let mut conn = Conn::open_read_write(&path, Duration::from_secs(5)).unwrap();
        let now = chrono::Utc::now();
        let mut pending = Pending::default();
        pending.add_events(
            "tn",
            (0..75).map(|index| test_event(index, index)).collect(),
            now,
        );
        for n in 0..40 {
            let transid = format!("t{n}");
            pending
                .add_outcome("tn", &transid, &BatchOutcome::default(), now)
                .unwrap();
        }
        assert_eq!(pending.write(&mut conn).unwrap(), ["tn"]);

        let logged: Vec<(i64, String)> = conn
            .query(
                "SELECT seq, payload FROM outbox WHERE tenant_id = 'tn' ORDER BY rowid",
                &[],
                |row| Ok((row.int(0), row.text(1)?.to_owned())),
            )
            .unwrap();
        assert_eq!(logged.len(), 75);
        for (index, (seq, payload)) in logged.iter().enumerate() {
            let document: serde_json::Value = serde_json::from_str(payload).unwrap();
            assert_eq!(*seq, index as i64 + 1);
            assert_eq!(document["seq"], *seq);
            assert_eq!(document["profile_version"], index as u64);
        }
        let mut outcomes: Vec<String> = conn
            .query(
                "SELECT transid FROM write_outcomes WHERE tenant_id = 'tn'",
                &[],
                |row| Ok(row.text(0)?.to_owned()),
            )
            .unwrap();
        outcomes.sort();
        let mut expected: Vec<String> = (0..40).map(|n| format!("t{n}")).collect();
        expected.sort();
        assert_eq!(outcomes, expected);
    }
}
