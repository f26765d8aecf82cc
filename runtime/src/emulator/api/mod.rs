//! The emulator's HTTP APIs: the Runtime API the function polls (`rapi`), the invoke
//! endpoint callers post to (`invoke`) and, with feature `http`, a plain HTTP port in front of
//! an HTTP function (`http_front`), each a handler for [`crate::server`] that maps the
//! core's enums (`Outcome`, `Refusal`, `Busy`) to AWS's status codes and error bodies. This
//! layer imports the core and the wire formats, never the supervisor or the wiring above it.

pub(crate) mod extension;
#[cfg(feature = "http")]
pub(crate) mod http_front;
pub(crate) mod invoke;
pub(crate) mod rapi;
mod stream_body;
pub(crate) mod telemetry;

use http_body_util::{Either, Full};
use hyper::Response;
use hyper::StatusCode;
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderValue};

use super::core::STOPPING;
use super::wire::error_body;
use crate::protocol::{self, error_type};
use crate::server::{self, BodyError, Refusals};
pub(crate) use stream_body::EventStream;

/// The answer of either API: whole, or an event stream that feeds from the function.
pub(crate) type Reply = server::Reply<EventStream>;

/// The server's own refusals in AWS's words, for both ports.
pub(crate) const REFUSALS: Refusals = Refusals {
    over_capacity,
    unsupported_encoding,
};

fn over_capacity() -> Vec<u8> {
    error_body(
        error_type::UNAVAILABLE,
        "too many connections: try again later",
    )
}

fn unsupported_encoding() -> Response<Full<Bytes>> {
    let body = error_body(
        error_type::UNSUPPORTED_ENCODING,
        "only `Transfer-Encoding: chunked` is supported",
    );
    let mut reply = Response::new(Full::new(Bytes::from(body)));
    *reply.status_mut() = StatusCode::NOT_IMPLEMENTED;
    reply.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(protocol::JSON_CONTENT_TYPE),
    );
    server::closing(reply)
}

/// A JSON answer.
pub(crate) fn json(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    let mut reply = Response::new(Either::Left(Full::new(body.into())));
    *reply.status_mut() = status;
    reply.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(protocol::JSON_CONTENT_TYPE),
    );
    reply
}

/// `{"errorType": ..., "errorMessage": ...}`, the error body of AWS's APIs.
pub(crate) fn error(status: StatusCode, error_type: &str, message: &str) -> Reply {
    json(status, error_body(error_type, message))
}

/// The answer to a body that could not be read whole, for either port.
pub(crate) fn body_error(e: &BodyError, too_large: impl FnOnce() -> Reply) -> Reply {
    let reply = match e {
        BodyError::TooLarge => return too_large(),
        BodyError::Broken(why) => error(
            StatusCode::BAD_REQUEST,
            error_type::INVALID_REQUEST,
            &format!("the request body is incomplete or malformed ({why})"),
        ),
        BodyError::TimedOut => error(
            StatusCode::REQUEST_TIMEOUT,
            error_type::REQUEST_TIMEOUT,
            "the request body did not arrive in time",
        ),
        BodyError::Stopping => error(
            StatusCode::SERVICE_UNAVAILABLE,
            error_type::UNAVAILABLE,
            STOPPING,
        ),
    };
    server::closing(reply)
}
