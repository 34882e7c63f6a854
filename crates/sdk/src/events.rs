//! Profile update events inside the app: what [`crate::Sdk::subscribe`] receives once the
//! server has acknowledged an update.

use crate::readings::Readings;
use chrono::{DateTime, Utc};

/// An update the server acknowledged: the same profile update the server raised (or, when
/// nothing changed there, such as a repeated heartbeat, would have raised).
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileUpdateEvent {
    /// The device event that caused it (`TIMEZONECHANGE`, `DEVICEINFO`, `PERIODICUPDATE`,
    /// `ProfileUpdate` for the heartbeat...).
    pub event: String,
    /// The attributes the server stored, with their new values.
    pub update: Readings,
    /// Attributes the server did not store because its policy does not enable them (the
    /// SDK's policy was out of date; it fetches the policy again).
    pub ignored: Vec<String>,
    /// The heartbeat, rather than monitor readings.
    pub heartbeat: bool,
    /// When the readings were taken.
    pub captured_at: DateTime<Utc>,
    /// When the server acknowledged them (later than `captured_at` after being offline).
    pub delivered_at: DateTime<Utc>,
}
