//! Lambda Managed Instances: `AWS_LAMBDA_MAX_CONCURRENCY` = N invocations at once in one
//! process, by N workers that each run the one loop (`super::worker`) with a Runtime API
//! connection of their own, as futures on the one thread of the tokio runtime.
//!
//! Why N futures on one thread, not N threads: a worker's wait for its event is a task switch,
//! not a thread switch, and the process keeps one stack and one allocator cache instead of N
//! (measured: docs/performance.md, "Managed Instances"). What `init` built (a client, a pool)
//! serves every invocation, and the handler's futures need not be `Send`. Work that would hold
//! the thread (CPU-heavy code) belongs in `tokio::task::spawn_blocking`, as on any tokio
//! runtime. The handler is cloned once per worker.
//!
//! The workers are polled as one future ([`Workers`]), each woken on its own, so a wake-up
//! costs one worker's poll whatever N is; no task is spawned, so the handler need not be
//! `'static`.
//!
//! Nothing process-wide is per invocation here: the request id and the X-Ray trace id travel
//! with each invocation's future (`context::Invocation`), and `_X_AMZN_TRACE_ID` is left unset.
//! A stop signal ends every worker's wait for `/next` ([`Stopping`]); each finishes its
//! invocation in flight. An unreachable API seen by one worker stops them all the same way.

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
pub(super) fn serve<A: Adapter + Clone>(
    rt: &Runtime,
    api: &Endpoint,
    adapter: A,
    function: &Arc<FunctionSettings>,
    workers: usize,
) -> Exit {
    let failed = AtomicBool::new(false);
    tracing::debug!("running {workers} invocations at once");
    rt.block_on(async {
        let stopping = match Stopping::start() {
            Ok(stopping) => stopping,
            Err(e) => {
                tracing::error!("cannot listen for stop signals: {e}");
                failed.store(true, Ordering::SeqCst);
                return;
            }
        };
        let failed = &failed;
        let each = (0..workers).map(|_| {
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
    });
    if failed.load(Ordering::SeqCst) {
        return Exit::Failed;
    }
    tracing::info!("stop signal: every invocation in flight is posted; exiting");
    Exit::Done
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
