//! Lambda Managed Instances: `AWS_LAMBDA_MAX_CONCURRENCY` = N invocations at once in one
//! process, by N workers that each run the one loop (`super::worker`) with a Runtime API
//! connection of their own (the client's reactor transport), as futures on a tokio runtime.
//!
//! One thread per CPU the process may use (`available_parallelism`, which reads the cgroup's
//! quota), at most one per worker; each thread has a current-thread runtime of its own and
//! runs its share of the workers. On one vCPU that is the main thread alone: a worker's wait
//! for its event is a task switch, not a thread switch, and the process keeps one stack and
//! one allocator cache. With more, CPU-heavy invocations use every vCPU, and a wake-up stays
//! on the thread whose runtime registered the socket. The main thread's runtime is the one
//! `init` ran on: what it built (a client, a pool) serves every thread's invocations; a
//! socket it opened is driven by the main thread's runtime, wherever it is used. Measured in
//! docs/performance.md ("Managed Instances").
//!
//! The handler is cloned once per worker and moved to its thread (`Clone + Send`); its futures
//! need not be `Send` (each stays on its thread). The workers of a thread are polled as one
//! future ([`Workers`]), each woken on its own, so a wake-up costs one worker's poll whatever
//! N is; no task is spawned, so the handler need not be `'static`.
//!
//! Nothing process-wide is per invocation here: the request id and the X-Ray trace id travel
//! with each invocation's future (`context::Invocation`), and `_X_AMZN_TRACE_ID` is left unset.
//! A stop signal ends every worker's wait for `/next` ([`Stopping`], relayed by the main
//! thread's runtime); each finishes its invocation in flight. An unreachable API seen by one
//! worker stops them all the same way.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::runtime::Runtime;

use super::worker::{self, Marking};
use crate::client::{Client, Unreachable};
use crate::context::FunctionSettings;
use crate::endpoint::Endpoint;
use crate::exit::Exit;
use crate::invocation::Adapter;
use crate::shutdown::{self, Stopping};
use crate::wakeups::Wakeups;

/// Serves up to `workers` invocations at once until a stop signal; returns why it ended.
pub(super) fn serve<A: Adapter + Clone + Send>(
    rt: &Runtime,
    api: &Endpoint,
    adapter: A,
    function: &Arc<FunctionSettings>,
    workers: usize,
) -> Exit {
    let failed = AtomicBool::new(false);
    let stopping = match rt.block_on(async { Stopping::start() }) {
        Ok(stopping) => stopping,
        Err(e) => {
            tracing::error!("cannot listen for stop signals: {e}");
            return Exit::Failed;
        }
    };
    let threads = threads_for(workers);
    tracing::debug!("running {workers} invocations at once on {threads} threads");
    std::thread::scope(|scope| {
        for thread in 1..threads {
            let share = share(workers, threads, thread);
            let (adapter, stopping, failed) = (adapter.clone(), stopping.clone(), &failed);
            let spawned =
                std::thread::Builder::new().spawn_scoped(scope, move || match runtime() {
                    Ok(own) => own.block_on(run(share, api, &adapter, function, &stopping, failed)),
                    Err(e) => {
                        tracing::error!("cannot start the async runtime of thread {thread}: {e}");
                        failed.store(true, Ordering::SeqCst);
                        shutdown::request();
                    }
                });
            if let Err(e) = spawned {
                tracing::error!("cannot start thread {thread} of {threads}: {e}");
                failed.store(true, Ordering::SeqCst);
                shutdown::request();
                break;
            }
        }
        let share = share(workers, threads, 0);
        rt.block_on(run(share, api, &adapter, function, &stopping, &failed));
    });
    if failed.load(Ordering::SeqCst) {
        return Exit::Failed;
    }
    tracing::info!("stop signal: every invocation in flight is posted; exiting");
    Exit::Done
}

/// How many threads serve `workers`: one per CPU the process may use, at most one per worker.
fn threads_for(workers: usize) -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    cpus.min(workers).max(1)
}

/// How many of `workers` thread `thread` of `threads` runs (they differ by one at most).
fn share(workers: usize, threads: usize, thread: usize) -> usize {
    workers / threads + usize::from(thread < workers % threads)
}

/// The async runtime of a thread other than the main one, built as the main one is.
fn runtime() -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// `n` workers on the current thread's runtime, until a stop signal or an unreachable API.
async fn run<A: Adapter + Clone>(
    n: usize,
    api: &Endpoint,
    adapter: &A,
    function: &Arc<FunctionSettings>,
    stopping: &Stopping,
    failed: &AtomicBool,
) {
    let each = (0..n).map(|_| {
        let mut client = Client::on_reactor(api.clone(), stopping.clone());
        let mut adapter = adapter.clone();
        async move {
            let mut marking = Marking::PerTask;
            let served = worker::serve(&mut client, &mut adapter, function, &mut marking);
            if let Err(unreachable) = served.await {
                give_up(&unreachable, failed);
            }
        }
    });
    Workers::new(each.collect()).await;
}

/// The API is unreachable from this worker: it is for all of them, so every one stops.
fn give_up(unreachable: &Unreachable, failed: &AtomicBool) {
    if !failed.swap(true, Ordering::SeqCst) {
        tracing::error!("{unreachable}");
    }
    shutdown::request();
}

/// N futures polled as one that ends when all have; a wake-up polls only the future it is for
/// ([`Wakeups`]).
struct Workers<F> {
    futures: Vec<Option<Pin<Box<F>>>>,
    wakeups: Wakeups,
    left: usize,
}

impl<F: Future<Output = ()>> Workers<F> {
    fn new(futures: Vec<F>) -> Self {
        let n = futures.len();
        let wakeups = Wakeups::new(n);
        // Each is polled a first time.
        (0..n).for_each(|slot| wakeups.wake(slot));
        Self {
            futures: futures.into_iter().map(|f| Some(Box::pin(f))).collect(),
            wakeups,
            left: n,
        }
    }
}

impl<F: Future<Output = ()>> Future for Workers<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Every field is Unpin (the futures are boxed).
        let this = self.get_mut();
        // One round of the workers woken so far; those woken meanwhile wait for the next
        // poll (which their wake-up asks for), so that other tasks get their turn.
        for slot in this.wakeups.take(cx) {
            let Some(future) = this.futures[slot].as_mut() else {
                continue;
            };
            let mut worker_cx = Context::from_waker(this.wakeups.waker(slot));
            if future.as_mut().poll(&mut worker_cx).is_ready() {
                this.futures[slot] = None;
                this.left -= 1;
            }
        }
        match this.left {
            0 => Poll::Ready(()),
            _ => Poll::Pending,
        }
    }
}
