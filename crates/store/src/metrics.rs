//! Store transaction metrics: a count by operation and outcome, and a latency histogram.

use std::future::Future;
use std::time::Instant;

pub(crate) async fn timed<T, E>(
    operation: &'static str,
    work: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = Instant::now();
    let result = work.await;
    let outcome = if result.is_ok() { "ok" } else { "error" };
    metrics::counter!("store_transactions_total", "operation" => operation, "outcome" => outcome)
        .increment(1);
    metrics::histogram!("store_transaction_duration_seconds", "operation" => operation)
        .record(started.elapsed().as_secs_f64());
    result
}
