//! A device simulator: registers this Linux machine as a device of an app, links it to a
//! customer, and prints every profile update the SDK delivers until Ctrl-C.
//!
//! ```sh
//! cargo run -p profilestore-sdk --example device -- \
//!     --server http://127.0.0.1:8080 --app XK99397480 --key ck_... --customer C-1
//! ```

use clap::Parser;
use profilestore_sdk::{
    DeviceProfile, LinuxProvider, Platform, ProfileParam, ProfileUpdateEvent, Sdk, SdkError,
};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

#[derive(Parser)]
#[command(about = "Registers this machine as a device and streams its monitor readings")]
struct Args {
    /// The profilestore server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    server: String,
    /// The app id (`profilestore app create` prints it).
    #[arg(long)]
    app: String,
    /// The app's client key (ck_...).
    #[arg(long)]
    key: String,
    /// Link the device to this customer.
    #[arg(long)]
    customer: Option<String>,
    /// The device id (default: sim-<hostname>).
    #[arg(long)]
    device_id: Option<String>,
    /// The userId to register (default: a guest, the server generates one).
    #[arg(long)]
    user_id: Option<String>,
    /// Where the registration and the queue are kept (default: the SDK's, under
    /// $XDG_STATE_HOME or ~/.local/state).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Seconds between two reads of the event monitors.
    #[arg(long, default_value_t = 10)]
    watch_seconds: u64,
    /// Unregister before exiting.
    #[arg(long)]
    unregister_on_exit: bool,
}

#[tokio::main]
async fn main() -> Result<(), SdkError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,profilestore_sdk=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let provider = LinuxProvider::new()
        .with_watch_interval(Some(Duration::from_secs(args.watch_seconds.max(1))));
    let mut builder = Sdk::builder(&args.server, &args.app, &args.key)
        .platform(Platform::Android)
        .attribute_provider(provider);
    if let Some(dir) = &args.state_dir {
        builder = builder.state_dir(dir);
    }
    let sdk = builder.build()?;
    let mut events = sdk.subscribe();

    match sdk.device_profile() {
        Some(device) => println!("already registered: {}", device.client_id),
        None => {
            let device_id = args.device_id.clone().unwrap_or_else(default_device_id);
            let profile = match &args.user_id {
                Some(user) => DeviceProfile::new(device_id, user.as_str()),
                None => DeviceProfile::guest(device_id),
            };
            let user_id = sdk.register(profile).await?;
            println!("registered as userId {user_id}");
        }
    }
    if let Some(customer) = &args.customer {
        let device = sdk
            .update_profile_data(ProfileParam::CustomerId, customer)
            .await?;
        println!("linked {} to customer {customer}", device.client_id);
    }
    match sdk.policy() {
        Some(policy) => {
            println!("policy ({} band):", policy.sdk_band);
            for monitor in &policy.monitors {
                let every = monitor
                    .interval_seconds
                    .map(|s| format!(" every {s} s"))
                    .unwrap_or_default();
                println!("  {:?} {}{every}", monitor.category, monitor.attribute);
            }
        }
        None => println!("policy not fetched yet"),
    }
    println!("streaming profile updates; Ctrl-C to stop");

    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            received = events.recv() => match received {
                Ok(event) => print_event(&event),
                Err(RecvError::Lagged(missed)) => println!("({missed} updates not shown)"),
                Err(RecvError::Closed) => break,
            },
        }
    }
    if args.unregister_on_exit {
        sdk.unregister().await?;
        println!("unregistered");
    }
    let waiting = sdk.pending_updates().len();
    if waiting > 0 {
        println!("{waiting} updates wait in the queue for the next run");
    }
    sdk.shutdown();
    Ok(())
}

fn print_event(event: &ProfileUpdateEvent) {
    let update = serde_json::to_string(&event.update).unwrap_or_default();
    let ignored = if event.ignored.is_empty() {
        String::new()
    } else {
        format!(" (ignored: {})", event.ignored.join(", "))
    };
    println!(
        "{} {:<16} {update}{ignored}",
        event.delivered_at.format("%H:%M:%S"),
        event.event
    );
}

fn default_device_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_default();
    format!("sim-{}", if host.is_empty() { "linux" } else { &host })
}
