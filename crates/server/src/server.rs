//! The running server: builds the state and the router, binds, serves plain HTTP or HTTPS,
//! and shuts down gracefully (stop accepting, finish in-flight requests, close the store).

use crate::access::AccessCache;
use crate::api;
use crate::config::ServeSettings;
use crate::edge;
use crate::events::DeliverySettings;
use crate::events::nats_relay::NatsRelay;
use crate::events::webhook_relay::WebhookRelay;
use crate::rate_limit::RateLimiter;
use crate::state::{AppContext, AppState, EdgeSettings};
use anyhow::Context;
use axum::Router;
use axum::routing::get;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use hyper_util::rt::TokioTimer;
use profilestore_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a client may take to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How often expired write outcomes are removed.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

pub fn router(state: AppState, body_timeout: Duration) -> Router {
    let (native, openapi) = api::v1::router(state.clone());
    let openapi = Arc::new(openapi);
    let routes = Router::new()
        .route("/healthz", get(api::health::healthz))
        .route("/readyz", get(api::health::readyz))
        .route("/metrics", get(api::health::metrics))
        .route(
            "/openapi.json",
            get(move || async move { axum::Json(openapi.as_ref().clone()) }),
        )
        .merge(api::compat::router(state.clone()))
        .merge(api::sdk::router(state.clone()))
        .merge(native)
        .merge(crate::console::router());
    edge::layers::apply(routes, body_timeout).with_state(state)
}

pub struct Server {
    local_addr: SocketAddr,
    tls: bool,
    handle: Handle,
    serving: JoinHandle<std::io::Result<()>>,
    stop_background: watch::Sender<bool>,
    store: Arc<dyn Store>,
    access: Arc<AccessCache>,
    grace: Duration,
}

impl Server {
    /// Opens the store, binds the listener and starts serving; returns once accepting.
    pub async fn start(settings: ServeSettings) -> anyhow::Result<Self> {
        settings.store.ensure_data_dir()?;
        // Before the store's first operation: the store keeps the handles it is given per
        // thread, and a handle taken before the recorder is installed records nowhere.
        let metrics = edge::metrics::recorder();
        let store = profilestore_store::open_with(
            &settings.store.database_url,
            &settings.store.open_options(),
        )
        .await
        .context("opening the store")?;
        let from_env = std::env::var("PROFILESTORE_SECRET").ok();
        let secret = Arc::new(
            crate::secrets::ServerSecret::load(from_env.as_deref(), &settings.store.data_dir)
                .context("loading the server secret")?,
        );
        let access = AccessCache::load(store.clone())
            .await
            .context("loading tenants")?;
        let (stop_background, stopped) = watch::channel(false);
        access.spawn_refresher(settings.settings_poll, stopped.clone());
        spawn_pruner(store.clone(), stopped.clone());
        crate::ttl::spawn(store.clone(), crate::ttl::system_clock(), stopped.clone());
        // Webhook requests and NATS may use TLS; the process has one rustls provider.
        install_crypto_provider();
        spawn_event_delivery(&store, &secret, &settings.delivery, &stopped)?;
        let state = AppState::new(AppContext {
            store: store.clone(),
            access: access.clone(),
            rate_limiter: Arc::new(RateLimiter::default()),
            edge: Arc::new(EdgeSettings {
                trusted_proxies: settings.trusted_proxies.clone(),
                default_rate_limit: settings.default_rate_limit,
                compat_always_200: settings.compat_always_200,
            }),
            metrics,
            secret,
            stopping: stopped.clone(),
            console: crate::console::ConsoleState::new(settings.tls.is_some()),
            stream_slots: crate::events::stream_slots::StreamSlots::with_limit(
                settings.delivery.max_streams_per_tenant,
            ),
        });
        crate::console::spawn_pruner(store.clone(), stopped);
        let service = router(state, settings.body_timeout)
            .into_make_service_with_connect_info::<SocketAddr>();
        let listener = std::net::TcpListener::bind(settings.listen)
            .with_context(|| format!("binding {}", settings.listen))?;
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        let handle = Handle::new();
        let serving = match &settings.tls {
            None => {
                let mut server = axum_server::from_tcp(listener).handle(handle.clone());
                configure_http(&mut server);
                tokio::spawn(server.serve(service))
            }
            Some(tls) => {
                let config = RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                    .await
                    .with_context(|| {
                        format!(
                            "loading TLS certificate {} and key {}",
                            tls.cert.display(),
                            tls.key.display()
                        )
                    })?;
                let mut server =
                    axum_server::from_tcp_rustls(listener, config).handle(handle.clone());
                configure_http(&mut server);
                tokio::spawn(server.serve(service))
            }
        };
        handle
            .listening()
            .await
            .context("the server did not start listening")?;
        tracing::info!(address = %local_addr, tls = settings.tls.is_some(), "profilestore listening");
        Ok(Server {
            local_addr,
            tls: settings.tls.is_some(),
            handle,
            serving,
            stop_background,
            store,
            access,
            grace: settings.shutdown_grace,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The base URL clients use, e.g. `http://127.0.0.1:8080`.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.local_addr)
    }

    /// Reloads tenants, keys and apps now if they changed, instead of at the next poll.
    pub async fn refresh_access(&self) -> anyhow::Result<()> {
        Ok(self.access.refresh_if_changed().await?)
    }

    /// Stops accepting, lets in-flight requests finish (up to the grace period), then closes the store.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        tracing::info!("shutting down: finishing in-flight requests");
        // First, so that event streams end and relays stop before the grace period starts.
        let _ = self.stop_background.send(true);
        self.handle.graceful_shutdown(Some(self.grace));
        let served = self.serving.await.context("the server task failed")?;
        self.store.close().await;
        tracing::info!("store closed; bye");
        served.context("serving failed")
    }
}

fn configure_http<A>(server: &mut axum_server::Server<A>) {
    server
        .http_builder()
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
}

fn install_crypto_provider() {
    // Fails only if a provider is installed already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The webhook relay, the NATS relay (when configured) and retention, named in leases by a
/// node id of their own.
fn spawn_event_delivery(
    store: &Arc<dyn Store>,
    secret: &Arc<crate::secrets::ServerSecret>,
    settings: &DeliverySettings,
    stopped: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let node = format!("node-{}", uuid::Uuid::new_v4().simple());
    WebhookRelay::new(
        store.clone(),
        secret.clone(),
        node.clone(),
        settings.clone(),
    )
    .context("building the webhook client")?
    .spawn(stopped.clone());
    if let Some(nats) = &settings.nats {
        NatsRelay::new(store.clone(), node, nats.clone()).spawn(stopped.clone());
    }
    crate::events::retention::spawn(store.clone(), settings.retention, stopped.clone());
    Ok(())
}

fn spawn_pruner(store: Arc<dyn Store>, stopped: watch::Receiver<bool>) {
    crate::periodic::spawn_every(PRUNE_EVERY, stopped, move || {
        let store = store.clone();
        async move {
            match store.prune_write_outcomes(chrono::Utc::now()).await {
                Ok(0) => {}
                Ok(pruned) => tracing::debug!(pruned, "expired write outcomes removed"),
                Err(error) => tracing::warn!(%error, "could not prune write outcomes"),
            }
        }
    });
}
