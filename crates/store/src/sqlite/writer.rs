//! Group commit for SQLite. Profile writes are sent to one writer task, which runs every write
//! waiting at that moment in ONE transaction (each under its own savepoint, so a failing write
//! is rolled back alone) and commits once: one fsync acknowledges the whole group. Nothing is
//! acknowledged before that commit returns. A lone write is not delayed: the task starts as soon
//! as one arrives, and the writes that arrive during its fsync form the next group.

use super::tx::SqliteTx;
use crate::Doorbell;
use crate::error::{StoreError, StoreResult};
use sqlx::SqlitePool;
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

/// Most writes committed together; bounds a group's transaction and latency.
const MAX_GROUP: usize = 256;
/// Writes waiting for the writer before senders are slowed down (backpressure).
const QUEUE: usize = 4096;

pub(crate) type BoxFuture<'t, T> = Pin<Box<dyn Future<Output = T> + Send + 't>>;

/// Sends the outcome once the group's commit is known: the write's value when the commit
/// succeeded, the commit's error when it did not.
type Delivery = Box<dyn FnOnce(Result<(), String>) + Send>;

/// One write: run it inside the group transaction; say whether it succeeded and how to answer.
type Job = Box<dyn for<'t> FnOnce(&'t mut SqliteTx) -> BoxFuture<'t, (bool, Delivery)> + Send>;

#[derive(Clone)]
pub(crate) struct GroupWriter {
    jobs: mpsc::Sender<Job>,
}

impl GroupWriter {
    /// Starts the writer task; after each commit it rings the doorbell of every tenant whose
    /// log the group appended to.
    pub(crate) fn start(pool: SqlitePool, doorbell: Doorbell) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, doorbell, queue));
        GroupWriter { jobs }
    }

    /// Runs `work` in the next group transaction and returns its value once that transaction
    /// is durable.
    pub(crate) async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut SqliteTx) -> BoxFuture<'t, StoreResult<T>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |tx| {
            Box::pin(async move {
                match work(tx).await {
                    Ok(value) => {
                        let deliver: Delivery = Box::new(move |committed| {
                            let _ =
                                reply.send(committed.map(|()| value).map_err(StoreError::Commit));
                        });
                        (true, deliver)
                    }
                    Err(error) => {
                        let deliver: Delivery = Box::new(move |_| {
                            let _ = reply.send(Err(error));
                        });
                        (false, deliver)
                    }
                }
            })
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| StoreError::Commit("the store is closed".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Commit("the group transaction failed".into()))?
    }
}

async fn run(pool: SqlitePool, doorbell: Doorbell, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        metrics::histogram!("store_group_commit_size").record(group.len() as f64);
        commit_group(&pool, &doorbell, group).await;
    }
}

async fn commit_group(pool: &SqlitePool, doorbell: &Doorbell, group: Vec<Job>) {
    // A job dropped without running drops its reply: its caller gets an error answer.
    let mut tx = match pool.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => SqliteTx::new(tx),
        Err(error) => {
            tracing::warn!(%error, writes = group.len(), "group transaction could not begin");
            return;
        }
    };
    let mut deliveries = Vec::with_capacity(group.len());
    let mut broken: Option<String> = None;
    // Every write runs under the savepoint `write`; between two writes one round trip keeps the
    // last one's changes and opens the next savepoint. COMMIT releases the last one.
    let mut open = "SAVEPOINT write";
    for job in group {
        if broken.is_some() {
            drop(job);
            continue;
        }
        if let Err(error) = sqlx::raw_sql(open).execute(&mut *tx.0).await {
            broken = Some(error.to_string());
            drop(job);
            continue;
        }
        open = "RELEASE write; SAVEPOINT write";
        let mark = tx.mark();
        let (ok, deliver) = job(&mut tx).await;
        if !ok {
            // A failed write is undone alone (rare: a refusal is a success of the store).
            tx.forget_since(mark);
            if let Err(error) = sqlx::raw_sql("ROLLBACK TO write").execute(&mut *tx.0).await {
                broken = Some(error.to_string());
            }
        }
        deliveries.push(deliver);
    }
    let committed = match broken {
        Some(reason) => {
            tracing::warn!(%reason, "group transaction rolled back");
            let _ = tx.0.rollback().await;
            Err(reason)
        }
        None => match tx.commit().await {
            Ok(rung) => {
                rung.iter().for_each(|tenant| doorbell.ring(tenant));
                Ok(())
            }
            Err(error) => {
                tracing::warn!(%error, "group transaction failed at its end");
                Err(error.to_string())
            }
        },
    };
    for deliver in deliveries {
        deliver(committed.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    use std::str::FromStr;

    async fn pool(dir: &tempfile::TempDir) -> SqlitePool {
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .execute(&pool)
            .await
            .unwrap();
        pool
    }

    #[tokio::test]
    async fn a_failing_write_is_undone_alone_and_the_others_of_its_group_commit() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir).await;
        let writer = GroupWriter::start(pool.clone(), Doorbell::default());

        let mut writes = tokio::task::JoinSet::new();
        for n in 0..30i64 {
            let writer = writer.clone();
            writes.spawn(async move {
                let result = writer
                    .write(move |tx| {
                        Box::pin(async move {
                            sqlx::query("INSERT INTO t (n) VALUES (?)")
                                .bind(n)
                                .execute(&mut *tx.0)
                                .await?;
                            if n % 3 == 0 {
                                // Fails after this write's own insert: the insert must go too.
                                sqlx::query("INSERT INTO missing_table VALUES (1)")
                                    .execute(&mut *tx.0)
                                    .await?;
                            }
                            Ok(n)
                        })
                    })
                    .await;
                (n, result.is_ok())
            });
        }
        let mut answered = Vec::new();
        while let Some(done) = writes.join_next().await {
            answered.push(done.unwrap());
        }

        let stored: Vec<i64> = sqlx::query_scalar("SELECT n FROM t ORDER BY n")
            .fetch_all(&pool)
            .await
            .unwrap();
        let expected: Vec<i64> = (0..30).filter(|n| n % 3 != 0).collect();
        assert_eq!(stored, expected);
        assert_eq!(answered.len(), 30);
        assert!(answered.iter().all(|(n, ok)| *ok == (n % 3 != 0)));
    }

    #[tokio::test]
    async fn the_events_of_a_failed_write_are_forgotten_and_the_log_stays_gapless() {
        use crate::ops::WriteTx;
        use profilestore_core::change::{ChangeEvent, EventType, Subject};

        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir).await;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .unwrap();
        let writer = GroupWriter::start(pool.clone(), Doorbell::default());
        let mut writes = tokio::task::JoinSet::new();
        for n in 0..40u64 {
            let writer = writer.clone();
            writes.spawn(async move {
                writer
                    .write(move |tx| {
                        Box::pin(async move {
                            let event = ChangeEvent {
                                event_type: EventType::CustomerUpdated,
                                subject: Subject::Customer {
                                    customer_id: format!("c{n}"),
                                },
                                device_event: None,
                                changes: Vec::new(),
                                profile_version: n,
                            };
                            tx.append_events("tn", &[event], chrono::Utc::now()).await?;
                            if n % 4 == 0 {
                                // Fails after appending: its event must not reach the log.
                                sqlx::query("INSERT INTO missing_table VALUES (1)")
                                    .execute(&mut *tx.0)
                                    .await?;
                            }
                            Ok(())
                        })
                    })
                    .await
                    .is_ok()
            });
        }
        let succeeded = writes.join_all().await.into_iter().filter(|ok| *ok).count();
        assert_eq!(succeeded, 30);

        let logged: Vec<(i64, String)> =
            sqlx::query_as("SELECT seq, payload FROM outbox WHERE tenant_id = 'tn' ORDER BY seq")
                .fetch_all(&pool)
                .await
                .unwrap();
        let seqs: Vec<i64> = logged.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(seqs, (1..=30).collect::<Vec<i64>>());
        for (seq, payload) in &logged {
            let document: serde_json::Value = serde_json::from_str(payload).unwrap();
            assert_eq!(document["seq"], *seq);
            assert_ne!(document["profile_version"].as_u64().unwrap() % 4, 0);
        }
    }

    /// The writes of one group share the definitions their transaction read; a definition one
    /// of them makes must reach the writes after it in the same group.
    #[tokio::test(flavor = "current_thread")]
    async fn a_definition_made_in_a_group_applies_to_the_writes_after_it() {
        use crate::Store;
        use crate::model::{CustomerInput, SealedSecret, WriteMode};
        use profilestore_core::attribute::AttributeValue;
        use profilestore_core::ids::CustomerId;
        use profilestore_core::schema::{AttributeDefinition, AttributeType, Constraints};

        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let store = crate::sqlite::SqliteStore::open(&url).await.unwrap();
        let key = SealedSecret {
            digest: "d".into(),
            sealed: vec![0; 32],
        };
        let tenant = store.create_tenant("acme", key).await.unwrap().tenant_id;
        let input = |customer: &str, tier: &str| {
            let input = CustomerInput {
                customer_id: CustomerId::parse(customer).unwrap(),
                attributes: vec![("tier".into(), AttributeValue::Text(tier.into()))],
            };
            vec![(Default::default(), Ok(input))]
        };
        // The first write reads the (empty, open) schema into the group's transaction.
        let tier = AttributeDefinition {
            id: 0,
            name: "tier".into(),
            attribute_type: AttributeType::Enum,
            required: false,
            unique: false,
            description: None,
            values: vec!["gold".into()],
            constraints: Constraints::default(),
            default: None,
            retired: false,
            implicit: false,
        };
        // Joined on one thread, the three jobs are queued before the writer runs: one group.
        let (first, defined, after) = tokio::join!(
            store.write_customers(&tenant, "t0", WriteMode::Create, input("C-0", "gold")),
            store.create_definition(&tenant, tier),
            store.write_customers(&tenant, "t1", WriteMode::Create, input("C-1", "silver")),
        );
        assert!(first.unwrap().records[0].error.is_none());
        defined.unwrap().unwrap();
        let refused = after.unwrap().records[0].error.clone();
        assert!(
            refused.is_some(),
            "silver is not a value of the enum defined before this write"
        );
    }
}
