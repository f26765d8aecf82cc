//! The plain-HTTP front of an HTTP function: a client's request becomes the function URL event
//! Lambda would send for it, and the function's answer (a payload 2.0 response JSON, or a
//! streamed answer behind the HTTP integration prelude) becomes the HTTP response the client
//! would get from the function URL.
//!
//! Both fronts use it: local HTTP mode (`super::serve`, the function's own binary serving
//! `$PORT`) and the standalone emulator's `--http` port. So the request a service sees through
//! either is the request it sees on Lambda, down to the same event and the same adapter code.
//! No I/O here.

use std::pin::Pin;
use std::task::{Context, Poll};

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, Response, StatusCode};
use http_body_util::{Either, Full};
use hyper::body::{Bytes, Frame};

use super::event::apigw_v2::emulated;
use super::event::function_url::{HTTP_INTEGRATION_CONTENT_TYPE, PRELUDE_END};

/// The `requestContext.domainName` of the events a front sends: a function URL domain, so the
/// adapter answers as to a function URL (`{url-id}.lambda-url.{region}.on.aws`).
pub(crate) const DOMAIN: &str = "local.lambda-url.localhost.on.aws";

/// A prelude longer than this is no prelude (Lambda's own limit on headers is far lower).
const MAX_PRELUDE: usize = 64 * 1024;

/// The function URL event for a request (payload 2.0, see `apigw_v2::emulated::event`).
///
/// ```text
/// let event = front::event(&head, b"", "req-1");
/// ```
pub(crate) fn event(head: &http::request::Parts, body: &[u8], request_id: &str) -> Vec<u8> {
    emulated::event(head, body, DOMAIN, request_id)
}

/// The HTTP response a buffered answer (payload 2.0 response JSON) stands for; an answer that
/// is no such JSON is a `502`, as a function URL answers it.
pub(crate) fn whole(answer: &[u8]) -> Response<Full<Bytes>> {
    match emulated::response(answer) {
        Ok(response) => response.map(|body| Full::new(Bytes::from(body))),
        Err(why) => {
            tracing::warn!("the function's answer is no HTTP response: {why}");
            text(StatusCode::BAD_GATEWAY, "Internal Server Error")
        }
    }
}

/// A failed invocation as a function URL answers it: `502 Internal Server Error`.
pub(crate) fn failed() -> Response<Full<Bytes>> {
    text(StatusCode::BAD_GATEWAY, "Internal Server Error")
}

/// A plain-text answer.
pub(crate) fn text(status: StatusCode, message: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(message.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Whether a streamed answer of this content type starts with the HTTP integration prelude;
/// any other stream is a `200` body of that type.
pub(crate) fn has_prelude(content_type: &HeaderValue) -> bool {
    content_type.as_bytes() == HTTP_INTEGRATION_CONTENT_TYPE.as_bytes()
}

/// The head of a streamed answer, read off its first bytes as they arrive.
///
/// ```text
/// let mut prelude = Prelude::default();
/// let (status, headers, rest) = prelude.push(b"{\"statusCode\":201}\0\0\0\0\0\0\0\0hi")?.unwrap();
/// ```
#[derive(Debug, Default)]
pub(crate) struct Prelude {
    seen: Vec<u8>,
}

/// A decoded prelude: the status, the headers (cookies as `Set-Cookie`) and the body bytes that
/// came after the eight NULs in the same chunks.
pub(crate) type Head = (StatusCode, HeaderMap, Bytes);

impl Prelude {
    /// Adds `chunk`; the head once the eight NULs have arrived, `None` until then, an error for
    /// a prelude that is not one.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Result<Option<Head>, String> {
        let from = self.seen.len().saturating_sub(PRELUDE_END.len() - 1);
        self.seen.extend_from_slice(chunk);
        let Some(end) = self.seen[from..]
            .windows(PRELUDE_END.len())
            .position(|w| w == PRELUDE_END)
            .map(|i| from + i)
        else {
            if self.seen.len() > MAX_PRELUDE {
                return Err(format!("no prelude end in the first {MAX_PRELUDE} bytes"));
            }
            return Ok(None);
        };
        let json: serde_json::Value = serde_json::from_slice(&self.seen[..end])
            .map_err(|e| format!("the prelude is not JSON: {e}"))?;
        if !json.is_object() {
            return Err("the prelude is not a JSON object".into());
        }
        let (status, headers) = emulated::head(&json)?;
        let rest = Bytes::copy_from_slice(&self.seen[end + PRELUDE_END.len()..]);
        Ok(Some((status, headers, rest)))
    }
}

/// Where a front reads a streamed answer from: the function's own stream in local HTTP mode,
/// the chunks the function posts to the Runtime API in the emulator.
pub(crate) trait Chunks: Unpin {
    /// The next chunk of the body; `Ready(None)` once the stream has ended, or failed (the
    /// source logs how: after the first bytes a failure can only cut the body short).
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>>;
}

/// A front's plain-HTTP answer: a whole body, or a streamed one relayed after its prelude.
pub(crate) type Answer<S> = Response<Either<Full<Bytes>, Relay<S>>>;

/// The HTTP response of a streamed answer posted as `content_type`: behind the HTTP integration
/// prelude, the status and headers decoded off its first chunks and the body relayed after them;
/// any other stream a `200` of that type, relayed whole. A stream that ends before its prelude,
/// or whose prelude is not one, is a `502`, as a function URL answers it.
///
/// ```text
/// let response = front::streamed(stream.content_type.clone(), posted).await;
/// ```
pub(crate) async fn streamed<S: Chunks>(content_type: HeaderValue, mut stream: S) -> Answer<S> {
    if !has_prelude(&content_type) {
        let mut response = Response::new(Either::Right(Relay::new(None, stream)));
        response.headers_mut().insert(CONTENT_TYPE, content_type);
        return response;
    }
    let mut prelude = Prelude::default();
    loop {
        let Some(chunk) = std::future::poll_fn(|cx| stream.poll_chunk(cx)).await else {
            tracing::warn!("the stream ended before its prelude");
            return failed().map(Either::Left);
        };
        match prelude.push(&chunk) {
            Ok(None) => {}
            Ok(Some((status, headers, rest))) => {
                let first = Some(rest).filter(|r| !r.is_empty());
                let mut response = Response::new(Either::Right(Relay::new(first, stream)));
                *response.status_mut() = status;
                *response.headers_mut() = headers;
                return response;
            }
            Err(why) => {
                tracing::warn!("the streamed answer has no valid prelude: {why}");
                return failed().map(Either::Left);
            }
        }
    }
}

/// A streamed answer's body after its prelude, chunk by chunk as the function writes it.
pub(crate) struct Relay<S> {
    first: Option<Bytes>,
    rest: S,
}

impl<S> Relay<S> {
    fn new(first: Option<Bytes>, rest: S) -> Self {
        Self { first, rest }
    }
}

impl<S: Chunks> hyper::body::Body for Relay<S> {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        let chunk = std::task::ready!(self.rest.poll_chunk(cx));
        Poll::Ready(chunk.map(|data| Ok(Frame::data(data))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prelude_split_anywhere_gives_the_head_and_the_first_body_bytes() {
        let whole: &[u8] =
            b"{\"statusCode\":201,\"headers\":{\"content-type\":\"text/plain\"},\"cookies\":[\"a=1\",\"b=2\"]}\0\0\0\0\0\0\0\0hello";
        for split in 0..whole.len() {
            let mut prelude = Prelude::default();
            let first = prelude.push(&whole[..split]).unwrap();
            let (status, headers, rest) = match first {
                Some(head) => head,
                None => prelude.push(&whole[split..]).unwrap().unwrap(),
            };
            assert_eq!(status, StatusCode::CREATED);
            assert_eq!(headers["content-type"], "text/plain");
            let cookies: Vec<_> = headers.get_all("set-cookie").iter().collect();
            assert_eq!(cookies, ["a=1", "b=2"]);
            // The body bytes that came with the prelude's end, no more, no fewer.
            let end = whole.len() - 5;
            let expected = if split >= end {
                &whole[end..split]
            } else {
                b"hello"
            };
            assert_eq!(rest, expected, "split at {split}");
        }
    }

    #[test]
    fn a_broken_prelude_is_an_error_not_a_panic() {
        let mut p = Prelude::default();
        assert!(p.push(b"not json\0\0\0\0\0\0\0\0").is_err());
        let mut p = Prelude::default();
        assert!(p.push(b"{\"statusCode\":99999}\0\0\0\0\0\0\0\0").is_err());
        let mut p = Prelude::default();
        assert!(p.push(&vec![b' '; MAX_PRELUDE + 1]).is_err());
        // Without statusCode, 200 (as function URLs default it).
        let mut p = Prelude::default();
        let (status, _, _) = p.push(b"{}\0\0\0\0\0\0\0\0").unwrap().unwrap();
        assert_eq!(status, StatusCode::OK);
    }

    /// A stream of fixed chunks.
    struct Fixed(std::collections::VecDeque<&'static [u8]>);

    impl Chunks for Fixed {
        fn poll_chunk(&mut self, _: &mut Context<'_>) -> Poll<Option<Bytes>> {
            Poll::Ready(self.0.pop_front().map(Bytes::from_static))
        }
    }

    async fn body_of(response: Answer<Fixed>) -> Vec<u8> {
        use http_body_util::BodyExt as _;
        let body = response.into_body().collect().await.unwrap();
        body.to_bytes().to_vec()
    }

    #[tokio::test]
    async fn a_streamed_answer_is_its_prelude_then_its_body_or_a_502() {
        let prelude = HeaderValue::from_static(HTTP_INTEGRATION_CONTENT_TYPE);
        let chunks = Fixed(
            [
                &b"{\"statusCode\":201,\"cookies\":[\"a=1\"]}\0\0\0"[..],
                b"\0\0\0\0\0first ",
                b"second",
            ]
            .into(),
        );
        let response = streamed(prelude.clone(), chunks).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()["set-cookie"], "a=1");
        assert_eq!(body_of(response).await, b"first second");
        // Ended before the eight NULs; a prelude that is no JSON: both 502.
        let cut = streamed(
            prelude.clone(),
            Fixed([&b"{\"statusCode\":201}"[..]].into()),
        )
        .await;
        assert_eq!(cut.status(), StatusCode::BAD_GATEWAY);
        let bad = streamed(prelude, Fixed([&b"nope\0\0\0\0\0\0\0\0"[..]].into())).await;
        assert_eq!(bad.status(), StatusCode::BAD_GATEWAY);
        // Any other stream: a 200 of its own type, every byte relayed.
        let plain = HeaderValue::from_static("text/event-stream");
        let sse = streamed(plain, Fixed([&b"data: 1\n\n"[..], b"data: 2\n\n"].into())).await;
        assert_eq!(sse.status(), StatusCode::OK);
        assert_eq!(sse.headers()["content-type"], "text/event-stream");
        assert_eq!(body_of(sse).await, b"data: 1\n\ndata: 2\n\n");
    }

    #[test]
    fn an_answer_that_is_no_response_json_is_a_502() {
        assert_eq!(whole(b"{\"statusCode\":\"x\"}").status(), 502);
        let ok = whole(b"{\"statusCode\":404,\"body\":\"gone\"}");
        assert_eq!(ok.status(), 404);
    }
}
