//! `profilestore serve`: run until SIGINT or SIGTERM, then shut down gracefully.

use crate::config::{ServeArgs, ServeSettings, StoreArgs};
use crate::server::Server;

pub async fn run(store_args: &StoreArgs, args: &ServeArgs) -> anyhow::Result<()> {
    let settings = ServeSettings::resolve(store_args, args)?;
    let server = Server::start(settings).await?;
    shutdown_signal().await;
    server.shutdown().await
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {},
                    _ = terminate.recv() => {},
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
