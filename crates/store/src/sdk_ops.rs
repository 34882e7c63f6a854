//! The device SDK's operations, written once for every backend over [`WriteTx`]: load the
//! installs a call touches, let core decide (`app_profile::sdk`), apply the app options
//! (one user per device, one device per user), write rows, events and the last contact.

use crate::error::StoreResult;
use crate::model::{
    AppProfileSelector, CONTACT_RESOLUTION, SdkCommand, SdkOutcome, SdkRequest, contact_moves,
};
use crate::ops::{WriteTx, ensure_customer};
use chrono::{DateTime, Utc};
use profilestore_core::DomainError;
use profilestore_core::app_profile::sdk::{self, SdkContext};
use profilestore_core::app_profile::{self, AppProfile, AppProfileKey};
use profilestore_core::change::ChangeEvent;
use profilestore_core::error::ProfileKind;
use profilestore_core::ids::AppId;

/// How many stale installs one expiry transaction deletes at most.
const EXPIRY_BATCH: u32 = 500;

fn not_found() -> DomainError {
    DomainError::NotFound {
        kind: ProfileKind::AppProfile,
    }
}

async fn install(
    tx: &mut dyn WriteTx,
    tenant: &str,
    key: &AppProfileKey,
) -> StoreResult<Option<AppProfile>> {
    let selector = AppProfileSelector::Device {
        user_id: key.user_id.clone(),
        device_id: key.device_id.clone(),
    };
    Ok(tx
        .app_profiles(tenant, &key.app_id, &selector)
        .await?
        .into_iter()
        .next())
}

/// Writes a changed profile (with `contact`, also that SDK contact) and keeps its events;
/// says whether it wrote.
async fn save(
    tx: &mut dyn WriteTx,
    tenant: &str,
    (profile, new_events): (AppProfile, Vec<ChangeEvent>),
    contact: Option<DateTime<Utc>>,
    events: &mut Vec<ChangeEvent>,
) -> StoreResult<(AppProfile, bool)> {
    let changed = !new_events.is_empty();
    if changed {
        // A contact that would not move the stored one is not written (an upsert keeps it).
        let contact = contact.filter(|at| contact_moves(profile.last_contact, *at));
        tx.put_app_profile(tenant, &profile, contact).await?;
        events.extend(new_events);
    }
    Ok((profile, changed))
}

pub(crate) async fn sdk_write(
    tx: &mut dyn WriteTx,
    tenant: &str,
    app_id: &AppId,
    request: SdkRequest,
) -> StoreResult<Result<SdkOutcome, DomainError>> {
    let ctx = SdkContext {
        now: request.now,
        sdk_version: request.sdk_version,
        device_event: request.device_event,
    };
    let mut events = Vec::new();
    let mut ignored = Vec::new();
    // The calling install's new state and its events (other installs a call affects are
    // written as they are decided).
    let own = match request.command {
        SdkCommand::Register {
            user_id,
            system_generated,
            device_id,
            platform,
            mut patch,
        } => {
            ignored = sdk::filter_readings(&request.policy, Some(platform), &mut patch);
            let on_device = tx.device_profiles(tenant, app_id, &device_id).await?;
            let (same, others): (Vec<_>, Vec<_>) = on_device
                .into_iter()
                .partition(|p| p.key.user_id == user_id);
            for other in &others {
                // Another user on this device replaces the old install; on multi-user
                // devices both stay registered and the new one becomes the active one.
                let displaced = if request.options.multi_user_per_device {
                    sdk::deactivate(other, &ctx)
                } else {
                    sdk::unregister_other(other, &ctx)
                };
                save(tx, tenant, displaced, None, &mut events).await?;
            }
            if request.options.single_device_per_user {
                let user_devices = tx
                    .app_profiles(tenant, app_id, &AppProfileSelector::User(user_id.clone()))
                    .await?;
                for other in user_devices.iter().filter(|p| p.key.device_id != device_id) {
                    save(
                        tx,
                        tenant,
                        sdk::unregister_other(other, &ctx),
                        None,
                        &mut events,
                    )
                    .await?;
                }
            }
            let key = AppProfileKey {
                app_id: app_id.clone(),
                user_id,
                device_id,
            };
            sdk::register_install(same.first(), key, platform, system_generated, &patch, &ctx)
        }
        SdkCommand::SetUserId {
            install: key,
            user_id,
            system_generated,
        } => {
            let Some(existing) = install(tx, tenant, &key).await? else {
                return Ok(Err(not_found()));
            };
            if existing.key.user_id == user_id {
                sdk::apply_readings(existing, &Default::default(), &ctx)
            } else {
                let target = AppProfileKey {
                    user_id: user_id.clone(),
                    ..key.clone()
                };
                if let Some(replaced) = install(tx, tenant, &target).await? {
                    tx.remove_app_profile(tenant, &replaced.key).await?;
                    events.push(app_profile::delete(&replaced));
                }
                tx.remove_app_profile(tenant, &existing.key).await?;
                sdk::move_to_user(&existing, user_id, system_generated, &ctx)
            }
        }
        SdkCommand::SetCustomerId {
            install: key,
            customer_id,
        } => {
            let Some(existing) = install(tx, tenant, &key).await? else {
                return Ok(Err(not_found()));
            };
            if let Err(refused) =
                ensure_customer(tx, tenant, &customer_id, ctx.now, &mut events).await?
            {
                return Ok(Err(refused));
            }
            sdk::link_customer(&existing, customer_id, &ctx)
        }
        SdkCommand::RemoveCustomerId { install: key } => {
            let Some(existing) = install(tx, tenant, &key).await? else {
                return Ok(Err(not_found()));
            };
            sdk::unlink_customer(&existing, &ctx)
        }
        SdkCommand::Unregister { install: key } => {
            let Some(existing) = install(tx, tenant, &key).await? else {
                return Ok(Err(not_found()));
            };
            sdk::unregister(&existing, &ctx)
        }
        SdkCommand::ProfileUpdate {
            install: key,
            mut patch,
        } => {
            let Some(existing) = install(tx, tenant, &key).await? else {
                return Ok(Err(not_found()));
            };
            let platform = sdk::platform_of(&existing);
            ignored = sdk::filter_readings(&request.policy, platform, &mut patch);
            sdk::apply_readings(existing, &patch, &ctx)
        }
    };
    // The calling install: written with its contact when it changed; every call is a contact,
    // whether or not it changed anything.
    let (profile, written) = save(tx, tenant, own, Some(ctx.now), &mut events).await?;
    if !written && contact_moves(profile.last_contact, ctx.now) {
        tx.touch_app_profile(tenant, &profile.key, ctx.now).await?;
    }
    tx.append_events(tenant, events, ctx.now).await?;
    Ok(Ok(SdkOutcome { profile, ignored }))
}

/// One batch of the TTL job: deletes up to [`EXPIRY_BATCH`] installs with no SDK call since
/// `before`; returns how many.
pub(crate) async fn expire_app_profiles(
    tx: &mut dyn WriteTx,
    tenant: &str,
    app_id: &AppId,
    before: DateTime<Utc>,
) -> StoreResult<u64> {
    // A stored contact may lag the last call by up to its resolution: only one older than
    // that by `before` is sure to mean no call since, so no install goes early.
    let stale = tx
        .stale_app_profiles(tenant, app_id, before - CONTACT_RESOLUTION, EXPIRY_BATCH)
        .await?;
    let mut events = Vec::with_capacity(stale.len());
    for profile in &stale {
        tx.remove_app_profile(tenant, &profile.key).await?;
        let mut event = app_profile::delete(profile);
        event.device_event = Some("ProfileExpired".to_owned());
        events.push(event);
    }
    tx.append_events(tenant, events, Utc::now()).await?;
    Ok(stale.len() as u64)
}

/// Whether an expiry batch was full (so another may find more).
pub(crate) fn expiry_batch_full(deleted: u64) -> bool {
    deleted >= u64::from(EXPIRY_BATCH)
}
