//! Store transaction metrics: a count by operation and outcome, and a latency histogram.

use metrics::{Counter, Histogram};
use std::cell::RefCell;
use std::future::Future;
use std::time::Instant;

/// One operation's handles: its counts by outcome and its latency.
struct OperationMetrics {
    operation: &'static str,
    ok: Counter,
    error: Counter,
    duration: Histogram,
}

impl OperationMetrics {
    fn registered(operation: &'static str) -> Self {
        OperationMetrics {
            operation,
            ok: metrics::counter!("store_transactions_total", "operation" => operation, "outcome" => "ok"),
            error: metrics::counter!("store_transactions_total", "operation" => operation, "outcome" => "error"),
            duration: metrics::histogram!("store_transaction_duration_seconds", "operation" => operation),
        }
    }
}

thread_local! {
    /// This thread's handles, one entry per operation name (a few dozen, all `'static`).
    /// Asking the recorder for a labelled metric copies and hashes its labels each time:
    /// ~3 % of a compatible read's instructions (callgrind). A handle taken before the
    /// process installs its recorder records nowhere, so the server installs it before it
    /// opens the store.
    static HANDLES: RefCell<Vec<OperationMetrics>> = const { RefCell::new(Vec::new()) };
}

pub(crate) async fn timed<T, E>(
    operation: &'static str,
    work: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = Instant::now();
    let result = work.await;
    let elapsed = started.elapsed().as_secs_f64();
    HANDLES.with_borrow_mut(|handles| {
        let index = match handles.iter().position(|m| m.operation == operation) {
            Some(index) => index,
            None => {
                handles.push(OperationMetrics::registered(operation));
                handles.len() - 1
            }
        };
        let metrics = &handles[index];
        if result.is_ok() {
            &metrics.ok
        } else {
            &metrics.error
        }
        .increment(1);
        metrics.duration.record(elapsed);
    });
    result
}
