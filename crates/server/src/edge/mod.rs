//! The edge: what happens to every request before a protocol adapter sees it (limits, request
//! ids, metrics) and the client address the IP allow list judges.

pub mod client_ip;
pub mod layers;
pub mod metrics;
