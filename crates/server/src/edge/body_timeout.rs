//! The request body's timeout: a body that has not fully arrived `timeout` after the server
//! first had to wait for it is abandoned (slow or stalled clients), and the handler reading it
//! gets an error.
//!
//! In place of tower-http's `RequestBodyTimeoutLayer`, for two reasons. That one starts a
//! tokio timer before every poll of the body and drops it when a frame comes: a body that
//! arrived with its request's head (nearly every one) registered and removed two timers in the
//! runtime's timer wheel on its way through, ~2.2k instructions of a one-record write
//! (callgrind). Here a frame that is ready is handed on without one. And its timer starts over
//! at every frame, so a client trickling a byte every few seconds held the request for as long
//! as the whole request's timeout allowed; here the deadline is one for the whole body, as
//! docs/operations.md states ("Request body must arrive within").

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

/// A body that fails with [`BodyTimedOut`] if it has not ended `timeout` after its reader
/// first had to wait for it.
pub struct PatientBody<B> {
    body: B,
    timeout: Duration,
    /// The deadline, armed the first time the reader waits (boxed so that the body stays
    /// `Unpin`); never, for a body that had arrived whole.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<B> PatientBody<B> {
    pub fn new(body: B, timeout: Duration) -> Self {
        PatientBody {
            body,
            timeout,
            deadline: None,
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
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let timeout = this.timeout;
        let deadline = this
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(deadline.as_mut().poll(cx));
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
    async fn a_body_that_has_arrived_is_read_whole_without_a_timer() {
        let mut body = PatientBody::new(Body::from("{\"customerId\":\"c\"}"), TIMEOUT);
        let mut read = Vec::new();
        while let Some(frame) = body.frame().await {
            read.extend_from_slice(&frame.unwrap().into_data().unwrap());
        }
        assert_eq!(read, b"{\"customerId\":\"c\"}");
        // What the layer is for: a body that never kept its reader waiting armed no timer.
        assert!(body.deadline.is_none());
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
    async fn a_body_trickling_in_is_cut_off_at_the_deadline_of_its_first_wait() {
        let (mut sender, body) = Channel::<Bytes, BoxError>::new(4);
        let mut body = PatientBody::new(body, TIMEOUT);
        let step = TIMEOUT / 4 + Duration::from_secs(1);
        tokio::spawn(async move {
            // Each part well within the timeout of the last, the whole past it.
            for _ in 0..8 {
                tokio::time::sleep(step).await;
                if sender.send_data(Bytes::from_static(b"x")).await.is_err() {
                    return;
                }
            }
        });
        let started = tokio::time::Instant::now();
        // Parts at 3.5 s and 7 s; the third, at 10.5 s, comes after the deadline.
        for _ in 0..2 {
            let frame = body.frame().await.unwrap().unwrap();
            assert_eq!(frame.into_data().unwrap(), Bytes::from_static(b"x"));
        }
        let error = body.frame().await.unwrap().unwrap_err();
        assert!(error.is::<BodyTimedOut>(), "{error}");
        assert_eq!(started.elapsed(), TIMEOUT);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_ends_before_the_deadline_is_read_whole() {
        let (mut sender, body) = Channel::<Bytes, BoxError>::new(4);
        let body = PatientBody::new(body, TIMEOUT);
        tokio::spawn(async move {
            for part in [&b"{\"a\""[..], b":1}"] {
                tokio::time::sleep(TIMEOUT / 3).await;
                sender.send_data(Bytes::from_static(part)).await.unwrap();
            }
        });
        let read = body.collect().await.unwrap().to_bytes();
        assert_eq!(read, Bytes::from_static(b"{\"a\":1}"));
    }
}
