//! profilestore-server: the `profilestore` binary — command line, configuration, the HTTP edge
//! and the protocol adapters.
//!
//! # Layout
//! - [`cli`]: `serve` and the admin commands (`tenant ...`, `app ...`), printing what [`admin`] does.
//! - [`config`]: flags, environment and TOML file, resolved into settings.
//! - [`server`]: the router, the accept loop (HTTP or HTTPS), graceful shutdown.
//! - [`edge`]: limits, request ids, metrics, the client address.
//! - [`access`], [`rate_limit`]: who may call (keys, apps, IP allow lists) and how often.
//! - [`api`]: protocol adapters — `compat` (Profile API v2), `sdk` (device SDK, `/api/v3`),
//!   `v1` (native) and health/metrics.
//! - [`console`]: the admin console at `/console` (page, sessions, its own API routes).
//! - [`ttl`]: the job that deletes app profiles without SDK contact for their app's TTL.
//! - [`secrets`]: key generation, digests, sealing with the server secret.
//! - [`allocator`]: the global allocator of the binary (mimalloc 2, its fast paths).

pub mod access;
pub mod admin;
pub mod allocator;
pub mod api;
pub mod cli;
pub mod config;
pub mod console;
pub mod edge;
pub mod events;
pub mod periodic;
pub mod rate_limit;
pub mod secrets;
pub mod server;
pub mod state;
pub mod ttl;
