//! A streamed response: the handler writes chunks and the runtime posts each one to the Runtime
//! API as it comes, over the invocation's own keep-alive connection.
//!
//! Lambda's response streaming (function URLs with `RESPONSE_STREAM`, `InvokeWithResponseStream`)
//! takes `POST /invocation/{id}/response` with `Lambda-Runtime-Function-Response-Mode:
//! streaming` and a chunked body; a failure after the first bytes cannot change the status any
//! more, so it travels in two HTTP trailers, the error type and the base64 of the error's JSON.
//! The channel between handler and connection holds one chunk: a handler that produces faster
//! than the connection sends waits, and a chunk costs no allocation beyond its own bytes.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::HeaderMap;
use hyper::body::{Bytes, Frame};
use hyper::header::HeaderValue;
use tokio::sync::mpsc;

use crate::Error;
use crate::protocol::{error_type, header};

/// The writing end of a streamed response, handed to a [`crate::run_streaming`] handler.
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
    sender: mpsc::Sender<Frame<Bytes>>,
    sent: usize,
}

/// The request body a [`ResponseStream`] feeds; it ends when every handle is dropped.
#[derive(Debug)]
pub(crate) struct StreamBody(mpsc::Receiver<Frame<Bytes>>);

impl hyper::body::Body for StreamBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|frame| frame.map(Ok))
    }
}

impl ResponseStream {
    /// A stream and the request body it feeds; the channel holds one chunk.
    pub(crate) fn new() -> (Self, StreamBody) {
        let (sender, receiver) = mpsc::channel(1);
        (Self { sender, sent: 0 }, StreamBody(receiver))
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
        self.sender.send(Frame::data(chunk)).await.map_err(|_| {
            Error::new(
                error_type::STREAM_CLOSED,
                format!(
                    "the Runtime API stopped reading the response stream after {} bytes",
                    self.sent
                ),
            )
        })?;
        self.sent += len;
        Ok(())
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
            HeaderValue::from_str(&base64(&error.to_json())),
        ) else {
            // An errorType that is no header value: end the body without trailers rather
            // than send a half-formed error.
            tracing::error!("cannot put errorType {:?} in a trailer", error.error_type());
            return;
        };
        trailers.insert(header::FUNCTION_ERROR_TYPE, kind);
        trailers.insert(header::FUNCTION_ERROR_BODY, body);
        if self.sender.send(Frame::trailers(trailers)).await.is_err() {
            tracing::warn!("the stream's error could not be sent: the Runtime API stopped reading");
        }
    }
}

/// Standard base64 with padding (RFC 4648 §4), as Lambda decodes the error trailer.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
        }
    }

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
        assert_eq!(trailers[header::FUNCTION_ERROR_TYPE], "Broken");
        assert_eq!(
            trailers[header::FUNCTION_ERROR_BODY].to_str().unwrap(),
            base64(&Error::new("Broken", "mid-stream").to_json())
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_closed_stream_is_an_error_for_the_handler() {
        let (mut stream, body) = ResponseStream::new();
        drop(body);
        let e = stream.send("x").await.unwrap_err();
        assert_eq!(e.error_type(), error_type::STREAM_CLOSED);
    }
}
