//! Black-box tests of event delivery (issue 6): real servers on loopback ports, a real HTTP
//! client, real webhook receivers, the real nats-server. The SSE stream (resume without gap or
//! duplicate, filters, tenant isolation), event pages, webhooks (signatures, retries in order,
//! filters, replay, disabling, the API's validation), NATS JetStream, and a server killed with
//! SIGKILL in the middle of deliveries.

#[path = "../support/mod.rs"]
mod support;

mod crash;
mod helpers;
mod nats;
mod pages;
mod receiver;
mod sse;
mod stream;
mod webhook_api;
mod webhooks;
