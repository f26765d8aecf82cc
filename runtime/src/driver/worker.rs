//! The loop every driver runs, once (classic Lambda) or on each of N threads (Managed
//! Instances): `GET /next`, the adapter, post, until a stop signal.
//!
//! The client's calls block the calling thread (one `write` and one sleeping `read` per
//! `/next`, see `crate::client`); the tokio runtime runs only each invocation's futures
//! (`block_on`). How the invocation in flight is made known to its code ([`Marking`]) is the
//! one difference between the drivers, and a value here, not a type: the loop is compiled
//! once for both (only the adapter's future is driven two ways: bare, or in the task-local).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use tokio::runtime::Runtime;

use crate::client::{Client, Event, Unreachable};
use crate::context::{self, Context, FunctionSettings, Invocation};
use crate::invocation::{Adapter, Outcome};
use crate::shutdown;
use crate::stream::StreamBody;
use crate::trace_env::TraceEnv;

/// How a worker makes the invocation in flight known to the code it runs.
pub(super) enum Marking {
    /// Process-wide, for one invocation at a time: the request id for log lines and the panic
    /// hook (`context::set_current`) and `_X_AMZN_TRACE_ID` (`TraceEnv`).
    Process(TraceEnv),
    /// Per invocation future ([`Invocation`], a task-local): many run at once. A panic that
    /// unwinds is caught here, after the hook has posted it, and the worker goes on.
    PerTask,
}

/// Serves invocations one after another until a stop signal (`Ok`) or an unreachable API.
pub(super) fn serve<A: Adapter>(
    rt: &Runtime,
    client: &mut Client,
    adapter: &mut A,
    function: &Arc<FunctionSettings>,
    marking: &mut Marking,
) -> Result<(), Unreachable> {
    loop {
        let Some(event) = client.next()? else {
            if let Marking::Process(_) = marking {
                tracing::info!("stop signal while idle: exiting");
            }
            return Ok(());
        };
        let Some(ctx) = context_of(&event, function) else {
            continue;
        };
        let id = ctx.request_id.clone();
        let posted = match marking {
            Marking::Process(trace_env) => {
                context::set_current(Some(&id));
                // Left in place after the invocation (nothing runs between two); replaced or
                // removed by the next one.
                trace_env.set(ctx.xray_trace_id.as_deref());
                let posted = invoke(rt, client, adapter, None, &id, &event.body, ctx);
                context::set_current(None);
                posted
            }
            Marking::PerTask => invoke_marked(rt, client, adapter, &id, &event.body, ctx),
        };
        posted?;
        if shutdown::requested() {
            if let Marking::Process(_) = marking {
                tracing::info!("stop signal during an invocation: its result is posted; exiting");
            }
            return Ok(());
        }
    }
}

/// [`invoke`] as its own invocation's code (the concurrent driver); a panic that unwinds is
/// caught.
fn invoke_marked<A: Adapter>(
    rt: &Runtime,
    client: &mut Client,
    adapter: &mut A,
    id: &str,
    event: &[u8],
    ctx: Context,
) -> Result<(), Unreachable> {
    let invocation = Invocation {
        request_id: Arc::from(id),
        trace_id: ctx.xray_trace_id.as_deref().map(Arc::from),
    };
    let run = || invoke(rt, client, adapter, Some(invocation), id, event, ctx);
    std::panic::catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| {
        tracing::warn!("the invocation panicked (its error is posted); going on");
        Ok(())
    })
}

/// The context of an event, or `None` (logged) when it cannot be answered.
fn context_of(event: &Event, function: &Arc<FunctionSettings>) -> Option<Context> {
    Context::from_headers(&event.headers, function)
        .inspect_err(|problem| {
            tracing::error!("{problem}: the event cannot be answered and is skipped");
        })
        .ok()
}

/// One invocation: the adapter's outcome, posted for `id`; its futures run as `invocation`'s
/// code when there is one.
fn invoke<A: Adapter>(
    rt: &Runtime,
    client: &mut Client,
    adapter: &mut A,
    invocation: Option<Invocation>,
    id: &str,
    event: &[u8],
    ctx: Context,
) -> Result<(), Unreachable> {
    // Without an invocation to mark, the futures run as they are: the sequential path pays
    // nothing for the concurrent one.
    let outcome = match &invocation {
        None => rt.block_on(adapter.invoke(event, ctx)),
        Some(invocation) => rt.block_on(scoped(invocation, adapter.invoke(event, ctx))),
    };
    match outcome {
        Outcome::Response(body) => client.respond(id, &body),
        Outcome::Failed(error) => client.fail(id, &error),
        Outcome::Stream { body, producer } => {
            let posted = stream(client, id, body, producer);
            match &invocation {
                None => rt.block_on(posted),
                Some(invocation) => rt.block_on(scoped(invocation, posted)),
            }
        }
    }
}

/// Posts a streamed response while its producer writes it (not generic: compiled once).
async fn stream(
    client: &mut Client,
    id: &str,
    body: StreamBody,
    producer: Pin<Box<dyn Future<Output = ()> + '_>>,
) -> Result<(), Unreachable> {
    let ((), posted) = tokio::join!(producer, client.respond_streaming(id, body));
    posted
}

/// `future`, polled as `invocation`'s code (the task-local is set for each poll, so tasks the
/// future spawns do not inherit it).
async fn scoped<F: Future>(invocation: &Invocation, future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(move |cx| invocation.sync_scope(|| future.as_mut().poll(cx))).await
}
