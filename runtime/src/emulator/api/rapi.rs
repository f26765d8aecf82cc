//! The Runtime API server: `/next`, `/response`, `/error` and `/init/error`, with AWS's status
//! codes and JSON error bodies.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, StatusCode};

use tokio::sync::{mpsc, oneshot};

use super::Reply;
use crate::emulator::api;
use crate::emulator::core::state::Call;
use crate::emulator::core::{Outcome, Payload, Refusal, Sandbox};
use crate::emulator::limits::{STREAM_BANDWIDTH, STREAM_UNCAPPED};
use crate::emulator::wire::error_body;
use crate::protocol::{self, DEFAULT_STREAM_CONTENT_TYPE, MAX_PAYLOAD, error_type, header};
use crate::server::{self, BodyError};

/// Routes one Runtime API request; `body_timeout` bounds the time a body may take.
pub(crate) async fn handle(
    sandbox: Arc<Sandbox>,
    body_timeout: Duration,
    request: Request<Incoming>,
) -> Reply {
    let path = request.uri().path().to_owned();
    if path.starts_with(api::extension::PREFIX) {
        return api::extension::handle(sandbox, body_timeout, request).await;
    }
    if path.starts_with(api::telemetry::PREFIX) {
        return api::telemetry::handle(sandbox, body_timeout, request).await;
    }
    match (request.method(), path.as_str()) {
        (&Method::GET, protocol::NEXT_PATH) => next(&sandbox).await,
        (&Method::POST, protocol::INIT_ERROR_PATH) => {
            init_error(&sandbox, body_timeout, request).await
        }
        (&Method::POST, _) => match path
            .strip_prefix(protocol::INVOCATION_PREFIX)
            .and_then(|p| p.split_once('/'))
        {
            Some((id, protocol::RESPONSE_SEGMENT)) => {
                answer(&sandbox, id, Call::Response, body_timeout, request).await
            }
            Some((id, protocol::ERROR_SEGMENT)) => {
                answer(&sandbox, id, Call::Error, body_timeout, request).await
            }
            _ => not_found(&path),
        },
        _ => not_found(&path),
    }
}

async fn next(sandbox: &Sandbox) -> Reply {
    let invocation = match sandbox.next().await {
        Ok(invocation) => invocation,
        Err(refusal) => return refused(refusal),
    };
    let mut reply = api::json(StatusCode::OK, invocation.body);
    let headers = reply.headers_mut();
    if let Ok(id) = HeaderValue::from_str(&invocation.id) {
        headers.insert(header::REQUEST_ID, id);
    }
    headers.insert(
        header::DEADLINE_MS,
        HeaderValue::from(invocation.deadline_ms),
    );
    if let Ok(arn) = HeaderValue::from_str(&sandbox.function_arn) {
        headers.insert(header::FUNCTION_ARN, arn);
    }
    headers.insert(header::TRACE_ID, invocation.trace_id);
    if let Some(context) = invocation.client_context {
        headers.insert(header::CLIENT_CONTEXT, context);
    }
    if let Some(identity) = invocation.identity {
        headers.insert(header::COGNITO_IDENTITY, identity);
    }
    reply
}

/// `/response` and `/error`. A body that does not arrive whole is never a success: the caller
/// gets `Runtime.TruncatedResponse` as a function error, the runtime a 400.
async fn answer(
    sandbox: &Sandbox,
    id: &str,
    call: Call,
    body_timeout: Duration,
    request: Request<Incoming>,
) -> Reply {
    if let Err(refusal) = sandbox.check_answer(id, call) {
        return refused(refusal);
    }
    if call == Call::Response && streaming_mode(&request) {
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .cloned()
            .unwrap_or(HeaderValue::from_static(DEFAULT_STREAM_CONTENT_TYPE));
        return stream(sandbox, id, content_type, request.into_body()).await;
    }
    let error_type = function_error_type(&request, error_type::UNHANDLED);
    let read = server::read_body(request.into_body(), None, body_timeout).await;
    let (outcome, reply) = whole_outcome(read, id, call, &error_type);
    if let Err(refusal) = sandbox.answer(id, call, outcome) {
        return refused(refusal);
    }
    reply.unwrap_or_else(accepted)
}

/// Whether a `/response` streams (`Lambda-Runtime-Function-Response-Mode: streaming`).
fn streaming_mode(request: &Request<Incoming>) -> bool {
    request
        .headers()
        .get(header::FUNCTION_RESPONSE_MODE)
        .is_some_and(|mode| {
            mode.as_bytes()
                .eq_ignore_ascii_case(header::STREAMING.as_bytes())
        })
}

/// How a whole `/response` or `/error` body ends the invocation, and the runtime's answer when
/// it is not 202.
fn whole_outcome(
    read: Result<server::Buffered, BodyError>,
    id: &str,
    call: Call,
    error_type: &str,
) -> (Outcome, Option<Reply>) {
    match (read, call) {
        (Ok(body), Call::Response) => (Outcome::Response(Payload::Buffered(body.bytes)), None),
        (Ok(body), _) if body.bytes.is_empty() => {
            (Outcome::Error(error_body(error_type, "").into()), None)
        }
        (Ok(body), _) => (Outcome::Error(body.bytes), None),
        (Err(BodyError::TooLarge), _) => {
            let message = format!(
                "Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD} bytes)."
            );
            (
                Outcome::Error(error_body(error_type::RESPONSE_TOO_LARGE, &message).into()),
                Some(payload_too_large()),
            )
        }
        (Err(e), _) => {
            let message = format!(
                "RequestId: {id} Error: the function's {} body did not arrive whole ({})",
                if call == Call::Response {
                    "response"
                } else {
                    "error"
                },
                match &e {
                    BodyError::Broken(why) => why.to_string(),
                    BodyError::TimedOut => "it timed out".to_owned(),
                    BodyError::TooLarge | BodyError::Stopping => {
                        "the emulator is stopping".to_owned()
                    }
                }
            );
            (
                Outcome::Error(error_body(error_type::TRUNCATED_RESPONSE, &message).into()),
                Some(api::body_error(&e, payload_too_large)),
            )
        }
    }
}

/// A streamed `/response`: each chunk goes to the caller as it arrives (the caller's pace holds
/// the runtime back), past [`STREAM_UNCAPPED`] bytes at Lambda's bandwidth, up to the sandbox's
/// stream limit. How the body ends is how the invocation ends: whole (with or without error
/// trailers), cut off (`Runtime.TruncatedResponse`), or over the limit
/// (`Function.ResponseSizeTooLarge`, and 413 to the runtime). A caller that hangs up does not
/// stop the function: its chunks are read and dropped. Once the invocation is over (a timeout,
/// an `/error` posted mid-stream), a caller that stopped reading is dropped too: it holds
/// nothing on the function's side.
async fn stream(sandbox: &Sandbox, id: &str, content_type: HeaderValue, body: Incoming) -> Reply {
    let sink = match sandbox.start_stream(id, content_type) {
        Ok(sink) => sink,
        Err(refusal) => return refused(refusal),
    };
    let mut pump = Pump {
        id,
        limit: sandbox.max_stream_bytes,
        sent: 0,
        capped_from: None,
        caller: Some(sink.chunks),
        over: sink.over,
    };
    let (end, reply) = pump.run(body).await;
    drop(pump);
    let outcome = match end {
        None => Outcome::Response(Payload::Buffered(Bytes::new())),
        Some(error) => Outcome::Error(error.into()),
    };
    match sandbox.answer(id, Call::Response, outcome) {
        Ok(()) => reply,
        // The invocation ended before its stream did (an `/error` was accepted mid-stream, or
        // the deadline passed): the stream's own answer is no success.
        Err(refusal) if reply.status() == StatusCode::ACCEPTED => refused(refusal),
        Err(_) => reply,
    }
}

/// The forwarding of one streamed response body to its caller.
struct Pump<'a> {
    id: &'a str,
    limit: usize,
    /// Bytes taken from the runtime so far.
    sent: usize,
    /// When the stream passed [`STREAM_UNCAPPED`]: the bandwidth cap runs from here.
    capped_from: Option<tokio::time::Instant>,
    /// `None` once the caller has gone or the invocation is over.
    caller: Option<mpsc::Sender<Bytes>>,
    over: oneshot::Receiver<()>,
}

impl Pump<'_> {
    /// Reads the body to its end; returns the error that ended the stream (if any) and the
    /// runtime's answer.
    async fn run(&mut self, mut body: Incoming) -> (Option<Vec<u8>>, Reply) {
        loop {
            let frame = match body.frame().await {
                None => return (None, accepted()),
                Some(Ok(frame)) => frame,
                Some(Err(e)) => {
                    let message = format!(
                        "RequestId: {} Error: the function's response stream broke after {} bytes ({e})",
                        self.id, self.sent
                    );
                    return (
                        Some(error_body(error_type::TRUNCATED_RESPONSE, &message)),
                        api::error(
                            StatusCode::BAD_REQUEST,
                            error_type::TRUNCATED_RESPONSE,
                            &message,
                        ),
                    );
                }
            };
            let chunk = match frame.into_data() {
                Ok(chunk) => chunk,
                Err(frame) => match frame.into_trailers() {
                    Ok(trailers) => return (stream_error(&trailers), accepted()),
                    Err(_) => continue,
                },
            };
            let room = self.limit - self.sent;
            if chunk.len() > room {
                // What fits goes to the caller, then the stream is cut.
                self.forward(chunk.slice(..room)).await;
                let message = format!(
                    "Response payload size exceeded maximum allowed payload size ({} bytes).",
                    self.limit
                );
                return (
                    Some(error_body(error_type::RESPONSE_TOO_LARGE, &message)),
                    payload_too_large_of(self.limit),
                );
            }
            self.forward(chunk).await;
        }
    }

    /// Sends `chunk` to the caller at Lambda's pace, unless the caller has gone or the
    /// invocation is over (then it is dropped).
    async fn forward(&mut self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        self.sent += chunk.len();
        self.pace().await;
        let Some(caller) = &self.caller else {
            return;
        };
        let sent = tokio::select! {
            sent = caller.send(chunk) => sent.is_ok(),
            // The invocation is over: its caller is owed nothing more.
            _ = &mut self.over => false,
        };
        if !sent {
            // The caller hung up, or it stopped reading and the invocation ended: the function
            // streams on into the void.
            self.caller = None;
        }
    }

    /// Lambda's bandwidth past the uncapped start: from the moment the stream passes
    /// [`STREAM_UNCAPPED`] bytes, no faster than [`STREAM_BANDWIDTH`].
    async fn pace(&mut self) {
        let Some(over) = self.sent.checked_sub(STREAM_UNCAPPED).filter(|&n| n > 0) else {
            return;
        };
        let capped_from = *self
            .capped_from
            .get_or_insert_with(tokio::time::Instant::now);
        let due = Duration::from_micros(over as u64 * 1_000_000 / STREAM_BANDWIDTH as u64);
        tokio::time::sleep_until(capped_from + due).await;
    }
}

/// The error a stream's trailers carry: the base64 JSON body, or one made from the type alone.
fn stream_error(trailers: &hyper::HeaderMap) -> Option<Vec<u8>> {
    let error_type = trailers.get(header::FUNCTION_ERROR_TYPE)?;
    let error_type = String::from_utf8_lossy(error_type.as_bytes());
    let body = trailers
        .get(header::FUNCTION_ERROR_BODY)
        .and_then(|b| crate::base64::decode(b.as_bytes().trim_ascii()))
        .filter(|b| serde_json::from_slice::<serde_json::Value>(b).is_ok());
    Some(body.unwrap_or_else(|| error_body(&error_type, "")))
}

async fn init_error(
    sandbox: &Sandbox,
    body_timeout: Duration,
    request: Request<Incoming>,
) -> Reply {
    let error_type = function_error_type(&request, error_type::UNKNOWN);
    let body = match server::read_body(request.into_body(), None, body_timeout).await {
        Ok(body) if !body.bytes.is_empty() => body.bytes,
        Ok(_) => Bytes::from(error_body(&error_type, "")),
        Err(e) => return api::body_error(&e, payload_too_large),
    };
    match sandbox.init_error(body) {
        Ok(()) => accepted(),
        Err(refusal) => refused(refusal),
    }
}

/// The `Lambda-Runtime-Function-Error-Type` the runtime sent, or `default`.
fn function_error_type(request: &Request<Incoming>, default: &str) -> String {
    let value = request.headers().get(header::FUNCTION_ERROR_TYPE);
    value
        .and_then(|v| v.to_str().ok())
        .unwrap_or(default)
        .to_owned()
}

/// 413 to the runtime, with RAPID's message.
fn payload_too_large() -> Reply {
    payload_too_large_of(MAX_PAYLOAD)
}

fn payload_too_large_of(limit: usize) -> Reply {
    let message = format!("Exceeded maximum allowed payload size ({limit} bytes).");
    api::error(
        StatusCode::PAYLOAD_TOO_LARGE,
        error_type::ENTITY_TOO_LARGE,
        &message,
    )
}

fn accepted() -> Reply {
    api::json(StatusCode::ACCEPTED, protocol::ACCEPTED_BODY)
}

fn refused(refusal: Refusal) -> Reply {
    match refusal {
        Refusal::State(e) => api::error(
            StatusCode::FORBIDDEN,
            error_type::INVALID_STATE,
            &e.to_string(),
        ),
        Refusal::Superseded => api::error(
            StatusCode::FORBIDDEN,
            error_type::INVALID_STATE,
            "a newer /next call took this one's place: one /next at a time",
        ),
        Refusal::TooManyPolls(slots) => api::error(
            StatusCode::FORBIDDEN,
            error_type::INVALID_STATE,
            &format!(
                "{slots} /next calls already wait: at most {} ({slots}) at once",
                protocol::env::MAX_CONCURRENCY
            ),
        ),
        Refusal::UnknownRequestId => api::error(
            StatusCode::BAD_REQUEST,
            error_type::INVALID_REQUEST_ID,
            "Invalid request ID",
        ),
        Refusal::Replaced => api::error(
            StatusCode::GONE,
            error_type::REPLACED,
            "this function process has been replaced",
        ),
    }
}

fn not_found(path: &str) -> Reply {
    api::error(
        StatusCode::NOT_FOUND,
        error_type::API_NOT_FOUND,
        &format!("no Runtime API route {path}"),
    )
}
