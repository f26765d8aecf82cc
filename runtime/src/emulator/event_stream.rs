//! AWS's event-stream framing (`application/vnd.amazon.eventstream`), the body of Lambda's
//! `InvokeWithResponseStream` answer: each chunk of the function's stream is a `PayloadChunk`
//! message, and the stream ends with one `InvokeComplete` message that carries the function's
//! error, if any. AWS SDKs read exactly this; the framing is a prelude (total and header
//! lengths, CRC32), string headers, the payload, and a CRC32 of the whole message.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Bytes, Frame};
use tokio::sync::oneshot;

use super::sandbox::Streamed;

/// A streamed response as the `InvokeWithResponseStream` caller reads it: a `PayloadChunk`
/// per chunk as it arrives, then `InvokeComplete`. Holds a guard (the connection's busy mark)
/// for as long as it streams.
pub(crate) struct EventStream {
    stream: Streamed,
    done: bool,
    _hold: Option<Box<dyn Send + Sync>>,
}

impl EventStream {
    pub(crate) fn new(stream: Streamed) -> Self {
        Self {
            stream,
            done: false,
            _hold: None,
        }
    }

    /// Keeps `guard` alive until the stream ends.
    pub(crate) fn hold(&mut self, guard: Box<dyn Send + Sync>) {
        self._hold = Some(guard);
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
                return Poll::Ready(Some(Ok(Frame::data(payload_chunk(&chunk)))));
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
                        super::http::error_body(
                            crate::protocol::error_type::EXIT,
                            "the emulator dropped the stream",
                        )
                        .into(),
                    )
                });
                Poll::Ready(Some(Ok(Frame::data(complete_with(error.as_deref())))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The whole event stream of an answer that was not streamed: the buffered response as one
/// `PayloadChunk`, or only `InvokeComplete` with the error.
pub(crate) fn whole(response: Result<&[u8], &[u8]>) -> Bytes {
    match response {
        Ok(body) => {
            let mut all = payload_chunk(body).to_vec();
            all.extend_from_slice(&invoke_complete(None));
            all.into()
        }
        Err(error) => complete_with(Some(error)),
    }
}

/// `InvokeComplete` for an error body (the runtime's JSON), its `errorType` as `ErrorCode`.
fn complete_with(error: Option<&[u8]>) -> Bytes {
    let Some(body) = error else {
        return invoke_complete(None);
    };
    let code = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("errorType")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| crate::protocol::error_type::UNHANDLED.to_owned());
    invoke_complete(Some((&code, &String::from_utf8_lossy(body))))
}

/// A `PayloadChunk` event carrying `chunk` as it is.
pub(crate) fn payload_chunk(chunk: &[u8]) -> Bytes {
    message(
        &[
            (":event-type", "PayloadChunk"),
            (":content-type", "application/octet-stream"),
            (":message-type", "event"),
        ],
        chunk,
    )
}

/// The closing `InvokeComplete` event: `{}` after a stream that succeeded, or the error's code
/// and details (`ErrorCode` is the function's `errorType`, `ErrorDetails` its JSON body).
pub(crate) fn invoke_complete(error: Option<(&str, &str)>) -> Bytes {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Complete<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        error_code: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error_details: Option<&'a str>,
        log_result: &'a str,
    }
    let body = serde_json::to_vec(&Complete {
        error_code: error.map(|e| e.0),
        error_details: error.map(|e| e.1),
        log_result: "",
    })
    .unwrap_or_default();
    message(
        &[
            (":event-type", "InvokeComplete"),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        &body,
    )
}

/// One message: prelude, headers (all of type string, 7), payload, message CRC.
fn message(headers: &[(&str, &str)], payload: &[u8]) -> Bytes {
    let mut encoded_headers = Vec::new();
    for (name, value) in headers {
        encoded_headers.push(name.len() as u8);
        encoded_headers.extend_from_slice(name.as_bytes());
        encoded_headers.push(7);
        encoded_headers.extend_from_slice(&(value.len() as u16).to_be_bytes());
        encoded_headers.extend_from_slice(value.as_bytes());
    }
    let total = 12 + encoded_headers.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(encoded_headers.len() as u32).to_be_bytes());
    let prelude_crc = crc32(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&encoded_headers);
    out.extend_from_slice(payload);
    let message_crc = crc32(&out);
    out.extend_from_slice(&message_crc.to_be_bytes());
    out.into()
}

/// CRC-32 (IEEE 802.3, as zlib's), bit by bit: messages are small and few.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn a_message_frames_its_headers_and_payload() {
        let m = payload_chunk(b"hi");
        let total = u32::from_be_bytes(m[0..4].try_into().unwrap()) as usize;
        let headers = u32::from_be_bytes(m[4..8].try_into().unwrap()) as usize;
        assert_eq!(total, m.len());
        assert_eq!(
            u32::from_be_bytes(m[8..12].try_into().unwrap()),
            crc32(&m[..8])
        );
        assert_eq!(&m[12 + headers..total - 4], b"hi");
        assert_eq!(
            u32::from_be_bytes(m[total - 4..].try_into().unwrap()),
            crc32(&m[..total - 4])
        );
        assert!(
            m[12..12 + headers]
                .windows(12)
                .any(|w| w == b"PayloadChunk")
        );
    }

    #[test]
    fn invoke_complete_carries_the_error() {
        let m = invoke_complete(Some(("TokenLimit", "{\"errorType\":\"TokenLimit\"}")));
        let text = String::from_utf8_lossy(&m);
        assert!(text.contains(r#""ErrorCode":"TokenLimit""#), "{text}");
        let ok = invoke_complete(None);
        assert!(String::from_utf8_lossy(&ok).contains(r#"{"LogResult":""}"#));
    }
}
