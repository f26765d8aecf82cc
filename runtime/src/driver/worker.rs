//! The loop every driver runs, once (classic Lambda) or as each of N workers on the one
//! thread (Managed Instances): `GET /next`, the adapter, post, until a stop signal.
//!
//! The loop is a future whichever the client's transport (`crate::client`): on the blocking
//! one, its calls block the thread (one `write` and one sleeping `read` per `/next`) and never
//! yield; on the reactor one, a worker waiting for its event lets the others run. How the
//! invocation in flight is made known to its code ([`Marking`]) is the other difference
//! between the drivers, and a value here, not a type: the loop is compiled once for both
//! (only the adapter's future is driven two ways: bare, or in the task-local).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

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
pub(super) async fn serve<A: Adapter>(
    client: &mut Client,
    adapter: &mut A,
    function: &Arc<FunctionSettings>,
    marking: &mut Marking,
) -> Result<(), Unreachable> {
    loop {
        let Some(event) = client.next().await? else {
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
                let posted = invoke(client, adapter, &id, &event.body, ctx).await;
                context::set_current(None);
                posted
            }
            Marking::PerTask => invoke_marked(client, adapter, &id, &event.body, ctx).await,
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
async fn invoke_marked<A: Adapter>(
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
    // Pinned where it is made: the invocation's future is large, and moving it costs.
    let posted = std::pin::pin!(invoke(client, adapter, id, event, ctx));
    let posted = scoped(&invocation, posted).await;
    posted.unwrap_or_else(|Panicked| {
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

/// One invocation: the adapter's outcome, posted for `id`.
async fn invoke<A: Adapter>(
    client: &mut Client,
    adapter: &mut A,
    id: &str,
    event: &[u8],
    ctx: Context,
) -> Result<(), Unreachable> {
    match adapter.invoke(event, ctx).await {
        Outcome::Response(body) => client.respond(id, &body).await,
        Outcome::Failed(error) => client.fail(id, &error).await,
        Outcome::Stream { body, producer } => stream(client, id, body, producer).await,
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

/// The invocation's code panicked (and the panic hook has posted it).
struct Panicked;

/// `future`, polled as `invocation`'s code (the task-local is set for each poll, so tasks the
/// future spawns do not inherit it); a panic that unwinds out of a poll ends it.
async fn scoped<F: Future>(
    invocation: &Invocation,
    mut future: Pin<&mut F>,
) -> Result<F::Output, Panicked> {
    std::future::poll_fn(move |cx| {
        let poll = || invocation.sync_scope(|| future.as_mut().poll(cx));
        match std::panic::catch_unwind(AssertUnwindSafe(poll)) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(Panicked)),
        }
    })
    .await
}
