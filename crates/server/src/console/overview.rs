//! The console's overview: how many customers, devices by platform and status, events per
//! minute over the last hour, and monitor usage (how many devices reported each monitored
//! attribute). The store counts; this shapes the counts for the page.

use super::scope::Scoped;
use crate::api::v1::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use chrono::{Duration, Utc};
use profilestore_core::device::{DEVICE_ATTRIBUTES, InstallStatus, Platform};
use profilestore_store::console::DeviceGroup;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The chart's span, in minutes.
const MINUTES: i64 = 60;

#[derive(Serialize)]
pub struct Overview {
    customers: u64,
    /// platform → status → devices. Platforms: android, ios, web, other; statuses: active,
    /// unregistered, unknown.
    devices: BTreeMap<String, BTreeMap<String, u64>>,
    /// Events in each of the last 60 minutes, oldest first; the last is the current minute.
    events_per_minute: Vec<u64>,
    /// The Unix minute of the first entry of `events_per_minute`.
    first_minute: i64,
    /// Every monitored attribute of the catalogue with the devices holding a value, most first.
    monitor_usage: Vec<MonitorUsage>,
}

#[derive(Serialize)]
pub struct MonitorUsage {
    attribute: String,
    display_name: String,
    devices: u64,
}

/// The overview's platform label of a group of installs (core decides the platform).
fn platform(group: &DeviceGroup) -> &'static str {
    Platform::of_install(group.channel_type.as_deref(), group.os.as_deref())
        .map_or("other", Platform::as_str)
}

/// The overview's status label of a group of installs (core decides what a status means).
fn status(group: &DeviceGroup) -> &'static str {
    match InstallStatus::of(group.status.as_deref()) {
        Some(InstallStatus::Active) => "active",
        Some(InstallStatus::Unregistered) => "unregistered",
        None => "unknown",
    }
}

pub async fn get(State(state): State<AppState>, scoped: Scoped) -> Result<Json<Overview>, Problem> {
    let now = Utc::now();
    let current_minute = now.timestamp().div_euclid(60);
    let first_minute = current_minute - (MINUTES - 1);
    let since = now - Duration::minutes(MINUTES);
    let counts = state
        .store
        .console_overview(scoped.tenant_id(), since)
        .await?;
    let mut devices: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for group in &counts.devices {
        *devices
            .entry(platform(group).to_owned())
            .or_default()
            .entry(status(group).to_owned())
            .or_default() += group.count;
    }
    let mut events_per_minute = vec![0; MINUTES as usize];
    for (minute, count) in counts.events_per_minute {
        if let Ok(index) = usize::try_from(minute - first_minute)
            && let Some(slot) = events_per_minute.get_mut(index)
        {
            *slot += count;
        }
    }
    let held: HashMap<String, u64> = counts.attribute_counts.into_iter().collect();
    let mut monitor_usage: Vec<MonitorUsage> = DEVICE_ATTRIBUTES
        .iter()
        .map(|attribute| MonitorUsage {
            attribute: attribute.key.to_owned(),
            display_name: attribute.display_name.to_owned(),
            devices: held.get(attribute.key).copied().unwrap_or(0),
        })
        .collect();
    monitor_usage.sort_by(|a, b| {
        b.devices
            .cmp(&a.devices)
            .then(a.attribute.cmp(&b.attribute))
    });
    Ok(Json(Overview {
        customers: counts.customers,
        devices,
        events_per_minute,
        first_minute,
        monitor_usage,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(channel: Option<&str>, os: Option<&str>, status: Option<&str>) -> DeviceGroup {
        DeviceGroup {
            channel_type: channel.map(str::to_owned),
            os: os.map(str::to_owned),
            status: status.map(str::to_owned),
            count: 1,
        }
    }

    #[test]
    fn platforms_come_from_the_channel_type_else_the_os() {
        assert_eq!(platform(&group(Some("ios"), Some("whatever"), None)), "ios");
        assert_eq!(platform(&group(None, Some("Android"), None)), "android");
        assert_eq!(platform(&group(None, Some("iPhone OS"), None)), "ios");
        assert_eq!(platform(&group(Some("web"), None, None)), "web");
        assert_eq!(platform(&group(None, None, None)), "other");
        assert_eq!(status(&group(None, None, Some("2"))), "unregistered");
        assert_eq!(
            status(&group(None, None, Some("1"))),
            "active",
            "the legacy active"
        );
        assert_eq!(status(&group(None, None, None)), "unknown");
    }
}
