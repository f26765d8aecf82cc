//! The invocation loop: next event, handler, response or error, until SIGTERM.

use std::future::Future;
use std::sync::Arc;

use hyper::body::Bytes;
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::config::{Config, FunctionSettings};
use crate::context::{self, Context};
use crate::handler::Handler;
use crate::protocol::error_type;
use crate::shutdown::Stop;
use crate::{Error, emulator, log, panic};

/// Exports the trace id for the invocation's duration, as Lambda's own runtimes do.
const TRACE_ENV: &str = "_X_AMZN_TRACE_ID";

/// Reads the configuration and picks the mode: the Runtime API client, or local mode.
pub(crate) async fn start<E, H>(init: impl Future<Output = Result<H, Error>>) -> i32
where
    E: DeserializeOwned,
    H: Handler<E>,
{
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => return config_failed(error).await,
    };
    log::init(config.log_format, config.log_level);
    match &config.runtime_api {
        Some(api) => serve(api, &config.function, init).await,
        None => emulator::local_mode(&config).await,
    }
}

/// A bad setting is an init error: posted to the API when there is one, printed either way.
async fn config_failed(error: Error) -> i32 {
    log::init(log::Format::Text, log::Level::INFO);
    eprintln!("faas-runtime: {}", error.message());
    if let Some(api) = std::env::var("AWS_LAMBDA_RUNTIME_API")
        .ok()
        .filter(|a| !a.is_empty())
    {
        if let Ok(mut client) = Client::new(&api) {
            if let Err(unreachable) = client.init_error(&error).await {
                eprintln!("faas-runtime: {unreachable}");
            }
        }
    }
    2
}

/// The Runtime API client loop; returns the process exit code.
async fn serve<E, H>(
    api: &str,
    function: &Arc<FunctionSettings>,
    init: impl Future<Output = Result<H, Error>>,
) -> i32
where
    E: DeserializeOwned,
    H: Handler<E>,
{
    panic::install(api.to_owned());
    let mut client = match Client::new(api) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("faas-runtime: {}", error.message());
            return 2;
        }
    };
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
