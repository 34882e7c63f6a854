//! The keys a view of the settings has already verified, so that a key presented again costs
//! a keyed hash and a constant-time comparison instead of SHA-256, its hex and a lookup by
//! digest (~8 % of a one-customer read's instructions, measured with callgrind).
//!
//! Only a key that matched a digest is remembered, so the set holds at most the view's keys
//! whatever clients send; it lives and dies with its view, so a rotated or removed key is
//! forgotten with the view that held it. Liveness (expiry) stays the caller's check on every
//! use.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, RwLock};
use subtle::ConstantTimeEq;

pub(super) struct VerifiedKeys<T> {
    /// SipHash with this view's own random keys: a client cannot aim keys at one bucket.
    hasher: RandomState,
    by_hash: RwLock<HashMap<u64, Vec<Verified<T>>>>,
}

struct Verified<T> {
    key: Box<[u8]>,
    entry: Arc<T>,
}

impl<T> Default for VerifiedKeys<T> {
    fn default() -> Self {
        VerifiedKeys {
            hasher: RandomState::new(),
            by_hash: RwLock::new(HashMap::new()),
        }
    }
}

impl<T> VerifiedKeys<T> {
    /// The entry of `presented` if it was verified before.
    pub(super) fn find(&self, presented: &str) -> Option<Arc<T>> {
        let hash = self.hasher.hash_one(presented);
        let by_hash = self
            .by_hash
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        matching(by_hash.get(&hash)?, presented).map(|verified| verified.entry.clone())
    }

    /// Remembers that `presented` matched `entry`'s digest.
    pub(super) fn remember(&self, presented: &str, entry: Arc<T>) {
        let hash = self.hasher.hash_one(presented);
        let mut by_hash = self
            .by_hash
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let same_hash = by_hash.entry(hash).or_default();
        // Two requests can verify one key at once; it is remembered once.
        if matching(same_hash, presented).is_none() {
            same_hash.push(Verified {
                key: presented.as_bytes().into(),
                entry,
            });
        }
    }
}

/// The entry among keys of one hash that is `presented`, compared in constant time: how long
/// a comparison takes says nothing about how much of a key matched.
fn matching<'a, T>(same_hash: &'a [Verified<T>], presented: &str) -> Option<&'a Verified<T>> {
    same_hash
        .iter()
        .find(|verified| bool::from(verified.key.ct_eq(presented.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_what_was_remembered_and_remembers_each_key_once() {
        let keys = VerifiedKeys::default();
        assert!(keys.find("key-a").is_none());
        keys.remember("key-a", Arc::new(1));
        keys.remember("key-a", Arc::new(1));
        keys.remember("key-b", Arc::new(2));
        assert_eq!(keys.find("key-a").as_deref(), Some(&1));
        assert_eq!(keys.find("key-b").as_deref(), Some(&2));
        assert!(keys.find("key-").is_none(), "a prefix is not the key");
        assert!(keys.find("key-ab").is_none());
        let remembered: usize = keys.by_hash.read().unwrap().values().map(Vec::len).sum();
        assert_eq!(remembered, 2);
    }
}
