//! `profilestore tenant ...`: create and list tenants, show and rotate profile keys, set the
//! IP allow list and the rate limit.

use super::AdminContext;
use crate::secrets::PlainSecret;
use anyhow::{Context, bail};
use clap::Subcommand;
use ipnet::IpNet;
use serde_json::json;
use std::net::IpAddr;

/// Profile keys start with this, so that secret scanners and people recognise them.
pub const PROFILE_KEY_PREFIX: &str = "psk_";

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

pub async fn run(command: TenantCommand, admin: &AdminContext) -> anyhow::Result<()> {
    match command {
        TenantCommand::Create { name, json } => create(admin, &name, json).await,
        TenantCommand::List { json } => list(admin, json).await,
        TenantCommand::ShowKey { tenant } => {
            let tenant = admin.tenant(&tenant).await?;
            let key = admin
                .store
                .current_profile_key(&tenant.tenant_id)
                .await?
                .context("the tenant has no profile key")?;
            println!("{}", admin.secret.unseal(&key.secret)?.expose());
            Ok(())
        }
        TenantCommand::RotateKey {
            tenant,
            grace_seconds,
        } => {
            let tenant = admin.tenant(&tenant).await?;
            let key = PlainSecret::generate(PROFILE_KEY_PREFIX);
            let retire_at =
                chrono::Utc::now() + chrono::Duration::seconds(i64::from(grace_seconds));
            admin
                .store
                .rotate_profile_key(&tenant.tenant_id, admin.secret.seal(&key), retire_at)
                .await?;
            println!("{}", key.expose());
            Ok(())
        }
        TenantCommand::AllowIp {
            tenant,
            cidrs,
            clear,
        } => allow_ip(admin, &tenant, &cidrs, clear).await,
        TenantCommand::RateLimit {
            tenant,
            requests_per_second,
        } => {
            let tenant = admin.tenant(&tenant).await?;
            admin
                .store
                .set_rate_limit(&tenant.tenant_id, requests_per_second)
                .await?;
            println!("{}: {requests_per_second} requests/s", tenant.name);
            Ok(())
        }
    }
}

fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        bail!("tenant names are 1 to 64 letters, digits, '-', '_' or '.' (got {name:?})");
    }
    Ok(())
}

async fn create(admin: &AdminContext, name: &str, as_json: bool) -> anyhow::Result<()> {
    check_name(name)?;
    let key = PlainSecret::generate(PROFILE_KEY_PREFIX);
    let tenant = admin
        .store
        .create_tenant(name, admin.secret.seal(&key))
        .await?;
    if as_json {
        println!(
            "{}",
            json!({ "tenant_id": tenant.tenant_id, "name": tenant.name, "profile_key": key.expose() })
        );
    } else {
        println!(
            "tenant_id:   {}\nname:        {}\nprofile_key: {}",
            tenant.tenant_id,
            tenant.name,
            key.expose()
        );
    }
    Ok(())
}

async fn list(admin: &AdminContext, as_json: bool) -> anyhow::Result<()> {
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

/// A CIDR block, or a single address as its /32 or /128.
fn parse_cidr(text: &str) -> anyhow::Result<IpNet> {
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    text.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| anyhow::anyhow!("{text:?} is not an IP address or CIDR block"))
}

async fn allow_ip(
    admin: &AdminContext,
    tenant: &str,
    cidrs: &[String],
    clear: bool,
) -> anyhow::Result<()> {
    let tenant = admin.tenant(tenant).await?;
    let mut list: Vec<IpNet> = if clear {
        Vec::new()
    } else {
        let mut list: Vec<IpNet> = tenant
            .allowed_ips
            .iter()
            .filter_map(|cidr| cidr.parse().ok())
            .collect();
        for cidr in cidrs {
            list.push(parse_cidr(cidr)?);
        }
        list
    };
    list.sort();
    list.dedup();
    let stored: Vec<String> = list.iter().map(ToString::to_string).collect();
    admin
        .store
        .set_allowed_ips(&tenant.tenant_id, &stored)
        .await?;
    if stored.is_empty() {
        println!("{}: every address allowed", tenant.name);
    } else {
        println!("{}: {}", tenant.name, stored.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_and_single_addresses() {
        assert_eq!(parse_cidr("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_cidr("192.0.2.1").unwrap().to_string(), "192.0.2.1/32");
        assert_eq!(parse_cidr("::1").unwrap().to_string(), "::1/128");
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("example.org").is_err());
    }

    #[test]
    fn tenant_names() {
        assert!(check_name("acme-prod.eu_1").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("has space").is_err());
        assert!(check_name(&"x".repeat(65)).is_err());
    }
}
