//! The time the monitors' timers, the heartbeat and the retry backoff run on.
//!
//! Why the clock is injectable instead of relying on `tokio::time::pause` alone: a paused
//! tokio clock auto-advances to the next timer whenever the runtime has nothing to do, and a
//! runtime waiting for a real socket (the server's answer) has nothing to do. While a request
//! is in flight the paused clock would jump to the next monitor tick, the policy poll, the
//! 15-day heartbeat, or the HTTP client's own timeout (which would then fire and fail the
//! request). So the SDK's schedule reads a [`Clock`], while HTTP timeouts stay on real time:
//! [`TokioClock`] (the default) follows tokio's clock, so it pauses and advances with
//! `tokio::time::pause`/`advance` in tests without sockets; [`ManualClock`] moves only when
//! told to, which lets a test against a real server advance a day in one call and then wait,
//! in real time, for the readings to arrive.

use chrono::{DateTime, Utc};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::watch;

/// A future the SDK can hold across tasks.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Wall-clock time and sleeping until a moment of it.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
    /// Completes once [`Clock::now`] has reached `deadline` (at once if it has already).
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'static, ()>;
}

/// Tokio's clock, anchored to the wall clock when created: `now` is that wall time plus
/// the tokio time elapsed since. It follows `tokio::time::pause` and `advance`, and a change
/// of the system clock while the SDK runs does not make timers fire early or late.
#[derive(Debug, Clone)]
pub struct TokioClock {
    wall: DateTime<Utc>,
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock reading the wall time now and counting tokio time from here.
    pub fn new() -> Self {
        TokioClock {
            wall: Utc::now(),
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = self.origin.elapsed();
        self.wall + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX)
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'static, ()> {
        let wait = (deadline - self.now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that stands still until [`ManualClock::advance`] moves it: for tests that talk to
/// a real server and must not let time run while they wait for it.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: watch::Sender<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock {
            now: watch::Sender::new(start),
        }
    }

    /// Moves the clock forward, waking every sleeper whose deadline has come.
    pub fn advance(&self, by: std::time::Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        self.now.send_modify(|now| *now += by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'static, ()> {
        // The deadline is absolute and `wait_for` looks at the current value first, so an
        // advance made before the sleeper starts waiting is never missed.
        let mut receiver = self.now.subscribe();
        Box::pin(async move {
            if receiver.wait_for(|now| *now >= deadline).await.is_err() {
                // The clock is gone: nobody can advance it any more, so never wake.
                std::future::pending::<()>().await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn the_tokio_clock_sleeps_until_its_deadline() {
        let clock = TokioClock::new();
        let start = clock.now();
        let deadline = start + chrono::Duration::milliseconds(50);

        clock.sleep_until(deadline).await;

        assert!(clock.now() >= deadline);
    }

    #[tokio::test]
    async fn the_manual_clock_wakes_sleepers_when_advanced_past_their_deadline() {
        let clock = ManualClock::new(Utc::now());
        let deadline = clock.now() + chrono::Duration::seconds(60);
        let sleeper = tokio::spawn(clock.sleep_until(deadline));

        clock.advance(Duration::from_secs(59));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(Duration::from_secs(1));
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("woken")
            .unwrap();
    }

    #[tokio::test]
    async fn a_deadline_already_passed_does_not_wait() {
        let clock = ManualClock::new(Utc::now());
        let past = clock.now() - chrono::Duration::seconds(1);
        tokio::time::timeout(Duration::from_secs(5), clock.sleep_until(past))
            .await
            .expect("no wait");
    }
}
