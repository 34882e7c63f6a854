//! profilestore-core: the domain of a profile store, and its rules, written once.
//!
//! # Layout
//! - [`ids`]: validated identifiers (customerId, userId, deviceId, appId); "parse, don't validate".
//! - [`attribute`]: attribute values as written by a client, and the checks on their shape.
//! - [`customer`]: customer profiles, their default attributes and the patches that change them.
//! - [`app_profile`]: app profiles (one per app install) and their fixed attribute catalogue.
//! - [`device`]: device attribute monitors, the per-app policy, and the app options.
//! - [`schema`]: typed customer attributes: types, definitions and their evolution.
//! - [`change`]: the change events every mutation produces (written to the outbox by the store).
//! - [`batch`]: per-record outcomes of a batch write, kept for the status endpoint.
//! - [`error`]: the one error type; each protocol maps its variants to its own wire codes.
//! - [`json_writer`]: JSON text for the hottest documents (no shapes: their owners write them).
//!
//! Deliberately absent: async, SQL, HTTP and any protocol's JSON shapes.

pub mod app_profile;
pub mod attribute;
pub mod batch;
pub mod change;
pub mod customer;
pub mod device;
pub mod error;
pub mod ids;
pub mod json_writer;
pub mod schema;

pub use error::DomainError;
