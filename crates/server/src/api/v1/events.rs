//! `/v1/events`: the tenant's change events, as pages (`GET /v1/events`) and as a live,
//! resumable Server-Sent Events stream (`GET /v1/events/stream`). Both read the log itself,
//! so a slow consumer only ever delays itself, and resuming after seq N yields N+1 next.

use super::problem::{Problem, ProblemDocument};
use super::query::{Query, invalid, parse_integer};
use crate::access::TenantAccess;
use crate::events::Stopped;
use crate::events::filter::{EventFilter, FilterError};
use crate::events::log::read_page;
use crate::events::stream_slots::StreamSlot;
use crate::state::AppState;
use axum::Extension;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use profilestore_store::Store;
use serde::Serialize;
use serde_json::Value;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use utoipa::ToSchema;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;
/// How often a stream reads the log when no commit rings (a lost notification's delay).
const STREAM_POLL: Duration = Duration::from_secs(2);
/// A comment line this often keeps proxies from closing an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// Event documents in seq order (see docs/events.md).
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Value>,
    /// The last seq examined: pass it as `after` to continue.
    pub next_after: i64,
    /// Whether more events may follow right away (otherwise the log was read to its end).
    pub more: bool,
}

fn filter_of(query: &Query) -> Result<EventFilter, Problem> {
    EventFilter::new(query.list("type"), query.list("attribute")).map_err(|error| match error {
        FilterError::Type(message) => invalid("type", &message),
        FilterError::Attribute(message) => invalid("attribute", &message),
    })
}

/// A page of events after a seq.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    params(
        ("after" = Option<i64>, Query, description = "Events with a greater seq (default 0: from the oldest kept)"),
        ("limit" = Option<i64>, Query, description = "At most this many events (1 to 1000, default 100)"),
        ("type" = Option<String>, Query, description = "Only these types (repeat or comma-separate)"),
        ("attribute" = Option<String>, Query, description = "Only events changing one of these attributes"),
    ),
    responses((status = 200, body = EventPage), (status = 422, body = ProblemDocument)),
    security(("profile_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<EventPage>, Problem> {
    let query = Query::parse(raw.as_deref(), &["after", "limit", "type", "attribute"])?;
    let after = query.integer("after", 0, i64::MAX)?.unwrap_or(0);
    let limit = query
        .integer("limit", 1, MAX_LIMIT)?
        .unwrap_or(DEFAULT_LIMIT);
    let filter = filter_of(&query)?;
    let page = read_page(
        &*state.store,
        &tenant.tenant.tenant_id,
        after,
        limit as usize,
        &filter,
    )
    .await?;
    Ok(Json(EventPage {
        events: page.events,
        next_after: page.next_after,
        more: page.more,
    }))
}

/// Events as they are committed, as Server-Sent Events: `id:` is the seq, `data:` the event.
/// Starts after `Last-Event-ID` (sent by reconnecting clients), else after `?after=`, else at
/// the newest event (only new ones).
#[utoipa::path(get, path = "/v1/events/stream", tag = "events",
    params(
        ("after" = Option<i64>, Query, description = "Start after this seq (Last-Event-ID wins)"),
        ("type" = Option<String>, Query, description = "Only these types (repeat or comma-separate)"),
        ("attribute" = Option<String>, Query, description = "Only events changing one of these attributes"),
    ),
    responses((status = 200, content_type = "text/event-stream", description = "The stream"),
        (status = 422, body = ProblemDocument),
        (status = 429, body = ProblemDocument,
            description = "The tenant has its limit of streams open on this server")),
    security(("profile_key" = [])))]
pub async fn stream(
    State(state): State<AppState>,
    Extension(tenant): Extension<Arc<TenantAccess>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Problem> {
    let query = Query::parse(raw.as_deref(), &["after", "type", "attribute"])?;
    let filter = filter_of(&query)?;
    let tenant_id = tenant.tenant.tenant_id.clone();
    let slot = state.stream_slots.take(&tenant_id).ok_or_else(|| {
        Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-streams",
            "Too many event streams",
            format!(
                "this tenant has {} event streams open on this server; close one, or use a \
                 webhook or NATS to fan events out",
                state.stream_slots.limit()
            ),
        )
    })?;
    // Subscribed before the first read, so that no commit between the two goes unnoticed.
    let bell = state.store.doorbell().tenant(&tenant_id);
    let last_event_id = headers
        .get("last-event-id")
        .map(|value| {
            value
                .to_str()
                .map_err(|_| invalid("Last-Event-ID", "not text"))
                .and_then(|text| parse_integer("Last-Event-ID", text, 0, i64::MAX))
        })
        .transpose()?;
    let cursor = match last_event_id.or(query.integer("after", 0, i64::MAX)?) {
        Some(after) => after,
        None => state.store.latest_event_seq(&tenant_id).await?,
    };
    let follow = Follow {
        store: state.store.clone(),
        tenant_id,
        cursor,
        filter,
        bell,
        stopping: state.stopping.clone(),
        ready: VecDeque::new(),
        _slot: slot,
    };
    Ok(Sse::new(futures_util::stream::unfold(follow, Follow::next))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// One stream's position in its tenant's log.
struct Follow {
    store: Arc<dyn Store>,
    tenant_id: String,
    cursor: i64,
    filter: EventFilter,
    bell: watch::Receiver<u64>,
    stopping: Stopped,
    /// Events read and not yet sent.
    ready: VecDeque<Value>,
    /// Held while the stream is open (the per-tenant limit).
    _slot: StreamSlot,
}

impl Follow {
    /// The next event to send, waiting for one; `None` ends the stream (shutdown).
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                let sse = Event::default()
                    .id(event["seq"].to_string())
                    .data(event.to_string());
                return Some((Ok(sse), self));
            }
            if *self.stopping.borrow() {
                return None;
            }
            match read_page(
                &*self.store,
                &self.tenant_id,
                self.cursor,
                MAX_LIMIT as usize,
                &self.filter,
            )
            .await
            {
                Ok(page) => {
                    self.cursor = page.next_after;
                    self.ready.extend(page.events);
                    if !self.ready.is_empty() || page.more {
                        continue;
                    }
                }
                Err(error) => tracing::warn!(%error, "event stream could not read the log"),
            }
            tokio::select! {
                _ = self.bell.changed() => {}
                _ = tokio::time::sleep(STREAM_POLL) => {}
                // Err: the server is gone without saying so; end the stream too.
                changed = self.stopping.changed() => if changed.is_err() { return None; },
            }
        }
    }
}
