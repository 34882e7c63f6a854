//! # profilestore-sdk
//!
//! The device SDK of profilestore in Rust, for apps and devices that embed Rust (desktop
//! apps, kiosks, point-of-sale terminals, IoT gateways, test rigs), and the reference client
//! of the SDK API (`/api/v3/{appId}`, docs/sdk-api.md).
//!
//! ```no_run
//! use profilestore_sdk::{DeviceEvent, DeviceProfile, LinuxProvider, ProfileParam, Sdk};
//!
//! # async fn run() -> Result<(), profilestore_sdk::SdkError> {
//! let sdk = Sdk::builder("http://127.0.0.1:8080", "XK99397480", "ck_…")
//!     .state_dir("/var/lib/kiosk/profilestore")
//!     .attribute_provider(LinuxProvider::new())
//!     .build()?;
//! if !sdk.is_registered() {
//!     sdk.register(DeviceProfile::new("kiosk-7", "ann")).await?;
//! }
//! sdk.update_profile_data(ProfileParam::CustomerId, "C-1").await?;
//! let mut events = sdk.subscribe();
//! sdk.report_event(DeviceEvent::TimeZoneChange)?;
//! while let Ok(event) = events.recv().await {
//!     println!("{} {:?}", event.event, event.update);
//! }
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - `sdk`: [`Sdk`], the calls an app makes; `builder`: [`SdkBuilder`] and its options.
//! - `api`: the wire (one method per SDK call, headers, codes → [`SdkError`] in `error`).
//! - `profile`: [`DeviceProfile`] in, [`RegisteredDevice`] out, and the saved registration;
//!   `persist`: the state dir's two JSON files, replaced atomically.
//! - `policy`: what `verifyPolicy` enables; `provider`: [`AttributeProvider`], where readings
//!   come from; `readings`: [`DeviceEvent`]s and readings in the catalogue's shapes;
//!   `linux`: [`LinuxProvider`].
//! - `queue`: updates waiting for delivery, coalesced per attribute; `shared`: the state the
//!   handle and the background tasks share; `engine`: those tasks (the monitors' scheduler
//!   and the sender); `clock`: the time they run on ([`Clock`]); `events`: what
//!   [`Sdk::subscribe`] receives; `token`: [`TokenProvider`] for apps with a JWT secret.
#![deny(missing_docs)]

mod api;
mod builder;
mod clock;
mod engine;
mod error;
mod events;
mod linux;
mod persist;
mod policy;
mod profile;
mod provider;
mod queue;
mod readings;
mod sdk;
mod shared;
mod token;

pub use builder::{DEFAULT_SDK_VERSION, HEARTBEAT_INTERVAL, SdkBuilder};
pub use clock::{BoxFuture, Clock, ManualClock, TokioClock};
pub use error::SdkError;
pub use events::ProfileUpdateEvent;
pub use linux::LinuxProvider;
pub use policy::{Monitor, MonitorCategory, Platform, Policy};
pub use profile::{DeviceProfile, ProfileParam, RegisteredDevice};
pub use provider::{
    Accounts, AppActivity, AttributeProvider, ConnectType, DeviceInfo, Hardware, Location, Memory,
    Network, NoReadings, Telephony,
};
pub use queue::PendingUpdate;
pub use readings::{DeviceEvent, HEARTBEAT_EVENT, INTERVAL_EVENT, ONE_TIME_EVENT, Readings};
pub use sdk::Sdk;
pub use token::TokenProvider;
