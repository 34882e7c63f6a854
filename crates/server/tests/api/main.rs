//! Black-box tests of the server over a real socket: health, customer profiles on the
//! compatible API, admission (keys, IP allow list, rate limit), bad input, restarts, the CLI
//! and TLS. App-profile routes have their own binary (tests/compat_app_profiles).

#[path = "../support/mod.rs"]
mod support;

mod admission;
mod bad_input;
mod cli;
mod customers;
mod failures;
mod health;
mod restart;
mod schema_cli;
mod tls;
