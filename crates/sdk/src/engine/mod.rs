//! The background work of a registered SDK, as two tasks started at registration (or at
//! build, when the state dir holds a registration) and aborted at unregistration, shutdown
//! or when the last [`crate::Sdk`] handle is dropped:
//! - `scheduler`: fetches the policy at start and every polling interval, runs one-time
//!   monitors once, interval monitors on their periods, event monitors when the provider's
//!   watch notices a change, and queues the heartbeat when due;
//! - `sender`: delivers the queue oldest first, one request per update, retrying with
//!   backoff while the server cannot be reached.
//!
//! Both read time from the SDK's [`crate::Clock`], never from tokio directly.

pub(crate) mod scheduler;
pub(crate) mod sender;

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

/// `initial` doubled per failure up to `max`, jittered down to 50-100 % so that devices
/// cut off together do not come back together.
pub(crate) fn backoff(failures: u32, initial: Duration, max: Duration) -> Duration {
    let exponent = failures.saturating_sub(1).min(20);
    let full = initial.saturating_mul(1 << exponent).min(max);
    // RandomState is seeded per instance: a cheap random number without a dependency.
    let random = RandomState::new().hash_one(failures) % 1000;
    full.mul_f64(0.5 + random as f64 / 2000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_bound_with_jitter() {
        let initial = Duration::from_secs(1);
        let max = Duration::from_secs(300);
        for (failures, full) in [(1, 1), (2, 2), (3, 4), (10, 300), (u32::MAX, 300)] {
            let wait = backoff(failures, initial, max);
            let full = Duration::from_secs(full);
            assert!(wait <= full && wait >= full / 2, "{failures}: {wait:?}");
        }
    }
}
