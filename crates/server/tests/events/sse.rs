//! A Server-Sent Events client over a real HTTP connection: it parses `id:`/`data:` fields
//! and comment lines as they arrive.

use crate::support::TestApp;
use serde_json::Value;
use std::time::Duration;

pub struct SseClient {
    response: reqwest::Response,
    buffer: String,
    /// Keep-alive comments seen so far.
    pub comments: usize,
}

/// One event: its `id:` and its parsed `data:`.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: i64,
    pub data: Value,
}

impl SseClient {
    /// Opens `/v1/events/stream?<query>`, with `Last-Event-ID` when given.
    pub async fn open(app: &TestApp, key: &str, query: &str, last_event_id: Option<i64>) -> Self {
        Self::open_at(&app.client, &app.base_url, key, query, last_event_id).await
    }

    /// As [`SseClient::open`], on the server at `base_url`.
    pub async fn open_at(
        client: &reqwest::Client,
        base_url: &str,
        key: &str,
        query: &str,
        last_event_id: Option<i64>,
    ) -> Self {
        let mut request = client
            .get(format!("{base_url}/v1/events/stream?{query}"))
            .bearer_auth(key)
            .timeout(Duration::from_secs(3600));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.expect("stream opened");
        assert_eq!(response.status(), 200, "opening the stream");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        SseClient {
            response,
            buffer: String::new(),
            comments: 0,
        }
    }

    /// The next event, or `None` if none arrives within `wait` or the stream ended.
    pub async fn next(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(event) = self.take_event() {
                return Some(event);
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .expect("stream readable")?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// `count` events, each within `wait` of the previous one.
    pub async fn take(&mut self, count: usize, wait: Duration) -> Vec<SseEvent> {
        let mut events = Vec::with_capacity(count);
        while events.len() < count {
            match self.next(wait).await {
                Some(event) => events.push(event),
                None => panic!("{} of {count} events arrived", events.len()),
            }
        }
        events
    }

    /// Parses one complete event (up to a blank line) off the buffer.
    fn take_event(&mut self) -> Option<SseEvent> {
        loop {
            let end = self.buffer.find("\n\n")?;
            let block: String = self.buffer.drain(..end + 2).collect();
            let (mut id, mut data) = (None, String::new());
            for line in block.lines() {
                if line.starts_with(':') {
                    self.comments += 1;
                } else if let Some(value) = line.strip_prefix("id:") {
                    id = Some(value.trim().parse().expect("numeric id"));
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.trim_start());
                }
            }
            if let Some(id) = id {
                return Some(SseEvent {
                    id,
                    data: serde_json::from_str(&data).expect("JSON data"),
                });
            }
        }
    }
}
