//! The event-lag workloads: from a write's acknowledgement to the event's arrival on the SSE
//! stream (`event_lag`) and at a webhook receiver (`webhook_lag`). Writers update customers
//! with a unique marker value; a sink (the stream, or a minimal HTTP receiver on loopback)
//! reports when each marker's event arrives; the lag is arrival minus acknowledgement (zero
//! when the event came first, which a commit followed by a slow answer allows).

use crate::client::Connection;
use crate::report::WorkloadResult;
use crate::seed::{Target, customer_id};
use anyhow::Context;
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Empty};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// How long after the last write the sink may still deliver before an event counts as lost
/// (a webhook delivers one event at a time, so a backlog drains after the writes stop; the
/// wait ends as soon as every event arrived).
const GRACE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    Stream,
    Webhook,
}

impl Sink {
    pub fn name(self) -> &'static str {
        match self {
            Sink::Stream => "event_lag",
            Sink::Webhook => "webhook_lag",
        }
    }
}

/// The marker a write carries and its event shows: the new value of `name`. It names the
/// workload, so that no write repeats a value an earlier workload left (a write that changes
/// nothing raises no event).
fn marker(sink: Sink, sequence: u64) -> String {
    format!("lag-{}-{sequence}", sink.name())
}

fn marker_of(event: &Value) -> Option<String> {
    event["changes"]
        .as_array()?
        .iter()
        .find(|c| c["attribute"] == "name")
        .and_then(|c| c["new"].as_str())
        .filter(|v| v.starts_with("lag-"))
        .map(str::to_owned)
}

/// How a lag workload writes: over `profiles`, from `concurrency` connections, for `duration`,
/// at most `rate` writes per second in all (none: as fast as the answers come).
pub struct Load {
    pub profiles: u64,
    pub concurrency: usize,
    pub duration: Duration,
    pub rate: Option<u32>,
}

pub async fn run(sink: Sink, target: &Target, load: &Load) -> anyhow::Result<WorkloadResult> {
    let (profiles, concurrency) = (load.profiles, load.concurrency.max(1));
    let (arrivals, mut arrived) = mpsc::unbounded_channel::<(String, Instant)>();
    let cleanup = match sink {
        Sink::Stream => {
            open_stream(target, arrivals).await?;
            None
        }
        Sink::Webhook => Some(open_webhook(target, arrivals).await?),
    };

    let acks: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let started = Instant::now();
    let deadline = started + load.duration;
    // Each writer takes its share of the rate: one write per `period`.
    let period = load
        .rate
        .map(|rate| Duration::from_secs_f64(concurrency as f64 / f64::from(rate)));
    let mut writers = Vec::new();
    for worker in 0..concurrency {
        let (target, acks) = (target.clone(), acks.clone());
        writers.push(tokio::spawn(async move {
            let mut connection = Connection::open(&target.endpoint).await?;
            let (mut writes, mut errors) = (0u64, 0u64);
            let mut sequence = worker as u64 * 1_000_000_000;
            let mut pace = period.map(|period| {
                let mut ticks = tokio::time::interval(period);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                ticks
            });
            while Instant::now() < deadline {
                if let Some(ticks) = pace.as_mut() {
                    ticks.tick().await;
                }
                sequence += 1;
                let id = customer_id(sequence % profiles.max(1));
                let marker = marker(sink, sequence);
                let body = json!({"customerId": id, "attributes": {"name": marker}});
                let reply = connection
                    .send(
                        Method::PUT,
                        "/resources/v2/customerprofile",
                        Some(&target.key),
                        Some(Bytes::from(body.to_string())),
                    )
                    .await;
                writes += 1;
                match reply {
                    Ok(reply) if reply.status.as_u16() == 200 => {
                        acks.lock().unwrap().insert(marker, Instant::now());
                    }
                    Ok(_) => errors += 1,
                    // As the other workloads: a failed connection is an error, and a new one.
                    Err(_) => {
                        errors += 1;
                        connection = Connection::open(&target.endpoint).await?;
                    }
                }
            }
            anyhow::Ok((writes, errors))
        }));
    }
    let (mut writes, mut errors) = (0, 0);
    for writer in writers {
        let (w, e) = writer.await??;
        writes += w;
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();

    let mut lags = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    // Every acknowledgement is known by now; arrivals (queued since the writes began) are
    // matched against them one by one.
    let mut pending = std::mem::take(&mut *acks.lock().unwrap());
    let give_up = Instant::now() + GRACE;
    while !pending.is_empty() {
        let next = tokio::time::timeout_at(give_up.into(), arrived.recv()).await;
        let Ok(Some((marker, at))) = next else { break };
        // A marker seen twice (a webhook delivers at least once) counts once.
        if let Some(acked) = pending.remove(&marker) {
            let lag = at.saturating_duration_since(acked);
            lags.saturating_record(lag.as_micros().max(1) as u64);
        }
    }
    // A write acknowledged whose event never arrived is an error.
    if !pending.is_empty() || errors > 0 {
        eprintln!(
            "{}: {errors} writes failed, {} events did not arrive: {:?}",
            sink.name(),
            pending.len(),
            pending.keys().take(5).collect::<Vec<_>>()
        );
    }
    errors += pending.len() as u64;
    if let Some(cleanup) = cleanup {
        cleanup.await;
    }
    let millis = |q: f64| lags.value_at_quantile(q) as f64 / 1000.0;
    Ok(WorkloadResult {
        name: sink.name().to_owned(),
        concurrency: load.concurrency,
        requests: writes,
        records: lags.len(),
        errors,
        seconds,
        requests_per_sec: writes as f64 / seconds,
        records_per_sec: lags.len() as f64 / seconds,
        p50_ms: millis(0.50),
        p99_ms: millis(0.99),
        p999_ms: millis(0.999),
        ratio_to_ceiling: None,
        ceiling_beside_rps: None,
        // Its writes are paced and its time is mostly the stream's: a cost per write would
        // mean little.
        server_cpu_us_per_request: None,
        machine_cpu_us_per_request: None,
    })
}

/// Follows `/v1/events/stream` from now on, sending each marker's arrival.
async fn open_stream(
    target: &Target,
    arrivals: mpsc::UnboundedSender<(String, Instant)>,
) -> anyhow::Result<()> {
    let stream = tokio::net::TcpStream::connect(target.endpoint.address).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let request = Request::builder()
        .method(Method::GET)
        .uri("/v1/events/stream?type=customer.updated&attribute=name")
        .header("host", target.endpoint.address.to_string())
        .header("authorization", format!("Bearer {}", target.key))
        .body(Empty::<Bytes>::new())?;
    let response = sender.send_request(request).await?;
    anyhow::ensure!(
        response.status() == 200,
        "the stream answered {}",
        response.status()
    );
    let mut body = response.into_body();
    tokio::spawn(async move {
        let mut buffer = String::new();
        while let Some(Ok(frame)) = body.frame().await {
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let at = Instant::now();
            buffer.push_str(&String::from_utf8_lossy(&data));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                for line in block.lines() {
                    if let Some(json) = line.strip_prefix("data:") {
                        let event: Value = serde_json::from_str(json.trim()).unwrap_or_default();
                        if let Some(marker) = marker_of(&event) {
                            let _ = arrivals.send((marker, at));
                        }
                    }
                }
            }
        }
    });
    Ok(())
}

/// Starts a minimal webhook receiver on loopback and registers it; returns a future that
/// deletes the webhook again.
async fn open_webhook(
    target: &Target,
    arrivals: mpsc::UnboundedSender<(String, Instant)>,
) -> anyhow::Result<impl std::future::Future<Output = ()>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let arrivals = arrivals.clone();
            tokio::spawn(receive(socket, arrivals));
        }
    });
    let mut connection = Connection::open(&target.endpoint).await?;
    let created = connection
        .send_bearer(
            Method::POST,
            "/v1/webhooks",
            &target.key,
            Some(Bytes::from(
                json!({"url": url, "event_types": ["customer.updated"], "attributes": ["name"]})
                    .to_string(),
            )),
        )
        .await?;
    let created: Value = serde_json::from_slice(&created.body)?;
    let id = created["webhook_id"]
        .as_str()
        .with_context(|| format!("creating the webhook: {created}"))?
        .to_owned();
    let target = target.clone();
    Ok(async move {
        if let Ok(mut connection) = Connection::open(&target.endpoint).await {
            let path = format!("/v1/webhooks/{id}");
            let _ = connection
                .send_bearer(Method::DELETE, &path, &target.key, None)
                .await;
        }
    })
}

/// One keep-alive connection of the receiver: reads requests (headers, then Content-Length
/// bytes), answers 204, reports markers.
async fn receive(
    mut socket: tokio::net::TcpStream,
    arrivals: mpsc::UnboundedSender<(String, Instant)>,
) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let Some(head_end) = find(&buffer, b"\r\n\r\n") else {
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
            continue;
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buffer.len() < head_end + 4 + length {
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        let at = Instant::now();
        let body: Vec<u8> = buffer
            .drain(..head_end + 4 + length)
            .skip(head_end + 4)
            .collect();
        if let Some(marker) = serde_json::from_slice::<Value>(&body)
            .ok()
            .as_ref()
            .and_then(marker_of)
        {
            let _ = arrivals.send((marker, at));
        }
        if socket
            .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
