//! The body of the request a service receives: the event's whole body, already decoded.
//!
//! An event carries its body in one piece (a JSON string, base64 for binary), so the body a
//! service reads is one `Bytes` handed out as a single frame: no channel, no copy. Services
//! that take any `http_body::Body` (axum's `Router`) read it as they read hyper's.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Frame, SizeHint};
use hyper::body::Bytes;

/// A whole request body, as an event carried it (base64 already decoded).
///
/// ```
/// use faas_runtime::http::Body;
///
/// let body = Body::from("{\"a\":1}");
/// assert_eq!(body.as_bytes(), b"{\"a\":1}");
/// assert!(Body::empty().as_bytes().is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body(Bytes);

impl Body {
    /// A body without bytes.
    pub fn empty() -> Self {
        Self(Bytes::new())
    }

    /// The bytes not yet read as a frame (all of them until a service polls the body).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, without a copy.
    ///
    /// ```
    /// let bytes = faas_runtime::http::Body::from(vec![1u8, 2]).into_bytes();
    /// assert_eq!(&bytes[..], [1, 2]);
    /// ```
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Self(bytes)
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes.into())
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Self(text.into())
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Self(Bytes::from_static(text.as_bytes()))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.0.is_empty() {
            return Poll::Ready(None);
        }
        Poll::Ready(Some(Ok(Frame::data(std::mem::take(&mut self.0)))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.0.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test(flavor = "current_thread")]
    async fn the_bytes_come_as_one_frame_then_the_end() {
        let mut body = Body::from("hello");
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(5));
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), "hello");
        assert!(http_body::Body::is_end_stream(&body));
        assert!(body.frame().await.is_none());
        assert!(Body::empty().frame().await.is_none());
    }
}
