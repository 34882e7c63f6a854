//! End-to-end tests of the admin console (issue 9): a real headless Chromium, driven over
//! WebDriver, against the real `profilestore` binary on a loopback port with its own data dir
//! (and its own PostgreSQL database under `PROFILESTORE_TEST_BACKEND=postgres`). Each test has
//! its own server and browser, so they run in parallel. With PROFILESTORE_WRITE_SCREENSHOTS=1
//! they also save the screenshots that docs/console.md shows.
//!
//! `session_api` checks the console's routes with a plain HTTP client (sessions, CSRF, the
//! sign-in rate limit, tenant isolation, operators) and needs no browser.

#[path = "../support/mod.rs"]
mod support;

mod apps;
mod browser;
mod customer_attributes;
mod device_attributes;
mod harness;
mod live_events;
mod pages;
mod session_api;
mod signin;
mod tenant_settings;
