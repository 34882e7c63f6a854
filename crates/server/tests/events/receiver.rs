//! A real webhook receiver on a loopback port: it verifies each delivery's Standard Webhooks
//! signature with its own HMAC (not the server's code), can be told to fail the first attempts
//! or to answer slowly, and keeps what it accepted in arrival order.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
pub struct Inbox {
    /// The signing key, once the webhook exists (`whsec_` removed, base64 decoded).
    key: Mutex<Option<Vec<u8>>>,
    /// Attempts still to refuse with 503.
    fail_next: AtomicUsize,
    /// How long to take per request (milliseconds).
    delay_ms: AtomicUsize,
    /// Every attempt, accepted or not.
    pub attempts: AtomicUsize,
    /// Deliveries with a valid signature, in arrival order.
    accepted: Mutex<Vec<Value>>,
    /// Deliveries whose signature did not verify.
    pub forged: AtomicUsize,
    in_flight: AtomicUsize,
    /// The most requests it was ever handling at once.
    pub most_in_flight: AtomicUsize,
}

pub struct Receiver {
    pub url: String,
    pub inbox: Arc<Inbox>,
}

impl Receiver {
    pub async fn start() -> Self {
        let inbox = Arc::new(Inbox::default());
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, inbox }
    }

    /// Verify with this `whsec_` secret from now on.
    pub fn set_secret(&self, secret: &str) {
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
            .expect("base64 secret");
        *self.inbox.key.lock().unwrap() = Some(key);
    }

    pub fn fail_next(&self, attempts: usize) {
        self.inbox.fail_next.store(attempts, Ordering::SeqCst);
    }

    pub fn delay(&self, per_request: Duration) {
        self.inbox
            .delay_ms
            .store(per_request.as_millis() as usize, Ordering::SeqCst);
    }

    pub fn accepted(&self) -> Vec<Value> {
        self.inbox.accepted.lock().unwrap().clone()
    }
}

async fn receive(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    inbox.attempts.fetch_add(1, Ordering::SeqCst);
    let now = inbox.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    inbox.most_in_flight.fetch_max(now, Ordering::SeqCst);
    let status = handle(&inbox, &headers, &body).await;
    inbox.in_flight.fetch_sub(1, Ordering::SeqCst);
    status
}

async fn handle(inbox: &Inbox, headers: &HeaderMap, body: &[u8]) -> StatusCode {
    let delay = inbox.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay as u64)).await;
    }
    let failing = inbox
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let Some(key) = inbox.key.lock().unwrap().clone() else {
        return StatusCode::SERVICE_UNAVAILABLE;
    };
    if !verify(&key, headers, body) {
        inbox.forged.fetch_add(1, Ordering::SeqCst);
        return StatusCode::UNAUTHORIZED;
    }
    let event: Value = serde_json::from_slice(body).expect("a JSON event");
    inbox.accepted.lock().unwrap().push(event);
    StatusCode::NO_CONTENT
}

/// The Standard Webhooks check: `v1,` + base64(HMAC-SHA256(key, "id.timestamp.body")), a
/// timestamp within five minutes, and the id equal to the event's id.
fn verify(key: &[u8], headers: &HeaderMap, body: &[u8]) -> bool {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let (id, timestamp, signatures) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let Ok(seconds) = timestamp.parse::<i64>() else {
        return false;
    };
    if (chrono::Utc::now().timestamp() - seconds).abs() > 300 {
        return false;
    }
    let event: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if event["id"] != id {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    signatures.split(' ').any(|candidate| candidate == expected)
}
