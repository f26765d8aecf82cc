//! The invocation loop: next event, handler, response or error, until SIGTERM.
//!
//! This is the Runtime API *client* side only; it knows nothing of local mode, which
//! `lib.rs` chooses instead of this loop when there is no Runtime API.

use std::future::Future;
use std::sync::Arc;

use hyper::body::Bytes;
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::context::{self, Context, FunctionSettings};
use crate::endpoint::Endpoint;
use crate::handler::Handler;
use crate::protocol::error_type;
use crate::shutdown::Stop;
use crate::{Error, config, log, panic};

/// Exports the trace id for the invocation's duration, as Lambda's own runtimes do.
const TRACE_ENV: &str = "_X_AMZN_TRACE_ID";

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
pub(crate) async fn serve<E, H>(
    api: &Endpoint,
    function: &Arc<FunctionSettings>,
    init: impl Future<Output = Result<H, Error>>,
) -> i32
where
    E: DeserializeOwned,
    H: Handler<E>,
{
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
        set_trace_env(ctx.xray_trace_id.as_deref());
        let posted = match invoke(&mut handler, &event.body, ctx).await {
            Ok(body) => client.respond(&id, body).await,
            Err(error) => {
                tracing::warn!("invocation failed: {error}");
                client.fail(&id, &error).await
            }
        };
        set_trace_env(None);
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

/// Runs the handler on one event: decode, call, encode.
async fn invoke<E, H>(handler: &mut H, body: &[u8], ctx: Context) -> Result<Bytes, Error>
where
    E: DeserializeOwned,
    H: Handler<E>,
{
    let event: E = serde_json::from_slice(body).map_err(|e| {
        Error::new(
            error_type::UNMARSHAL,
            format!(
                "the event does not deserialize into {}: {e}",
                std::any::type_name::<E>()
            ),
        )
    })?;
    let response = handler.call(event, ctx).await?;
    serde_json::to_vec(&response).map(Bytes::from).map_err(|e| {
        Error::new(
            error_type::MARSHAL,
            format!("the response does not serialize to JSON: {e}"),
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

fn set_trace_env(trace_id: Option<&str>) {
    // SAFETY: the runtime is single-threaded (a current-thread tokio runtime, no worker
    // threads), and this runs between awaits, so no other thread reads the environment now.
    unsafe {
        match trace_id {
            Some(id) => std::env::set_var(TRACE_ENV, id),
            None => std::env::remove_var(TRACE_ENV),
        }
    }
}
