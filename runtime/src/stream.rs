//! A streamed response: the handler writes chunks and the runtime posts each one to the Runtime
//! API as it comes, over the invocation's own keep-alive connection.
//!
//! Lambda's response streaming (function URLs with `RESPONSE_STREAM`, `InvokeWithResponseStream`)
//! takes `POST /invocation/{id}/response` with `Lambda-Runtime-Function-Response-Mode:
//! streaming` and a chunked body; a failure after the first bytes cannot change the status any
//! more, so it travels in two HTTP trailers, the error type and the base64 of the error's JSON.
//! The channel between handler and connection holds one chunk: a handler that produces faster
//! than the connection sends waits, and a chunk costs no allocation beyond its own bytes.
//! The request starts with the first chunk (or the end), so a handler can still choose the
//! stream's `Content-Type` until then: Lambda hands it to the caller (`InvokeWithResponseStream`'s
//! `ResponseStreamContentType`, a function URL's `Content-Type`).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::HeaderMap;
use hyper::body::{Bytes, Frame};
use hyper::header::HeaderValue;
use tokio::sync::mpsc;

use crate::Error;
use crate::protocol::{DEFAULT_STREAM_CONTENT_TYPE, error_type, header};

/// The writing end of a streamed response, handed to a [`crate::run_streaming`] handler.
///
/// The stream's content type is `application/octet-stream` unless the handler sets another
/// with [`ResponseStream::set_content_type`] before its first chunk.
///
/// ```no_run
/// use faas_runtime::{Context, Error, ResponseStream};
///
/// async fn count(to: u32, _ctx: Context, mut out: ResponseStream) -> Result<(), Error> {
///     for i in 1..=to {
///         out.send(format!("{i}\n")).await?;
///     }
///     Ok(())
/// }
/// # fn _main() {
/// faas_runtime::run_streaming(count)
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ResponseStream {
    sender: mpsc::Sender<Piece>,
    sent: usize,
}

/// What goes from a [`ResponseStream`] to the connection, in order.
#[derive(Debug)]
enum Piece {
    /// The stream's content type; only as the first piece.
    ContentType(HeaderValue),
    /// A chunk, or the error trailers.
    Frame(Frame<Bytes>),
}

/// The request body a [`ResponseStream`] feeds; it ends when every handle is dropped.
#[derive(Debug)]
pub(crate) struct StreamBody {
    pieces: mpsc::Receiver<Piece>,
    /// The first frame, received while waiting for the content type.
    first: Option<Frame<Bytes>>,
}

impl StreamBody {
    /// The stream's content type: waits for the handler's first piece (a content type, a
    /// chunk, or the end of the stream), since the request's headers go before its body.
    pub(crate) async fn content_type(&mut self) -> HeaderValue {
        match self.pieces.recv().await {
            Some(Piece::ContentType(value)) => return value,
            Some(Piece::Frame(frame)) => self.first = Some(frame),
            None => {}
        }
        HeaderValue::from_static(DEFAULT_STREAM_CONTENT_TYPE)
    }
}

impl hyper::body::Body for StreamBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(frame) = self.first.take() {
            return Poll::Ready(Some(Ok(frame)));
        }
        loop {
            match std::task::ready!(self.pieces.poll_recv(cx)) {
                Some(Piece::Frame(frame)) => return Poll::Ready(Some(Ok(frame))),
                // A clone set it after another clone's first chunk: the headers are gone.
                Some(Piece::ContentType(value)) => {
                    tracing::warn!("content type {value:?} set after the stream started; ignored");
                }
                None => return Poll::Ready(None),
            }
        }
    }
}

impl ResponseStream {
    /// A stream and the request body it feeds; the channel holds one chunk.
    pub(crate) fn new() -> (Self, StreamBody) {
        let (sender, pieces) = mpsc::channel(1);
        let body = StreamBody {
            pieces,
            first: None,
        };
        (Self { sender, sent: 0 }, body)
    }

    /// Sets the stream's `Content-Type` (`text/event-stream`, `application/x-ndjson`, ...),
    /// which Lambda passes to the caller; `application/octet-stream` if never set. Only before
    /// the first chunk: the request's headers go with it.
    ///
    /// ```no_run
    /// # async fn f(mut out: faas_runtime::ResponseStream) -> Result<(), faas_runtime::Error> {
    /// out.set_content_type("text/event-stream").await?;
    /// out.send("data: hello\n\n").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// Fails (`Runtime.InvalidContentType`) for a value that is no header value, or once this
    /// handle has sent a chunk; (`Runtime.StreamClosed`) as [`ResponseStream::send`].
    pub async fn set_content_type(&mut self, content_type: &str) -> Result<(), Error> {
        let invalid = |why: String| Error::new(error_type::INVALID_CONTENT_TYPE, why);
        if self.sent > 0 {
            return Err(invalid(format!(
                "content type {content_type:?} set after {} bytes were streamed",
                self.sent
            )));
        }
        let value = HeaderValue::from_str(content_type)
            .map_err(|_| invalid(format!("{content_type:?} is no HTTP header value")))?;
        self.sender
            .send(Piece::ContentType(value))
            .await
            .map_err(|_| self.closed())
    }

    /// Sends one chunk to the caller; waits while the previous one is still being written.
    /// A clone writes to the same stream (e.g. from a task); the stream ends when the handler
    /// has returned and every clone is dropped.
    /// Fails (`Runtime.StreamClosed`) once the Runtime API stopped reading: the caller is gone
    /// or the stream went over Lambda's limit; the handler should then return.
    pub async fn send(&mut self, chunk: impl Into<Bytes>) -> Result<(), Error> {
        let chunk = chunk.into();
        if chunk.is_empty() {
            // An empty chunk would end a chunked body early.
            return Ok(());
        }
        let len = chunk.len();
        self.sender
            .send(Piece::Frame(Frame::data(chunk)))
            .await
            .map_err(|_| self.closed())?;
        self.sent += len;
        Ok(())
    }

    fn closed(&self) -> Error {
        Error::new(
            error_type::STREAM_CLOSED,
            format!(
                "the Runtime API stopped reading the response stream after {} bytes",
                self.sent
            ),
        )
    }

    /// Bytes sent so far.
    ///
    /// ```no_run
    /// # async fn f(mut out: faas_runtime::ResponseStream) -> Result<(), faas_runtime::Error> {
    /// out.send("abc").await?;
    /// assert_eq!(out.bytes_sent(), 3);
    /// # Ok(()) }
    /// ```
    pub fn bytes_sent(&self) -> usize {
        self.sent
    }

    /// Ends the stream with `error`, in the trailers Lambda reads after a streamed body.
    pub(crate) async fn fail(self, error: &Error) {
        let mut trailers = HeaderMap::new();
        let (Ok(kind), Ok(body)) = (
            HeaderValue::from_str(error.error_type()),
            HeaderValue::from_str(&crate::base64::encode(&error.to_json())),
        ) else {
            // An errorType that is no header value: end the body without trailers rather
            // than send a half-formed error.
            tracing::error!("cannot put errorType {:?} in a trailer", error.error_type());
            return;
        };
        trailers.insert(header::FUNCTION_ERROR_TYPE, kind);
        trailers.insert(header::FUNCTION_ERROR_BODY, body);
        let trailers = Piece::Frame(Frame::trailers(trailers));
        if self.sender.send(trailers).await.is_err() {
            tracing::warn!("the stream's error could not be sent: the Runtime API stopped reading");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test(flavor = "current_thread")]
    async fn chunks_then_error_trailers() {
        let (mut stream, mut body) = ResponseStream::new();
        let writer = async move {
            stream.send("one").await.unwrap();
            stream.send("").await.unwrap();
            stream.send(String::from("two")).await.unwrap();
            assert_eq!(stream.bytes_sent(), 6);
            stream.fail(&Error::new("Broken", "mid-stream")).await;
        };
        let reader = async {
            let mut data = Vec::new();
            let mut trailers = None;
            while let Some(frame) = body.frame().await {
                let frame = frame.unwrap();
                match frame.into_data() {
                    Ok(chunk) => data.push(chunk),
                    Err(frame) => trailers = frame.into_trailers().ok(),
                }
            }
            (data, trailers.unwrap())
        };
        let ((), (data, trailers)) = tokio::join!(writer, reader);
        assert_eq!(data, ["one", "two"]);
        // Nothing set: the default, and the first chunk (received while waiting) comes first.
        assert_eq!(trailers[header::FUNCTION_ERROR_TYPE], "Broken");
        assert_eq!(
            trailers[header::FUNCTION_ERROR_BODY].to_str().unwrap(),
            crate::base64::encode(&Error::new("Broken", "mid-stream").to_json())
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_content_type_goes_first_and_only_before_the_first_chunk() {
        let (mut stream, mut body) = ResponseStream::new();
        let mut clone = stream.clone();
        let writer = async move {
            let e = stream.set_content_type("bad\nvalue").await.unwrap_err();
            assert_eq!(e.error_type(), error_type::INVALID_CONTENT_TYPE);
            stream.set_content_type("text/event-stream").await.unwrap();
            stream.send("data: 1\n\n").await.unwrap();
            let e = stream.set_content_type("text/plain").await.unwrap_err();
            assert_eq!(e.error_type(), error_type::INVALID_CONTENT_TYPE);
            // A clone that has sent nothing may still try: ignored, not in the body.
            clone.set_content_type("text/plain").await.unwrap();
            clone.send("data: 2\n\n").await.unwrap();
        };
        let reader = async {
            let content_type = body.content_type().await;
            let mut data = Vec::new();
            while let Some(frame) = body.frame().await {
                data.push(frame.unwrap().into_data().unwrap());
            }
            (content_type, data)
        };
        let ((), (content_type, data)) = tokio::join!(writer, reader);
        assert_eq!(content_type, "text/event-stream");
        assert_eq!(data, ["data: 1\n\n", "data: 2\n\n"]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn without_a_content_type_the_default_and_the_first_chunk_are_kept() {
        let (mut stream, mut body) = ResponseStream::new();
        let writer = async move { stream.send("x").await.unwrap() };
        let reader = async {
            let content_type = body.content_type().await;
            let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
            (content_type, first, body.frame().await.is_none())
        };
        let ((), (content_type, first, ended)) = tokio::join!(writer, reader);
        assert_eq!(content_type, DEFAULT_STREAM_CONTENT_TYPE);
        assert_eq!(first, "x");
        assert!(ended);
        // A stream that ends before any piece: the default, and an empty body.
        let (stream, mut body) = ResponseStream::new();
        drop(stream);
        assert_eq!(body.content_type().await, DEFAULT_STREAM_CONTENT_TYPE);
        assert!(body.frame().await.is_none());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_closed_stream_is_an_error_for_the_handler() {
        let (mut stream, body) = ResponseStream::new();
        drop(body);
        let e = stream.send("x").await.unwrap_err();
        assert_eq!(e.error_type(), error_type::STREAM_CLOSED);
    }
}
