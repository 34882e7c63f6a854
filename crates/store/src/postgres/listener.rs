//! The doorbell across nodes: every transaction that appends events calls
//! `pg_notify('profilestore_events', <tenant>)`, which PostgreSQL delivers at commit to every
//! session LISTENing, on every node, this one included. This task listens on a connection of
//! its own and rings the local doorbell. When that connection drops, notifications may have
//! been missed, so every bell is rung on reconnection; while it stays down, readers fall back
//! to polling the log. Either way a lost notification delays a reader and never drops an event.

use crate::doorbell::Doorbell;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use std::time::Duration;

/// The notification channel.
pub(crate) const CHANNEL: &str = "profilestore_events";
/// Pause before listening again after the database could not be reached.
const RETRY: Duration = Duration::from_secs(1);

/// Starts listening on a pool of one connection of its own (a listener holds its connection
/// for good, which must not shrink the request pool). Closing the returned pool stops it.
pub(crate) fn spawn(connect: PgConnectOptions, doorbell: Doorbell) -> PgPool {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(super::ACQUIRE_TIMEOUT)
        .connect_lazy_with(connect);
    let listening = pool.clone();
    tokio::spawn(async move {
        let pool = listening;
        loop {
            match listen(&pool, &doorbell).await {
                Ok(()) => return,
                Err(_) if pool.is_closed() => return,
                Err(error) => {
                    tracing::debug!(%error, "event listener lost its connection; retrying");
                    doorbell.ring_all();
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    });
    pool
}

/// Rings the doorbell for each notification until the connection fails (`Err`) or the pool
/// is closed (`Ok`).
async fn listen(pool: &PgPool, doorbell: &Doorbell) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    // Anything committed before LISTEN took effect was not announced.
    doorbell.ring_all();
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => doorbell.ring(notification.payload()),
            // The connection dropped and was opened again: notifications may be lost.
            Ok(None) => doorbell.ring_all(),
            Err(sqlx::Error::PoolClosed) => return Ok(()),
            Err(error) => return Err(error),
        }
    }
}
