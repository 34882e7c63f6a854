//! The device attribute policy as `verifyPolicy` answers it: which monitors this SDK runs,
//! in which category, how often, and how often to ask again.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The platform of the install (`channelType` and `verifyPolicy?os=` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Android devices (the richest monitor catalogue: the default).
    Android,
    /// iOS devices.
    Ios,
    /// Browsers (this project's own catalogue row: one-time and event monitors only).
    Web,
}

impl Platform {
    /// The wire name: `android`, `ios` or `web`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Android => "android",
            Platform::Ios => "ios",
            Platform::Web => "web",
        }
    }
}

/// When a monitor captures its attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorCategory {
    /// Once, right after registration.
    OneTime,
    /// Whenever the device event happens (reported by the app, or noticed by the provider).
    Event,
    /// Every `interval_seconds`.
    Interval,
}

/// One monitor the policy enables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Monitor {
    /// The app-profile attribute it captures (`timezone`, `batterylevel`, `RAM`...).
    pub attribute: String,
    /// When it captures it.
    pub category: MonitorCategory,
    /// The period of an interval monitor, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_seconds: Option<u32>,
}

impl Monitor {
    /// The period of an interval monitor. The server keeps periods between a minute and a
    /// week; a period under a second is read as one second, so a bad answer cannot make the
    /// SDK spin.
    pub fn interval(&self) -> Option<Duration> {
        self.interval_seconds
            .map(|seconds| Duration::from_secs(u64::from(seconds.max(1))))
    }
}

/// What `GET /api/v3/{appId}/verifyPolicy` answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// The platform the policy is for.
    pub os: String,
    /// The SDK band the server read from the `sdkversion` header (`2.12+` or `2.11-`).
    pub sdk_band: String,
    /// Minutes between two policy fetches.
    pub policy_polling_interval: u32,
    /// The monitors to run.
    pub monitors: Vec<Monitor>,
}

impl Policy {
    /// The time between two policy fetches (at least a minute).
    pub fn polling_interval(&self) -> Duration {
        Duration::from_secs(60 * u64::from(self.policy_polling_interval.max(1)))
    }

    /// The attributes of one category, in the policy's order.
    pub fn attributes(&self, category: MonitorCategory) -> Vec<String> {
        self.monitors
            .iter()
            .filter(|monitor| monitor.category == category)
            .map(|monitor| monitor.attribute.clone())
            .collect()
    }

    /// Whether `attribute` is enabled in `category`.
    pub fn enables(&self, attribute: &str, category: MonitorCategory) -> bool {
        self.monitors
            .iter()
            .any(|monitor| monitor.category == category && monitor.attribute == attribute)
    }

    /// Interval monitors grouped by period, each group captured in one request per tick.
    pub(crate) fn interval_groups(&self) -> std::collections::BTreeMap<Duration, Vec<String>> {
        let mut groups = std::collections::BTreeMap::<Duration, Vec<String>>::new();
        for monitor in &self.monitors {
            if let (MonitorCategory::Interval, Some(period)) =
                (monitor.category, monitor.interval())
            {
                groups
                    .entry(period)
                    .or_default()
                    .push(monitor.attribute.clone());
            }
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy() -> Policy {
        serde_json::from_value(json!({
            "os": "android", "sdk_band": "2.11-", "policy_polling_interval": 30,
            "monitors": [
                {"attribute": "location", "category": "event"},
                {"attribute": "batterylevel", "category": "interval", "interval_seconds": 3600},
                {"attribute": "signalstrength", "category": "interval", "interval_seconds": 3600},
                {"attribute": "foregroundapp", "category": "interval", "interval_seconds": 60},
                {"attribute": "imei", "category": "one_time"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn interval_monitors_of_one_period_share_a_tick() {
        let groups = policy().interval_groups();
        assert_eq!(
            groups[&Duration::from_secs(3600)],
            vec!["batterylevel", "signalstrength"]
        );
        assert_eq!(groups[&Duration::from_secs(60)], vec!["foregroundapp"]);
    }

    #[test]
    fn categories_are_kept_apart() {
        let policy = policy();
        assert_eq!(policy.attributes(MonitorCategory::OneTime), vec!["imei"]);
        assert!(policy.enables("location", MonitorCategory::Event));
        assert!(!policy.enables("location", MonitorCategory::Interval));
        assert_eq!(policy.polling_interval(), Duration::from_secs(1800));
    }
}
