//! Who may call: the tenants, their keys and apps, held in memory so that authenticating a
//! request costs a hash lookup, not a query. A refresher reloads the view when the store's
//! `settings_version` moves (admin commands in another process are seen within one poll).

mod verified;

use crate::secrets::digest;
use chrono::{DateTime, Utc};
use ipnet::IpNet;
use profilestore_store::model::{AccessSnapshot, App, Tenant};
use profilestore_store::{Store, StoreResult};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;
use verified::VerifiedKeys;

/// A tenant as the edge needs it.
#[derive(Debug)]
pub struct TenantAccess {
    pub tenant: Tenant,
    pub allowed_ips: Vec<IpNet>,
}

impl TenantAccess {
    /// A tenant with its allow list parsed (an entry that does not parse is logged and left
    /// out: the stored list is written normalised, so it means a damaged row).
    pub fn new(tenant: Tenant) -> Self {
        let allowed_ips = tenant
            .allowed_ips
            .iter()
            .filter_map(|cidr| match cidr.parse::<IpNet>() {
                Ok(net) => Some(net),
                Err(_) => {
                    tracing::warn!(tenant = %tenant.tenant_id, cidr, "ignoring unparsable allow-list entry");
                    None
                }
            })
            .collect();
        TenantAccess {
            tenant,
            allowed_ips,
        }
    }

    /// Whether a client address may call for this tenant (an empty list allows everyone).
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = canonical_ip(ip);
        self.allowed_ips.is_empty() || self.allowed_ips.iter().any(|net| net.contains(&ip))
    }
}

/// `::ffff:10.0.0.1` is 10.0.0.1: a dual-stack listener reports IPv4 clients so.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Who a presented key identifies.
#[derive(Debug, Clone)]
pub enum Principal {
    /// The tenant's profile key: the whole compatible API of that tenant.
    Tenant(Arc<TenantAccess>),
    /// An app's client key: that app's routes only.
    App {
        tenant: Arc<TenantAccess>,
        app_id: String,
    },
}

impl Principal {
    pub fn tenant(&self) -> &Arc<TenantAccess> {
        match self {
            Principal::Tenant(tenant) | Principal::App { tenant, .. } => tenant,
        }
    }
}

struct KeyEntry {
    principal: Principal,
    expires_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct AccessView {
    version: i64,
    /// digest → key.
    keys: HashMap<String, Arc<KeyEntry>>,
    /// The keys presented since this view was built that matched their digest.
    verified: VerifiedKeys<KeyEntry>,
    /// app id → owning tenant id.
    app_owners: HashMap<String, String>,
    /// app id → the app with its options and device policy (the SDK routes read them).
    apps: HashMap<String, Arc<App>>,
    /// tenant id → the tenant (console sessions name theirs by id).
    tenants: HashMap<String, Arc<TenantAccess>>,
}

impl AccessView {
    fn build(snapshot: AccessSnapshot) -> Self {
        let tenants: HashMap<String, Arc<TenantAccess>> = snapshot
            .tenants
            .into_iter()
            .map(|tenant| {
                (
                    tenant.tenant_id.clone(),
                    Arc::new(TenantAccess::new(tenant)),
                )
            })
            .collect();
        let mut keys = HashMap::new();
        for key in snapshot.profile_keys {
            if let Some(tenant) = tenants.get(&key.tenant_id) {
                let entry = KeyEntry {
                    principal: Principal::Tenant(tenant.clone()),
                    expires_at: key.expires_at,
                };
                keys.insert(key.secret.digest, Arc::new(entry));
            }
        }
        let mut app_owners = HashMap::new();
        let mut apps = HashMap::new();
        for app in snapshot.apps {
            apps.insert(app.app_id.clone(), Arc::new(app.clone()));
            if let Some(tenant) = tenants.get(&app.tenant_id) {
                let entry = KeyEntry {
                    principal: Principal::App {
                        tenant: tenant.clone(),
                        app_id: app.app_id.clone(),
                    },
                    expires_at: None,
                };
                keys.insert(app.client_key.digest, Arc::new(entry));
            }
            app_owners.insert(app.app_id, app.tenant_id);
        }
        AccessView {
            version: snapshot.version,
            keys,
            verified: VerifiedKeys::default(),
            app_owners,
            apps,
            tenants,
        }
    }
}

pub struct AccessCache {
    store: Arc<dyn Store>,
    view: RwLock<Arc<AccessView>>,
}

impl AccessCache {
    pub async fn load(store: Arc<dyn Store>) -> StoreResult<Arc<Self>> {
        let view = AccessView::build(store.access_snapshot().await?);
        Ok(Arc::new(AccessCache {
            store,
            view: RwLock::new(Arc::new(view)),
        }))
    }

    fn view(&self) -> Arc<AccessView> {
        self.view
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Reloads the view if an admin change happened since it was built.
    pub async fn refresh_if_changed(&self) -> StoreResult<()> {
        let version = self.store.settings_version().await?;
        if version != self.view().version {
            let view = AccessView::build(self.store.access_snapshot().await?);
            let mut current = self
                .view
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // Two refreshes can overlap (the poller and an explicit one); the slower must not
            // put back an older view over a newer one.
            if view.version >= current.version {
                *current = Arc::new(view);
            }
        }
        Ok(())
    }

    /// Polls for admin changes until `shutdown` turns true. A failed poll (database down)
    /// keeps the last view: authentication goes on while the store recovers.
    pub fn spawn_refresher(self: &Arc<Self>, every: Duration, shutdown: watch::Receiver<bool>) {
        let cache = self.clone();
        crate::periodic::spawn_every(every, shutdown, move || {
            let cache = cache.clone();
            async move {
                if let Err(error) = cache.refresh_if_changed().await {
                    tracing::warn!(%error, "could not refresh tenant settings; keeping the last ones");
                }
            }
        });
    }

    /// The principal a presented key stands for, if it is a live key.
    pub fn authenticate(&self, presented: &str, now: DateTime<Utc>) -> Option<Principal> {
        let view = self.view();
        let entry = match view.verified.find(presented) {
            Some(entry) => entry,
            None => {
                // Found by its digest: how long the map takes to compare says at most how much
                // of a SHA-256 digest matched, which tells nothing of any key.
                let entry = view.keys.get(&digest(presented))?;
                view.verified.remember(presented, entry.clone());
                entry.clone()
            }
        };
        let live = entry.expires_at.is_none_or(|expires_at| now < expires_at);
        live.then(|| entry.principal.clone())
    }

    /// A tenant by id, as of the last reload.
    pub fn tenant(&self, tenant_id: &str) -> Option<Arc<TenantAccess>> {
        self.view().tenants.get(tenant_id).cloned()
    }

    /// An app (any tenant's) with its settings, as of the last reload.
    pub fn app(&self, app_id: &str) -> Option<Arc<App>> {
        self.view().apps.get(app_id).cloned()
    }

    /// Whether an app id belongs to a tenant.
    pub fn app_belongs_to(&self, app_id: &str, tenant_id: &str) -> bool {
        self.view()
            .app_owners
            .get(app_id)
            .is_some_and(|owner| owner == tenant_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_mapped_addresses_match_ipv4_allow_lists() {
        let access = TenantAccess {
            tenant: Tenant {
                tenant_id: "t".into(),
                name: "t".into(),
                store_number: 1,
                rate_limit: 0,
                allowed_ips: vec![],
                created_at: Utc::now(),
            },
            allowed_ips: vec!["10.0.0.0/8".parse().unwrap()],
        };
        assert!(access.allows("10.1.2.3".parse().unwrap()));
        assert!(access.allows("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!access.allows("11.0.0.1".parse().unwrap()));
    }
}
