//! Reading a tenant's event log through a filter. Every channel reads the log itself (there is
//! no in-memory fan-out), so a slow reader only ever delays itself.

use super::filter::EventFilter;
use profilestore_store::{Store, StoreResult};
use serde_json::Value;

/// Most events read from the log per query (fewer when the page is smaller: events read past
/// a full page are parsed for nothing and read again by the next page).
const CHUNK: usize = 500;
/// Most events examined for one page, so that a filter matching nothing costs a bounded read;
/// the cursor still moves past what was examined.
const SCAN_LIMIT: usize = 5_000;

/// A page of matching events and where the next page starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub events: Vec<Value>,
    /// The last seq examined: pass it as `after` to continue.
    pub next_after: i64,
    /// Whether the log held more events than were examined.
    pub more: bool,
}

/// Up to `limit` events after `after` that pass `filter`, in seq order.
pub async fn read_page(
    store: &dyn Store,
    tenant_id: &str,
    after: i64,
    limit: usize,
    filter: &EventFilter,
) -> StoreResult<Page> {
    let mut page = Page {
        events: Vec::new(),
        next_after: after,
        more: false,
    };
    let mut examined = 0;
    let chunk_size = CHUNK.min(limit).max(1);
    loop {
        let chunk = store
            .events_after(tenant_id, page.next_after, chunk_size as u32)
            .await?;
        let full = chunk.len() == chunk_size;
        for event in chunk {
            page.next_after = event.seq;
            examined += 1;
            if filter.matches(&event.payload) {
                page.events.push(event.payload);
                if page.events.len() == limit {
                    page.more = true;
                    return Ok(page);
                }
            }
        }
        if !full {
            return Ok(page);
        }
        if examined >= SCAN_LIMIT {
            page.more = true;
            return Ok(page);
        }
    }
}
