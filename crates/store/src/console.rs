//! What the admin console keeps: its users (per tenant, or operators of every tenant), their
//! sessions, and the counts its overview page shows. A supertrait of [`crate::Store`], so an
//! `Arc<dyn Store>` offers it too; kept apart because it is a concern of its own.
//!
//! The store never sees a password or a session token: users carry an Argon2id PHC string and
//! sessions are addressed by the SHA-256 digest of their token (hashing is the server's job).

use crate::error::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A console user. `tenant_id` None: an operator, who may act on every tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleUser {
    pub user_id: String,
    /// Lowercased; unique across the console.
    pub email: String,
    pub tenant_id: Option<String>,
    /// Argon2id, as a PHC string (`$argon2id$v=19$...`).
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

/// A signed-in session, addressed by the digest of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub token_digest: String,
    pub user_id: String,
    /// The tenant the session acts on: the user's own, or the one an operator chose.
    pub tenant_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Installs counted by what they say of their platform and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceGroup {
    /// The SDK's `channelType` (android, ios, web), when an SDK registered the install.
    pub channel_type: Option<String>,
    /// The `os` attribute, for installs written through the compatible API.
    pub os: Option<String>,
    /// `status`: "0" active, "2" unregistered.
    pub status: Option<String>,
    pub count: u64,
}

/// The counts behind the console's overview page, for one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsoleOverview {
    pub customers: u64,
    pub devices: Vec<DeviceGroup>,
    /// How many installs hold each app-profile attribute, by key (every key, monitored or not).
    pub attribute_counts: Vec<(String, u64)>,
    /// Events per minute since the time asked: (Unix minute, count), minutes without events absent.
    pub events_per_minute: Vec<(i64, u64)>,
}

#[async_trait]
pub trait ConsoleStore: Send + Sync {
    /// Creates a user; `Conflict` if the e-mail address is taken.
    async fn create_console_user(&self, user: ConsoleUser) -> StoreResult<ConsoleUser>;
    /// A tenant's users (`Some`), or the operators (`None`), by e-mail address.
    async fn list_console_users(&self, tenant_id: Option<&str>) -> StoreResult<Vec<ConsoleUser>>;
    /// The user with this (lowercased) e-mail address.
    async fn console_user_by_email(&self, email: &str) -> StoreResult<Option<ConsoleUser>>;
    /// Replaces a user's password hash and ends every session of the user; whether it existed.
    async fn set_console_password(&self, user_id: &str, password_hash: &str) -> StoreResult<bool>;
    /// Deletes a user and every session of the user; whether it existed.
    async fn delete_console_user(&self, user_id: &str) -> StoreResult<bool>;

    async fn create_console_session(&self, session: ConsoleSession) -> StoreResult<()>;
    /// A session that has not expired at `now`, with its user.
    async fn console_session(
        &self,
        token_digest: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(ConsoleSession, ConsoleUser)>>;
    /// Points a session at another tenant (an operator's choice); whether it existed.
    async fn set_console_session_tenant(
        &self,
        token_digest: &str,
        tenant_id: &str,
    ) -> StoreResult<bool>;
    /// Ends a session (sign-out); whether it existed.
    async fn delete_console_session(&self, token_digest: &str) -> StoreResult<bool>;
    /// Deletes sessions that expired before `now`; how many.
    async fn prune_console_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64>;

    /// The overview's counts for a tenant; events are counted from `events_since` on.
    async fn console_overview(
        &self,
        tenant_id: &str,
        events_since: DateTime<Utc>,
    ) -> StoreResult<ConsoleOverview>;
}
