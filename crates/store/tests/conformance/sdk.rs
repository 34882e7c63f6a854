//! The device SDK's store operations: app settings (options, JWT secret, device policy, key
//! rotation), SDK calls in one transaction each, the last contact and the TTL expiry.

use crate::support::{
    APP, all_events, app_id, app_patch, customer_id, device, device_id, errors, event_types,
    find_keys, get_customer, key, pairs, sdk_register, sdk_request, sealed, tenant,
    tenant_with_app, update, user, user_id, write_app_profiles,
};
use chrono::{DateTime, Duration, Utc};
use profilestore_core::DomainError;
use profilestore_core::app_profile::AppProfile;
use profilestore_core::device::{AppOptions, DevicePolicy, Monitor, MonitorCategory, Platform};
use profilestore_store::model::{AppUpdate, CONTACT_RESOLUTION, SdkCommand};
use profilestore_store::{Store, StoreError};
use std::sync::Arc;

async fn sdk(
    store: &dyn Store,
    tenant_id: &str,
    command: SdkCommand,
    options: AppOptions,
    now: DateTime<Utc>,
) -> Result<AppProfile, DomainError> {
    store
        .sdk_write(tenant_id, &app_id(APP), sdk_request(command, options, now))
        .await
        .expect("sdk write")
        .map(|outcome| outcome.profile)
}

pub async fn app_settings_round_trip_and_show_in_the_snapshot(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    let created = &store.list_apps(&acme.tenant_id).await.unwrap()[0];
    assert_eq!(created.options, AppOptions::default());
    assert_eq!(created.device_policy, DevicePolicy::default());
    assert_eq!(created.jwt_secret, None);
    let policy = DevicePolicy {
        android: vec![Monitor {
            attribute: "batterylevel".to_owned(),
            category: MonitorCategory::Interval,
            interval_seconds: Some(600),
        }],
        ..DevicePolicy::default()
    };
    let options = AppOptions {
        multi_user_per_device: true,
        single_device_per_user: true,
        profile_ttl_days: 7,
    };
    let version = store.settings_version().await.unwrap();

    let updated = store
        .update_app(
            &acme.tenant_id,
            &app_id(APP),
            AppUpdate {
                name: Some("Renamed".to_owned()),
                options: Some(options),
                jwt_secret: Some(Some(b"sealed-jwt".to_vec())),
                client_key: Some(sealed("rotated")),
                device_policy: Some(policy.clone()),
            },
        )
        .await
        .unwrap();

    assert_eq!(updated.name, "Renamed");
    assert_eq!(updated.client_key, sealed("rotated"));
    let snapshot = store.access_snapshot().await.unwrap();
    assert!(snapshot.version > version);
    assert_eq!(snapshot.apps, vec![updated.clone()]);
    assert_eq!(snapshot.apps[0].options, options);
    assert_eq!(snapshot.apps[0].device_policy, policy);
    assert_eq!(
        snapshot.apps[0].jwt_secret.as_deref(),
        Some(&b"sealed-jwt"[..])
    );
    let cleared = store
        .update_app(
            &acme.tenant_id,
            &app_id(APP),
            AppUpdate {
                jwt_secret: Some(None),
                ..AppUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.jwt_secret, None);
    assert_eq!(cleared.name, "Renamed");
}

pub async fn updating_another_tenants_app_is_not_found(store: Arc<dyn Store>) {
    tenant_with_app(&*store, "acme").await;
    let other = tenant(&*store, "other").await;

    let result = store
        .update_app(&other.tenant_id, &app_id(APP), AppUpdate::default())
        .await;

    assert!(matches!(result, Err(StoreError::NotFound(_))));
}

pub async fn register_is_idempotent_and_another_user_replaces_the_old(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    let now = Utc::now();
    let options = AppOptions::default();
    let first = sdk(
        &*store,
        &acme.tenant_id,
        sdk_register("u1", "d1"),
        options,
        now,
    )
    .await
    .unwrap();
    assert_eq!(first.attributes["status"], "0");
    sdk(
        &*store,
        &acme.tenant_id,
        sdk_register("u1", "d1"),
        options,
        now,
    )
    .await
    .unwrap();

    sdk(
        &*store,
        &acme.tenant_id,
        sdk_register("u2", "d1"),
        options,
        now,
    )
    .await
    .unwrap();

    let old = store
        .find_app_profiles(&acme.tenant_id, &app_id(APP), &user("u1"))
        .await
        .unwrap();
    assert_eq!(old[0].attributes["status"], "2");
    let events = all_events(&*store, &acme.tenant_id).await;
    assert_eq!(
        event_types(&events),
        [
            "app_profile.registered",
            "app_profile.unregistered",
            "app_profile.registered"
        ]
    );
    assert_eq!(events[0].payload["device_event"], "Register");
}

pub async fn multi_user_devices_keep_every_user(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    let options = AppOptions {
        multi_user_per_device: true,
        ..AppOptions::default()
    };
    for user in ["u1", "u2"] {
        sdk(
            &*store,
            &acme.tenant_id,
            sdk_register(user, "d1"),
            options,
            Utc::now(),
        )
        .await
        .unwrap();
    }
    for user in ["u1", "u2"] {
        let found = store
            .find_app_profiles(&acme.tenant_id, &app_id(APP), &crate::support::user(user))
            .await
            .unwrap();
        assert_eq!(found[0].attributes["status"], "0");
    }
}

pub async fn set_customer_id_creates_the_customer_and_links(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    let options = AppOptions::default();
    sdk(
        &*store,
        &acme.tenant_id,
        sdk_register("u1", "d1"),
        options,
        Utc::now(),
    )
    .await
    .unwrap();

    let linked = sdk(
        &*store,
        &acme.tenant_id,
        SdkCommand::SetCustomerId {
            install: key(APP, "u1", "d1"),
            customer_id: customer_id("C-1"),
        },
        options,
        Utc::now(),
    )
    .await
    .unwrap();

    assert_eq!(linked.customer_id, Some(customer_id("C-1")));
    assert!(
        get_customer(&*store, &acme.tenant_id, "C-1")
            .await
            .is_some()
    );
    let missing = sdk(
        &*store,
        &acme.tenant_id,
        SdkCommand::Unregister {
            install: key(APP, "nobody", "d1"),
        },
        options,
        Utc::now(),
    )
    .await;
    assert!(matches!(missing, Err(DomainError::NotFound { .. })));
}

pub async fn set_user_id_moves_the_install(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    let options = AppOptions::default();
    sdk(
        &*store,
        &acme.tenant_id,
        sdk_register("u1", "d1"),
        options,
        Utc::now(),
    )
    .await
    .unwrap();

    sdk(
        &*store,
        &acme.tenant_id,
        SdkCommand::SetUserId {
            install: key(APP, "u1", "d1"),
            user_id: user_id("u9"),
            system_generated: false,
        },
        options,
        Utc::now(),
    )
    .await
    .unwrap();

    assert!(
        find_keys(&*store, &acme.tenant_id, user("u1"))
            .await
            .is_empty()
    );
    assert_eq!(
        find_keys(&*store, &acme.tenant_id, user("u9")).await,
        pairs(&[("u9", "d1")])
    );
}

pub async fn expiry_deletes_installs_without_recent_contact(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    let options = AppOptions::default();
    let long_ago = Utc::now() - Duration::days(50);
    sdk(
        &*store,
        &acme.tenant_id,
        sdk_register("old", "d1"),
        options,
        long_ago,
    )
    .await
    .unwrap();
    sdk(
        &*store,
        &acme.tenant_id,
        sdk_register("fresh", "d2"),
        options,
        Utc::now(),
    )
    .await
    .unwrap();
    // A heartbeat that changes nothing still counts as contact.
    sdk(
        &*store,
        &acme.tenant_id,
        sdk_register("beat", "d3"),
        options,
        long_ago,
    )
    .await
    .unwrap();
    sdk(
        &*store,
        &acme.tenant_id,
        SdkCommand::ProfileUpdate {
            install: key(APP, "beat", "d3"),
            patch: Default::default(),
        },
        options,
        Utc::now(),
    )
    .await
    .unwrap();

    let deleted = store
        .expire_app_profiles(
            &acme.tenant_id,
            &app_id(APP),
            Utc::now() - Duration::days(40),
        )
        .await
        .unwrap();

    assert_eq!(deleted, 1);
    assert!(
        find_keys(&*store, &acme.tenant_id, user("old"))
            .await
            .is_empty()
    );
    assert_eq!(
        find_keys(&*store, &acme.tenant_id, user("beat"))
            .await
            .len(),
        1
    );
    let events = all_events(&*store, &acme.tenant_id).await;
    assert_eq!(events.last().unwrap().event_type, "app_profile.deleted");
}

pub async fn writes_through_the_compatible_api_are_no_contact_and_keep_the_last(
    store: Arc<dyn Store>,
) {
    let acme = tenant_with_app(&*store, "acme").await;
    let options = AppOptions::default();
    let long_ago = Utc::now() - Duration::days(50);
    for (user, at) in [("stale", long_ago), ("fresh", Utc::now())] {
        sdk(
            &*store,
            &acme.tenant_id,
            sdk_register(user, "d1"),
            options,
            at,
        )
        .await
        .unwrap();
        // A changing write that is not the SDK's: it must neither refresh nor erase the contact.
        let outcome = write_app_profiles(
            &*store,
            &acme.tenant_id,
            vec![update(device(user, "d1"), None, &[("language", "cy")])],
        )
        .await;
        assert_eq!(errors(&outcome), vec![None]);
    }
    // An SDK call that changes the install is a contact too (written with the change).
    sdk(
        &*store,
        &acme.tenant_id,
        sdk_register("updated", "d2"),
        options,
        long_ago,
    )
    .await
    .unwrap();
    sdk(
        &*store,
        &acme.tenant_id,
        SdkCommand::ProfileUpdate {
            install: key(APP, "updated", "d2"),
            patch: app_patch(&[("osversion", "15")]),
        },
        options,
        Utc::now(),
    )
    .await
    .unwrap();

    let deleted = store
        .expire_app_profiles(
            &acme.tenant_id,
            &app_id(APP),
            Utc::now() - Duration::days(40),
        )
        .await
        .unwrap();

    assert_eq!(deleted, 1, "only the install whose SDK contact is old");
    assert_eq!(
        find_keys(&*store, &acme.tenant_id, user("updated"))
            .await
            .len(),
        1
    );
    assert!(
        find_keys(&*store, &acme.tenant_id, user("stale"))
            .await
            .is_empty()
    );
    assert_eq!(
        find_keys(&*store, &acme.tenant_id, user("fresh"))
            .await
            .len(),
        1
    );
}

/// The stored contact moves only when the call is more than CONTACT_RESOLUTION after it, by
/// a change (osversion) or by a call that changes nothing (a heartbeat) alike.
pub async fn a_contact_within_the_resolution_keeps_the_stored_one(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    let options = AppOptions::default();
    let registered = Utc::now() - Duration::days(2);
    let within = registered + CONTACT_RESOLUTION / 2;
    let beyond = registered + CONTACT_RESOLUTION + Duration::minutes(1);
    let installs = [
        ("changed-soon", within, app_patch(&[("osversion", "15")])),
        ("beat-soon", within, Default::default()),
        ("changed-later", beyond, app_patch(&[("osversion", "15")])),
        ("beat-later", beyond, Default::default()),
    ];
    for (name, at, patch) in installs {
        let device = format!("d-{name}");
        sdk(
            &*store,
            &acme.tenant_id,
            sdk_register(name, &device),
            options,
            registered,
        )
        .await
        .unwrap();
        let command = SdkCommand::ProfileUpdate {
            install: key(APP, name, &device),
            patch,
        };
        sdk(&*store, &acme.tenant_id, command, options, at)
            .await
            .unwrap();
    }

    // A read shows each install's stored contact (to the millisecond, SQLite's precision).
    for (name, contact) in [
        ("changed-soon", registered),
        ("beat-soon", registered),
        ("changed-later", beyond),
        ("beat-later", beyond),
    ] {
        let found = store
            .find_app_profiles(&acme.tenant_id, &app_id(APP), &user(name))
            .await
            .unwrap();
        let stored = found[0].last_contact.map(|at| at.timestamp_millis());
        assert_eq!(stored, Some(contact.timestamp_millis()), "{name}");
    }

    // No call since `beyond`, with the stored contact's lag allowed for: only installs whose
    // contact is still the registration's qualify (an hour and a minute older than `beyond`).
    let deleted = store
        .expire_app_profiles(&acme.tenant_id, &app_id(APP), beyond)
        .await
        .unwrap();

    assert_eq!(deleted, 2);
    for (name, kept) in [
        ("changed-soon", false),
        ("beat-soon", false),
        ("changed-later", true),
        ("beat-later", true),
    ] {
        let found = find_keys(&*store, &acme.tenant_id, user(name)).await;
        assert_eq!(found.len(), usize::from(kept), "{name}");
    }
}

/// A stored contact may stand for a call up to CONTACT_RESOLUTION later, so expiry waits that
/// out: an install goes only once its stored contact is older than `before` by more.
pub async fn expiry_waits_out_the_contacts_resolution(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    let registered = Utc::now() - Duration::days(2);
    sdk(
        &*store,
        &acme.tenant_id,
        sdk_register("u1", "d1"),
        AppOptions::default(),
        registered,
    )
    .await
    .unwrap();
    let app = app_id(APP);
    let expire = |before| store.expire_app_profiles(&acme.tenant_id, &app, before);

    let too_soon = expire(registered + CONTACT_RESOLUTION - Duration::minutes(1)).await;
    assert_eq!(
        too_soon.unwrap(),
        0,
        "a call may have come after the stored contact"
    );
    let after = expire(registered + CONTACT_RESOLUTION + Duration::minutes(1)).await;
    assert_eq!(after.unwrap(), 1);
}

pub async fn readings_the_policy_does_not_enable_are_ignored(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    let policy = DevicePolicy {
        android: vec![Monitor {
            attribute: "location".to_owned(),
            category: MonitorCategory::Event,
            interval_seconds: None,
        }],
        ..DevicePolicy::default()
    };
    let command = SdkCommand::Register {
        user_id: user_id("u1"),
        system_generated: false,
        device_id: device_id("d1"),
        platform: Platform::Android,
        patch: app_patch(&[
            ("location", "[1,2]"),
            ("teleco", "Vodafone"),
            ("os", "Android"),
        ]),
    };
    let mut request = sdk_request(command, AppOptions::default(), Utc::now());
    request.policy = policy;

    let outcome = store
        .sdk_write(&acme.tenant_id, &app_id(APP), request)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(outcome.ignored, ["teleco"]);
    assert_eq!(outcome.profile.attributes["location"], "[1,2]");
    assert_eq!(outcome.profile.attributes["os"], "Android");
    assert!(!outcome.profile.attributes.contains_key("teleco"));
}

pub async fn single_device_per_user_unregisters_the_users_other_devices(store: Arc<dyn Store>) {
    let acme = tenant_with_app(&*store, "acme").await;
    let options = AppOptions {
        single_device_per_user: true,
        ..AppOptions::default()
    };
    sdk(
        &*store,
        &acme.tenant_id,
        sdk_register("u1", "d1"),
        options,
        Utc::now(),
    )
    .await
    .unwrap();

    sdk(
        &*store,
        &acme.tenant_id,
        sdk_register("u1", "d2"),
        options,
        Utc::now(),
    )
    .await
    .unwrap();

    let installs = store
        .find_app_profiles(&acme.tenant_id, &app_id(APP), &user("u1"))
        .await
        .unwrap();
    let status: Vec<_> = installs
        .iter()
        .map(|p| (p.key.device_id.as_str(), p.attributes["status"].as_str()))
        .collect();
    assert_eq!(status, [("d1", "2"), ("d2", "0")]);
}
