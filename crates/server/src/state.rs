//! What every handler can reach: the store, the access view, the rate limiter, the edge settings.

use crate::access::AccessCache;
use crate::rate_limit::RateLimiter;
use crate::secrets::ServerSecret;
use ipnet::IpNet;
use metrics_exporter_prometheus::PrometheusHandle;
use profilestore_store::Store;
use std::sync::Arc;

/// The settings the edge and the protocol adapters read per request.
#[derive(Debug, Clone, Default)]
pub struct EdgeSettings {
    pub trusted_proxies: Vec<IpNet>,
    pub default_rate_limit: u32,
    pub compat_always_200: bool,
}

/// Cloned by every layer a request passes through, so it is one `Arc`: a clone is one atomic
/// increment, not one per field (those were ~2 % of a read's CPU, measured).
#[derive(Clone)]
pub struct AppState(Arc<AppContext>);

impl AppState {
    pub fn new(context: AppContext) -> Self {
        AppState(Arc::new(context))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppContext;

    fn deref(&self) -> &AppContext {
        &self.0
    }
}

pub struct AppContext {
    pub store: Arc<dyn Store>,
    pub access: Arc<AccessCache>,
    pub rate_limiter: Arc<RateLimiter>,
    pub edge: Arc<EdgeSettings>,
    pub metrics: PrometheusHandle,
    /// Seals new client keys and JWT secrets, and unseals JWT secrets to check SDK tokens.
    pub secret: Arc<ServerSecret>,
    /// Turns true when the server shuts down: long-lived responses (SSE) end then.
    pub stopping: crate::events::Stopped,
    /// The admin console's per-process state (cookie settings, the sign-in rate limit).
    pub console: Arc<crate::console::ConsoleState>,
    /// Event streams open per tenant on this node, against their limit.
    pub stream_slots: crate::events::stream_slots::StreamSlots,
}
