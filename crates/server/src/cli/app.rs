//! `profilestore app ...`: a tenant's apps, each with an app id like the product's
//! (`AB12345678`) and a client key for the SDK routes.

use super::AdminContext;
use crate::secrets::PlainSecret;
use anyhow::bail;
use clap::Subcommand;
use profilestore_core::ids::AppId;
use profilestore_store::StoreError;
use rand::Rng;
use serde_json::json;

pub const CLIENT_KEY_PREFIX: &str = "ck_";
/// New ids are drawn at random; a clash with an existing app is retried this often.
const ID_ATTEMPTS: usize = 16;

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

pub async fn run(command: AppCommand, admin: &AdminContext) -> anyhow::Result<()> {
    match command {
        AppCommand::Create { tenant, name, json } => create(admin, &tenant, &name, json).await,
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
            Ok(())
        }
    }
}

fn random_app_id() -> AppId {
    let mut rng = rand::rng();
    let letters: String = (0..2)
        .map(|_| char::from(rng.random_range(b'A'..=b'Z')))
        .collect();
    let digits: u32 = rng.random_range(0..100_000_000);
    AppId::parse(format!("{letters}{digits:08}")).expect("the generated shape is a valid app id")
}

async fn create(
    admin: &AdminContext,
    tenant: &str,
    name: &str,
    as_json: bool,
) -> anyhow::Result<()> {
    if name.trim().is_empty() || name.len() > 128 {
        bail!("app names are 1 to 128 characters");
    }
    let tenant = admin.tenant(tenant).await?;
    let key = PlainSecret::generate(CLIENT_KEY_PREFIX);
    for _ in 0..ID_ATTEMPTS {
        let app_id = random_app_id();
        match admin
            .store
            .create_app(&tenant.tenant_id, &app_id, name, admin.secret.seal(&key))
            .await
        {
            Ok(app) => {
                if as_json {
                    println!(
                        "{}",
                        json!({ "app_id": app.app_id, "name": app.name, "client_key": key.expose() })
                    );
                } else {
                    println!(
                        "app_id:     {}\nname:       {}\nclient_key: {}",
                        app.app_id,
                        app.name,
                        key.expose()
                    );
                }
                return Ok(());
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    bail!("could not find a free app id after {ID_ATTEMPTS} attempts")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_have_the_product_shape() {
        for _ in 0..100 {
            assert!(AppId::is_generated_shape(random_app_id().as_str()));
        }
    }
}
