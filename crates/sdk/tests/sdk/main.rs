//! The SDK against the real `profilestore` binary: each test starts its own server on a
//! free port with a fresh data dir (tenant and app made with the CLI), runs an SDK with its
//! own state dir on a manual clock, and checks what arrived through the server's own APIs
//! (the compatible API, `/v1/events`, `/metrics`). Nothing of the server is mocked.

mod support;

mod delivery;
mod jwt;
mod links;
mod monitors;
mod offline;
mod policy_limits;
mod registration;
