//! What the sdk_update workload needs before it runs: a device policy that enables the
//! monitored attribute it sends (location, an event monitor on Android), and installs that
//! registered through the SDK API (only those carry the platform the policy is looked up by;
//! the seeded devices were written through the compatible API).

use crate::client::Connection;
use crate::seed::Target;
use anyhow::{Context, bail};
use bytes::Bytes;
use hyper::Method;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Installs registered for the workload (at most the seeded profiles): enough that concurrent
/// updates rarely touch the same install, few enough to register in a second or two.
const INSTALLS: u64 = 1000;

/// Enables the location monitor for Android and registers installs `u{i}`/`d{i}` (the seeded
/// customers' devices); returns how many, which the workload draws its installs from.
pub async fn prepare(target: &Target, profiles: u64, concurrency: usize) -> anyhow::Result<u64> {
    let client_key = target.client_key.clone().context("no client key")?;
    let mut connection = Connection::open(&target.endpoint).await?;
    let policy = json!({"android": [{"attribute": "location", "category": "event"}]});
    let path = format!("/v1/apps/{}/device-policy", target.app_id);
    let reply = connection
        .send_bearer(
            Method::PUT,
            &path,
            &target.key,
            Some(Bytes::from(policy.to_string())),
        )
        .await?;
    if !reply.status.is_success() {
        bail!(
            "PUT {path} answered {}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
    }

    let installs = profiles.clamp(1, INSTALLS);
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (target, client_key, next) = (target.clone(), client_key.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut connection = Connection::open(&target.endpoint).await?;
            let path = format!("/api/v3/{}/register", target.app_id);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= installs {
                    return anyhow::Ok(());
                }
                let body = json!({"userId": format!("u{i}"), "deviceId": format!("d{i}"),
                    "channel": "rt", "channelType": "android", "data": {"update": {}}});
                let reply = connection
                    .send_sdk(
                        Method::POST,
                        &path,
                        &client_key,
                        Some(Bytes::from(body.to_string())),
                    )
                    .await?;
                let text = String::from_utf8_lossy(&reply.body);
                if !text.contains(r#""code":"0""#) {
                    bail!("registering u{i}/d{i} failed: {text}");
                }
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    Ok(installs)
}

/// A location reading of install `i` that differs from every earlier one of the run (the
/// sequence moves the longitude), so that each request is a real change with its event.
pub fn body(app_id: &str, i: u64, sequence: u64) -> Bytes {
    let longitude = (sequence % 3_600_000) as f64 / 10_000.0 - 180.0;
    let latitude = (i % 180) as f64 - 89.5;
    let body = json!({"clientId": format!("{app_id}/u{i}/d{i}"), "state": "PROFILEUPDATE",
        "event": "LOCATIONCHANGE", "data": {"update": {"location": [latitude, longitude]}}});
    Bytes::from(body.to_string())
}
