//! Seeding: a tenant with one app, N customer profiles and one linked device each, written
//! through the compatible API in batches of 100.

use crate::client::{Connection, Endpoint};
use crate::server_process::ServerProcess;
use anyhow::{Context, bail};
use bytes::Bytes;
use hyper::Method;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Records per seeding request (the compatible API's limit).
pub const BATCH: u64 = 100;

#[derive(Debug, Clone)]
pub struct Target {
    pub endpoint: Endpoint,
    pub key: String,
    pub app_id: String,
    /// The app's client key, for the SDK API (sdk_update); unknown with `--url` unless given.
    pub client_key: Option<String>,
}

impl Target {
    pub fn existing(
        url: &str,
        key: Option<String>,
        app_id: Option<String>,
        client_key: Option<String>,
    ) -> anyhow::Result<Self> {
        Ok(Target {
            endpoint: Endpoint::parse(url)?,
            key: key.context("--url needs --profile-key")?,
            app_id: app_id.context("--url needs --app-id")?,
            client_key,
        })
    }

    pub async fn create(server: &ServerProcess) -> anyhow::Result<Self> {
        let tenant = server.admin_json(&["tenant", "create", "bench", "--json"])?;
        let app = server.admin_json(&[
            "app", "create", "--tenant", "bench", "--name", "bench", "--json",
        ])?;
        let target = Target {
            endpoint: Endpoint::parse(&server.base_url)?,
            key: tenant["profile_key"]
                .as_str()
                .context("profile_key")?
                .to_owned(),
            app_id: app["app_id"].as_str().context("app_id")?.to_owned(),
            client_key: Some(app["client_key"].as_str().context("client_key")?.to_owned()),
        };
        // The server notices admin changes within a second; wait until the key and the app
        // both work. The app is created after the key, and a server that noticed the key
        // between the two commands refuses the app (7018) until it looks again.
        let mut connection = Connection::open(&target.endpoint).await?;
        let probe = format!("/resources/v2/customerappprofile/{}/none", target.app_id);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let reply = connection
                .send(Method::GET, &probe, Some(&target.key), None)
                .await?;
            // 404: the customer `none` has no app profile, so the key and the app were known.
            if reply.status.as_u16() == 404 {
                return Ok(target);
            }
            if Instant::now() > deadline {
                bail!("the new tenant's key and app were not accepted within 10 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

pub struct Seeded {
    pub elapsed: Duration,
}

pub fn customer_id(i: u64) -> String {
    format!("c{i}")
}

fn customers_body(from: u64, to: u64) -> Bytes {
    let records: Vec<_> = (from..to)
        .map(|i| {
            json!({"customerId": customer_id(i), "Attributes": {
                "name": format!("Customer {i}"),
                "email": format!("c{i}@example.org"),
                "msisdn": format!("447{:09}", i),
                "date_of_birth": "1990-01-01",
                "balance": "12.50"
            }})
        })
        .collect();
    Bytes::from(json!({ "Records": records }).to_string())
}

fn devices_body(from: u64, to: u64) -> Bytes {
    let records: Vec<_> = (from..to)
        .map(|i| {
            json!({"customerId": customer_id(i), "Attributes": {
                "userId": format!("u{i}"),
                "deviceId": format!("d{i}"),
                "os": "Android",
                "osversion": "14",
                "pushId": format!("push-token-{i}"),
                "language": "en-GB",
                "timezone": "Europe/London"
            }})
        })
        .collect();
    Bytes::from(json!({ "Records": records }).to_string())
}

/// Seeds `profiles` customers with one device each, `concurrency` batches in flight.
/// A record that already exists (7015) counts as seeded, so seeding a target twice is harmless.
pub async fn seed(target: &Target, profiles: u64, concurrency: usize) -> anyhow::Result<Seeded> {
    let started = Instant::now();
    let batches = profiles.div_ceil(BATCH);
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let target = target.clone();
        let next = next.clone();
        workers.push(tokio::spawn(async move {
            let mut connection = Connection::open(&target.endpoint).await?;
            loop {
                let batch = next.fetch_add(1, Ordering::Relaxed);
                if batch >= batches {
                    return anyhow::Ok(());
                }
                let (from, to) = (batch * BATCH, ((batch + 1) * BATCH).min(profiles));
                let customers = "/resources/v2/customerprofile".to_owned();
                let devices = format!("/resources/v2/customerappprofile/{}", target.app_id);
                for (path, body) in [
                    (customers, customers_body(from, to)),
                    (devices, devices_body(from, to)),
                ] {
                    let reply = connection
                        .send(Method::POST, &path, Some(&target.key), Some(body))
                        .await?;
                    let text = String::from_utf8_lossy(&reply.body);
                    let acceptable =
                        text.contains(r#""code":"1000""#) || text.contains(r#""code":"7015""#);
                    if !acceptable {
                        bail!("seeding {path} failed: {text}");
                    }
                }
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    Ok(Seeded {
        elapsed: started.elapsed(),
    })
}
