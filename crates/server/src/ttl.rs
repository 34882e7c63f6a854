//! The inactive-profile job (reference §8.5): an app profile without SDK contact for its app's
//! `profile_ttl_days` is deleted, with an `app_profile.deleted` event. Installs that no SDK
//! ever contacted (written through the compatible API) are not aged.
//!
//! The time comes from a [`Clock`], so tests run a sweep "41 days later" without waiting.

use chrono::{DateTime, Duration, Utc};
use profilestore_core::ids::AppId;
use profilestore_store::{Store, StoreResult};
use std::sync::Arc;
use tokio::sync::watch;

/// How often the job runs.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Where the job reads the time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// One pass over every app of every tenant: deletes installs whose last contact is older than
/// the app's TTL at `now`. Returns how many were deleted.
pub async fn sweep(store: &dyn Store, now: DateTime<Utc>) -> StoreResult<u64> {
    let snapshot = store.access_snapshot().await?;
    let mut deleted = 0;
    for app in snapshot.apps {
        let Ok(app_id) = AppId::parse(app.app_id.clone()) else {
            continue;
        };
        let before = now - Duration::days(i64::from(app.options.profile_ttl_days));
        deleted += store
            .expire_app_profiles(&app.tenant_id, &app_id, before)
            .await?;
    }
    Ok(deleted)
}

/// Runs [`sweep`] every [`SWEEP_EVERY`] until `stopped` turns true.
pub fn spawn(store: Arc<dyn Store>, clock: Arc<dyn Clock>, stopped: watch::Receiver<bool>) {
    crate::periodic::spawn_every(SWEEP_EVERY, stopped, move || {
        let (store, clock) = (store.clone(), clock.clone());
        async move {
            match sweep(&*store, clock.now()).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "inactive app profiles deleted"),
                Err(error) => tracing::warn!(%error, "could not delete inactive app profiles"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use profilestore_core::app_profile::AppProfilePatch;
    use profilestore_core::device::{AppOptions, DevicePolicy, Platform};
    use profilestore_core::ids::{DeviceId, UserId};
    use profilestore_store::model::{AppProfileSelector, SdkCommand, SdkRequest, SealedSecret};

    /// A clock that says what the test tells it.
    struct FixedClock(DateTime<Utc>);

    impl Clock for FixedClock {
        fn now(&self) -> DateTime<Utc> {
            self.0
        }
    }

    #[tokio::test]
    async fn the_job_deletes_what_its_clock_says_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("db").display());
        let store = profilestore_store::open(&url).await.unwrap();
        let key = |label: &str| SealedSecret {
            digest: label.to_owned(),
            sealed: label.as_bytes().to_vec(),
        };
        let tenant = store.create_tenant("acme", key("pk")).await.unwrap();
        let app_id = AppId::parse("AB00000001").unwrap();
        store
            .create_app(&tenant.tenant_id, &app_id, "Shop", key("ck"))
            .await
            .unwrap();
        let register = SdkRequest {
            command: SdkCommand::Register {
                user_id: UserId::parse("u1").unwrap(),
                system_generated: false,
                device_id: DeviceId::parse("d1").unwrap(),
                platform: Platform::Ios,
                patch: AppProfilePatch::default(),
            },
            options: AppOptions::default(),
            policy: DevicePolicy::default(),
            sdk_version: None,
            device_event: "Register".to_owned(),
            now: Utc::now(),
        };
        store
            .sdk_write(&tenant.tenant_id, &app_id, register)
            .await
            .unwrap()
            .unwrap();
        let selector = AppProfileSelector::User(UserId::parse("u1").unwrap());
        let (stop, stopped) = watch::channel(false);

        // The first tick runs at once, 41 days from now by the clock.
        spawn(
            store.clone(),
            Arc::new(FixedClock(Utc::now() + Duration::days(41))),
            stopped,
        );

        let mut remaining = 1;
        for _ in 0..200 {
            remaining = store
                .find_app_profiles(&tenant.tenant_id, &app_id, &selector)
                .await
                .unwrap()
                .len();
            if remaining == 0 {
                break;
            }
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let _ = stop.send(true);
        assert_eq!(remaining, 0);
    }
}
