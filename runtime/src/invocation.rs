//! One invocation without I/O: an adapter turns an event's bytes and its [`Context`] into an
//! [`Outcome`], which a driver then posts.
//!
//! Every shape of function is an adapter of the one [`Adapter`] trait: [`Json`] (a handler of a
//! deserialized event answering a serializable response), [`Streaming`] (a handler writing a
//! [`ResponseStream`]), and the HTTP adapters of `crate::http`. None of them knows how the
//! event was fetched or how the outcome is posted: that is the drivers' job (`crate::driver`),
//! so a new adapter is one file and a new driver (concurrent workers, say) runs every adapter.
//! Adapters hold no process-wide state: what an invocation needs travels in its `Context`.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use serde::de::DeserializeOwned;

use crate::handler::{Handler, StreamHandler};
use crate::protocol::error_type;
use crate::stream::StreamBody;
use crate::{Context, Error, ResponseStream};

/// What an invocation produced, for the driver to post.
pub(crate) enum Outcome<'a> {
    /// A whole response body (JSON), posted to `/response`.
    Response(Vec<u8>),
    /// The invocation's error, posted to `/error`.
    Failed(Error),
    /// A streamed response: the body the driver posts chunk by chunk while `producer`, the
    /// handler writing it, runs beside the post.
    Stream {
        body: StreamBody,
        producer: Pin<Box<dyn Future<Output = ()> + 'a>>,
    },
}

/// A shape of function: runs one invocation and says what to post.
pub(crate) trait Adapter {
    /// Decodes `event`, runs the handler with `ctx`, and returns what to post.
    fn invoke<'a>(
        &'a mut self,
        event: &'a [u8],
        ctx: Context,
    ) -> impl Future<Output = Outcome<'a>> + 'a;
}

/// A handler of a JSON event `E` whose serialized response is posted whole.
pub(crate) struct Json<H, E>(H, PhantomData<fn(E)>);

// Not derived: that would ask `E: Clone`.
impl<H: Clone, E> Clone for Json<H, E> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<H, E> Json<H, E> {
    pub(crate) fn new(handler: H) -> Self {
        Self(handler, PhantomData)
    }
}

impl<E: DeserializeOwned, H: Handler<E>> Adapter for Json<H, E> {
    async fn invoke<'a>(&'a mut self, event: &'a [u8], ctx: Context) -> Outcome<'a> {
        let event = match decode::<E>(event) {
            Ok(event) => event,
            Err(error) => return failed(error),
        };
        match self.0.call(event, ctx).await.and_then(|r| encode(&r)) {
            Ok(body) => Outcome::Response(body),
            Err(error) => failed(error),
        }
    }
}

/// A handler that writes its response to a [`ResponseStream`], posted as it is written.
pub(crate) struct Streaming<H, E>(H, PhantomData<fn(E)>);

// Not derived: that would ask `E: Clone`.
impl<H: Clone, E> Clone for Streaming<H, E> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<H, E> Streaming<H, E> {
    pub(crate) fn new(handler: H) -> Self {
        Self(handler, PhantomData)
    }
}

impl<E: DeserializeOwned, H: StreamHandler<E>> Adapter for Streaming<H, E> {
    async fn invoke<'a>(&'a mut self, event: &'a [u8], ctx: Context) -> Outcome<'a> {
        // An event that does not decode fails before any byte is streamed: a plain error.
        let event = match decode::<E>(event) {
            Ok(event) => event,
            Err(error) => return failed(error),
        };
        let (stream, body) = ResponseStream::new();
        let handler = &mut self.0;
        let producer = async move {
            // The runtime keeps one handle: an error after the handler dropped its own still
            // reaches the trailers.
            let tail = stream.clone();
            if let Err(error) = handler.call(event, ctx, stream).await {
                tracing::warn!("stream failed: {error}");
                tail.fail(&error).await;
            }
        };
        Outcome::Stream {
            body,
            producer: Box::pin(producer),
        }
    }
}

/// The outcome of a failed invocation, logged once here for every adapter.
pub(crate) fn failed<'a>(error: Error) -> Outcome<'a> {
    tracing::warn!("invocation failed: {error}");
    Outcome::Failed(error)
}

/// The event's JSON as the handler's event type.
///
/// JSON is UTF-8 (RFC 8259): the whole event is checked once, then parsed as text, so that
/// the parser does not check every string again (`from_slice` does: a tenth of the cost of a
/// 512 KB event, `docs/performance.md`).
pub(crate) fn decode<E: DeserializeOwned>(body: &[u8]) -> Result<E, Error> {
    let unmarshal = |why: &dyn std::fmt::Display| {
        Error::new(
            error_type::UNMARSHAL,
            format!(
                "the event does not deserialize into {}: {why}",
                std::any::type_name::<E>()
            ),
        )
    };
    let text =
        std::str::from_utf8(body).map_err(|e| unmarshal(&format_args!("not UTF-8 ({e})")))?;
    serde_json::from_str(text).map_err(|e| unmarshal(&e))
}

/// The handler's response as JSON.
pub(crate) fn encode<R: serde::Serialize>(response: &R) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(response).map_err(|e| {
        Error::new(
            error_type::MARSHAL,
            format!("the response does not serialize to JSON: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn ctx() -> Context {
        Context::for_test("id-1", Duration::from_secs(3))
    }

    fn run<'a>(future: impl Future<Output = Outcome<'a>>) -> Outcome<'a> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn json_answers_the_serialized_response() {
        let mut adapter = Json::new(|n: u32, _ctx: Context| async move { Ok(n + 1) });
        match run(adapter.invoke(b"41", ctx())) {
            Outcome::Response(body) => assert_eq!(body, b"42"),
            _ => panic!("expected a response"),
        }
    }

    #[test]
    fn an_undecodable_event_is_an_unmarshal_error_before_the_handler_runs() {
        let ran = std::cell::Cell::new(false);
        let mut adapter = Json::new(|n: u32, _ctx: Context| {
            ran.set(true);
            async move { Ok(n) }
        });
        match run(adapter.invoke(b"\"text\"", ctx())) {
            Outcome::Failed(e) => assert_eq!(e.error_type(), error_type::UNMARSHAL),
            _ => panic!("expected an error"),
        }
        assert!(!ran.get());
    }

    #[test]
    fn an_event_that_is_not_utf8_is_an_unmarshal_error_saying_so() {
        let mut adapter = Json::new(|s: String, _ctx: Context| async move { Ok(s) });
        match run(adapter.invoke(b"\"caf\xe9\"", ctx())) {
            Outcome::Failed(e) => {
                assert_eq!(e.error_type(), error_type::UNMARSHAL);
                assert!(e.message().contains("not UTF-8"), "{}", e.message());
            }
            _ => panic!("expected an error"),
        }
        match run(adapter.invoke("\"café\"".as_bytes(), ctx())) {
            Outcome::Response(body) => assert_eq!(body, "\"café\"".as_bytes()),
            _ => panic!("expected a response"),
        }
    }

    #[test]
    fn a_handler_error_is_the_outcome() {
        let mut adapter =
            Json::new(
                |_: u32, _ctx: Context| async move { Err::<u32, _>(Error::new("Nope", "no")) },
            );
        match run(adapter.invoke(b"1", ctx())) {
            Outcome::Failed(e) => assert_eq!(e.error_type(), "Nope"),
            _ => panic!("expected an error"),
        }
    }

    #[test]
    fn streaming_hands_back_the_body_without_running_the_handler() {
        let mut adapter = Streaming::new(
            |_: u32, _ctx: Context, mut out: ResponseStream| async move {
                out.send("x").await?;
                Ok(())
            },
        );
        assert!(matches!(
            run(adapter.invoke(b"1", ctx())),
            Outcome::Stream { .. }
        ));
        assert!(matches!(
            run(adapter.invoke(b"{", ctx())),
            Outcome::Failed(_)
        ));
    }
}
