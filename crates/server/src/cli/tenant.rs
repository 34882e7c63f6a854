//! `profilestore tenant ...`: create and list tenants, show and rotate profile keys, set the
//! IP allow list and the rate limit.

use crate::admin::Admin;
use clap::Subcommand;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and print its profile key (shown again by `show-key`).
    Create {
        /// Unique name: letters, digits, '-', '_' or '.', at most 64.
        name: String,
        /// Print one JSON object {"tenant_id", "name", "profile_key"}.
        #[arg(long)]
        json: bool,
    },
    /// List tenants.
    List {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Print a tenant's current profile key.
    ShowKey {
        /// Tenant id or name.
        tenant: String,
    },
    /// Issue a new profile key and print it; the old key keeps working for the grace period.
    RotateKey {
        /// Tenant id or name.
        tenant: String,
        /// Seconds the old key keeps working.
        #[arg(long, default_value_t = 0)]
        grace_seconds: u32,
    },
    /// Add addresses (CIDR or single IPs) to the tenant's IP allow list, or clear it.
    AllowIp {
        /// Tenant id or name.
        tenant: String,
        /// IPv4/IPv6 CIDR blocks or addresses.
        #[arg(required_unless_present = "clear")]
        cidrs: Vec<String>,
        /// Empty the list: every address is allowed again.
        #[arg(long, conflicts_with = "cidrs")]
        clear: bool,
    },
    /// Set the tenant's rate limit in requests per second (0 = the server's default).
    RateLimit {
        /// Tenant id or name.
        tenant: String,
        requests_per_second: u32,
    },
}

pub async fn run(command: TenantCommand, admin: &Admin) -> anyhow::Result<()> {
    match command {
        TenantCommand::Create { name, json } => {
            let created = admin.create_tenant(&name).await?;
            let (tenant, key) = (&created.tenant, created.profile_key.expose());
            if json {
                println!(
                    "{}",
                    json!({ "tenant_id": tenant.tenant_id, "name": tenant.name, "profile_key": key })
                );
            } else {
                println!(
                    "tenant_id:   {}\nname:        {}\nprofile_key: {key}",
                    tenant.tenant_id, tenant.name
                );
            }
        }
        TenantCommand::List { json } => list(admin, json).await?,
        TenantCommand::ShowKey { tenant } => {
            println!("{}", admin.show_key(&tenant).await?.expose())
        }
        TenantCommand::RotateKey {
            tenant,
            grace_seconds,
        } => {
            println!(
                "{}",
                admin.rotate_key(&tenant, grace_seconds).await?.expose()
            )
        }
        TenantCommand::AllowIp {
            tenant,
            cidrs,
            clear,
        } => {
            let (tenant, list) = admin.allow_ip(&tenant, &cidrs, clear).await?;
            if list.is_empty() {
                println!("{}: every address allowed", tenant.name);
            } else {
                println!("{}: {}", tenant.name, list.join(", "));
            }
        }
        TenantCommand::RateLimit {
            tenant,
            requests_per_second,
        } => {
            let tenant = admin.set_rate_limit(&tenant, requests_per_second).await?;
            println!("{}: {requests_per_second} requests/s", tenant.name);
        }
    }
    Ok(())
}

async fn list(admin: &Admin, as_json: bool) -> anyhow::Result<()> {
    let tenants = admin.store.list_tenants().await?;
    if as_json {
        let items: Vec<_> = tenants
            .iter()
            .map(|t| {
                json!({
                    "tenant_id": t.tenant_id,
                    "name": t.name,
                    "rate_limit": t.rate_limit,
                    "allowed_ips": t.allowed_ips,
                    "created_at": t.created_at.to_rfc3339(),
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(items));
    } else {
        println!(
            "{:<20} {:<24} {:>10}  allowed IPs",
            "tenant_id", "name", "rate limit"
        );
        for t in &tenants {
            let ips = if t.allowed_ips.is_empty() {
                "any".to_owned()
            } else {
                t.allowed_ips.join(",")
            };
            println!(
                "{:<20} {:<24} {:>10}  {ips}",
                t.tenant_id, t.name, t.rate_limit
            );
        }
    }
    Ok(())
}
