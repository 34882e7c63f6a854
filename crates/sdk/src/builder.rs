//! [`SdkBuilder`]: the server, the app and its client key, and the options.

use crate::api::{Api, ApiSettings};
use crate::clock::{Clock, TokioClock};
use crate::error::SdkError;
use crate::persist::StateFiles;
use crate::policy::Platform;
use crate::provider::{AttributeProvider, NoReadings};
use crate::sdk::Sdk;
use crate::shared::{Config, Shared};
use crate::token::TokenProvider;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The `sdkversion` header sent by default. The server picks the monitors an SDK may run by
/// its version band, and only the 2.11 band has one-time and interval monitors, all of which
/// this SDK runs; the build metadata says which SDK this really is.
pub const DEFAULT_SDK_VERSION: &str = concat!("2.11.0+rust.", env!("CARGO_PKG_VERSION"));

/// How often the heartbeat is sent (the product SDKs' 15 days).
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15 * 24 * 3600);

/// Where the registration state and the update queue are kept.
#[derive(Debug, Clone)]
enum StateLocation {
    /// `$XDG_STATE_HOME/profilestore-sdk/<appId>` or `~/.local/state/profilestore-sdk/<appId>`.
    Default,
    Dir(PathBuf),
    Memory,
}

/// Builds an [`Sdk`]; see [`Sdk::builder`].
pub struct SdkBuilder {
    base_url: String,
    app_id: String,
    client_key: String,
    platform: Platform,
    sdk_version: String,
    state: StateLocation,
    tokens: Option<Arc<dyn TokenProvider>>,
    provider: Arc<dyn AttributeProvider>,
    clock: Option<Arc<dyn Clock>>,
    connect_timeout: Duration,
    request_timeout: Duration,
    queue_capacity: usize,
    retry_initial: Duration,
    retry_max: Duration,
}

impl SdkBuilder {
    pub(crate) fn new(base_url: String, app_id: String, client_key: String) -> Self {
        SdkBuilder {
            base_url,
            app_id,
            client_key,
            platform: Platform::Android,
            sdk_version: DEFAULT_SDK_VERSION.to_owned(),
            state: StateLocation::Default,
            tokens: None,
            provider: Arc::new(NoReadings),
            clock: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            queue_capacity: 256,
            retry_initial: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
        }
    }

    /// The platform the install registers as (`channelType`); default Android.
    pub fn platform(mut self, platform: Platform) -> Self {
        self.platform = platform;
        self
    }

    /// The `sdkversion` header; default [`DEFAULT_SDK_VERSION`]. A version of 2.12 or
    /// higher gets event monitors only.
    pub fn sdk_version(mut self, version: impl Into<String>) -> Self {
        self.sdk_version = version.into();
        self
    }

    /// The directory for `registration.json` and `queue.json` (created if missing). One
    /// directory per app and device.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state = StateLocation::Dir(dir.into());
        self
    }

    /// Keep the state in memory only: a restart registers again and loses queued updates.
    pub fn in_memory_state(mut self) -> Self {
        self.state = StateLocation::Memory;
        self
    }

    /// Where JWTs come from, for apps with a JWT secret.
    pub fn token_provider(mut self, provider: impl TokenProvider) -> Self {
        self.tokens = Some(Arc::new(provider));
        self
    }

    /// Where readings come from; default: none ([`NoReadings`]).
    pub fn attribute_provider(mut self, provider: impl AttributeProvider) -> Self {
        self.provider = Arc::new(provider);
        self
    }

    /// [`SdkBuilder::attribute_provider`] for a provider the host keeps a handle on.
    pub fn shared_attribute_provider(mut self, provider: Arc<dyn AttributeProvider>) -> Self {
        self.provider = provider;
        self
    }

    /// The clock of the monitors, heartbeat and retries; default [`TokioClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// How long to wait for a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a whole request may take (default 30 s, the server's own limit).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How many updates may wait for delivery (default 256; the oldest is dropped beyond).
    /// Coalescing keeps at most one waiting value per attribute, so the bound is reached
    /// only with many distinct events.
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// The first retry delay of an undelivered update and the longest (default 1 s, 5 min).
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.retry_initial = initial.max(Duration::from_millis(1));
        self.retry_max = max.max(self.retry_initial);
        self
    }

    /// Loads the saved state and, when it holds a registration, starts the monitors. Must be
    /// called inside a tokio runtime (the monitors are tasks on it); outside one it answers
    /// [`SdkError::NotInitialized`].
    pub fn build(self) -> Result<Sdk, SdkError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(SdkError::NotInitialized);
        }
        let dir = match self.state {
            StateLocation::Dir(dir) => Some(dir),
            StateLocation::Memory => None,
            StateLocation::Default => default_state_dir(&self.app_id),
        };
        let api = Api::new(ApiSettings {
            base_url: self.base_url,
            app_id: self.app_id.clone(),
            client_key: self.client_key,
            sdk_version: self.sdk_version.clone(),
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            tokens: self.tokens,
        })?;
        let config = Config {
            app_id: self.app_id,
            platform: self.platform,
            sdk_version: self.sdk_version,
            queue_capacity: self.queue_capacity,
            heartbeat_interval: HEARTBEAT_INTERVAL,
            retry_initial: self.retry_initial,
            retry_max: self.retry_max,
        };
        let clock = self.clock.unwrap_or_else(|| Arc::new(TokioClock::new()));
        let shared = Shared::new(config, api, self.provider, clock, StateFiles::new(dir)?)?;
        Ok(Sdk::start(Arc::new(shared)))
    }
}

fn default_state_dir(app_id: &str) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|dir| !dir.is_empty())
                .map(|home| PathBuf::from(home).join(".local/state"))
        })?;
    Some(base.join("profilestore-sdk").join(app_id))
}
