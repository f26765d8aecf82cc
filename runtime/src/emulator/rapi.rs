//! The Runtime API server: `/next`, `/response`, `/error` and `/init/error`, with AWS's status
//! codes and JSON error bodies.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, StatusCode};

use super::http::{self, BodyError, Reply};
use super::sandbox::{Outcome, Payload, Refusal, Sandbox};
use super::state::Call;
use crate::protocol::{self, MAX_PAYLOAD, error_type, header};

/// Routes one Runtime API request; `body_timeout` bounds the time a body may take.
pub(crate) async fn handle(
    sandbox: Arc<Sandbox>,
    body_timeout: Duration,
    request: Request<Incoming>,
) -> Reply {
    let path = request.uri().path().to_owned();
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
    let mut reply = http::json(StatusCode::OK, invocation.body);
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
    let streaming = request
        .headers()
        .get(header::FUNCTION_RESPONSE_MODE)
        .is_some_and(|mode| {
            mode.as_bytes()
                .eq_ignore_ascii_case(header::STREAMING.as_bytes())
        });
    if call == Call::Response && streaming {
        let content_type =
            request
                .headers()
                .get(CONTENT_TYPE)
                .cloned()
                .unwrap_or(HeaderValue::from_static(
                    protocol::DEFAULT_STREAM_CONTENT_TYPE,
                ));
        return stream(sandbox, id, content_type, request.into_body()).await;
    }
    let error_type = function_error_type(&request, error_type::UNHANDLED);
    let read = http::read_body(request.into_body(), None, body_timeout).await;
    let (outcome, reply) = match (read, call) {
        (Ok(body), Call::Response) => (Outcome::Response(Payload::Buffered(body.bytes)), None),
        (Ok(body), _) if body.bytes.is_empty() => (
            Outcome::Error(http::error_body(&error_type, "").into()),
            None,
        ),
        (Ok(body), _) => (Outcome::Error(body.bytes), None),
        (Err(BodyError::TooLarge), _) => {
            let message = format!(
                "Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD} bytes)."
            );
            (
                Outcome::Error(http::error_body(error_type::RESPONSE_TOO_LARGE, &message).into()),
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
                    BodyError::Broken(why) => why.as_str(),
                    BodyError::TimedOut => "it timed out",
                    BodyError::TooLarge | BodyError::Stopping => "the emulator is stopping",
                }
            );
            (
                Outcome::Error(http::error_body(error_type::TRUNCATED_RESPONSE, &message).into()),
                Some(http::body_error(&e, payload_too_large)),
            )
        }
    };
    if let Err(refusal) = sandbox.answer(id, call, outcome) {
        return refused(refusal);
    }
    reply.unwrap_or_else(accepted)
}

/// A streamed `/response`: each chunk goes to the caller as it arrives (the caller's pace holds
/// the runtime back), past [`crate::protocol::STREAM_UNCAPPED`] bytes at Lambda's bandwidth,
/// up to the sandbox's stream limit. How the body ends is how the invocation ends: whole (with
/// or without error trailers), cut off (`Runtime.TruncatedResponse`), or over the limit
/// (`Function.ResponseSizeTooLarge`, and 413 to the runtime). A caller that hangs up does not
/// stop the function: its chunks are read and dropped.
async fn stream(
    sandbox: &Sandbox,
    id: &str,
    content_type: HeaderValue,
    mut body: Incoming,
) -> Reply {
    let chunks = match sandbox.start_stream(id, content_type) {
        Ok(chunks) => chunks,
        Err(refusal) => return refused(refusal),
    };
    let limit = sandbox.max_stream_bytes;
    let started = tokio::time::Instant::now();
    let mut sent = 0usize;
    let mut caller = Some(chunks);
    let (end, reply) = loop {
        let frame = match body.frame().await {
            None => break (None, accepted()),
            Some(Ok(frame)) => frame,
            Some(Err(e)) => {
                let message = format!(
                    "RequestId: {id} Error: the function's response stream broke after {sent} bytes ({e})"
                );
                break (
                    Some(http::error_body(error_type::TRUNCATED_RESPONSE, &message)),
                    http::error(
                        StatusCode::BAD_REQUEST,
                        error_type::TRUNCATED_RESPONSE,
                        &message,
                    ),
                );
            }
        };
        let frame = match frame.into_data() {
            Ok(chunk) => chunk,
            Err(frame) => match frame.into_trailers() {
                Ok(trailers) => break (stream_error(&trailers), accepted()),
                Err(_) => continue,
            },
        };
        sent += frame.len();
        if sent > limit {
            let message = format!(
                "Response payload size exceeded maximum allowed payload size ({limit} bytes)."
            );
            break (
                Some(http::error_body(error_type::RESPONSE_TOO_LARGE, &message)),
                payload_too_large_of(limit),
            );
        }
        if sent > protocol::STREAM_UNCAPPED {
            // Lambda's bandwidth past the uncapped start: no faster than STREAM_BANDWIDTH.
            let over = (sent - protocol::STREAM_UNCAPPED) as u64;
            let due = Duration::from_micros(over * 1_000_000 / protocol::STREAM_BANDWIDTH as u64);
            tokio::time::sleep_until(started + due).await;
        }
        if let Some(chunks) = &caller {
            if chunks.send(frame).await.is_err() {
                // The caller hung up: the function streams on into the void.
                caller = None;
            }
        }
    };
    drop(caller);
    let outcome = match end {
        None => Outcome::Response(Payload::Buffered(Bytes::new())),
        Some(error) => Outcome::Error(error.into()),
    };
    // After a timeout the invocation is already over; nothing to add then.
    let _ = sandbox.answer(id, Call::Response, outcome);
    reply
}

/// The error a stream's trailers carry: the base64 JSON body, or one made from the type alone.
fn stream_error(trailers: &hyper::HeaderMap) -> Option<Vec<u8>> {
    let error_type = trailers.get(header::FUNCTION_ERROR_TYPE)?;
    let error_type = String::from_utf8_lossy(error_type.as_bytes());
    let body = trailers
        .get(header::FUNCTION_ERROR_BODY)
        .and_then(|b| crate::base64::decode(b.as_bytes().trim_ascii()))
        .filter(|b| serde_json::from_slice::<serde_json::Value>(b).is_ok());
    Some(body.unwrap_or_else(|| http::error_body(&error_type, "")))
}

async fn init_error(
    sandbox: &Sandbox,
    body_timeout: Duration,
    request: Request<Incoming>,
) -> Reply {
    let error_type = function_error_type(&request, error_type::UNKNOWN);
    let body = match http::read_body(request.into_body(), None, body_timeout).await {
        Ok(body) if !body.bytes.is_empty() => body.bytes,
        Ok(_) => Bytes::from(http::error_body(&error_type, "")),
        Err(e) => return http::body_error(&e, payload_too_large),
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
    http::error(
        StatusCode::PAYLOAD_TOO_LARGE,
        error_type::ENTITY_TOO_LARGE,
        &message,
    )
}

fn accepted() -> Reply {
    http::json(StatusCode::ACCEPTED, protocol::ACCEPTED_BODY)
}

fn refused(refusal: Refusal) -> Reply {
    match refusal {
        Refusal::State(e) => http::error(
            StatusCode::FORBIDDEN,
            error_type::INVALID_STATE,
            &e.to_string(),
        ),
        Refusal::Superseded => http::error(
            StatusCode::FORBIDDEN,
            error_type::INVALID_STATE,
            "a newer /next call took this one's place: one /next at a time",
        ),
        Refusal::UnknownRequestId => http::error(
            StatusCode::BAD_REQUEST,
            error_type::INVALID_REQUEST_ID,
            "Invalid request ID",
        ),
        Refusal::Replaced => http::error(
            StatusCode::GONE,
            error_type::REPLACED,
            "this function process has been replaced",
        ),
    }
}

fn not_found(path: &str) -> Reply {
    http::error(
        StatusCode::NOT_FOUND,
        error_type::API_NOT_FOUND,
        &format!("no Runtime API route {path}"),
    )
}
