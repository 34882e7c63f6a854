//! What the device SDK's calls do to app profiles (reference §8.4, §8.5): registration and its
//! refresh, unregistration, readings, links and a change of userId. The server maintains
//! `createdOn`, `last_opened`, `status`, `sdkversion`, `guest` and `channelType`; every event
//! names the device event that caused it.

use super::{AppProfile, AppProfileKey, AppProfilePatch, CREATED_ON_FORMAT, link_change, unlink};
use crate::change::{ChangeEvent, Changing, EventType, diff};
use crate::device::{DevicePolicy, Platform, is_monitored};
use crate::ids::{CustomerId, UserId};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// The format the product prints `last_opened` in (ISO-8601 with a numeric offset).
pub const LAST_OPENED_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%z";

/// The circumstances of one SDK call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkContext {
    pub now: DateTime<Utc>,
    /// The `sdkversion` header, when sent.
    pub sdk_version: Option<String>,
    /// The device event (Register, LOCATIONCHANGE, ProfileUpdate, setCustomerId...).
    pub device_event: String,
}

impl SdkContext {
    fn stamp(&self, attributes: &mut Changing<'_>) {
        if let Some(version) = &self.sdk_version {
            attributes.set("sdkversion", Some(version.clone()));
        }
    }

    fn mark(&self, mut events: Vec<ChangeEvent>) -> Vec<ChangeEvent> {
        for event in &mut events {
            event.device_event = Some(self.device_event.clone());
        }
        events
    }
}

/// Drops monitor readings the policy does not enable for this platform (none are enabled for
/// an install of unknown platform); returns their keys, the SDK's `ignored`. Attributes that
/// are not monitor readings (pushId, os, sdkheartbeat...) always pass.
pub fn filter_readings(
    policy: &DevicePolicy,
    platform: Option<Platform>,
    patch: &mut AppProfilePatch,
) -> Vec<String> {
    patch.retain(|key| match platform {
        Some(platform) => policy.accepts(platform, key),
        None => !is_monitored(key),
    })
}

/// The platform an install registered from.
pub fn platform_of(profile: &AppProfile) -> Option<Platform> {
    profile
        .attributes
        .get("channelType")
        .and_then(|text| Platform::parse(text).ok())
}

/// Applies `change` to `profile` in place; an event of `event_type` if any attribute moved.
/// `own`: the install is the calling SDK's (its sdkversion is stamped), not another one the
/// call affects (another user's on the device, the user's on other devices).
fn changed(
    mut profile: AppProfile,
    event_type: EventType,
    ctx: &SdkContext,
    own: bool,
    change: impl FnOnce(&mut Changing<'_>),
) -> (AppProfile, Vec<ChangeEvent>) {
    let mut changing = Changing::new(&mut profile.attributes);
    change(&mut changing);
    if own {
        ctx.stamp(&mut changing);
    }
    let changes = changing.finish();
    if changes.is_empty() {
        return (profile, Vec::new());
    }
    profile.version += 1;
    profile.updated_at = ctx.now;
    let event = profile.event(event_type, changes);
    (profile, ctx.mark(vec![event]))
}

/// Registers an install, or refreshes it when it is registered already (idempotent: the same
/// user on the same device). The profile becomes active (status 0).
pub fn register_install(
    existing: Option<&AppProfile>,
    key: AppProfileKey,
    platform: Platform,
    system_generated: bool,
    patch: &AppProfilePatch,
    ctx: &SdkContext,
) -> (AppProfile, Vec<ChangeEvent>) {
    let install = |attributes: &mut Changing<'_>| {
        patch.apply_to(attributes);
        attributes.set("status", Some("0".to_owned()));
        attributes.set("connectStatus", Some("1".to_owned()));
        attributes.set("channel", Some("rt".to_owned()));
        attributes.set("channelType", Some(platform.as_str().to_owned()));
        attributes.set("guest", Some(system_generated.to_string()));
        attributes.set(
            "last_opened",
            Some(ctx.now.format(LAST_OPENED_FORMAT).to_string()),
        );
    };
    if let Some(existing) = existing {
        return changed(
            existing.clone(),
            EventType::AppProfileUpdated,
            ctx,
            true,
            install,
        );
    }
    let mut profile = AppProfile {
        key,
        customer_id: None,
        attributes: BTreeMap::new(),
        version: 1,
        created_at: ctx.now,
        updated_at: ctx.now,
        last_contact: None,
    };
    let mut changing = Changing::new(&mut profile.attributes);
    changing.set(
        "createdOn",
        Some(ctx.now.format(CREATED_ON_FORMAT).to_string()),
    );
    install(&mut changing);
    ctx.stamp(&mut changing);
    let changes = changing.finish();
    let event = profile.event(EventType::AppProfileRegistered, changes);
    (profile, ctx.mark(vec![event]))
}

/// Status 2 (unregistered) and no push token; the record stays. No event if it already was.
pub fn unregister(existing: &AppProfile, ctx: &SdkContext) -> (AppProfile, Vec<ChangeEvent>) {
    unregister_install(existing, ctx, true)
}

/// [`unregister`] of an install the call displaces (the app options), not the caller's own.
pub fn unregister_other(existing: &AppProfile, ctx: &SdkContext) -> (AppProfile, Vec<ChangeEvent>) {
    unregister_install(existing, ctx, false)
}

fn unregister_install(
    existing: &AppProfile,
    ctx: &SdkContext,
    own: bool,
) -> (AppProfile, Vec<ChangeEvent>) {
    changed(
        existing.clone(),
        EventType::AppProfileUnregistered,
        ctx,
        own,
        |attributes| {
            attributes.set("status", Some("2".to_owned()));
            attributes.set("connectStatus", Some("0".to_owned()));
            attributes.set("pushId", None);
            attributes.set("ios_fcmpushid", None);
        },
    )
}

/// Another user registered on this device (multi-user devices): the install stays registered
/// (push still reaches it) but is no longer the device's active one (`connectStatus` "0").
pub fn deactivate(existing: &AppProfile, ctx: &SdkContext) -> (AppProfile, Vec<ChangeEvent>) {
    changed(
        existing.clone(),
        EventType::AppProfileUpdated,
        ctx,
        false,
        |attributes| attributes.set("connectStatus", Some("0".to_owned())),
    )
}

/// Monitor readings or a heartbeat: attributes already checked against the catalogue and
/// filtered by the policy.
pub fn apply_readings(
    existing: AppProfile,
    patch: &AppProfilePatch,
    ctx: &SdkContext,
) -> (AppProfile, Vec<ChangeEvent>) {
    changed(
        existing,
        EventType::AppProfileUpdated,
        ctx,
        true,
        |attributes| patch.apply_to(attributes),
    )
}

/// Links the install to a customer (setCustomerId); no event if it already is.
pub fn link_customer(
    existing: &AppProfile,
    customer_id: CustomerId,
    ctx: &SdkContext,
) -> (AppProfile, Vec<ChangeEvent>) {
    if existing.customer_id.as_ref() == Some(&customer_id) {
        return (existing.clone(), Vec::new());
    }
    let mut profile = existing.clone();
    profile.customer_id = Some(customer_id);
    profile.version += 1;
    profile.updated_at = ctx.now;
    let event = profile.event(
        EventType::AppProfileLinked,
        link_change(existing.customer_id.as_ref(), profile.customer_id.as_ref()),
    );
    (profile, ctx.mark(vec![event]))
}

/// Removes the link (removeCustomerId); no event if there was none.
pub fn unlink_customer(existing: &AppProfile, ctx: &SdkContext) -> (AppProfile, Vec<ChangeEvent>) {
    match unlink(existing, ctx.now) {
        Some((profile, event)) => (profile, ctx.mark(vec![event])),
        None => (existing.clone(), Vec::new()),
    }
}

/// Moves an install to another userId (setUserId, removeUserId): the old key's profile is
/// deleted and the new key's registered with the same attributes and link, in two events.
pub fn move_to_user(
    existing: &AppProfile,
    user_id: UserId,
    system_generated: bool,
    ctx: &SdkContext,
) -> (AppProfile, Vec<ChangeEvent>) {
    let deleted = super::delete(existing);
    let mut profile = AppProfile {
        key: AppProfileKey {
            user_id,
            ..existing.key.clone()
        },
        customer_id: existing.customer_id.clone(),
        attributes: existing.attributes.clone(),
        version: 1,
        created_at: existing.created_at,
        updated_at: ctx.now,
        // Not stored under its new key yet.
        last_contact: None,
    };
    // The event lists every attribute (a registration under the new key), not what moved.
    let mut changing = Changing::new(&mut profile.attributes);
    changing.set("guest", Some(system_generated.to_string()));
    ctx.stamp(&mut changing);
    let registered = profile.event(
        EventType::AppProfileRegistered,
        diff(&BTreeMap::new(), &profile.attributes),
    );
    (profile, ctx.mark(vec![deleted, registered]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AppId, DeviceId};

    fn ctx(event: &str) -> SdkContext {
        SdkContext {
            now: Utc::now(),
            sdk_version: Some("2.12.1".to_owned()),
            device_event: event.to_owned(),
        }
    }

    fn key() -> AppProfileKey {
        AppProfileKey {
            app_id: AppId::parse("AB12345678").unwrap(),
            user_id: UserId::parse("u1").unwrap(),
            device_id: DeviceId::parse("d1").unwrap(),
        }
    }

    #[test]
    fn register_sets_managed_attributes_and_names_the_device_event() {
        let (profile, events) = register_install(
            None,
            key(),
            Platform::Android,
            true,
            &AppProfilePatch::default(),
            &ctx("Register"),
        );
        assert_eq!(profile.attributes["status"], "0");
        assert_eq!(profile.attributes["guest"], "true");
        assert_eq!(profile.attributes["channelType"], "android");
        assert_eq!(profile.attributes["sdkversion"], "2.12.1");
        assert!(profile.attributes.contains_key("createdOn"));
        assert_eq!(events[0].device_event.as_deref(), Some("Register"));
    }

    #[test]
    fn unregister_twice_is_silent() {
        let (profile, _) = register_install(
            None,
            key(),
            Platform::Ios,
            false,
            &AppProfilePatch::default(),
            &ctx("Register"),
        );
        let (gone, events) = unregister(&profile, &ctx("unregister"));
        assert_eq!(gone.attributes["status"], "2");
        assert_eq!(events[0].event_type, EventType::AppProfileUnregistered);
        let (_, again) = unregister(&gone, &ctx("unregister"));
        assert!(again.is_empty());
    }

    #[test]
    fn move_to_user_deletes_the_old_key_and_registers_the_new() {
        let (profile, _) = register_install(
            None,
            key(),
            Platform::Web,
            false,
            &AppProfilePatch::default(),
            &ctx("Register"),
        );
        let (moved, events) = move_to_user(
            &profile,
            UserId::parse("u2").unwrap(),
            true,
            &ctx("removeUserId"),
        );
        assert_eq!(moved.key.user_id.as_str(), "u2");
        assert_eq!(moved.attributes["guest"], "true");
        let types: Vec<_> = events.iter().map(|e| e.event_type).collect();
        assert_eq!(
            types,
            [
                EventType::AppProfileDeleted,
                EventType::AppProfileRegistered
            ]
        );
    }
}
