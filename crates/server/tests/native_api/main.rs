//! Black-box tests of the native `/v1` API and of typed, validated custom attributes (issue 4):
//! a real server on a loopback port, a real HTTP client. Admission, the schema registry and its
//! evolution rules (each with its problem+json body), enforcement of the schema through the
//! compatible API, customer lookups, and the OpenAPI document.

#[path = "../support/mod.rs"]
mod support;

mod auth;
mod enforcement;
mod evolution;
mod helpers;
mod lookups;
mod openapi;
mod registry;
mod required_and_unique;
mod retirement;
