//! Admission, shared by every tenant-scoped protocol: the presented key names a principal, then
//! the tenant's IP allow list and rate limit apply. Each protocol says which headers carry the
//! key and renders the refusals in its own format.

use crate::access::Principal;
use crate::edge::client_ip::client_ip;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request};
use chrono::Utc;
use std::net::SocketAddr;
use std::time::Instant;

/// Why a request was not admitted, in the order the checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    KeyMissing,
    KeyWrong,
    IpNotAllowed,
    RateLimited,
}

/// Admits a request whose key is `presented` (None when the protocol found none).
pub fn admit(
    state: &AppState,
    request: &Request,
    presented: Option<&str>,
) -> Result<Principal, Refusal> {
    let presented = presented
        .map(str::trim)
        .filter(|key| !key.is_empty())
        .ok_or(Refusal::KeyMissing)?;
    let principal = state
        .access
        .authenticate(presented, Utc::now())
        .ok_or(Refusal::KeyWrong)?;
    let tenant = principal.tenant();
    if !tenant.allowed_ips.is_empty() {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        let allowed = peer
            .map(|peer| client_ip(peer, request.headers(), &state.edge.trusted_proxies))
            .is_some_and(|ip| tenant.allows(ip));
        if !allowed {
            return Err(Refusal::IpNotAllowed);
        }
    }
    let limit = match tenant.tenant.rate_limit {
        0 => state.edge.default_rate_limit,
        own => own,
    };
    if !state
        .rate_limiter
        .admit(&tenant.tenant.tenant_id, limit, Instant::now())
    {
        return Err(Refusal::RateLimited);
    }
    Ok(principal)
}

/// The first of these headers that holds a non-empty value.
pub fn first_header<'a>(request: &'a Request, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .filter_map(|name| request.headers().get(*name))
        .filter_map(|value| value.to_str().ok())
        .map(str::trim)
        .find(|value| !value.is_empty())
}
