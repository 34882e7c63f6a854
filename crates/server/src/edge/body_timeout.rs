//! The request body's timeout: a body that makes the server wait `timeout` for its next part
//! is abandoned (slow or stalled clients), and the handler reading it gets an error.
//!
//! What tower-http's `RequestBodyTimeoutLayer` does, with the timer armed only once the body
//! makes the server wait. That one starts a tokio timer before every poll of the body and
//! drops it when a frame comes: a body that arrived with its request's head (nearly every
//! one) registered and removed two timers in the runtime's timer wheel on its way through,
//! ~2.2k instructions of a one-record write (callgrind). Here a frame that is ready is handed
//! on without one; a wait arms it, and each frame that arrives ends it, as there.

use axum::body::Body;
use axum::http::Request;
use http_body::{Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::time::Sleep;
use tower::{Layer, Service};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Wraps every request's body in a [`PatientBody`] of `timeout`.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeoutLayer {
    timeout: Duration,
}

impl BodyTimeoutLayer {
    pub fn new(timeout: Duration) -> Self {
        BodyTimeoutLayer { timeout }
    }
}

impl<S> Layer<S> for BodyTimeoutLayer {
    type Service = BodyTimeout<S>;

    fn layer(&self, inner: S) -> BodyTimeout<S> {
        BodyTimeout {
            inner,
            timeout: self.timeout,
        }
    }
}

#[derive(Debug, Clone)]
pub struct BodyTimeout<S> {
    inner: S,
    timeout: Duration,
}

impl<S: Service<Request<Body>>> Service<Request<Body>> for BodyTimeout<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> S::Future {
        let timeout = self.timeout;
        self.inner
            .call(request.map(|body| Body::new(PatientBody::new(body, timeout))))
    }
}

/// A body that fails with [`BodyTimedOut`] once it has kept its reader waiting `timeout` for
/// a frame.
pub struct PatientBody<B> {
    body: B,
    timeout: Duration,
    /// Armed while the reader waits for the next frame; boxed so that the body stays `Unpin`.
    waiting: Option<Pin<Box<Sleep>>>,
}

impl<B> PatientBody<B> {
    pub fn new(body: B, timeout: Duration) -> Self {
        PatientBody {
            body,
            timeout,
            waiting: None,
        }
    }
}

/// The error a stalled body ends with.
#[derive(Debug)]
pub struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

impl<B> http_body::Body for PatientBody<B>
where
    B: http_body::Body + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, BoxError>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            this.waiting = None;
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let timeout = this.timeout;
        let waiting = this
            .waiting
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(waiting.as_mut().poll(cx));
        Poll::Ready(Some(Err(Box::new(BodyTimedOut))))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use http_body_util::BodyExt;
    use http_body_util::channel::Channel;

    const TIMEOUT: Duration = Duration::from_secs(10);

    #[tokio::test(start_paused = true)]
    async fn a_body_that_has_arrived_is_read_whole() {
        let body = PatientBody::new(Body::from("{\"customerId\":\"c\"}"), TIMEOUT);
        let read = body.collect().await.unwrap().to_bytes();
        assert_eq!(read, Bytes::from_static(b"{\"customerId\":\"c\"}"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stalls_fails_after_the_timeout_and_not_before() {
        let (mut sender, body) = Channel::<Bytes, BoxError>::new(4);
        let mut body = PatientBody::new(body, TIMEOUT);
        sender.send_data(Bytes::from_static(b"{")).await.unwrap();
        let first = body.frame().await.unwrap().unwrap();
        assert_eq!(first.into_data().unwrap(), Bytes::from_static(b"{"));

        let started = tokio::time::Instant::now();
        let error = body.frame().await.unwrap().unwrap_err();
        assert!(error.is::<BodyTimedOut>(), "{error}");
        assert_eq!(started.elapsed(), TIMEOUT);
        drop(sender);
    }

    #[tokio::test(start_paused = true)]
    async fn each_frame_that_arrives_in_time_starts_the_wait_over() {
        let (mut sender, body) = Channel::<Bytes, BoxError>::new(4);
        let mut body = PatientBody::new(body, TIMEOUT);
        let trickle = tokio::spawn(async move {
            for _ in 0..3 {
                tokio::time::sleep(TIMEOUT - Duration::from_secs(1)).await;
                sender.send_data(Bytes::from_static(b"x")).await.unwrap();
            }
        });
        for _ in 0..3 {
            let frame = body.frame().await.unwrap().unwrap();
            assert_eq!(frame.into_data().unwrap(), Bytes::from_static(b"x"));
        }
        trickle.await.unwrap();
        assert!(
            body.frame().await.is_none(),
            "the sender is gone: the body ends"
        );
    }
}
