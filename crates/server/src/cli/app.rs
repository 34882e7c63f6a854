//! `profilestore app ...`: a tenant's apps, each with an app id like the product's
//! (`AB12345678`) and a client key for the SDK routes.

use crate::admin::Admin;
use clap::Subcommand;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Create an app and print its id and client key.
    Create {
        /// Tenant id or name.
        #[arg(long)]
        tenant: String,
        /// A name for people (any text up to 128 characters).
        #[arg(long)]
        name: String,
        /// Print one JSON object {"app_id", "name", "client_key"}.
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's apps.
    List {
        /// Tenant id or name.
        #[arg(long)]
        tenant: String,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(command: AppCommand, admin: &Admin) -> anyhow::Result<()> {
    match command {
        AppCommand::Create { tenant, name, json } => {
            let created = admin.create_app(&tenant, &name).await?;
            let (app, key) = (&created.app, created.client_key.expose());
            if json {
                println!(
                    "{}",
                    json!({ "app_id": app.app_id, "name": app.name, "client_key": key })
                );
            } else {
                println!(
                    "app_id:     {}\nname:       {}\nclient_key: {key}",
                    app.app_id, app.name
                );
            }
        }
        AppCommand::List { tenant, json } => {
            let tenant = admin.tenant(&tenant).await?;
            let apps = admin.store.list_apps(&tenant.tenant_id).await?;
            if json {
                let items: Vec<_> = apps
                    .iter()
                    .map(|a| json!({ "app_id": a.app_id, "name": a.name }))
                    .collect();
                println!("{}", serde_json::Value::Array(items));
            } else {
                for app in &apps {
                    println!("{}  {}", app.app_id, app.name);
                }
            }
        }
    }
    Ok(())
}
