//! Admin operations on tenants and apps, shared by the CLI and by tests: each returns what
//! was done, and the CLI prints it. Secrets are generated, sealed with the server secret and
//! returned once; the store never sees them in the clear.

use crate::config::StoreSettings;
use crate::secrets::{PlainSecret, ServerSecret};
use anyhow::{Context, bail};
use ipnet::IpNet;
use profilestore_core::ids::AppId;
use profilestore_store::model::{App, Tenant};
use profilestore_store::{Store, StoreError};
use rand::Rng;
use std::net::IpAddr;
use std::sync::Arc;

/// Profile keys start with this, so that secret scanners and people recognise them.
pub const PROFILE_KEY_PREFIX: &str = "psk_";
pub const CLIENT_KEY_PREFIX: &str = "ck_";
/// New app ids are drawn at random; a clash with an existing app is retried this often.
const APP_ID_ATTEMPTS: usize = 16;

pub struct CreatedTenant {
    pub tenant: Tenant,
    pub profile_key: PlainSecret,
}

pub struct CreatedApp {
    pub app: App,
    pub client_key: PlainSecret,
}

pub struct Admin {
    pub store: Arc<dyn Store>,
    secret: ServerSecret,
}

impl Admin {
    /// Opens the store the settings name, and the server secret (`PROFILESTORE_SECRET`, else
    /// `secret.key` in the data dir).
    pub async fn open(settings: &StoreSettings) -> anyhow::Result<Self> {
        settings.ensure_data_dir()?;
        let from_env = std::env::var("PROFILESTORE_SECRET").ok();
        let secret = ServerSecret::load(from_env.as_deref(), &settings.data_dir)?;
        let store =
            profilestore_store::open_with(&settings.database_url, &settings.open_options()).await?;
        Ok(Admin { store, secret })
    }

    /// A tenant by id or name, or a clear error.
    pub async fn tenant(&self, id_or_name: &str) -> anyhow::Result<Tenant> {
        self.store.find_tenant(id_or_name).await?.ok_or_else(|| {
            anyhow::anyhow!(
                "no tenant with id or name {id_or_name:?} (see `profilestore tenant list`)"
            )
        })
    }

    pub async fn create_tenant(&self, name: &str) -> anyhow::Result<CreatedTenant> {
        check_tenant_name(name)?;
        let profile_key = PlainSecret::generate(PROFILE_KEY_PREFIX);
        let tenant = self
            .store
            .create_tenant(name, self.secret.seal(&profile_key))
            .await?;
        Ok(CreatedTenant {
            tenant,
            profile_key,
        })
    }

    pub async fn show_key(&self, tenant: &str) -> anyhow::Result<PlainSecret> {
        let tenant = self.tenant(tenant).await?;
        let key = self
            .store
            .current_profile_key(&tenant.tenant_id)
            .await?
            .context("the tenant has no profile key")?;
        self.secret.unseal(&key.secret)
    }

    /// A new profile key; the old ones keep working for `grace_seconds`.
    pub async fn rotate_key(
        &self,
        tenant: &str,
        grace_seconds: u32,
    ) -> anyhow::Result<PlainSecret> {
        if let Some(problem) = key_grace_problem(grace_seconds) {
            bail!("--grace-seconds: {problem}");
        }
        let tenant = self.tenant(tenant).await?;
        let rotated = rotate_profile_key(
            &*self.store,
            &self.secret,
            &tenant.tenant_id,
            grace_seconds,
            chrono::Utc::now(),
        )
        .await?;
        Ok(rotated.key)
    }

    /// Adds blocks to the IP allow list (or empties it with `clear`); returns the new list.
    pub async fn allow_ip(
        &self,
        tenant: &str,
        cidrs: &[String],
        clear: bool,
    ) -> anyhow::Result<(Tenant, Vec<String>)> {
        let tenant = self.tenant(tenant).await?;
        let mut entries: Vec<String> = Vec::new();
        if !clear {
            entries.extend(tenant.allowed_ips.iter().cloned());
            entries.extend(cidrs.iter().cloned());
        }
        let stored = normalise_allow_list(&entries).map_err(|(_, why)| anyhow::anyhow!(why))?;
        self.store
            .set_allowed_ips(&tenant.tenant_id, &stored)
            .await?;
        Ok((tenant, stored))
    }

    pub async fn set_rate_limit(
        &self,
        tenant: &str,
        requests_per_second: u32,
    ) -> anyhow::Result<Tenant> {
        let tenant = self.tenant(tenant).await?;
        self.store
            .set_rate_limit(&tenant.tenant_id, requests_per_second)
            .await?;
        Ok(tenant)
    }

    pub async fn create_app(&self, tenant: &str, name: &str) -> anyhow::Result<CreatedApp> {
        let tenant = self.tenant(tenant).await?;
        create_app(&*self.store, &self.secret, &tenant.tenant_id, name).await
    }
}

impl Admin {
    /// Runs the inactive-profile job once as if it were `now` (the CLI and tests; the server
    /// runs it hourly on the system clock).
    pub async fn expire_app_profiles(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<u64> {
        Ok(crate::ttl::sweep(&*self.store, now).await?)
    }
}

/// Longest grace period older profile keys get after a rotation: a key being replaced (perhaps
/// because it leaked) should not keep working for long.
pub const MAX_KEY_GRACE_SECONDS: u32 = 30 * 24 * 3600;

/// Why a rotation's grace period is refused, if it is.
pub fn key_grace_problem(grace_seconds: u32) -> Option<String> {
    (grace_seconds > MAX_KEY_GRACE_SECONDS)
        .then(|| format!("at most {MAX_KEY_GRACE_SECONDS} (30 days)"))
}

/// A rotation's new profile key and when the older keys stop working.
pub struct RotatedKey {
    pub key: PlainSecret,
    pub retire_at: chrono::DateTime<chrono::Utc>,
}

/// Issues a new profile key for the tenant, sealed with the server secret; the older keys keep
/// working for `grace_seconds` from `now` (the CLI's `tenant rotate-key` and the console's
/// Tenant Settings; check [`key_grace_problem`] first).
pub async fn rotate_profile_key(
    store: &dyn Store,
    secret: &ServerSecret,
    tenant_id: &str,
    grace_seconds: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<RotatedKey, StoreError> {
    let key = PlainSecret::generate(PROFILE_KEY_PREFIX);
    let retire_at = now + chrono::Duration::seconds(i64::from(grace_seconds));
    store
        .rotate_profile_key(tenant_id, secret.seal(&key), retire_at)
        .await?;
    Ok(RotatedKey { key, retire_at })
}

/// Why an app name is refused, if it is.
pub fn app_name_problem(name: &str) -> Option<&'static str> {
    (name.trim().is_empty() || name.len() > 128).then_some("app names are 1 to 128 characters")
}

/// Creates an app with a random id and a new client key, sealed with the server secret (the
/// CLI's `app create` and the native API's POST /v1/apps).
pub async fn create_app(
    store: &dyn Store,
    secret: &ServerSecret,
    tenant_id: &str,
    name: &str,
) -> anyhow::Result<CreatedApp> {
    if let Some(problem) = app_name_problem(name) {
        bail!(problem);
    }
    let client_key = PlainSecret::generate(CLIENT_KEY_PREFIX);
    for _ in 0..APP_ID_ATTEMPTS {
        let app_id = random_app_id();
        match store
            .create_app(tenant_id, &app_id, name, secret.seal(&client_key))
            .await
        {
            Ok(app) => return Ok(CreatedApp { app, client_key }),
            Err(StoreError::Conflict(_)) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    bail!("could not find a free app id after {APP_ID_ATTEMPTS} attempts")
}

fn check_tenant_name(name: &str) -> anyhow::Result<()> {
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

/// A CIDR block with its host bits cleared, or a single address as its /32 or /128.
fn parse_cidr(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .map(|net| net.trunc())
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

/// An IP allow list as it is stored: every entry a CIDR block (a single address as its /32 or
/// /128), sorted, without duplicates; or the index of the first entry that is not an address
/// or block, and why. The one rule for the CLI, the console and every other way in.
pub fn normalise_allow_list(entries: &[String]) -> Result<Vec<String>, (usize, String)> {
    let mut list = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let net = parse_cidr(entry).ok_or_else(|| {
            (
                index,
                format!("{entry:?} is not an IP address or CIDR block"),
            )
        })?;
        list.push(net);
    }
    list.sort();
    list.dedup();
    Ok(list.iter().map(ToString::to_string).collect())
}

/// Two capital letters and eight digits, like the product's app ids.
fn random_app_id() -> AppId {
    let mut rng = rand::rng();
    let letters: String = (0..2)
        .map(|_| char::from(rng.random_range(b'A'..=b'Z')))
        .collect();
    let digits: u32 = rng.random_range(0..100_000_000);
    AppId::parse(format!("{letters}{digits:08}")).expect("the generated shape is a valid app id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_and_single_addresses() {
        assert_eq!(parse_cidr("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_cidr("192.0.2.1").unwrap().to_string(), "192.0.2.1/32");
        assert_eq!(parse_cidr("::1").unwrap().to_string(), "::1/128");
        assert!(parse_cidr("10.0.0.0/33").is_none());
        assert!(parse_cidr("example.org").is_none());
    }

    #[test]
    fn allow_lists_are_normalised_sorted_and_deduplicated() {
        let entries: Vec<String> = ["10.1.2.3/8", "192.0.2.1", "::1", "10.0.0.0/8"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            normalise_allow_list(&entries).unwrap(),
            ["10.0.0.0/8", "192.0.2.1/32", "::1/128"]
        );
        let bad: Vec<String> = vec!["10.0.0.1".into(), "example.org".into()];
        assert_eq!(normalise_allow_list(&bad).unwrap_err().0, 1);
    }

    #[test]
    fn tenant_names() {
        assert!(check_tenant_name("acme-prod.eu_1").is_ok());
        assert!(check_tenant_name("").is_err());
        assert!(check_tenant_name("has space").is_err());
        assert!(check_tenant_name(&"x".repeat(65)).is_err());
    }

    #[test]
    fn generated_app_ids_have_the_product_shape() {
        for _ in 0..100 {
            assert!(AppId::is_generated_shape(random_app_id().as_str()));
        }
    }
}
