//! The emulator's plain-HTTP front (`faas-emulator --http ADDR`, feature `http`): any HTTP
//! function behind a port that `curl` and a browser can use, as behind a function URL.
//!
//! Each request becomes the function URL event Lambda would send (`crate::http::front`, the
//! same translation as local HTTP mode) and takes the normal invoke path: a place in the
//! sandbox's queue before its body is read, the body within the buffer budget, the invocation
//! run by the function process over the Runtime API. The answer is read back as HTTP: a payload
//! 2.0 response JSON, or a streamed answer whose HTTP integration prelude
//! (`application/vnd.awslambda.http-integration-response`) is decoded into the status and
//! headers before its body is relayed chunk by chunk. A failed invocation is a `502`, as a
//! function URL answers it.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::Either;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use tokio::sync::{mpsc, oneshot};

use crate::emulator::core::{Busy, Event, Outcome, Payload, Sandbox, Streamed};
use crate::http::front;
use crate::protocol::header;
use crate::server::{self, BodyError};

/// The front's answer: whole, or a streamed body relayed after its prelude.
pub(crate) type Reply = server::Reply<front::Relay<Posted>>;

/// Answers one plain HTTP request through the function; `body_timeout` bounds its body.
pub(crate) async fn handle(
    sandbox: Arc<Sandbox>,
    body_timeout: Duration,
    request: Request<Incoming>,
) -> Reply {
    let (head, body) = request.into_parts();
    let ticket = match sandbox.admit() {
        Ok(ticket) => ticket,
        Err(busy) => {
            server::drain_within(body, body_timeout).await;
            return whole(match busy {
                Busy::TooManyWaiting => {
                    front::text(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests")
                }
                Busy::Stopping => {
                    front::text(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
                }
            });
        }
    };
    let body = match server::read_body(body, Some(&sandbox.budget), body_timeout).await {
        Ok(body) => body,
        Err(e) => {
            let (status, message) = match e {
                BodyError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"),
                BodyError::Broken(_) => (StatusCode::BAD_REQUEST, "Bad Request"),
                BodyError::TimedOut => (StatusCode::REQUEST_TIMEOUT, "Request Timeout"),
                BodyError::Stopping => (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
            };
            return whole(server::closing(front::text(status, message)));
        }
    };
    let event = Event {
        body: front::event(&head, &body.bytes, &request_id()).into(),
        trace_id: head.headers.get(header::AMZN_TRACE_ID).cloned(),
        client_context: None,
        identity: None,
        held: body.held,
    };
    match ticket.invoke(event).await {
        Outcome::Response(Payload::Buffered(answer)) => whole(front::whole(&answer)),
        Outcome::Response(Payload::Stream(stream)) => {
            front::streamed(stream.content_type.clone(), Posted::from(stream)).await
        }
        Outcome::Error(_) => whole(front::failed()),
        Outcome::Unavailable(_) => whole(front::text(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
        )),
    }
}

fn whole(response: Response<http_body_util::Full<Bytes>>) -> Reply {
    response.map(Either::Left)
}

/// The chunks the function posts for a streamed answer, then how the stream ended: an error
/// after the first bytes cannot change the status any more, so it is logged and the body ends.
pub(crate) struct Posted {
    data: mpsc::Receiver<Bytes>,
    end: Option<oneshot::Receiver<Option<Bytes>>>,
}

impl From<Streamed> for Posted {
    fn from(stream: Streamed) -> Self {
        Self {
            data: stream.data,
            end: Some(stream.end),
        }
    }
}

impl front::Chunks for Posted {
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        if let Some(chunk) = std::task::ready!(self.data.poll_recv(cx)) {
            return Poll::Ready(Some(chunk));
        }
        if let Some(end) = self.end.as_mut() {
            if let Ok(Some(error)) = std::task::ready!(Pin::new(end).poll(cx)) {
                tracing::warn!("the stream failed: {}", String::from_utf8_lossy(&error));
            }
            self.end = None;
        }
        Poll::Ready(None)
    }
}

use std::future::Future as _;

/// The `requestContext.requestId` of a front's event (Lambda's own request id is the
/// sandbox's): unique in this process.
fn request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    format!("{nanos:016x}-{n:08x}")
}
