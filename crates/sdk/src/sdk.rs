//! [`Sdk`]: the handle the app calls.

use crate::builder::SdkBuilder;
use crate::error::SdkError;
use crate::events::ProfileUpdateEvent;
use crate::policy::{MonitorCategory, Policy};
use crate::profile::{DeviceProfile, ProfileParam, RegisteredDevice, Registration};
use crate::queue::PendingUpdate;
use crate::readings::{self, DeviceEvent};
use crate::shared::Shared;
use std::sync::Arc;
use tokio::sync::broadcast;

/// The device SDK. Cheap to clone (every clone is the same SDK); the monitors stop when the
/// last clone is dropped, or at [`Sdk::shutdown`].
#[derive(Clone)]
pub struct Sdk {
    shared: Arc<Shared>,
    _running: Arc<StopOnDrop>,
}

/// Stops the background tasks with the last handle (the tasks hold the shared state, not
/// this guard, so they cannot keep themselves alive).
struct StopOnDrop(Arc<Shared>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop_engine();
    }
}

impl std::fmt::Debug for Sdk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the client key.
        f.debug_struct("Sdk")
            .field("app_id", &self.shared.config.app_id)
            .field("device", &self.shared.device())
            .finish_non_exhaustive()
    }
}

impl Sdk {
    /// An SDK for the app `app_id` on the server at `base_url` (`https://profiles.example.com`),
    /// authenticated by the app's client key (`ck_…`).
    pub fn builder(
        base_url: impl Into<String>,
        app_id: impl Into<String>,
        client_key: impl Into<String>,
    ) -> SdkBuilder {
        SdkBuilder::new(base_url.into(), app_id.into(), client_key.into())
    }

    pub(crate) fn start(shared: Arc<Shared>) -> Sdk {
        if shared.device().is_some() {
            shared.start_engine();
        }
        Sdk {
            _running: Arc::new(StopOnDrop(shared.clone())),
            shared,
        }
    }

    /// Registers the device and starts the monitors; answers the install's userId (the
    /// server's `sys-…` one when the profile has none). The device's `os`, `osversion`,
    /// `make` and `model` from the provider go with it.
    pub async fn register(&self, profile: DeviceProfile) -> Result<String, SdkError> {
        self.shared.check_running()?;
        check_id("device_id", &profile.device_id)?;
        if let Some(user_id) = &profile.user_id {
            check_id("user_id", user_id)?;
            if profile.is_guest {
                return Err(SdkError::InvalidParameter(
                    "a guest registers without a user_id".to_owned(),
                ));
            }
        }
        let _call = self.shared.calls.lock().await;
        if self.shared.device().is_some() {
            return Err(SdkError::AlreadyRegistered);
        }
        let platform = self.shared.config.platform;
        let info = readings::device_info(self.shared.provider.as_ref());
        let answer = self
            .shared
            .api
            .register(
                platform,
                &profile.device_id,
                profile.user_id.as_deref(),
                &info,
            )
            .await?;
        let now = self.shared.clock.now();
        let mut acknowledged = info;
        acknowledged.retain(|attribute, _| !answer.ignored.contains(attribute));
        let mut registration = Registration {
            device: RegisteredDevice {
                device_id: profile.device_id,
                user_id: answer.user_id.clone(),
                client_id: answer.client_id,
                customer_id: None,
                is_guest: answer.is_system_generated,
                platform,
                registered_at: now,
            },
            acknowledged,
            one_time_done: Default::default(),
            last_heartbeat: None,
            policy: None,
            policy_fetched_at: None,
        };
        // The policy now, so that events reported right after registering are captured;
        // if it cannot be fetched, the scheduler keeps trying.
        match self
            .shared
            .api
            .verify_policy(platform, Some(&answer.user_id))
            .await
        {
            Ok(policy) => {
                registration.policy = Some(policy);
                registration.policy_fetched_at = Some(now);
            }
            Err(error) => tracing::warn!(%error, "registered, but the policy was not fetched"),
        }
        let fetched = registration.policy.is_some();
        self.shared.set_registration(Some(registration))?;
        self.shared
            .fresh_policy
            .store(fetched, std::sync::atomic::Ordering::SeqCst);
        self.shared.start_engine();
        Ok(answer.user_id)
    }

    /// Whether the device is registered (as far as this SDK knows).
    pub fn is_registered(&self) -> bool {
        self.shared.device().is_some()
    }

    /// The registered install, or `None`.
    pub fn device_profile(&self) -> Option<RegisteredDevice> {
        self.shared.device()
    }

    /// Links the install to a customer ([`ProfileParam::CustomerId`], creating a bare
    /// customer profile when there is none), or moves it to another userId
    /// ([`ProfileParam::UserId`]; its attributes and link move with it). Answers the install
    /// as it now is.
    pub async fn update_profile_data(
        &self,
        param: ProfileParam,
        value: &str,
    ) -> Result<RegisteredDevice, SdkError> {
        self.shared.check_running()?;
        let name = match param {
            ProfileParam::CustomerId => "customer_id",
            ProfileParam::UserId => "user_id",
        };
        check_id(name, value)?;
        let _call = self.shared.calls.lock().await;
        let device = self.shared.install()?;
        let api = &self.shared.api;
        match param {
            ProfileParam::CustomerId => {
                let result = api
                    .set_customer_id(&device.client_id, &device.user_id, value)
                    .await;
                self.after_call(result)?;
                self.change(|d| d.customer_id = Some(value.to_owned()))
            }
            ProfileParam::UserId => {
                let result = api
                    .set_user_id(&device.client_id, &device.user_id, value)
                    .await;
                let answer = self.after_call(result)?;
                self.change(|d| {
                    d.user_id = answer.user_id;
                    d.client_id = answer.client_id;
                    d.is_guest = false;
                })
            }
        }
    }

    /// Unlinks the customer ([`ProfileParam::CustomerId`]), or gives the install a new
    /// system userId, making it a guest ([`ProfileParam::UserId`]). Answers the install as
    /// it now is.
    pub async fn remove_profile_data(
        &self,
        param: ProfileParam,
    ) -> Result<RegisteredDevice, SdkError> {
        self.shared.check_running()?;
        let _call = self.shared.calls.lock().await;
        let device = self.shared.install()?;
        let api = &self.shared.api;
        match param {
            ProfileParam::CustomerId => {
                let result = api
                    .remove_customer_id(&device.client_id, &device.user_id)
                    .await;
                self.after_call(result)?;
                self.change(|d| d.customer_id = None)
            }
            ProfileParam::UserId => {
                let result = api.remove_user_id(&device.client_id, &device.user_id).await;
                let answer = self.after_call(result)?;
                self.change(|d| {
                    d.user_id = answer.user_id;
                    d.client_id = answer.client_id;
                    d.is_guest = true;
                })
            }
        }
    }

    /// Unregisters the install (the server keeps it with status 2), stops the monitors and
    /// forgets the registration, updates still queued included.
    pub async fn unregister(&self) -> Result<(), SdkError> {
        self.shared.check_running()?;
        let _call = self.shared.calls.lock().await;
        let device = self.shared.install()?;
        match self
            .shared
            .api
            .unregister(&device.client_id, &device.user_id)
            .await
        {
            // An install the server no longer knows is as unregistered as can be.
            Ok(()) | Err(SdkError::NotRegistered) => {}
            Err(error) => return Err(error),
        }
        self.shared.stop_engine();
        self.shared.set_registration(None)
    }

    /// The app reports a device event: the event monitors of `event` that the policy enables
    /// are read from the provider, and what changed is queued as one update named after the
    /// event. Answers whether anything was queued (nothing is when the policy enables none
    /// of them, or nothing changed).
    pub fn report_event(&self, event: DeviceEvent) -> Result<bool, SdkError> {
        self.shared.check_running()?;
        let registration = self.shared.registration().ok_or(SdkError::NotRegistered)?;
        let Some(policy) = registration.policy else {
            return Ok(false);
        };
        let enabled: Vec<String> = event
            .attributes()
            .iter()
            .filter(|attribute| policy.enables(attribute, MonitorCategory::Event))
            .map(|attribute| (*attribute).to_owned())
            .collect();
        self.shared.capture(event.name(), &enabled)
    }

    /// Profile update events, raised when the server acknowledges an update. A receiver
    /// that falls more than 256 events behind loses the oldest (`Lagged`).
    pub fn subscribe(&self) -> broadcast::Receiver<ProfileUpdateEvent> {
        self.shared.events.subscribe()
    }

    /// The policy in force, once fetched.
    pub fn policy(&self) -> Option<Policy> {
        self.shared.registration().and_then(|r| r.policy)
    }

    /// Asks the monitors to fetch the policy now rather than at the next polling interval.
    pub fn refresh_policy(&self) {
        self.shared.refresh.notify_one();
    }

    /// Retries undelivered updates now instead of after their backoff (when the host knows
    /// the network is back).
    pub fn flush(&self) {
        self.shared.flush.notify_one();
    }

    /// The updates waiting for delivery, oldest first.
    pub fn pending_updates(&self) -> Vec<PendingUpdate> {
        self.shared.pending()
    }

    /// Stops the monitors for good; every later call answers [`SdkError::NotInitialized`].
    /// The state on disk stays, so a new SDK on the same state dir carries on.
    pub fn shutdown(&self) {
        self.shared.shut_down();
    }

    /// Code 5 means the server deleted the install: forget it here too.
    fn after_call<T>(&self, result: Result<T, SdkError>) -> Result<T, SdkError> {
        if let Err(SdkError::NotRegistered) = &result {
            self.shared.forget_registration();
        }
        result
    }

    fn change(
        &self,
        change: impl FnOnce(&mut RegisteredDevice),
    ) -> Result<RegisteredDevice, SdkError> {
        self.shared
            .update_registration(|registration| change(&mut registration.device))?
            .ok_or(SdkError::NotRegistered)
    }
}

/// Ids are 1 to 256 bytes without control characters (the server's rule); a userId cannot
/// hold `/`, which separates the parts of a clientId.
fn check_id(name: &str, value: &str) -> Result<(), SdkError> {
    let invalid = |why: &str| Err(SdkError::InvalidParameter(format!("{name}: {why}")));
    if value.is_empty() {
        return invalid("must not be empty");
    }
    if value.len() > 256 {
        return invalid("longer than 256 bytes");
    }
    if value.chars().any(char::is_control) {
        return invalid("contains control characters");
    }
    if name == "user_id" && value.contains('/') {
        return invalid("contains '/'");
    }
    Ok(())
}
