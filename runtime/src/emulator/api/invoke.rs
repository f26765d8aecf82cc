//! The invoke endpoint, `POST /2015-03-31/functions/{name}/invocations`: HTTP and nothing
//! else. It routes, reads the context headers, takes a place in the queue *before* reading the
//! body, and answers what the [`Sandbox`] says; the invocation's life is the sandbox's.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{Either, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};

use super::{EventStream, Reply};
use crate::emulator::api;
use crate::emulator::core::{Busy, Event, Outcome, Payload, STOPPING, Sandbox, Streamed, Ticket};
use crate::emulator::wire::{error_body, event_stream};
use crate::protocol::{self, MAX_PAYLOAD, error_type, header};
use crate::server;

/// Routes one invoke request; `body_timeout` bounds the time its body may take.
pub(crate) async fn handle(
    sandbox: Arc<Sandbox>,
    body_timeout: Duration,
    request: Request<Incoming>,
) -> Reply {
    let api = match route(&request) {
        Ok(api) => api,
        Err(unrouted) => return unrouted_reply(unrouted, request.uri().path()),
    };
    let (ticket, event) = match admit(&sandbox, body_timeout, request).await {
        Ok(admitted) => admitted,
        Err(reply) => return reply,
    };
    let outcome = ticket.invoke(event).await;
    match api {
        Api::InvokeWithResponseStream => stream_reply(outcome),
        Api::Invoke => whole_reply(outcome).await,
    }
}

/// The two invoke APIs.
enum Api {
    /// `Invoke`: the whole answer.
    Invoke,
    /// `InvokeWithResponseStream`: AWS's event stream.
    InvokeWithResponseStream,
}

/// A request that names neither API.
enum Unrouted {
    /// 404: not an invoke path.
    NotFound,
    /// 405: an invoke path with a method other than POST.
    MethodNotAllowed,
}

/// Which API the request calls.
fn route(request: &Request<Incoming>) -> Result<Api, Unrouted> {
    let path = request.uri().path();
    let named = |prefix: &str, suffix: &str| {
        path.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .is_some_and(|name| !name.is_empty() && !name.contains('/'))
    };
    let api = if named(
        protocol::STREAM_INVOKE_PREFIX,
        protocol::STREAM_INVOKE_SUFFIX,
    ) {
        Api::InvokeWithResponseStream
    } else if named(protocol::INVOKE_PREFIX, protocol::INVOKE_SUFFIX) {
        Api::Invoke
    } else {
        return Err(Unrouted::NotFound);
    };
    if request.method() != Method::POST {
        return Err(Unrouted::MethodNotAllowed);
    }
    Ok(api)
}

fn unrouted_reply(unrouted: Unrouted, path: &str) -> Reply {
    match unrouted {
        Unrouted::NotFound => {
            let message = format!(
                "no route {path}: invoke with POST {}",
                protocol::INVOKE_PATH
            );
            api::error(StatusCode::NOT_FOUND, error_type::NOT_FOUND, &message)
        }
        Unrouted::MethodNotAllowed => api::error(
            StatusCode::METHOD_NOT_ALLOWED,
            error_type::METHOD_NOT_ALLOWED,
            "invoke with POST",
        ),
    }
}

/// The caller's place in the queue, taken *before* its body is read (or 429), and its event.
async fn admit(
    sandbox: &Arc<Sandbox>,
    body_timeout: Duration,
    request: Request<Incoming>,
) -> Result<(Ticket, Event), Reply> {
    let (parts, body) = request.into_parts();
    let context = match ContextHeaders::from_request(&parts.headers) {
        Ok(context) => context,
        Err(e) => {
            server::drain_within(body, body_timeout).await;
            return Err(api::error(
                StatusCode::BAD_REQUEST,
                error_type::INVALID_REQUEST,
                &e.to_string(),
            ));
        }
    };
    let ticket = match sandbox.admit() {
        Ok(ticket) => ticket,
        Err(busy) => {
            server::drain_within(body, body_timeout).await;
            return Err(busy_reply(busy));
        }
    };
    let body = match server::read_body(body, Some(&sandbox.budget), body_timeout).await {
        Ok(body) => body,
        Err(e) => return Err(api::body_error(&e, request_too_large)),
    };
    let event = Event {
        body: body.bytes,
        trace_id: context.trace_id,
        client_context: context.client_context,
        identity: context.identity,
        held: body.held,
    };
    Ok((ticket, event))
}

/// `InvokeWithResponseStream`: AWS's event stream, whatever the function did.
fn stream_reply(outcome: Outcome) -> Reply {
    match outcome {
        Outcome::Unavailable(message) => unavailable(message),
        Outcome::Response(Payload::Stream(stream)) => {
            let content_type = stream.content_type.clone();
            event_stream_reply(Either::Right(EventStream::new(stream)), content_type)
        }
        Outcome::Response(Payload::Buffered(body)) => event_stream_reply(
            Either::Left(event_stream::whole(Ok(&body))),
            HeaderValue::from_static(protocol::JSON_CONTENT_TYPE),
        ),
        Outcome::Error(body) => {
            let mut reply = event_stream_reply(
                Either::Left(event_stream::whole(Err(&body))),
                HeaderValue::from_static(protocol::JSON_CONTENT_TYPE),
            );
            mark_function_error(&mut reply);
            reply
        }
    }
}

/// `Invoke`: the whole response, a streamed one gathered up to the buffered limit.
async fn whole_reply(outcome: Outcome) -> Reply {
    match outcome {
        Outcome::Unavailable(message) => unavailable(message),
        Outcome::Response(Payload::Buffered(body)) => api::json(StatusCode::OK, body),
        Outcome::Response(Payload::Stream(stream)) => gather(stream).await,
        Outcome::Error(body) => function_error(body),
    }
}

fn unavailable(message: &str) -> Reply {
    api::error(
        StatusCode::SERVICE_UNAVAILABLE,
        error_type::UNAVAILABLE,
        message,
    )
}

/// 200 with an event-stream body. Its `Content-Type` is not the framing's but that of the
/// payload inside, as Lambda's (SDKs read it as `ResponseStreamContentType`): the stream's own,
/// or JSON for a whole response or an error.
fn event_stream_reply(body: Either<Bytes, EventStream>, content_type: HeaderValue) -> Reply {
    let body = match body {
        Either::Left(whole) => Either::Left(Full::new(whole)),
        Either::Right(stream) => Either::Right(stream),
    };
    let mut reply = Response::new(body);
    reply.headers_mut().insert(CONTENT_TYPE, content_type);
    reply
}

/// A streamed response asked for with the buffered `Invoke`: Lambda answers it whole, within
/// the buffered limit.
async fn gather(mut stream: Streamed) -> Reply {
    let mut body = Vec::new();
    while let Some(chunk) = stream.data.recv().await {
        if body.len() + chunk.len() > MAX_PAYLOAD {
            let message = format!(
                "Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD} bytes)."
            );
            return function_error(error_body(error_type::RESPONSE_TOO_LARGE, &message));
        }
        body.extend_from_slice(&chunk);
    }
    match stream.end.await {
        Ok(None) => {
            let mut reply = api::json(StatusCode::OK, body);
            reply
                .headers_mut()
                .insert(CONTENT_TYPE, stream.content_type);
            reply
        }
        Ok(Some(error)) => function_error(error),
        Err(_) => function_error(error_body(
            error_type::EXIT,
            "the emulator dropped the stream",
        )),
    }
}

fn busy_reply(busy: Busy) -> Reply {
    match busy {
        Busy::TooManyWaiting => api::error(
            StatusCode::TOO_MANY_REQUESTS,
            error_type::TOO_MANY_REQUESTS,
            "Rate Exceeded: too many invocations are waiting for this function",
        ),
        Busy::Stopping => api::error(
            StatusCode::SERVICE_UNAVAILABLE,
            error_type::UNAVAILABLE,
            STOPPING,
        ),
    }
}

fn request_too_large() -> Reply {
    let message = format!(
        "Request must be smaller than {MAX_PAYLOAD} bytes for the InvokeFunction operation"
    );
    api::error(
        StatusCode::PAYLOAD_TOO_LARGE,
        error_type::REQUEST_TOO_LARGE,
        &message,
    )
}

/// A failed invocation: 200 with `X-Amz-Function-Error`, as Lambda's `Invoke` API answers.
fn function_error(body: impl Into<Bytes>) -> Reply {
    let mut reply = api::json(StatusCode::OK, body);
    mark_function_error(&mut reply);
    reply
}

fn mark_function_error(reply: &mut Reply) {
    reply.headers_mut().insert(
        header::AMZ_FUNCTION_ERROR,
        HeaderValue::from_static(error_type::UNHANDLED),
    );
}

/// The invoke headers that become the function's context, forwarded byte for byte (UTF-8 and
/// all) except the client context, which Lambda takes base64-encoded and hands on decoded.
pub(crate) struct ContextHeaders {
    pub trace_id: Option<HeaderValue>,
    pub client_context: Option<HeaderValue>,
    pub identity: Option<HeaderValue>,
}

/// An `X-Amz-Client-Context` that decodes to text no header can carry (a line break, another
/// control character): refused with a 400 that says so, rather than dropped.
#[derive(Debug)]
pub(crate) struct UnforwardableContext;

impl std::fmt::Display for UnforwardableContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} decodes to text with a control character (a line break?), which no header can carry: send the JSON on one line",
            header::AMZ_CLIENT_CONTEXT
        )
    }
}

impl std::error::Error for UnforwardableContext {}

impl ContextHeaders {
    /// Reads the context headers of an invoke request.
    pub fn from_request(headers: &HeaderMap) -> Result<Self, UnforwardableContext> {
        let client_context = match headers.get(header::AMZ_CLIENT_CONTEXT) {
            None => None,
            Some(value) => Some(decode_client_context(value)?),
        };
        Ok(Self {
            trace_id: headers.get(header::AMZN_TRACE_ID).cloned(),
            client_context,
            identity: headers.get(header::AMZ_COGNITO_IDENTITY).cloned(),
        })
    }
}

/// The client context for the runtime: the base64 value decoded when it decodes to UTF-8 text
/// (non-ASCII included), else the value as it came. Decoded text that cannot be a header value
/// (a control character) is refused with a message rather than dropped.
pub(crate) fn decode_client_context(
    value: &HeaderValue,
) -> Result<HeaderValue, UnforwardableContext> {
    let raw = value.as_bytes();
    let Some(decoded) = crate::base64::decode(raw.trim_ascii()) else {
        return Ok(value.clone());
    };
    if std::str::from_utf8(&decoded).is_err() {
        return Ok(value.clone());
    }
    HeaderValue::from_bytes(&decoded).map_err(|_| UnforwardableContext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_client_context_is_decoded() {
        assert_eq!(
            crate::base64::decode(b"eyJhIjoxfQ==").unwrap(),
            br#"{"a":1}"#
        );
        assert_eq!(crate::base64::decode(b"eyJhIjoxfQ").unwrap(), br#"{"a":1}"#);
        assert_eq!(crate::base64::decode(b"a"), None);
        let raw = HeaderValue::from_static(r#"{"raw":true}"#);
        assert_eq!(decode_client_context(&raw).unwrap(), raw);
    }

    #[test]
    fn non_ascii_client_context_is_forwarded_decoded() {
        // base64 of {"n":"café"}
        let value = HeaderValue::from_static("eyJuIjoiY2Fmw6kifQ==");
        let decoded = decode_client_context(&value).unwrap();
        assert_eq!(decoded.as_bytes(), "{\"n\":\"café\"}".as_bytes());
        // base64 of "{\n}": a line break no header can carry is an error, not a silent drop.
        assert!(decode_client_context(&HeaderValue::from_static("ewp9")).is_err());
    }
}
