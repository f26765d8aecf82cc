//! The Runtime API client's protocol, without I/O: which request each call is and its head,
//! what a `/next` answer must hold to be an event, how long to wait between attempts, and the
//! retry rule. The blocking transport ([`super::blocking`]), the streaming one
//! ([`super::streaming`]) and the panic hook ([`crate::panic`]) all build their requests here,
//! so there is one place that says what goes on the wire and when it may go again.
//!
//! The retry rule, as hyper-util's `retry_canceled_requests` under `lambda_runtime`: a request
//! none of whose bytes a connection took (no connection, or one found closed) may be sent
//! again; a request that was written is never sent again, since the API may have acted on it.
//! `GET /next` is the exception by nature: asking for the next event again is a new request
//! for whatever comes next, not a replay of an answer (a lost event is the API's to time out).

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::time::Duration;

use hyper::StatusCode;
use hyper::body::Bytes;
use hyper::header::HeaderValue;

use crate::endpoint::Endpoint;
use crate::http1::{self, Headers, ParseError, Response};
use crate::protocol::{self, header};

/// Waits between attempts when the API cannot be reached or refuses: about 3 s in all, long
/// enough to ride out an API restart, short enough that a dead API ends the process quickly.
const BACKOFF_MS: [u64; 6] = [50, 100, 200, 400, 800, 1600];

/// How much of an answer's body goes into a log line.
const EXCERPT: usize = 256;

/// One Runtime API call: the request's method, path and headers follow from it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Call<'a> {
    /// `GET /next`.
    Next,
    /// `POST /invocation/{id}/response`, the whole body at once.
    Response { id: &'a str },
    /// `POST /invocation/{id}/error`.
    Error { id: &'a str, error_type: &'a str },
    /// `POST /init/error`.
    InitError { error_type: &'a str },
    /// `POST /2020-01-01/extension/register` with `{"events":[]}`: the runtime's internal
    /// extension, so that Lambda sends SIGTERM at shutdown.
    RegisterExtension { name: &'a str },
    /// `GET /2020-01-01/extension/event/next` of that extension: sent once, never read (no
    /// event ever comes to it), so Lambda's init phase, which waits for every extension's
    /// `next`, can end.
    ExtensionNext { id: &'a str },
    /// `POST /invocation/{id}/response`, chunked, errors in trailers.
    Stream {
        id: &'a str,
        content_type: &'a HeaderValue,
    },
}

impl Call<'_> {
    /// Whether the call may be made again after its request was written (only `GET /next`).
    pub(crate) fn asks_again(&self) -> bool {
        matches!(self, Self::Next)
    }

    /// Whether the answer's headers are needed (`/next`'s context, the register answer's
    /// identifier); other answers are read for their status alone.
    pub(crate) fn reads_headers(&self) -> bool {
        matches!(self, Self::Next | Self::RegisterExtension { .. })
    }

    fn method(&self) -> &'static str {
        match self {
            Self::Next | Self::ExtensionNext { .. } => "GET",
            _ => "POST",
        }
    }

    /// The path's pieces after the base path.
    fn path(&self) -> [&str; 3] {
        let invocation = protocol::INVOCATION_PREFIX;
        match self {
            Self::Next => [protocol::NEXT_PATH, "", ""],
            Self::Response { id } | Self::Stream { id, .. } => [invocation, id, "/response"],
            Self::Error { id, .. } => [invocation, id, "/error"],
            Self::InitError { .. } => [protocol::INIT_ERROR_PATH, "", ""],
            Self::RegisterExtension { .. } => [crate::lifecycle::REGISTER_PATH, "", ""],
            Self::ExtensionNext { .. } => [crate::lifecycle::EVENT_NEXT_PATH, "", ""],
        }
    }

    /// Writes this call's request head into `out` (cleared first): `body_len` for a whole
    /// body, `close` to ask the API to close the connection after its answer.
    pub(crate) fn head(
        &self,
        out: &mut Vec<u8>,
        endpoint: &Endpoint,
        body_len: Option<usize>,
        close: bool,
    ) {
        let json = protocol::JSON_CONTENT_TYPE.as_bytes();
        let mut headers: [(&str, &[u8]); 5] = [("", b""); 5];
        let mut count = 0;
        let mut add = |name, value| {
            headers[count] = (name, value);
            count += 1;
        };
        match self {
            Self::Next => {}
            Self::Response { .. } => add("Content-Type", json),
            Self::Error { error_type, .. } | Self::InitError { error_type } => {
                add("Content-Type", json);
                // An errorType that is no header value is left out rather than sent half-formed.
                if HeaderValue::from_str(error_type).is_ok() {
                    add(header::FUNCTION_ERROR_TYPE, error_type.as_bytes());
                }
            }
            Self::RegisterExtension { name } => {
                add("Content-Type", json);
                add(crate::lifecycle::NAME_HEADER, name.as_bytes());
            }
            Self::ExtensionNext { id } => add(crate::lifecycle::IDENTIFIER_HEADER, id.as_bytes()),
            Self::Stream { content_type, .. } => {
                add("Content-Type", content_type.as_bytes());
                add("Transfer-Encoding", b"chunked");
                add(header::FUNCTION_RESPONSE_MODE, header::STREAMING.as_bytes());
                add("Trailer", header::STREAM_TRAILERS.as_bytes());
            }
        }
        if close {
            add("Connection", b"close");
        }
        let [a, b, c] = self.path();
        let method = self.method();
        let host = endpoint.authority().as_bytes();
        http1::request_head(
            out,
            method,
            &[endpoint.base(), a, b, c],
            host,
            &headers[..count],
            body_len,
        );
    }
}

impl fmt::Display for Call<'_> {
    /// `GET /2018-06-01/runtime/invocation/next`, for log lines (without the base path).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c] = self.path();
        write!(f, "{} {a}{b}{c}", self.method())
    }
}

/// Why no answer came back for a request that was written.
#[derive(Debug)]
pub(crate) enum Lost {
    /// The connection closed before any byte of an answer.
    Closed,
    /// Reading (or the rest of writing) failed.
    Io(io::Error),
    /// The bytes are no answer.
    Parse(ParseError),
    /// What was left of the call after a stop signal took longer than its bound.
    Stopped,
}

impl fmt::Display for Lost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => write!(f, "the API closed the connection without answering"),
            Self::Io(e) => write!(f, "{e}"),
            Self::Parse(e) => write!(f, "{e}"),
            Self::Stopped => write!(f, "the API took too long after the stop signal"),
        }
    }
}

/// How one attempt at a call failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// No byte of the request was taken: no connection, or `reused` and found closed.
    NotSent { reused: bool, error: io::Error },
    /// The request was written (whole, or `partly`) on a `reused` connection or a new one,
    /// and no answer could be read.
    Lost {
        reused: bool,
        partly: bool,
        why: Lost,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotSent { error, .. } => write!(f, "{error}"),
            Self::Lost {
                partly: true, why, ..
            } => write!(f, "{why} (the request was cut short)"),
            Self::Lost { why, .. } => write!(f, "{why}"),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Send it again at once: it never started on a kept-alive connection found closed.
    Now,
    /// Send it again after the next backoff wait.
    Later,
    /// Never again: it was written and its answer is lost.
    Never,
}

/// The retry rule (see the module doc).
pub(crate) fn retry(call: &Call<'_>, failure: &Failure) -> Retry {
    match failure {
        Failure::NotSent { reused: true, .. } => Retry::Now,
        Failure::NotSent { reused: false, .. } => Retry::Later,
        _ if !call.asks_again() => Retry::Never,
        Failure::Lost {
            reused: true,
            why: Lost::Closed,
            ..
        } => Retry::Now,
        Failure::Lost { .. } => Retry::Later,
    }
}

/// Counts attempts and hands out the waits between them.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    failed: usize,
}

impl Backoff {
    /// A failed attempt: how long to wait before the next, or `None` when it is time to give
    /// up (after `1 + BACKOFF_MS.len()` attempts).
    pub(crate) fn failed(&mut self) -> Option<Duration> {
        let wait = BACKOFF_MS
            .get(self.failed)
            .copied()
            .map(Duration::from_millis);
        self.failed += 1;
        wait
    }
}

/// An event as `/next` returned it: the context headers and the raw payload. Its request id
/// is usable in a path ([`usable_request_id`]).
pub(crate) struct Event {
    pub headers: Headers,
    pub body: Bytes,
}

/// Why a whole `/next` answer is not an event.
#[derive(Debug)]
pub(crate) enum NotAnEvent {
    /// A status other than 200..=299 (204 included below).
    Status(StatusCode, String),
    /// 204, or another 2xx without a request id.
    NoRequestId(StatusCode),
    /// A request id that cannot go into a path.
    BadRequestId(String),
}

impl fmt::Display for NotAnEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let next = protocol::NEXT_PATH;
        match self {
            Self::Status(status, body) => write!(f, "{next} answered {status}: {body}"),
            Self::NoRequestId(status) => {
                write!(
                    f,
                    "{next} answered {status} with no {} header",
                    header::REQUEST_ID
                )
            }
            Self::BadRequestId(id) => write!(
                f,
                "{next} answered with a {} that is not usable (it cannot go into a path): {id:?}",
                header::REQUEST_ID
            ),
        }
    }
}

/// The event in a `/next` answer, or why there is none.
pub(crate) fn event_of(response: Response) -> Result<Event, NotAnEvent> {
    let status = response.status;
    if !status.is_success() {
        return Err(NotAnEvent::Status(
            status,
            excerpt(&response.body).into_owned(),
        ));
    }
    match response.headers.get(header::REQUEST_ID) {
        None => Err(NotAnEvent::NoRequestId(status)),
        Some(id) if !usable_request_id(id) => {
            Err(NotAnEvent::BadRequestId(excerpt(id).into_owned()))
        }
        Some(_) => Ok(Event {
            headers: response.headers,
            body: response.body,
        }),
    }
}

/// Whether `id` can be a path segment as it is: 1 to 128 of `A-Z a-z 0-9 - _ .`, and not a
/// dot segment (`.` or `..`, which a server would resolve to another path).
pub(crate) fn usable_request_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id != b"."
        && id != b".."
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The start of `body` for a log line, with its length when it is cut.
pub(crate) fn excerpt(body: &[u8]) -> Cow<'_, str> {
    if body.len() <= EXCERPT {
        return String::from_utf8_lossy(body);
    }
    let start = String::from_utf8_lossy(&body[..EXCERPT]);
    Cow::Owned(format!("{start}... ({} bytes in all)", body.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Endpoint {
        Endpoint::parse("http://h:9/base").unwrap()
    }

    #[test]
    fn heads_of_every_call() {
        let mut out = Vec::new();
        let e = endpoint();
        Call::Next.head(&mut out, &e, None, false);
        assert_eq!(
            out,
            b"GET /base/2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: h:9\r\n\r\n"
        );
        Call::Response { id: "r1" }.head(&mut out, &e, Some(2), false);
        assert_eq!(
            out,
            &b"POST /base/2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\nHost: h:9\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"[..]
        );
        let call = Call::InitError {
            error_type: "bad\ntype",
        };
        call.head(&mut out, &e, Some(0), true);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.starts_with("POST /base/2018-06-01/runtime/init/error HTTP/1.1\r\n"));
        assert!(
            text.contains("Connection: close\r\n") && !text.contains("bad"),
            "{text}"
        );
        let ct = HeaderValue::from_static("text/plain");
        Call::Stream {
            id: "r",
            content_type: &ct,
        }
        .head(&mut out, &e, None, false);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.contains("Transfer-Encoding: chunked\r\n") && !text.contains("Length"));
        Call::RegisterExtension { name: "hook" }.head(&mut out, &e, Some(13), false);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.starts_with("POST /base/2020-01-01/extension/register HTTP/1.1\r\n")
                && text.contains("lambda-extension-name: hook\r\n")
                && text.contains("Content-Length: 13\r\n"),
            "{text}"
        );
        Call::ExtensionNext { id: "x1" }.head(&mut out, &e, None, false);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.starts_with("GET /base/2020-01-01/extension/event/next HTTP/1.1\r\n")
                && text.contains("lambda-extension-identifier: x1\r\n"),
            "{text}"
        );
        assert_eq!(
            Call::Error {
                id: "r",
                error_type: "E"
            }
            .to_string(),
            "POST /2018-06-01/runtime/invocation/r/error"
        );
    }

    #[test]
    fn a_written_request_is_never_sent_again_except_next() {
        let lost = |reused, why| Failure::Lost {
            reused,
            partly: false,
            why,
        };
        let not_sent = |reused| Failure::NotSent {
            reused,
            error: io::ErrorKind::BrokenPipe.into(),
        };
        let post = Call::Response { id: "a" };
        assert_eq!(retry(&post, &not_sent(true)), Retry::Now);
        assert_eq!(retry(&post, &not_sent(false)), Retry::Later);
        assert_eq!(retry(&post, &lost(true, Lost::Closed)), Retry::Never);
        assert_eq!(retry(&post, &lost(false, Lost::Stopped)), Retry::Never);
        assert_eq!(retry(&Call::Next, &lost(true, Lost::Closed)), Retry::Now);
        assert_eq!(retry(&Call::Next, &lost(false, Lost::Closed)), Retry::Later);
    }

    #[test]
    fn backoff_gives_up_after_seven_attempts() {
        let mut backoff = Backoff::default();
        let waits: Vec<_> = std::iter::from_fn(|| backoff.failed()).collect();
        assert_eq!(waits.len(), BACKOFF_MS.len());
        assert_eq!(waits.iter().sum::<Duration>(), Duration::from_millis(3150));
    }

    #[test]
    fn request_ids() {
        for good in ["a", "abc-1_2.3", "..."] {
            assert!(usable_request_id(good.as_bytes()), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "é", &"x".repeat(129)] {
            assert!(!usable_request_id(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn excerpts_are_short() {
        assert_eq!(excerpt(b"abc"), "abc");
        let long = excerpt(&[b'x'; 5_000_000]);
        assert!(
            long.len() < 400 && long.ends_with("(5000000 bytes in all)"),
            "{long}"
        );
    }
}
