//! Per-tenant rate limits: a token bucket per tenant that holds one second's worth of
//! requests, refilled continuously. In memory and per node: N nodes admit N times the limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

struct Bucket {
    tokens: f64,
    refilled_at: Instant,
}

#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// Takes one token from the tenant's bucket; false when it is empty. A limit of 0 admits all.
    pub fn admit(&self, tenant_id: &str, per_second: u32, now: Instant) -> bool {
        if per_second == 0 {
            return true;
        }
        let capacity = f64::from(per_second);
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket = buckets.entry(tenant_id.to_owned()).or_insert(Bucket {
            tokens: capacity,
            refilled_at: now,
        });
        let elapsed = now
            .saturating_duration_since(bucket.refilled_at)
            .as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * capacity).min(capacity);
        bucket.refilled_at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_empties_then_refills() {
        let limiter = RateLimiter::default();
        let start = Instant::now();
        assert!((0..5).all(|_| limiter.admit("t", 5, start)));
        assert!(!limiter.admit("t", 5, start));
        assert!(
            limiter.admit("other", 5, start),
            "tenants have their own buckets"
        );
        assert!(limiter.admit("t", 5, start + Duration::from_millis(200)));
        assert!(!limiter.admit("t", 5, start + Duration::from_millis(200)));
        assert!((0..1000).all(|_| limiter.admit("t", 0, start)));
    }
}
