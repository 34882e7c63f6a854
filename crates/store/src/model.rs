//! Values the Store trait takes and returns that are not domain profiles: tenants, apps,
//! secrets, the access snapshot servers authenticate from, and stored events.

use chrono::{DateTime, Utc};
use profilestore_core::DomainError;
use profilestore_core::app_profile::{AppProfile, AppProfileKey, AppProfilePatch};
use profilestore_core::attribute::RawAttribute;
use profilestore_core::batch::RecordRef;
use profilestore_core::device::{AppOptions, DevicePolicy, Platform};
use profilestore_core::ids::{CustomerId, DeviceId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub tenant_id: String,
    pub name: String,
    /// The numeric ProfileID the compatible API prints in OutwardLinks.
    pub store_number: i64,
    /// Requests per second; 0 means the server-wide default.
    pub rate_limit: u32,
    /// CIDR blocks; empty means every address is allowed.
    pub allowed_ips: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// A secret as the store keeps it: a SHA-256 digest (hex) to look it up by, and a copy sealed
/// with the server secret so that an operator can view it again. Never the plain secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecret {
    pub digest: String,
    pub sealed: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileKeyRecord {
    pub tenant_id: String,
    pub key_id: i64,
    pub secret: SealedSecret,
    pub created_at: DateTime<Utc>,
    /// When a rotation retired it; the key works until then.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub tenant_id: String,
    pub app_id: String,
    pub name: String,
    pub client_key: SealedSecret,
    pub created_at: DateTime<Utc>,
    pub options: AppOptions,
    /// The JWT secret SDK calls are checked with, sealed with the server secret.
    pub jwt_secret: Option<Vec<u8>>,
    pub device_policy: DevicePolicy,
}

/// Changes to an app; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppUpdate {
    pub name: Option<String>,
    pub options: Option<AppOptions>,
    /// `Some(None)` removes the JWT secret; `Some(Some(sealed))` sets it.
    pub jwt_secret: Option<Option<Vec<u8>>>,
    pub client_key: Option<SealedSecret>,
    pub device_policy: Option<DevicePolicy>,
}

/// Everything a server needs to authenticate and admit requests, loaded in one go and kept in
/// memory; reloaded when `settings_version` moves.
#[derive(Debug, Clone, Default)]
pub struct AccessSnapshot {
    pub version: i64,
    pub tenants: Vec<Tenant>,
    /// Keys that have not expired at load time (the server checks expiry again per request).
    pub profile_keys: Vec<ProfileKeyRecord>,
    pub apps: Vec<App>,
}

/// Which app profiles of one app an operation addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppProfileSelector {
    /// One install: the full key.
    Device {
        user_id: UserId,
        device_id: DeviceId,
    },
    /// Every device of one user.
    User(UserId),
    /// Every install linked to one customer.
    Customer(CustomerId),
    /// One device id, among the installs linked to one customer.
    DeviceOfCustomer {
        device_id: DeviceId,
        customer_id: CustomerId,
    },
}

/// Secondary identifiers a customer can be found by (besides its customerId).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerLookup {
    Email(String),
    Msisdn(String),
}

/// One customer record of a batch write: the id, and its attributes as written. They are
/// checked against the tenant's schema inside the write transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerInput {
    pub customer_id: CustomerId,
    pub attributes: Vec<RawAttribute>,
}

/// Create or update, for the batch writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Create,
    Update,
}

/// One app-profile record of a batch write, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppProfileCommand {
    /// Registers the install (userId, deviceId) of the app the write addresses.
    Create {
        user_id: UserId,
        device_id: DeviceId,
        link: Option<CustomerId>,
        patch: AppProfilePatch,
    },
    Update {
        selector: AppProfileSelector,
        link: Option<CustomerId>,
        patch: AppProfilePatch,
    },
}

/// One record of a batch, as the protocol adapter parsed it: a command, or why it is invalid.
pub type BatchRecord<T> = (RecordRef, Result<T, DomainError>);

/// A tenant's custom attribute ids by name, shared: a backend may keep it between reads.
pub type AttributeIds = std::sync::Arc<std::collections::HashMap<String, i64>>;

/// An event as the outbox holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    pub event_id: String,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    /// The full event document (id, seq, type, occurred_at, tenant_id, subject, changes...).
    pub payload: serde_json::Value,
}

/// How far behind an install's stored last SDK contact may lag: a call within this of the
/// stored contact leaves it as it is. The contact only ages installs (a TTL of days, swept
/// hourly, which waits this much longer: never early), and it is indexed, so moving it on
/// every call would rewrite an index entry per call (on SQLite, one more page to log; on
/// PostgreSQL, no HOT update). Devices that call often then cost one row write, not two.
pub const CONTACT_RESOLUTION: chrono::Duration = chrono::Duration::hours(1);

/// The stored contacts a call at `at` moves: those older than this (or none yet).
pub(crate) fn contact_moves_if_before(at: DateTime<Utc>) -> DateTime<Utc> {
    at - CONTACT_RESOLUTION
}

/// Whether a call at `at` moves `stored`, an install's contact as read in the same
/// transaction: the writes then skip a statement that would match no row.
pub(crate) fn contact_moves(stored: Option<DateTime<Utc>>, at: DateTime<Utc>) -> bool {
    stored.is_none_or(|stored| stored < contact_moves_if_before(at))
}

/// One call of the device SDK, parsed; attributes already checked against the catalogue and
/// filtered by the app's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkCommand {
    /// Registers (or refreshes) the install `user_id` on `device_id`.
    Register {
        user_id: UserId,
        system_generated: bool,
        device_id: DeviceId,
        platform: Platform,
        patch: AppProfilePatch,
    },
    /// Moves the install to another userId (setUserId, or removeUserId with a system one).
    SetUserId {
        install: AppProfileKey,
        user_id: UserId,
        system_generated: bool,
    },
    SetCustomerId {
        install: AppProfileKey,
        customer_id: CustomerId,
    },
    RemoveCustomerId {
        install: AppProfileKey,
    },
    Unregister {
        install: AppProfileKey,
    },
    /// Monitor readings or the heartbeat.
    ProfileUpdate {
        install: AppProfileKey,
        patch: AppProfilePatch,
    },
}

/// An SDK call with what the store needs to apply it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkRequest {
    pub command: SdkCommand,
    pub options: AppOptions,
    /// The app's device policy: monitor readings it does not enable are not stored.
    pub policy: DevicePolicy,
    pub sdk_version: Option<String>,
    /// The device event the change events name (Register, LOCATIONCHANGE, setUserId...).
    pub device_event: String,
    pub now: DateTime<Utc>,
}

/// What an SDK call left: the install, and the readings the policy did not let through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkOutcome {
    pub profile: AppProfile,
    pub ignored: Vec<String>,
}
