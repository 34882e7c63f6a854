//! How many event streams each tenant has open on this node, so that one tenant cannot hold
//! every connection and task of the server: a stream past the limit is refused (429) until
//! one closes. A slot is given back when its stream ends, whichever way (client gone,
//! shutdown).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Open streams one tenant may have on one node, unless `--max-event-streams-per-tenant` says.
pub const MAX_STREAMS_PER_TENANT: usize = 100;

#[derive(Debug, Clone)]
pub struct StreamSlots {
    limit: usize,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

/// One open stream's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct StreamSlot {
    tenant_id: String,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

impl StreamSlots {
    pub fn with_limit(limit: usize) -> Self {
        StreamSlots {
            limit,
            open: Arc::default(),
        }
    }

    /// A slot for one more stream of `tenant_id`, or `None` when it has `limit` open.
    pub fn take(&self, tenant_id: &str) -> Option<StreamSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(tenant_id.to_owned()).or_default();
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(StreamSlot {
            tenant_id: tenant_id.to_owned(),
            open: self.open.clone(),
        })
    }

    pub fn limit(&self) -> usize {
        self.limit
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.tenant_id) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.tenant_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_gets_its_limit_of_slots_and_a_closed_one_back() {
        let slots = StreamSlots::with_limit(2);
        let first = slots.take("acme").unwrap();
        let _second = slots.take("acme").unwrap();
        assert!(slots.take("acme").is_none(), "the third is over the limit");
        assert!(slots.take("globex").is_some(), "another tenant has its own");
        drop(first);
        assert!(
            slots.take("acme").is_some(),
            "a closed stream frees its slot"
        );
    }
}
