//! The edge: what happens to every request before a protocol adapter sees it (limits, request
//! ids, metrics), the client address the IP allow list judges, and admission (key, allow
//! list, rate limit) shared by every tenant-scoped protocol.

pub mod admission;
pub mod body_timeout;
pub mod client_ip;
pub mod layers;
pub mod metrics;
