//! Sign-in rate limiting: guessing passwords must be slow. Failed attempts are counted per
//! e-mail address (a targeted guess) and all attempts per client address (a spray across
//! addresses), each in a sliding window; over either limit, sign-in is refused until the window
//! has moved on, whether the password is right or not. A success clears the address's failures.
//!
//! Counts live in memory on each node: behind a load balancer an attacker gets each node's
//! allowance, which still bounds guesses to a few per minute per node.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed sign-ins allowed per e-mail address within [`WINDOW`].
pub const FAILURES_PER_EMAIL: usize = 5;
/// Sign-in attempts allowed per client address within [`WINDOW`].
pub const ATTEMPTS_PER_CLIENT: usize = 30;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Keys tracked before stale ones are swept (bounds memory under a spray of addresses).
const SWEEP_ABOVE: usize = 10_000;

#[derive(Default)]
struct Windows {
    by_email: HashMap<String, VecDeque<Instant>>,
    by_client: HashMap<String, VecDeque<Instant>>,
}

#[derive(Default)]
pub struct SignInThrottle {
    windows: Mutex<Windows>,
}

fn recent(entries: &mut VecDeque<Instant>, now: Instant) -> usize {
    while entries
        .front()
        .is_some_and(|at| now.saturating_duration_since(*at) >= WINDOW)
    {
        entries.pop_front();
    }
    entries.len()
}

fn sweep(map: &mut HashMap<String, VecDeque<Instant>>, now: Instant) {
    if map.len() > SWEEP_ABOVE {
        map.retain(|_, entries| recent(entries, now) > 0);
    }
}

impl SignInThrottle {
    fn windows(&self) -> std::sync::MutexGuard<'_, Windows> {
        self.windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts an attempt from `client` for `email`; false when it must be refused unchecked.
    pub fn attempt(&self, email: &str, client: &str, now: Instant) -> bool {
        let mut windows = self.windows();
        sweep(&mut windows.by_client, now);
        let attempts = windows.by_client.entry(client.to_owned()).or_default();
        if recent(attempts, now) >= ATTEMPTS_PER_CLIENT {
            return false;
        }
        attempts.push_back(now);
        let failures = windows.by_email.get_mut(email);
        failures.is_none_or(|failures| recent(failures, now) < FAILURES_PER_EMAIL)
    }

    /// Records a wrong password (or an unknown address) for `email`.
    pub fn failed(&self, email: &str, now: Instant) {
        let mut windows = self.windows();
        sweep(&mut windows.by_email, now);
        windows
            .by_email
            .entry(email.to_owned())
            .or_default()
            .push_back(now);
    }

    /// A successful sign-in forgets the address's failures.
    pub fn succeeded(&self, email: &str) {
        self.windows().by_email.remove(email);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_per_address_lock_it_for_the_window() {
        let throttle = SignInThrottle::default();
        let start = Instant::now();
        for i in 0..FAILURES_PER_EMAIL {
            assert!(
                throttle.attempt("ann@example.org", "10.0.0.1", start),
                "attempt {i}"
            );
            throttle.failed("ann@example.org", start);
        }
        assert!(!throttle.attempt("ann@example.org", "10.0.0.2", start));
        // Another address is not affected.
        assert!(throttle.attempt("bob@example.org", "10.0.0.1", start));
        // Once the window has passed, the address may try again.
        assert!(throttle.attempt("ann@example.org", "10.0.0.1", start + WINDOW));
    }

    #[test]
    fn a_success_clears_the_failures() {
        let throttle = SignInThrottle::default();
        let now = Instant::now();
        for _ in 0..FAILURES_PER_EMAIL - 1 {
            throttle.failed("ann@example.org", now);
        }
        throttle.succeeded("ann@example.org");
        for _ in 0..FAILURES_PER_EMAIL - 1 {
            throttle.failed("ann@example.org", now);
        }
        assert!(throttle.attempt("ann@example.org", "10.0.0.1", now));
    }

    #[test]
    fn attempts_per_client_are_bounded_across_addresses() {
        let throttle = SignInThrottle::default();
        let now = Instant::now();
        for i in 0..ATTEMPTS_PER_CLIENT {
            assert!(throttle.attempt(&format!("user{i}@example.org"), "10.0.0.9", now));
        }
        assert!(!throttle.attempt("someone@example.org", "10.0.0.9", now));
        assert!(throttle.attempt("someone@example.org", "10.0.0.8", now));
        assert!(throttle.attempt(
            "someone@example.org",
            "10.0.0.9",
            now + WINDOW + Duration::from_secs(1)
        ));
    }
}
