//! The classic Lambda loop: one invocation at a time, `GET /next`, the adapter, post, until a
//! stop signal.
//!
//! The client's calls block this thread (one `write` and one sleeping `read` per `/next`, see
//! `crate::client`); the tokio runtime runs only `init` and each invocation. With one invocation
//! in flight, process-wide state is safe here: the request id for log lines and the panic hook
//! (`context::set_current`) and `_X_AMZN_TRACE_ID` (`TraceEnv`).

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use tokio::runtime::Runtime;

use crate::client::{Client, Unreachable};
use crate::context::{self, Context, FunctionSettings};
use crate::endpoint::Endpoint;
use crate::exit::Exit;
use crate::invocation::{Adapter, Outcome};
use crate::protocol::error_type;
use crate::trace_env::TraceEnv;
use crate::{Error, lifecycle, panic, shutdown};

/// Runs `init`, then invocations until a stop signal; returns why the loop ended.
pub(crate) fn run<A: Adapter>(
    rt: &Runtime,
    api: &Endpoint,
    function: &Arc<FunctionSettings>,
    init: impl Future<Output = Result<A, Error>>,
) -> Exit {
    panic::install(api.clone());
    if let Err(e) = shutdown::watch() {
        let error = Error::new(
            error_type::CONFIG,
            format!("cannot listen for SIGTERM: {e}"),
        );
        return super::init_failed(Some(api), &error);
    }
    let mut adapter = match rt.block_on(init) {
        Ok(adapter) => adapter,
        Err(error) => return super::init_failed(Some(api), &error),
    };
    let mut client = Client::new(api.clone());
    // A shutdown hook needs Lambda's SIGTERM, which only comes when an extension registered.
    // Its `event/next` stays open for the process's life.
    let _extension = if lifecycle::hook_set() {
        match client.register_extension(lifecycle::INTERNAL_NAME) {
            Ok(Some(waiting)) => Some(waiting),
            Ok(None) => {
                tracing::warn!(
                    "the shutdown hook's extension was not registered: the hook runs only if SIGTERM comes"
                );
                None
            }
            Err(unreachable) => return unreachable_api(&unreachable),
        }
    } else {
        None
    };
    let mut trace_env = TraceEnv::new();
    loop {
        let event = match client.next() {
            Ok(Some(event)) => event,
            Ok(None) => {
                tracing::info!("stop signal while idle: exiting");
                lifecycle::run_hook(rt, Instant::now());
                return Exit::Done;
            }
            Err(unreachable) => return unreachable_api(&unreachable),
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
        let posted = invoke(rt, &mut client, &mut adapter, &id, &event.body, ctx);
        context::set_current(None);
        if let Err(unreachable) = posted {
            return unreachable_api(&unreachable);
        }
        if shutdown::requested() {
            tracing::info!("stop signal during an invocation: its result is posted; exiting");
            lifecycle::run_hook(rt, Instant::now());
            return Exit::Done;
        }
    }
}

/// One invocation: the adapter's outcome, posted for `id`.
fn invoke<A: Adapter>(
    rt: &Runtime,
    client: &mut Client,
    adapter: &mut A,
    id: &str,
    event: &[u8],
    ctx: Context,
) -> Result<(), Unreachable> {
    match rt.block_on(adapter.invoke(event, ctx)) {
        Outcome::Response(body) => client.respond(id, &body),
        Outcome::Failed(error) => client.fail(id, &error),
        Outcome::Stream { body, producer } => rt.block_on(async {
            let ((), posted) = tokio::join!(producer, client.respond_streaming(id, body));
            posted
        }),
    }
}

fn unreachable_api(unreachable: &Unreachable) -> Exit {
    tracing::error!("{unreachable}");
    Exit::Failed
}
