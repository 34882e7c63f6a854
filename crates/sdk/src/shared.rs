//! What the public handle and the background tasks share: settings, the HTTP client, the
//! provider and clock, and the local state (registration and queue) with its files.
//!
//! The local state sits behind a plain mutex that is never held across an `.await`: every
//! change is made and saved in one short critical section, so a task aborted at an await
//! point can never leave it half changed.

use crate::api::Api;
use crate::clock::Clock;
use crate::error::SdkError;
use crate::events::ProfileUpdateEvent;
use crate::persist::StateFiles;
use crate::policy::Platform;
use crate::profile::{RegisteredDevice, Registration, RegistrationFile};
use crate::provider::AttributeProvider;
use crate::queue::{PendingUpdate, UpdateQueue};
use crate::readings::{self, HEARTBEAT_EVENT, Readings};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, broadcast};
use tokio::task::JoinHandle;

/// Settings fixed when the SDK is built.
pub(crate) struct Config {
    pub app_id: String,
    pub platform: Platform,
    pub sdk_version: String,
    pub queue_capacity: usize,
    pub heartbeat_interval: Duration,
    pub retry_initial: Duration,
    pub retry_max: Duration,
}

pub(crate) struct Shared {
    pub config: Config,
    pub api: Api,
    pub provider: Arc<dyn AttributeProvider>,
    pub clock: Arc<dyn Clock>,
    files: StateFiles,
    local: Mutex<Local>,
    /// One exchange about the install at a time: a reading sent while setUserId moves the
    /// install would name a clientId that no longer exists.
    pub calls: tokio::sync::Mutex<()>,
    pub events: broadcast::Sender<ProfileUpdateEvent>,
    /// An update was queued (wakes an idle sender).
    pub queued: Notify,
    /// Retry now rather than after the backoff ([`crate::Sdk::flush`]).
    pub flush: Notify,
    /// Fetch the policy now.
    pub refresh: Notify,
    /// The saved policy was fetched by `register` a moment ago, so the scheduler need not
    /// fetch it again at its start (it does at any other start).
    pub fresh_policy: AtomicBool,
    engine: Mutex<Vec<JoinHandle<()>>>,
    shut_down: AtomicBool,
}

struct Local {
    registration: Option<Registration>,
    queue: UpdateQueue,
}

impl Shared {
    pub fn new(
        config: Config,
        api: Api,
        provider: Arc<dyn AttributeProvider>,
        clock: Arc<dyn Clock>,
        files: StateFiles,
    ) -> Result<Shared, SdkError> {
        let saved: Option<RegistrationFile> = files.load_registration()?;
        let registration = match saved {
            Some(file) if file.app_id != config.app_id => {
                return Err(SdkError::InvalidParameter(format!(
                    "the state dir belongs to app {}, not {}",
                    file.app_id, config.app_id
                )));
            }
            Some(file) => file.registration,
            None => None,
        };
        let queue = match &registration {
            Some(_) => files.load_queue()?.unwrap_or_default(),
            None => UpdateQueue::default(),
        };
        Ok(Shared {
            config,
            api,
            provider,
            clock,
            files,
            local: Mutex::new(Local {
                registration,
                queue,
            }),
            calls: tokio::sync::Mutex::new(()),
            events: broadcast::channel(256).0,
            queued: Notify::new(),
            flush: Notify::new(),
            refresh: Notify::new(),
            fresh_policy: AtomicBool::new(false),
            engine: Mutex::new(Vec::new()),
            shut_down: AtomicBool::new(false),
        })
    }

    fn local(&self) -> MutexGuard<'_, Local> {
        // A panic elsewhere while holding the lock leaves consistent data (every change is
        // made before saving), so a poisoned lock is still usable.
        self.local
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    pub fn check_running(&self) -> Result<(), SdkError> {
        if self.shut_down.load(Ordering::SeqCst) {
            return Err(SdkError::NotInitialized);
        }
        Ok(())
    }

    pub fn registration(&self) -> Option<Registration> {
        self.local().registration.clone()
    }

    pub fn device(&self) -> Option<RegisteredDevice> {
        self.local().registration.as_ref().map(|r| r.device.clone())
    }

    /// The install a call acts on, or NotRegistered.
    pub fn install(&self) -> Result<RegisteredDevice, SdkError> {
        self.device().ok_or(SdkError::NotRegistered)
    }

    /// Replaces the registration (a new one starts with an empty queue) and saves both.
    pub fn set_registration(&self, registration: Option<Registration>) -> Result<(), SdkError> {
        let mut local = self.local();
        local.registration = registration;
        local.queue = UpdateQueue::default();
        self.save_registration(&local)?;
        self.files.save_queue(&local.queue)
    }

    /// Changes the registration, if there is one, and saves it.
    pub fn update_registration(
        &self,
        change: impl FnOnce(&mut Registration),
    ) -> Result<Option<RegisteredDevice>, SdkError> {
        let mut local = self.local();
        let Some(registration) = local.registration.as_mut() else {
            return Ok(None);
        };
        change(registration);
        let device = registration.device.clone();
        self.save_registration(&local)?;
        Ok(Some(device))
    }

    /// The server no longer knows the install (code 5): stop, and forget it locally so the
    /// app registers again.
    pub fn forget_registration(&self) {
        tracing::warn!("the server does not know this install any more; register again");
        self.stop_engine();
        if let Err(error) = self.set_registration(None) {
            tracing::warn!(%error, "could not clear the registration state");
        }
    }

    /// Reads `attributes` from the provider and queues the changed ones as one update.
    pub fn capture(&self, event: &str, attributes: &[String]) -> Result<bool, SdkError> {
        if attributes.is_empty() {
            return Ok(false);
        }
        let readings = readings::read(self.provider.as_ref(), attributes);
        self.enqueue(event, readings)
    }

    /// Queues the readings that change what the server holds; wakes the sender if any did.
    pub fn enqueue(&self, event: &str, readings: Readings) -> Result<bool, SdkError> {
        let mut local = self.local();
        let Local {
            registration,
            queue,
        } = &mut *local;
        let registration = registration.as_ref().ok_or(SdkError::NotRegistered)?;
        let now = self.clock.now();
        let capacity = self.config.queue_capacity;
        if !queue.push_readings(event, readings, &registration.acknowledged, now, capacity) {
            return Ok(false);
        }
        self.files.save_queue(&local.queue)?;
        self.queued.notify_one();
        Ok(true)
    }

    /// Queues a heartbeat if it is due and none waits; answers when the next one is due.
    pub fn heartbeat_if_due(&self) -> Result<chrono::DateTime<chrono::Utc>, SdkError> {
        let mut local = self.local();
        let now = self.clock.now();
        let interval = chrono::Duration::from_std(self.config.heartbeat_interval)
            .unwrap_or(chrono::Duration::MAX);
        let last = match &local.registration {
            Some(registration) => registration.last_heartbeat,
            None => return Err(SdkError::NotRegistered),
        };
        let due = last.map_or(now, |last| last + interval);
        if due > now || local.queue.has_heartbeat() {
            // While one waits, look again after an interval at the latest.
            return Ok(if due > now { due } else { now + interval });
        }
        let update: Readings = [
            ("sdkheartbeat".to_owned(), serde_json::Value::from(1)),
            (
                "sdkversion".to_owned(),
                serde_json::Value::from(self.config.sdk_version.clone()),
            ),
        ]
        .into_iter()
        .collect();
        let capacity = self.config.queue_capacity;
        local
            .queue
            .push_heartbeat(HEARTBEAT_EVENT, update, now, capacity);
        self.files.save_queue(&local.queue)?;
        self.queued.notify_one();
        Ok(now + interval)
    }

    /// The oldest waiting update, marked in flight.
    pub fn start_next(&self) -> Option<PendingUpdate> {
        let mut local = self.local();
        local.registration.as_ref()?;
        local.queue.start_next()
    }

    /// The server acknowledged `sent`: its stored values become the comparison base.
    pub fn acknowledge(
        &self,
        sent: PendingUpdate,
        ignored: Vec<String>,
    ) -> Result<ProfileUpdateEvent, SdkError> {
        let mut local = self.local();
        let now = self.clock.now();
        let mut stored = sent.update.clone();
        stored.retain(|attribute, _| !ignored.contains(attribute));
        if let Some(registration) = local.registration.as_mut() {
            registration.acknowledged.extend(stored.clone());
            if sent.heartbeat {
                registration.last_heartbeat = Some(now);
            }
        }
        local.queue.finish(sent.id);
        self.save_registration(&local)?;
        self.files.save_queue(&local.queue)?;
        Ok(ProfileUpdateEvent {
            event: sent.event,
            update: stored,
            ignored,
            heartbeat: sent.heartbeat,
            captured_at: sent.captured_at,
            delivered_at: now,
        })
    }

    /// The update in flight was refused for good: it leaves the queue.
    pub fn discard(&self, id: u64) -> Result<(), SdkError> {
        let mut local = self.local();
        local.queue.finish(id);
        self.files.save_queue(&local.queue)
    }

    /// The update in flight failed and will be retried.
    pub fn release(&self) {
        self.local().queue.release();
    }

    pub fn pending(&self) -> Vec<PendingUpdate> {
        self.local().queue.entries().cloned().collect()
    }

    fn save_registration(&self, local: &Local) -> Result<(), SdkError> {
        self.files.save_registration(&RegistrationFile {
            app_id: self.config.app_id.clone(),
            registration: local.registration.clone(),
        })
    }

    /// Starts the scheduler and the sender, unless they run.
    pub fn start_engine(self: &Arc<Self>) {
        let mut engine = self.engine.lock().unwrap_or_else(|p| p.into_inner());
        engine.retain(|task| !task.is_finished());
        if !engine.is_empty() || self.shut_down.load(Ordering::SeqCst) {
            return;
        }
        engine.push(tokio::spawn(crate::engine::scheduler::run(self.clone())));
        engine.push(tokio::spawn(crate::engine::sender::run(self.clone())));
    }

    /// Stops the tasks. Safe at any await point: every state change is saved synchronously.
    pub fn stop_engine(&self) {
        let tasks = std::mem::take(&mut *self.engine.lock().unwrap_or_else(|p| p.into_inner()));
        for task in tasks {
            task.abort();
        }
    }

    pub fn shut_down(&self) {
        self.shut_down.store(true, Ordering::SeqCst);
        self.stop_engine();
    }
}
