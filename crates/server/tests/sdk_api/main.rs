//! Black-box tests of the device SDK API (`/api/v3/{appId}`, issue 5) over a real socket:
//! admission by the app's client key, every call, the app options, the JWT rule, policy
//! filtering by platform and SDK version, the TTL job (driven by the sweep's clock, never by
//! waiting), and what the compatible API shows of what the SDK wrote.

#[path = "../support/mod.rs"]
mod support;

mod apps;
mod calls;
mod events;
mod helpers;
mod options;
mod policy;
