//! The NATS JetStream relay (opt-in with `--nats-url`): publishes every event on
//! `<prefix>.<tenant_id>.<type>` to a stream it creates if missing, with `Nats-Msg-Id` = the
//! event id, so JetStream drops the duplicates a retry may send. Each tenant's cursor lives in
//! the store and moves only after JetStream acknowledged; while NATS is away, events wait in
//! the log (retention keeps what an active relay has not passed), so an outage delays them and
//! never drops them. Cursors are leased per tenant, so several nodes share the work.

use super::{NatsSettings, Stopped};
use async_nats::jetstream::{self, stream};
use chrono::Utc;
use profilestore_store::Store;
use std::sync::Arc;
use std::time::Duration;

/// The relay's name in `relay_cursors`.
const RELAY: &str = "nats";
const LEASE: Duration = Duration::from_secs(30);
/// Tenants a node publishes in one pass.
const TENANTS_PER_PASS: u32 = 64;
const PAGE: u32 = 500;
/// How often the relay looks for work when no write rings, and waits after a NATS error.
const POLL: Duration = Duration::from_secs(1);

pub struct NatsRelay {
    store: Arc<dyn Store>,
    owner: String,
    settings: NatsSettings,
}

impl NatsRelay {
    pub fn new(store: Arc<dyn Store>, owner: String, settings: NatsSettings) -> Self {
        NatsRelay {
            store,
            owner,
            settings,
        }
    }

    pub fn spawn(self, stopped: Stopped) {
        tokio::spawn(async move {
            let mut stop = stopped.clone();
            tokio::select! {
                _ = self.serve(stopped) => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        });
    }

    async fn serve(&self, stopped: Stopped) {
        let mut bell = self.store.doorbell().any();
        loop {
            match self.connect().await {
                Ok(context) => {
                    tracing::info!(url = %self.settings.url, stream = %self.settings.stream, "publishing events to NATS JetStream");
                    loop {
                        if *stopped.borrow() {
                            return;
                        }
                        if let Err(error) = self.publish_due(&context).await {
                            tracing::warn!(%error, "publishing events to NATS failed; retrying");
                            tokio::time::sleep(POLL).await;
                        }
                        tokio::select! {
                            _ = bell.changed() => {}
                            _ = tokio::time::sleep(POLL) => {}
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, url = %self.settings.url, "NATS is not reachable; events wait in the log");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }

    /// Connects and makes sure the stream exists.
    async fn connect(&self) -> anyhow::Result<jetstream::Context> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .connect(self.settings.url.as_str())
            .await?;
        let context = jetstream::new(client);
        context
            .get_or_create_stream(stream::Config {
                name: self.settings.stream.clone(),
                subjects: vec![format!("{}.>", self.settings.subject_prefix)],
                ..Default::default()
            })
            .await?;
        Ok(context)
    }

    /// Publishes what the tenants this node can claim are behind on.
    async fn publish_due(&self, context: &jetstream::Context) -> anyhow::Result<()> {
        let now = Utc::now();
        let claimed = self
            .store
            .claim_relay(RELAY, &self.owner, now, now + LEASE, TENANTS_PER_PASS)
            .await?;
        for (tenant, mut cursor) in claimed {
            let published = self.publish_tenant(context, &tenant, &mut cursor).await;
            // Saved whatever happened: the cursor never passes an unacknowledged event.
            self.store
                .advance_relay(&tenant, RELAY, &self.owner, cursor, Utc::now())
                .await?;
            published?;
        }
        Ok(())
    }

    async fn publish_tenant(
        &self,
        context: &jetstream::Context,
        tenant: &str,
        cursor: &mut i64,
    ) -> anyhow::Result<()> {
        loop {
            let page = self.store.events_after(tenant, *cursor, PAGE).await?;
            if page.is_empty() {
                return Ok(());
            }
            // Sent as a pipeline, acknowledged in order; the cursor follows the acks.
            let mut acks = Vec::with_capacity(page.len());
            for event in &page {
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Nats-Msg-Id", event.event_id.as_str());
                let subject = format!(
                    "{}.{}.{}",
                    self.settings.subject_prefix, tenant, event.event_type
                );
                let ack = context
                    .publish_with_headers(subject, headers, event.payload.to_string().into())
                    .await?;
                acks.push((event.seq, ack));
            }
            for (seq, ack) in acks {
                ack.await?;
                *cursor = seq;
            }
            if !self
                .store
                .advance_relay(tenant, RELAY, &self.owner, *cursor, Utc::now() + LEASE)
                .await?
            {
                anyhow::bail!("lost the NATS cursor lease of tenant {tenant}");
            }
        }
    }
}
