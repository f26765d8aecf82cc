//! The invocation loop: next event, handler, response or error, until SIGTERM.
//!
//! This is the Runtime API *client* side only; it knows nothing of local mode, which
//! `lib.rs` chooses instead of this loop when there is no Runtime API.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use hyper::body::Bytes;
use serde::de::DeserializeOwned;

use crate::client::{Client, Unreachable};
use crate::context::{self, Context, FunctionSettings};
use crate::endpoint::Endpoint;
use crate::handler::{Handler, StreamHandler};
use crate::protocol::error_type;
use crate::shutdown::Stop;
use crate::trace_env::TraceEnv;
use crate::{Error, ResponseStream, config, log, panic};

/// A bad setting is an init error: posted to the API when there is one, printed either way.
pub(crate) async fn config_failed(error: Error) -> i32 {
    log::init(log::Format::Text, log::Level::INFO);
    eprintln!("faas-runtime: {}", error.message());
    if let Ok(Some(endpoint)) = config::runtime_api(|key| std::env::var(key).ok()) {
        if let Err(unreachable) = Client::new(endpoint).init_error(&error).await {
            eprintln!("faas-runtime: {unreachable}");
        }
    }
    2
}

/// The Runtime API client loop; returns the process exit code.
pub(crate) async fn serve<A: Answer>(
    api: &Endpoint,
    function: &Arc<FunctionSettings>,
    init: impl Future<Output = Result<A, Error>>,
) -> i32 {
    panic::install(api.clone());
    let mut client = Client::new(api.clone());
    let mut stop = match Stop::new() {
        Ok(stop) => stop,
        Err(e) => {
            let error = Error::new(
                error_type::CONFIG,
                format!("cannot listen for SIGTERM: {e}"),
            );
            return init_failed(&mut client, error).await;
        }
    };
    let mut handler = match init.await {
        Ok(handler) => handler,
        Err(error) => return init_failed(&mut client, error).await,
    };
    let mut trace_env = TraceEnv::new();
    loop {
        let next = tokio::select! {
            biased;
            () = stop.recv() => {
                tracing::info!("stop signal while idle: exiting");
                return 0;
            }
            next = client.next() => next,
        };
        let event = match next {
            Ok(event) => event,
            Err(unreachable) => {
                eprintln!("faas-runtime: {unreachable}");
                return 1;
            }
        };
        let ctx = match Context::from_headers(&event.headers, function) {
            Ok(ctx) => ctx,
            Err(problem) => {
                tracing::error!("{problem}: the event cannot be answered and is skipped");
                continue;
            }
        };
        let id = ctx.request_id.clone();
        context::set_current(Some(&id));
        // Left in place after the invocation (nothing runs between two); replaced or removed
        // by the next one.
        trace_env.set(ctx.xray_trace_id.as_deref());
        let posted = handler.answer(&mut client, &id, &event.body, ctx).await;
        context::set_current(None);
        if let Err(unreachable) = posted {
            eprintln!("faas-runtime: {unreachable}");
            return 1;
        }
        if stop.pending() {
            tracing::info!("stop signal during an invocation: its result is posted; exiting");
            return 0;
        }
    }
}

/// How one event is handled and its result posted: [`Buffered`] or [`Streamed`].
pub(crate) trait Answer {
    /// Decodes `body`, runs the handler, posts the result for `id`.
    fn answer(
        &mut self,
        client: &mut Client,
        id: &str,
        body: &[u8],
        ctx: Context,
    ) -> impl Future<Output = Result<(), Unreachable>>;
}

/// A handler whose whole response is serialized, then posted.
pub(crate) struct Buffered<H, E>(H, PhantomData<fn(E)>);

impl<H, E> Buffered<H, E> {
    pub(crate) fn new(handler: H) -> Self {
        Self(handler, PhantomData)
    }
}

impl<E: DeserializeOwned, H: Handler<E>> Answer for Buffered<H, E> {
    async fn answer(
        &mut self,
        client: &mut Client,
        id: &str,
        body: &[u8],
        ctx: Context,
    ) -> Result<(), Unreachable> {
        let result = match decode::<E>(body) {
            Ok(event) => self.0.call(event, ctx).await.and_then(|response| {
                serde_json::to_vec(&response).map(Bytes::from).map_err(|e| {
                    Error::new(
                        error_type::MARSHAL,
                        format!("the response does not serialize to JSON: {e}"),
                    )
                })
            }),
            Err(error) => Err(error),
        };
        match result {
            Ok(body) => client.respond(id, body).await,
            Err(error) => {
                tracing::warn!("invocation failed: {error}");
                client.fail(id, &error).await
            }
        }
    }
}

/// A handler that writes its response to a [`ResponseStream`], posted as it is written.
pub(crate) struct Streamed<H, E>(H, PhantomData<fn(E)>);

impl<H, E> Streamed<H, E> {
    pub(crate) fn new(handler: H) -> Self {
        Self(handler, PhantomData)
    }
}

impl<E: DeserializeOwned, H: StreamHandler<E>> Answer for Streamed<H, E> {
    async fn answer(
        &mut self,
        client: &mut Client,
        id: &str,
        body: &[u8],
        ctx: Context,
    ) -> Result<(), Unreachable> {
        // An event that does not decode fails before any byte is streamed: a plain error.
        let event = match decode::<E>(body) {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!("invocation failed: {error}");
                return client.fail(id, &error).await;
            }
        };
        let (stream, body) = ResponseStream::new();
        let handler = &mut self.0;
        let write = async move {
            // The runtime keeps one handle: an error after the handler dropped its own still
            // reaches the trailers.
            let tail = stream.clone();
            if let Err(error) = handler.call(event, ctx, stream).await {
                tracing::warn!("stream failed: {error}");
                tail.fail(&error).await;
            }
        };
        let ((), posted) = tokio::join!(write, client.respond_streaming(id, body));
        posted
    }
}

/// The event's JSON as the handler's event type.
fn decode<E: DeserializeOwned>(body: &[u8]) -> Result<E, Error> {
    serde_json::from_slice(body).map_err(|e| {
        Error::new(
            error_type::UNMARSHAL,
            format!(
                "the event does not deserialize into {}: {e}",
                std::any::type_name::<E>()
            ),
        )
    })
}

async fn init_failed(client: &mut Client, error: Error) -> i32 {
    eprintln!("faas-runtime: init failed: {error}");
    if let Err(unreachable) = client.init_error(&error).await {
        eprintln!("faas-runtime: {unreachable}");
    }
    1
}
