//! The command line: `profilestore serve` and the admin commands. Admin commands open the
//! same store as the server (they may run while it does; it sees their effect within seconds).

mod app;
mod schema;
mod serve;
mod tenant;
mod user;

use crate::admin::Admin;
use crate::config::{LogFormat, StoreArgs, StoreSettings};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

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
    /// Manage a tenant's customer-attribute schema (like /v1/customer-attributes).
    #[command(subcommand)]
    Schema(schema::SchemaCommand),
    /// Manage the admin console's users (per tenant, or operators of every tenant).
    #[command(subcommand)]
    User(user::UserCommand),
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
                tenant::run(command, &Admin::open(&store_settings).await?).await
            }
            Command::App(command) => app::run(command, &Admin::open(&store_settings).await?).await,
            Command::Schema(command) => {
                schema::run(command, &Admin::open(&store_settings).await?).await
            }
            Command::User(command) => {
                user::run(command, &Admin::open(&store_settings).await?).await
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
