//! Builders for the values the Store takes, so that each test reads as its behaviour.

use chrono::{DateTime, Utc};
use profilestore_core::DomainError;
use profilestore_core::app_profile::{AppProfile, AppProfileKey, AppProfilePatch, AppProfileWrite};
use profilestore_core::attribute::{AttributeValue, RawAttribute};
use profilestore_core::batch::{BatchOutcome, RecordRef};
use profilestore_core::customer::CustomerProfile;
use profilestore_core::device::{AppOptions, DevicePolicy, Platform};
use profilestore_core::ids::{AppId, CustomerId, DeviceId, UserId};
use profilestore_store::Store;
use profilestore_store::model::{
    AppProfileCommand, AppProfileSelector, BatchRecord, CustomerInput, SdkCommand, SdkRequest,
    SealedSecret, StoredEvent, Tenant, WriteMode,
};
use std::collections::BTreeMap;

/// The app id most tests write to.
pub const APP: &str = "AB00000001";

/// A stand-in for a sealed secret; the store never looks inside one.
pub fn sealed(label: &str) -> SealedSecret {
    SealedSecret {
        digest: format!("sha256-of-{label}"),
        sealed: format!("sealed-{label}").into_bytes(),
    }
}

pub async fn tenant(store: &dyn Store, name: &str) -> Tenant {
    store
        .create_tenant(name, sealed(&format!("{name}-key-1")))
        .await
        .expect("create tenant")
}

/// A tenant owning the app [`APP`].
pub async fn tenant_with_app(store: &dyn Store, name: &str) -> Tenant {
    let tenant = tenant(store, name).await;
    create_app(store, &tenant.tenant_id, APP).await;
    tenant
}

pub async fn create_app(store: &dyn Store, tenant_id: &str, raw_app_id: &str) {
    store
        .create_app(
            tenant_id,
            &app_id(raw_app_id),
            &format!("app {raw_app_id}"),
            sealed(&format!("{raw_app_id}-client-key")),
        )
        .await
        .expect("create app");
}

pub fn app_id(raw: &str) -> AppId {
    AppId::parse(raw).unwrap()
}

pub fn customer_id(raw: &str) -> CustomerId {
    CustomerId::parse(raw).unwrap()
}

pub fn user_id(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

pub fn device_id(raw: &str) -> DeviceId {
    DeviceId::parse(raw).unwrap()
}

/// A new transaction id, as the server makes one per write.
pub fn transid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Whole seconds, so that every backend stores the instant exactly.
pub fn whole_seconds_from_now(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp() + seconds, 0).unwrap()
}

pub fn raw(attributes: &[(&str, &str)]) -> Vec<RawAttribute> {
    attributes
        .iter()
        .map(|(name, value)| {
            (
                (*name).to_owned(),
                AttributeValue::Text((*value).to_owned()),
            )
        })
        .collect()
}

pub fn attributes(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

// --- Customers ---

pub fn customer_ref(id: &str) -> RecordRef {
    RecordRef {
        customer_id: Some(id.to_owned()),
        ..RecordRef::default()
    }
}

/// One valid customer record of a batch.
pub fn customer(id: &str, attributes: &[(&str, &str)]) -> BatchRecord<CustomerInput> {
    customer_raw(id, raw(attributes))
}

pub fn customer_raw(id: &str, raw: Vec<RawAttribute>) -> BatchRecord<CustomerInput> {
    let input = CustomerInput {
        customer_id: customer_id(id),
        attributes: raw,
    };
    (customer_ref(id), Ok(input))
}

/// A record the protocol adapter already refused.
pub fn refused<T>(record: RecordRef, error: DomainError) -> BatchRecord<T> {
    (record, Err(error))
}

pub async fn write_customers(
    store: &dyn Store,
    tenant_id: &str,
    mode: WriteMode,
    records: Vec<BatchRecord<CustomerInput>>,
) -> BatchOutcome {
    store
        .write_customers(tenant_id, &transid(), mode, records)
        .await
        .expect("write customers")
}

pub async fn create_customers(
    store: &dyn Store,
    tenant_id: &str,
    records: Vec<BatchRecord<CustomerInput>>,
) -> BatchOutcome {
    write_customers(store, tenant_id, WriteMode::Create, records).await
}

pub async fn update_customers(
    store: &dyn Store,
    tenant_id: &str,
    records: Vec<BatchRecord<CustomerInput>>,
) -> BatchOutcome {
    write_customers(store, tenant_id, WriteMode::Update, records).await
}

pub async fn delete_customers(store: &dyn Store, tenant_id: &str, ids: &[&str]) -> BatchOutcome {
    let records = ids
        .iter()
        .map(|id| (customer_ref(id), Ok(customer_id(id))))
        .collect();
    store
        .delete_customers(tenant_id, &transid(), records)
        .await
        .expect("delete customers")
}

pub async fn get_customer(store: &dyn Store, tenant_id: &str, id: &str) -> Option<CustomerProfile> {
    let mut found = store
        .get_customers(tenant_id, &[customer_id(id)])
        .await
        .expect("get customers");
    assert!(found.len() <= 1, "one id asked, {} found", found.len());
    found.pop()
}

// --- App profiles ---

pub fn app_profile_ref(user: &str, device: &str) -> RecordRef {
    RecordRef {
        user_id: Some(user.to_owned()),
        device_id: Some(device.to_owned()),
        ..RecordRef::default()
    }
}

/// A patch of catalogue attributes, parsed as a protocol adapter parses one.
pub fn app_patch(attributes: &[(&str, &str)]) -> AppProfilePatch {
    AppProfileWrite::parse(&app_id(APP), raw(attributes))
        .expect("valid app-profile attributes")
        .patch
}

pub fn key(app: &str, user: &str, device: &str) -> AppProfileKey {
    AppProfileKey {
        app_id: app_id(app),
        user_id: user_id(user),
        device_id: device_id(device),
    }
}

/// Registration of one install of [`APP`].
pub fn register(
    user: &str,
    device: &str,
    link: Option<&str>,
    attributes: &[(&str, &str)],
) -> BatchRecord<AppProfileCommand> {
    register_in(APP, user, device, link, attributes)
}

pub fn register_in(
    app: &str,
    user: &str,
    device: &str,
    link: Option<&str>,
    attributes: &[(&str, &str)],
) -> BatchRecord<AppProfileCommand> {
    let key = key(app, user, device);
    let command = AppProfileCommand::Create {
        user_id: key.user_id,
        device_id: key.device_id,
        link: link.map(customer_id),
        patch: app_patch(attributes),
    };
    (app_profile_ref(user, device), Ok(command))
}

pub fn update(
    selector: AppProfileSelector,
    link: Option<&str>,
    attributes: &[(&str, &str)],
) -> BatchRecord<AppProfileCommand> {
    let command = AppProfileCommand::Update {
        selector: selector.clone(),
        link: link.map(customer_id),
        patch: app_patch(attributes),
    };
    (selector_ref(&selector), Ok(command))
}

pub fn device(user: &str, device: &str) -> AppProfileSelector {
    AppProfileSelector::Device {
        user_id: user_id(user),
        device_id: device_id(device),
    }
}

pub fn user(user: &str) -> AppProfileSelector {
    AppProfileSelector::User(user_id(user))
}

pub fn linked_to(customer: &str) -> AppProfileSelector {
    AppProfileSelector::Customer(customer_id(customer))
}

pub fn device_of_customer(device: &str, customer: &str) -> AppProfileSelector {
    AppProfileSelector::DeviceOfCustomer {
        device_id: device_id(device),
        customer_id: customer_id(customer),
    }
}

pub fn selector_ref(selector: &AppProfileSelector) -> RecordRef {
    match selector {
        AppProfileSelector::Device { user_id, device_id } => {
            app_profile_ref(user_id.as_str(), device_id.as_str())
        }
        AppProfileSelector::User(user_id) => RecordRef {
            user_id: Some(user_id.to_string()),
            ..RecordRef::default()
        },
        AppProfileSelector::Customer(customer_id) => customer_ref(customer_id.as_str()),
        AppProfileSelector::DeviceOfCustomer {
            device_id,
            customer_id,
        } => RecordRef {
            customer_id: Some(customer_id.to_string()),
            device_id: Some(device_id.to_string()),
            ..RecordRef::default()
        },
    }
}

/// The one app profile of [`APP`] at this install.
pub async fn install(
    store: &dyn Store,
    tenant_id: &str,
    user_id: &str,
    device_id: &str,
) -> Option<AppProfile> {
    let mut found = store
        .find_app_profiles(tenant_id, &app_id(APP), &device(user_id, device_id))
        .await
        .unwrap();
    assert!(
        found.len() <= 1,
        "one install matched {} profiles",
        found.len()
    );
    found.pop()
}

/// Writes app-profile commands to [`APP`].
pub async fn write_app_profiles(
    store: &dyn Store,
    tenant_id: &str,
    records: Vec<BatchRecord<AppProfileCommand>>,
) -> BatchOutcome {
    write_app_profiles_in(store, tenant_id, APP, records).await
}

pub async fn write_app_profiles_in(
    store: &dyn Store,
    tenant_id: &str,
    app: &str,
    records: Vec<BatchRecord<AppProfileCommand>>,
) -> BatchOutcome {
    store
        .write_app_profiles(tenant_id, &transid(), &app_id(app), records)
        .await
        .expect("write app profiles")
}

/// Deletes app profiles of [`APP`], one record per selector.
pub async fn delete_app_profiles(
    store: &dyn Store,
    tenant_id: &str,
    selectors: Vec<AppProfileSelector>,
) -> BatchOutcome {
    let records = selectors
        .into_iter()
        .map(|selector| (selector_ref(&selector), Ok(selector)))
        .collect();
    store
        .delete_app_profiles(tenant_id, &transid(), &app_id(APP), records)
        .await
        .expect("delete app profiles")
}

/// The app profiles of [`APP`] a selector matches, as `(user, device)` pairs in a stable order.
pub async fn find_keys(
    store: &dyn Store,
    tenant_id: &str,
    selector: AppProfileSelector,
) -> Vec<(String, String)> {
    let mut keys: Vec<_> = store
        .find_app_profiles(tenant_id, &app_id(APP), &selector)
        .await
        .expect("find app profiles")
        .into_iter()
        .map(|profile| {
            (
                profile.key.user_id.to_string(),
                profile.key.device_id.to_string(),
            )
        })
        .collect();
    keys.sort();
    keys
}

pub fn pairs(keys: &[(&str, &str)]) -> Vec<(String, String)> {
    keys.iter()
        .map(|(user, device)| ((*user).to_owned(), (*device).to_owned()))
        .collect()
}

// --- Outcomes and events ---

/// Every record's error, in record order (`None` for a success).
pub fn errors(outcome: &BatchOutcome) -> Vec<Option<DomainError>> {
    outcome
        .records
        .iter()
        .map(|record| record.error.clone())
        .collect()
}

/// Every event of a tenant, in seq order.
pub async fn all_events(store: &dyn Store, tenant_id: &str) -> Vec<StoredEvent> {
    store
        .events_after(tenant_id, 0, 10_000)
        .await
        .expect("read events")
}

pub fn event_types(events: &[StoredEvent]) -> Vec<&str> {
    events
        .iter()
        .map(|event| event.event_type.as_str())
        .collect()
}

pub async fn last_seq(store: &dyn Store, tenant_id: &str) -> i64 {
    all_events(store, tenant_id)
        .await
        .last()
        .map_or(0, |event| event.seq)
}

/// The SDK's registration of `user` on an Android `device`.
pub fn sdk_register(user: &str, device: &str) -> SdkCommand {
    SdkCommand::Register {
        user_id: user_id(user),
        system_generated: false,
        device_id: device_id(device),
        platform: Platform::Android,
        patch: app_patch(&[("os", "Android")]),
    }
}

/// An SDK call of `command` at `now`, under `options` and the default device policy.
pub fn sdk_request(command: SdkCommand, options: AppOptions, now: DateTime<Utc>) -> SdkRequest {
    SdkRequest {
        command,
        options,
        policy: DevicePolicy::default(),
        sdk_version: Some("2.12.0".to_owned()),
        device_event: "Register".to_owned(),
        now,
    }
}
