//! The body of an `InvokeWithResponseStream` answer while the function streams: each chunk of
//! the core's [`Streamed`] as a `PayloadChunk` message when it arrives, then `InvokeComplete`
//! with how the stream ended.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Bytes, Frame};
use tokio::sync::oneshot;

use crate::emulator::core::Streamed;
use crate::emulator::limits::MAX_STREAM_ERROR_DETAILS;
use crate::emulator::wire::{error_body, event_stream};

/// A streamed response as the `InvokeWithResponseStream` caller reads it.
pub(crate) struct EventStream {
    stream: Streamed,
    done: bool,
}

impl EventStream {
    pub(crate) fn new(stream: Streamed) -> Self {
        Self {
            stream,
            done: false,
        }
    }
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("done", &self.done)
            .finish()
    }
}

impl hyper::body::Body for EventStream {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.stream.data.poll_recv(cx) {
            Poll::Ready(Some(chunk)) => {
                return Poll::Ready(Some(Ok(Frame::data(event_stream::payload_chunk(&chunk)))));
            }
            // The runtime's body ended: how it ended follows at once.
            Poll::Ready(None) => {}
            // No chunk now; the stream may still have ended (a timeout, a panic posted to
            // `/error` while the runtime's body is still open).
            Poll::Pending => {}
        }
        match Pin::new(&mut self.stream.end).poll(cx) {
            Poll::Ready(end) => {
                self.done = true;
                let error = end.unwrap_or_else(|_: oneshot::error::RecvError| {
                    Some(
                        error_body(
                            crate::protocol::error_type::EXIT,
                            "the emulator dropped the stream",
                        )
                        .into(),
                    )
                });
                let complete =
                    event_stream::complete_with(error.as_deref(), MAX_STREAM_ERROR_DETAILS);
                Poll::Ready(Some(Ok(Frame::data(complete))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
