//! Group commit for SQLite. Profile writes are sent to one writer thread, which runs every
//! write waiting at that moment, and every one that arrives while they run, in ONE transaction
//! (each under its own savepoint, so a failing write is rolled back alone) and commits once:
//! one fsync acknowledges the whole group. Nothing is acknowledged before that commit returns.
//! A lone write is not delayed: the thread starts as soon as one arrives, and the writes that
//! arrive during its fsync form the next group.
//!
//! The thread owns a connection of its own and runs every statement on it through the C API,
//! from a cache of prepared statements: no hand-over to another thread per statement (see
//! `raw`). Admin and console writes use sqlx's writer connection; SQLite's lock orders the two
//! (they are rare, and BEGIN IMMEDIATE waits for the lock up to the busy timeout). The batch
//! operations are async (they are shared with PostgreSQL) but every `SqliteTx` method
//! completes at once, so each write is polled once. Checkpoints run beside it
//! (`checkpointer`).

use super::checkpointer;
use super::raw::Conn;
use super::readers::SnapshotGate;
use super::tx::SqliteTx;
use crate::Doorbell;
use crate::error::{StoreError, StoreResult};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
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
type Job =
    Box<dyn for<'t, 'c> FnOnce(&'t mut SqliteTx<'c>) -> BoxFuture<'t, (bool, Delivery)> + Send>;

#[derive(Clone)]
pub(crate) struct GroupWriter {
    jobs: mpsc::Sender<Job>,
}

impl GroupWriter {
    /// Opens the writer's connection to the (migrated, WAL-mode) database at `path` and
    /// starts its thread; after each commit it rings the doorbell of every tenant whose log
    /// the group appended to. The thread ends when the last `GroupWriter` is dropped.
    /// After each commit, before answering any write of it, it advances `gate`.
    pub(crate) fn start(
        path: &Path,
        busy_timeout: Duration,
        doorbell: Doorbell,
        gate: SnapshotGate,
    ) -> StoreResult<Self> {
        // Nothing is acknowledged before it is on disk: the commit syncs the log (the buffered
        // log's connection is `synchronous = FULL`), after writing its frames in one call.
        let mut conn = Conn::open_buffered_log(path, busy_timeout)?;
        // 16 MiB of pages (SQLite's default is 2): updates land on random profiles' pages,
        // and a page not cached is read back from the file inside the group.
        conn.execute("PRAGMA cache_size = -16384", &[])?;
        // Each write's savepoint copies every page it touches to a statement journal first (to
        // undo that write alone). Past 64 KiB SQLite spills that journal to a temporary file:
        // a 100-record batch wrote ~500 KB there, through the kernel, per write. In memory it
        // is a copy, and it starts over at every savepoint's release, so it stays as small as
        // the largest single write.
        conn.execute("PRAGMA temp_store = MEMORY", &[])?;
        // When the log starts over after a burst, its file is cut back to 64 MiB.
        conn.query_first("PRAGMA journal_size_limit = 67108864", &[], |_| Ok(()))?;
        conn.set_wal_hook(checkpointer::start(path, busy_timeout, gate.clone())?);
        let (jobs, queue) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, &doorbell, &gate, queue))
            .map_err(|e| StoreError::Config(format!("cannot start the writer thread: {e}")))?;
        Ok(GroupWriter { jobs })
    }

    /// Runs `work` in the next group transaction and returns its value once that transaction
    /// is durable. `work` must not wait on anything but the transaction (see the module doc).
    pub(crate) async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut SqliteTx<'c>) -> BoxFuture<'t, StoreResult<T>>
            + Send
            + 'static,
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

fn run(mut conn: Conn, doorbell: &Doorbell, gate: &SnapshotGate, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.blocking_recv() {
        let group = commit_group(&mut conn, first, &mut queue);
        // Before the answers: a read after an acknowledged write must not reuse an older
        // snapshot (see `readers`).
        gate.advance();
        metrics::histogram!("store_group_commit_size").record(group.answers.len() as f64);
        group.deliver(doorbell);
    }
}

/// The answers of a group, sent once its commit's outcome is known.
struct Deliveries {
    answers: Vec<Delivery>,
    committed: Result<Vec<String>, String>,
}

impl Deliveries {
    fn deliver(self, doorbell: &Doorbell) {
        let committed = match self.committed {
            Ok(rung) => {
                rung.iter().for_each(|tenant| doorbell.ring(tenant));
                Ok(())
            }
            Err(reason) => Err(reason),
        };
        for answer in self.answers {
            answer(committed.clone());
        }
    }
}

/// Runs `first` and every write queued while the group runs (up to MAX_GROUP) in one
/// transaction, and commits it.
fn commit_group(conn: &mut Conn, first: Job, queue: &mut mpsc::Receiver<Job>) -> Deliveries {
    let mut answers = Vec::new();
    let committed = run_group(conn, first, queue, &mut answers);
    if let Err(reason) = &committed {
        tracing::warn!(%reason, "group transaction rolled back");
    }
    if conn.in_transaction() {
        // Whatever failed, the next group starts with no transaction open.
        let _ = conn.execute("ROLLBACK", &[]);
    }
    Deliveries { answers, committed }
}

fn run_group(
    conn: &mut Conn,
    first: Job,
    queue: &mut mpsc::Receiver<Job>,
    answers: &mut Vec<Delivery>,
) -> Result<Vec<String>, String> {
    conn.execute("BEGIN IMMEDIATE", &[])
        .map_err(|e| e.to_string())?;
    let mut tx = SqliteTx::new(conn);
    let mut next = Some(first);
    while let Some(job) = next {
        // Every write runs under the savepoint `write`, released when the next one opens; the
        // commit releases the last one. A failed write is undone alone.
        tx.0.execute("SAVEPOINT write", &[])
            .map_err(|e| e.to_string())?;
        let mark = tx.mark();
        // A write that panics or waits on something else is a bug: it is undone alone, its
        // caller gets an error (its answer was dropped with it), and the group goes on.
        let ran = std::panic::catch_unwind(AssertUnwindSafe(|| finish_now(job(&mut tx))));
        let (ok, answer) = match ran {
            Ok(Some(done)) => done,
            Ok(None) => {
                tracing::error!("a group write waited outside its transaction; it was undone");
                (false, Box::new(|_| {}) as Delivery)
            }
            Err(_) => {
                tracing::error!("a group write panicked; it was undone");
                (false, Box::new(|_| {}) as Delivery)
            }
        };
        if !ok {
            // Rare: a refusal is a success of the store; this is a failure of the database.
            tx.forget_since(mark);
            tx.0.execute("ROLLBACK TO write", &[])
                .map_err(|e| e.to_string())?;
        }
        tx.0.execute("RELEASE write", &[])
            .map_err(|e| e.to_string())?;
        answers.push(answer);
        // A write that arrived while this group ran joins it: it waits for this commit, not
        // for the next one (taking only what was queued at the start made groups of ~4 at 16
        // writers, with a commit, a sync and the log's tail pages each).
        next = (answers.len() < MAX_GROUP)
            .then(|| queue.try_recv().ok())
            .flatten();
    }
    tx.commit().map_err(|e| {
        tracing::warn!(%e, "group transaction failed at its end");
        e.to_string()
    })
}

/// Polls a future once: every `SqliteTx` method is ready at once, so a write is too.
fn finish_now<T>(mut future: BoxFuture<'_, T>) -> Option<T> {
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => Some(value),
        Poll::Pending => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::SqlitePool;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    use std::str::FromStr;

    fn start(dir: &tempfile::TempDir) -> GroupWriter {
        let path = dir.path().join("w.db");
        GroupWriter::start(
            &path,
            Duration::from_secs(5),
            Doorbell::default(),
            SnapshotGate::default(),
        )
        .unwrap()
    }

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

    /// Test write `n`: what the test wants of it (most insert `n` into `t`), returning `n`.
    type Insert = for<'t, 'c> fn(&'t mut SqliteTx<'c>, i64) -> BoxFuture<'t, StoreResult<i64>>;

    /// Sends writes 0..count at once (so they share groups); returns each one's
    /// `(n, succeeded)`.
    async fn concurrent_writes(
        writer: &GroupWriter,
        count: i64,
        write: Insert,
    ) -> Vec<(i64, bool)> {
        let mut writes = tokio::task::JoinSet::new();
        for n in 0..count {
            let writer = writer.clone();
            writes.spawn(async move { (n, writer.write(move |tx| write(tx, n)).await.is_ok()) });
        }
        writes.join_all().await
    }

    /// Sends writes 0..30 at once; returns each one's `(n, succeeded)` and the numbers `t`
    /// holds afterwards.
    async fn thirty_writes(
        dir: &tempfile::TempDir,
        insert: Insert,
    ) -> (Vec<(i64, bool)>, Vec<i64>) {
        let pool = pool(dir).await;
        let answered = concurrent_writes(&start(dir), 30, insert).await;
        let stored = sqlx::query_scalar("SELECT n FROM t ORDER BY n")
            .fetch_all(&pool)
            .await
            .unwrap();
        (answered, stored)
    }

    #[tokio::test]
    async fn a_failing_write_is_undone_alone_and_the_others_of_its_group_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (answered, stored) = thirty_writes(&dir, |tx, n| {
            Box::pin(async move {
                tx.0.execute("INSERT INTO t (n) VALUES (?)", &[n.into()])?;
                if n % 3 == 0 {
                    // Fails after this write's own insert: the insert must go too.
                    tx.0.execute("INSERT INTO missing_table VALUES (1)", &[])?;
                }
                Ok(n)
            })
        })
        .await;
        let expected: Vec<i64> = (0..30).filter(|n| n % 3 != 0).collect();
        assert_eq!(stored, expected);
        assert_eq!(answered.len(), 30);
        assert!(answered.iter().all(|(n, ok)| *ok == (n % 3 != 0)));
    }

    /// A bug in one write (a panic, or waiting on something outside the transaction) must cost
    /// that write alone: the writer thread lives on and the rest of its group commits.
    #[tokio::test]
    async fn a_write_that_panics_or_waits_is_undone_alone_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let (answered, stored) = thirty_writes(&dir, |tx, n| {
            Box::pin(async move {
                tx.0.execute("INSERT INTO t (n) VALUES (?)", &[n.into()])?;
                match n % 3 {
                    1 => panic!("a bug in write {n}"),
                    2 => std::future::pending::<()>().await,
                    _ => {}
                }
                Ok(n)
            })
        })
        .await;
        assert_eq!(answered.len(), 30);
        assert!(answered.iter().all(|(n, ok)| *ok == (n % 3 == 0)));
        assert_eq!(stored, (0..30).filter(|n| n % 3 == 0).collect::<Vec<i64>>());
    }

    /// A migrated database with a writer on it, and a pool to look at it with.
    async fn migrated(dir: &tempfile::TempDir) -> (SqlitePool, GroupWriter) {
        let pool = pool(dir).await;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .unwrap();
        (pool, start(dir))
    }

    #[tokio::test]
    async fn the_events_of_a_failed_write_are_forgotten_and_the_log_stays_gapless() {
        let dir = tempfile::tempdir().unwrap();
        let (pool, writer) = migrated(&dir).await;
        let answered = concurrent_writes(&writer, 40, |tx, n| {
            Box::pin(async move {
                use crate::ops::WriteTx;
                let events = vec![crate::sqlite::test_event(n as u64, n as u64)];
                tx.append_events("tn", events, chrono::Utc::now()).await?;
                if n % 4 == 0 {
                    // Fails after appending: its event must not reach the log.
                    tx.0.execute("INSERT INTO missing_table VALUES (1)", &[])?;
                }
                Ok(n)
            })
        })
        .await;
        assert_eq!(answered.iter().filter(|(_, ok)| *ok).count(), 30);

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
        use crate::model::{CustomerInput, WriteMode};
        use profilestore_core::attribute::AttributeValue;
        use profilestore_core::ids::CustomerId;
        use profilestore_core::schema::{AttributeDefinition, AttributeType};

        let dir = tempfile::tempdir().unwrap();
        let (store, tenant) = crate::sqlite::test_store_with_tenant(&dir).await;
        let input = |customer: &str, tier: &str| {
            let input = CustomerInput {
                customer_id: CustomerId::parse(customer).unwrap(),
                attributes: vec![("tier".into(), AttributeValue::Text(tier.into()))],
            };
            vec![(Default::default(), Ok(input))]
        };
        // The first write reads the (empty, open) schema into the group's transaction.
        let tier = AttributeDefinition {
            values: vec!["gold".into()],
            ..AttributeDefinition::new(0, "tier", AttributeType::Enum)
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
