//! The invocation loop: next event, handler, response or error, until SIGTERM.
//!
//! This is the Runtime API *client* side only; it knows nothing of local mode, which
//! `lib.rs` chooses instead of this loop when there is no Runtime API.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use tokio::runtime::Runtime;

use crate::client::{Client, Unreachable};
use crate::context::{self, Context, FunctionSettings};
use crate::endpoint::Endpoint;
use crate::handler::{Handler, StreamHandler};
use crate::protocol::error_type;
use crate::shutdown;
use crate::trace_env::TraceEnv;
use crate::{Error, ResponseStream, config, log, panic};

/// A bad setting is an init error: posted to the API when there is one, printed either way.
pub(crate) fn config_failed(error: Error) -> i32 {
    log::init(log::Format::Text, log::Level::INFO);
    eprintln!("faas-runtime: {}", error.message());
    if let Ok(Some(endpoint)) = config::runtime_api(|key| std::env::var(key).ok()) {
        if let Err(unreachable) = Client::new(endpoint).init_error(&error) {
            eprintln!("faas-runtime: {unreachable}");
        }
    }
    2
}

/// The Runtime API client loop; returns the process exit code. The client's calls block this
/// thread; `rt` runs `init` and each handler.
pub(crate) fn serve<A: Answer>(
    rt: &Runtime,
    api: &Endpoint,
    function: &Arc<FunctionSettings>,
    init: impl Future<Output = Result<A, Error>>,
) -> i32 {
    panic::install(api.clone());
    let mut client = Client::new(api.clone());
    if let Err(e) = shutdown::watch() {
        let error = Error::new(
            error_type::CONFIG,
            format!("cannot listen for SIGTERM: {e}"),
        );
        return init_failed(&mut client, error);
    }
    let mut handler = match rt.block_on(init) {
        Ok(handler) => handler,
        Err(error) => return init_failed(&mut client, error),
    };
    let mut trace_env = TraceEnv::new();
    loop {
        let event = match client.next() {
            Ok(Some(event)) => event,
            Ok(None) => {
                tracing::info!("stop signal while idle: exiting");
                return 0;
            }
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
        let posted = handler.answer(rt, &mut client, &id, &event.body, ctx);
        context::set_current(None);
        if let Err(unreachable) = posted {
            eprintln!("faas-runtime: {unreachable}");
            return 1;
        }
        if shutdown::requested() {
            tracing::info!("stop signal during an invocation: its result is posted; exiting");
            return 0;
        }
    }
}

/// How one event is handled and its result posted: [`Buffered`] or [`Streamed`].
pub(crate) trait Answer {
    /// Decodes `body`, runs the handler on `rt`, posts the result for `id`.
    fn answer(
        &mut self,
        rt: &Runtime,
        client: &mut Client,
        id: &str,
        body: &[u8],
        ctx: Context,
    ) -> Result<(), Unreachable>;
}

/// A handler whose whole response is serialized, then posted.
pub(crate) struct Buffered<H, E>(H, PhantomData<fn(E)>);

impl<H, E> Buffered<H, E> {
    pub(crate) fn new(handler: H) -> Self {
        Self(handler, PhantomData)
    }
}

impl<E: DeserializeOwned, H: Handler<E>> Answer for Buffered<H, E> {
    fn answer(
        &mut self,
        rt: &Runtime,
        client: &mut Client,
        id: &str,
        body: &[u8],
        ctx: Context,
    ) -> Result<(), Unreachable> {
        let result = match decode::<E>(body) {
            Ok(event) => rt.block_on(self.0.call(event, ctx)).and_then(|response| {
                serde_json::to_vec(&response).map_err(|e| {
                    Error::new(
                        error_type::MARSHAL,
                        format!("the response does not serialize to JSON: {e}"),
                    )
                })
            }),
            Err(error) => Err(error),
        };
        match result {
            Ok(body) => client.respond(id, &body),
            Err(error) => {
                tracing::warn!("invocation failed: {error}");
                client.fail(id, &error)
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
    fn answer(
        &mut self,
        rt: &Runtime,
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
                return client.fail(id, &error);
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
        rt.block_on(async {
            let ((), posted) = tokio::join!(write, client.respond_streaming(id, body));
            posted
        })
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

fn init_failed(client: &mut Client, error: Error) -> i32 {
    eprintln!("faas-runtime: init failed: {error}");
    if let Err(unreachable) = client.init_error(&error) {
        eprintln!("faas-runtime: {unreachable}");
    }
    1
}
