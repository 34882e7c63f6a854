//! The doorbell: after a transaction that appended events commits, the store rings its
//! tenant's bell, and whoever follows that tenant's log (an SSE stream, the webhook and NATS
//! relays) wakes up and reads the log. A ring carries no data and coalesces: the log is the
//! only source of truth, so a missed ring delays a reader (until its polling fallback) and
//! never makes it skip an event. Ringing never blocks, whatever the readers do.
//!
//! A second bell, `webhooks`, is rung when a webhook is created or changed: the webhook relay
//! skips its claims while no webhook is enabled, and this tells it to look again at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

#[derive(Clone, Default)]
pub struct Doorbell {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// One bell per tenant somebody listens to; rings of other tenants cost a map lookup.
    tenants: Mutex<HashMap<String, watch::Sender<u64>>>,
    /// Rung for every tenant: the relays that serve all tenants listen here.
    any: watch::Sender<u64>,
    /// Rung when a webhook is created or changed on this node (the webhook relay listens).
    webhooks: watch::Sender<u64>,
}

impl Doorbell {
    /// Wakes the readers of `tenant_id` and of every tenant.
    pub fn ring(&self, tenant_id: &str) {
        if let Some(bell) = self.lock().get(tenant_id) {
            bump(bell);
        }
        bump(&self.inner.any);
    }

    /// Wakes every reader (after notifications may have been lost).
    pub fn ring_all(&self) {
        self.lock().values().for_each(bump);
        bump(&self.inner.any);
    }

    /// A receiver that changes whenever `tenant_id` is rung.
    pub fn tenant(&self, tenant_id: &str) -> watch::Receiver<u64> {
        let mut tenants = self.lock();
        // Bells nobody listens to any more are dropped here, so the map stays as large as the
        // set of tenants with live readers.
        tenants.retain(|_, bell| bell.receiver_count() > 0);
        tenants
            .entry(tenant_id.to_owned())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// Wakes the webhook relay: a webhook was created or changed, so one may now be due.
    pub fn ring_webhooks(&self) {
        bump(&self.inner.webhooks);
    }

    /// A receiver that changes whenever a webhook is created or changed on this node.
    pub fn webhooks(&self) -> watch::Receiver<u64> {
        self.inner.webhooks.subscribe()
    }

    /// A receiver that changes whenever any tenant is rung.
    pub fn any(&self) -> watch::Receiver<u64> {
        self.inner.any.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, watch::Sender<u64>>> {
        // A poisoned map is still a valid map: a panic elsewhere cannot corrupt it mid-insert.
        self.inner
            .tenants
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A new value wakes the receivers; it works with none listening, and never blocks.
fn bump(bell: &watch::Sender<u64>) {
    bell.send_modify(|rings| *rings = rings.wrapping_add(1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_ring_wakes_the_tenants_readers_and_the_any_readers_only() {
        let bell = Doorbell::default();
        let mut acme = bell.tenant("acme");
        let mut globex = bell.tenant("globex");
        let mut any = bell.any();
        bell.ring("acme");
        assert!(acme.has_changed().unwrap());
        assert!(!globex.has_changed().unwrap());
        assert!(any.has_changed().unwrap());
        acme.mark_unchanged();
        any.mark_unchanged();
        globex.mark_unchanged();
        assert!(!acme.has_changed().unwrap());
    }

    #[test]
    fn bells_without_readers_are_dropped() {
        let bell = Doorbell::default();
        drop(bell.tenant("gone"));
        let _kept = bell.tenant("kept");
        assert_eq!(bell.lock().len(), 1);
    }
}
