//! The command line: `profilestore serve` and the admin commands. Admin commands open the
//! same store as the server (they may run while it does; it sees their effect within seconds).

mod app;
mod serve;
mod tenant;

use crate::config::{LogFormat, StoreArgs, StoreSettings};
use crate::secrets::ServerSecret;
use clap::{Parser, Subcommand};
use profilestore_store::Store;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "profilestore",
    version,
    about = "A self-hostable profile store: app profiles, customer profiles and their links."
)]
pub struct Cli {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve(crate::config::ServeArgs),
    /// Manage tenants: create, list, keys, IP allow list, rate limit.
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// Manage a tenant's apps.
    #[command(subcommand)]
    App(app::AppCommand),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let store_settings = StoreSettings::resolve(&cli.store)?;
    let verbose = matches!(cli.command, Command::Serve(_));
    init_logging(store_settings.log_format, verbose);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(&cli.store, &args).await,
            Command::Tenant(command) => {
                tenant::run(command, &AdminContext::open(store_settings).await?).await
            }
            Command::App(command) => {
                app::run(command, &AdminContext::open(store_settings).await?).await
            }
        }
    })
}

/// Structured logs on stderr; `RUST_LOG` refines the level (info for the server, warn for
/// admin commands, whose stdout is for their output).
fn init_logging(format: LogFormat, verbose: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if verbose { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// What admin commands work with: the store and the server secret that seals keys.
pub(crate) struct AdminContext {
    pub store: Arc<dyn Store>,
    pub secret: ServerSecret,
}

impl AdminContext {
    async fn open(settings: StoreSettings) -> anyhow::Result<Self> {
        settings.ensure_data_dir()?;
        let secret = ServerSecret::load(
            std::env::var("PROFILESTORE_SECRET").ok().as_deref(),
            &settings.data_dir,
        )?;
        let store = profilestore_store::open(&settings.database_url).await?;
        Ok(AdminContext { store, secret })
    }

    /// A tenant by id or name, or a clear error.
    pub async fn tenant(
        &self,
        id_or_name: &str,
    ) -> anyhow::Result<profilestore_store::model::Tenant> {
        self.store.find_tenant(id_or_name).await?.ok_or_else(|| {
            anyhow::anyhow!(
                "no tenant with id or name {id_or_name:?} (see `profilestore tenant list`)"
            )
        })
    }
}
