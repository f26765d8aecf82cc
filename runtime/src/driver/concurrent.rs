//! Lambda Managed Instances: `AWS_LAMBDA_MAX_CONCURRENCY` = N invocations at once in one
//! process, by N workers that each run the sequential loop's steps (`GET /next`, the adapter,
//! post) on a thread and a Runtime API connection of their own.
//!
//! Why threads with blocking connections, not N tasks over an async client: each worker keeps
//! the sequential path's client as it is (one `write` and one sleeping `read` per call, the
//! retry rule, the stop-signal bounds), and a worker's handler code runs on its own thread, so
//! CPU-heavy invocations use every vCPU without the handler's futures having to be `Send`.
//! The workers share the one tokio runtime (`Runtime::block_on` from several threads: whoever
//! holds the runtime's core drives the timers and sockets for all), so what `init` built (a
//! client, a pool) serves every invocation. The handler is cloned once per worker, which is
//! why the entry points ask for `Clone + Send`.
//!
//! Nothing process-wide is per invocation here: the request id and the X-Ray trace id travel
//! with each invocation's future (`context::Invocation`), and `_X_AMZN_TRACE_ID` is left unset.
//! A stop signal ends every worker's wait for `/next`; each finishes its invocation in flight.
//! A panic is reported by the panic hook to its own invocation; with `panic = "abort"` (the
//! release profile) the process ends, and Lambda fails the others in flight; with unwinding,
//! the worker catches it and goes on.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::runtime::Runtime;

use super::{context_of, invoke, unreachable_api};
use crate::client::Client;
use crate::context::{FunctionSettings, Invocation};
use crate::exit::Exit;
use crate::invocation::Adapter;
use crate::shutdown;

/// Serves up to `workers` invocations at once until a stop signal; returns why it ended.
/// `client` (already connected) becomes the first worker's.
pub(super) fn serve<A: Adapter + Clone + Send>(
    rt: &Runtime,
    client: Client,
    adapter: A,
    function: &Arc<FunctionSettings>,
    workers: usize,
) -> Exit {
    let failed = AtomicBool::new(false);
    tracing::debug!("running {workers} invocations at once");
    std::thread::scope(|threads| {
        for slot in 1..workers {
            let worker_adapter = adapter.clone();
            let client = Client::new(client.endpoint().clone());
            let failed = &failed;
            let spawned = std::thread::Builder::new()
                .name(format!("worker-{slot}"))
                .spawn_scoped(threads, move || {
                    shutdown::use_slot(slot);
                    worker(rt, client, worker_adapter, function, failed);
                });
            if let Err(e) = spawned {
                tracing::error!("cannot start worker {slot} of {workers}: {e}");
                failed.store(true, Ordering::SeqCst);
                shutdown::request();
                break;
            }
        }
        worker(rt, client, adapter, function, &failed);
    });
    if failed.load(Ordering::SeqCst) {
        return Exit::Failed;
    }
    tracing::info!("stop signal: every invocation in flight is posted; exiting");
    Exit::Done
}

/// One worker: the sequential loop without process-wide state, until a stop signal (or any
/// worker's unreachable API, which stops them all).
fn worker<A: Adapter>(
    rt: &Runtime,
    mut client: Client,
    mut adapter: A,
    function: &Arc<FunctionSettings>,
    failed: &AtomicBool,
) {
    loop {
        let event = match client.next() {
            Ok(Some(event)) => event,
            Ok(None) => return,
            Err(unreachable) => return give_up(&unreachable, failed),
        };
        let Some(ctx) = context_of(&event, function) else {
            continue;
        };
        let id = ctx.request_id.clone();
        let invocation = Invocation {
            request_id: Arc::from(id.as_str()),
            trace_id: ctx.xray_trace_id.as_deref().map(Arc::from),
        };
        let posted = std::panic::catch_unwind(AssertUnwindSafe(|| {
            invoke(
                rt,
                &mut client,
                &mut adapter,
                &invocation,
                &id,
                &event.body,
                ctx,
            )
        }));
        match posted {
            Ok(Ok(())) => {}
            Ok(Err(unreachable)) => return give_up(&unreachable, failed),
            // The hook has reported it to the invocation's caller.
            Err(_) => tracing::warn!("the invocation panicked; this worker goes on"),
        }
        if shutdown::requested() {
            return;
        }
    }
}

/// The API is unreachable from this worker: it is for all of them, so every one stops.
fn give_up(unreachable: &crate::client::Unreachable, failed: &AtomicBool) {
    if !failed.swap(true, Ordering::SeqCst) {
        unreachable_api(unreachable);
    }
    shutdown::request();
}
