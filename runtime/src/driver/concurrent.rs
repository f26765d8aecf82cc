//! Lambda Managed Instances: `AWS_LAMBDA_MAX_CONCURRENCY` = N invocations at once in one
//! process, by N workers that each run the one loop (`super::worker`) on a thread and a
//! Runtime API connection of their own.
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
//! A stop signal ends every worker's wait for `/next` (each has a slot in `crate::shutdown`'s
//! registry); each finishes its invocation in flight. An unreachable API seen by one worker
//! stops them all the same way.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::runtime::Runtime;

use super::worker::{self, Marking};
use crate::client::{Client, Unreachable};
use crate::context::FunctionSettings;
use crate::exit::Exit;
use crate::invocation::Adapter;
use crate::shutdown;

/// Serves up to `workers` invocations at once until a stop signal; returns why it ended.
/// `client` becomes the first worker's.
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
            let adapter = adapter.clone();
            let client = Client::new(client.endpoint().clone());
            let failed = &failed;
            let spawned = std::thread::Builder::new().spawn_scoped(threads, move || {
                shutdown::use_slot(slot);
                run(rt, client, adapter, function, failed);
            });
            if let Err(e) = spawned {
                tracing::error!("cannot start worker {slot} of {workers}: {e}");
                failed.store(true, Ordering::SeqCst);
                shutdown::request();
                break;
            }
        }
        run(rt, client, adapter, function, &failed);
    });
    if failed.load(Ordering::SeqCst) {
        return Exit::Failed;
    }
    tracing::info!("stop signal: every invocation in flight is posted; exiting");
    Exit::Done
}

/// One worker, until a stop signal or any worker's unreachable API.
fn run<A: Adapter>(
    rt: &Runtime,
    mut client: Client,
    mut adapter: A,
    function: &Arc<FunctionSettings>,
    failed: &AtomicBool,
) {
    let served = worker::serve(
        rt,
        &mut client,
        &mut adapter,
        function,
        &mut Marking::PerTask,
    );
    if let Err(unreachable) = served {
        give_up(&unreachable, failed);
    }
}

/// The API is unreachable from this worker: it is for all of them, so every one stops.
fn give_up(unreachable: &Unreachable, failed: &AtomicBool) {
    if !failed.swap(true, Ordering::SeqCst) {
        tracing::error!("{unreachable}");
    }
    shutdown::request();
}
