//! Plain HTTP mode's N invocations at once (`AWS_LAMBDA_MAX_CONCURRENCY` = N > 1): N clones of
//! the adapter, each serving one invocation at a time, on the crate's one current-thread
//! runtime.
//!
//! Why not a task per invocation: an adapter's futures need not be `Send` (`tokio::spawn`) nor
//! `'static` (`spawn_local`), as on Lambda's concurrent driver. So the invocations in flight
//! are polled here, inside the future that serves the port, each in a slot of its own with a
//! waker of its own (`crate::wakeups`): a wake-up polls the invocation it is for, not all N
//! (as `join!` would).
//!
//! Each poll runs as its invocation's code (the task-local `crate::context::Invocation`, read by
//! log lines and `xray_trace_id`), never with process-wide marks, and inside `catch_unwind`: a
//! handler that panics (in a build that unwinds) loses its own request only; its slot gets a
//! fresh clone of the adapter `init` built, and the other invocations go on.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::context::Invocation;
use crate::wakeups::Wakeups;

/// An invocation in flight: it gives its adapter back when it ends.
type Running<'f, A> = Pin<Box<dyn Future<Output = A> + 'f>>;

/// One adapter, free or serving an invocation.
enum Slot<'f, A> {
    Free(A),
    Busy {
        /// What its code sees as the invocation in flight (the task-local, set for each poll).
        invocation: Invocation,
        running: Running<'f, A>,
    },
    /// Only while an adapter moves from `Free` into its invocation.
    Moving,
}

/// N adapters and the invocations they serve.
///
/// ```text
/// let mut pool = Pool::new(adapter, 4);
/// if pool.has_free() {
///     pool.start(invocation, |mut adapter| async move { /* serve one */ adapter });
/// }
/// pool.finished().await; // one invocation ended, its adapter is free again
/// ```
pub(super) struct Pool<'f, A> {
    /// The adapter `init` built: cloned for each slot, and again for a slot whose invocation
    /// panicked (its adapter went down with it).
    template: A,
    slots: Vec<Slot<'f, A>>,
    /// Which slots' invocations were woken, each slot with a waker of its own.
    wakeups: Wakeups,
    /// Free slots, most recently freed last.
    free: Vec<usize>,
}

impl<'f, A: Clone + 'f> Pool<'f, A> {
    /// `n` (at least 1) clones of `adapter`, all free.
    pub(super) fn new(adapter: A, n: usize) -> Self {
        let n = n.max(1);
        Self {
            slots: (0..n).map(|_| Slot::Free(adapter.clone())).collect(),
            template: adapter,
            wakeups: Wakeups::new(n),
            free: (0..n).rev().collect(),
        }
    }

    /// Whether an adapter is free to [`start`](Self::start) an invocation.
    pub(super) fn has_free(&self) -> bool {
        !self.free.is_empty()
    }

    /// Whether any invocation is in flight.
    pub(super) fn busy(&self) -> bool {
        self.free.len() < self.slots.len()
    }

    /// Starts `run` on a free adapter as `invocation`'s code; it is first polled by the next
    /// [`finished`](Self::finished). Without a free adapter (see [`has_free`](Self::has_free))
    /// `run` is dropped unstarted.
    pub(super) fn start<F>(&mut self, invocation: Invocation, run: impl FnOnce(A) -> F)
    where
        F: Future<Output = A> + 'f,
    {
        let Some(slot) = self.free.pop() else {
            return;
        };
        let Slot::Free(adapter) = std::mem::replace(&mut self.slots[slot], Slot::Moving) else {
            unreachable!("a free slot holds its adapter");
        };
        self.slots[slot] = Slot::Busy {
            invocation,
            running: Box::pin(run(adapter)),
        };
        self.wakeups.wake(slot);
    }

    /// Polls the invocations woken since the last call; ready once at least one has ended
    /// (its adapter is free again). Never ready while none is in flight.
    pub(super) fn finished(&mut self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| self.poll_finished(cx))
    }

    fn poll_finished(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut ended = false;
        for slot in self.wakeups.take(cx) {
            let Slot::Busy {
                invocation,
                running,
            } = &mut self.slots[slot]
            else {
                continue; // a late wake-up of an invocation that already ended
            };
            let mut slot_cx = Context::from_waker(self.wakeups.waker(slot));
            let polled = std::panic::catch_unwind(AssertUnwindSafe(|| {
                invocation.sync_scope(|| running.as_mut().poll(&mut slot_cx))
            }));
            let adapter = match polled {
                Ok(Poll::Pending) => continue,
                Ok(Poll::Ready(adapter)) => adapter,
                Err(_) => {
                    tracing::warn!(
                        "invocation {} panicked: its request gets a 502, the others go on",
                        invocation.request_id
                    );
                    self.template.clone()
                }
            };
            self.slots[slot] = Slot::Free(adapter);
            self.free.push(slot);
            ended = true;
        }
        if ended {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn invocation(id: &str) -> Invocation {
        Invocation {
            request_id: Arc::from(id),
            trace_id: None,
        }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn n_invocations_run_at_once_each_as_its_own_code() {
        rt().block_on(async {
            let mut pool = Pool::new(0u32, 3);
            let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
            for (i, ms) in [(0, 90), (1, 30), (2, 60)] {
                assert!(pool.has_free());
                let seen = seen.clone();
                pool.start(invocation(&format!("r-{i}")), move |n| async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    // After the wait, others have run in between: the id is still its own.
                    seen.borrow_mut()
                        .push(format!("{i}:{:?}", crate::context::current()));
                    n + 1
                });
            }
            assert!(!pool.has_free());
            while pool.busy() {
                pool.finished().await;
            }
            // One at a time would end them in the order they started.
            assert_eq!(
                *seen.borrow(),
                [
                    "1:Some(\"r-1\")".to_owned(),
                    "2:Some(\"r-2\")".to_owned(),
                    "0:Some(\"r-0\")".to_owned()
                ]
            );
            // Each adapter came back once.
            assert_eq!(pool.free.len(), 3);
            for slot in &pool.slots {
                assert!(matches!(slot, Slot::Free(1)));
            }
        });
    }

    #[test]
    fn a_panicking_invocation_frees_its_slot_with_a_fresh_adapter() {
        rt().block_on(async {
            let mut pool = Pool::new(0u32, 2);
            let other = std::rc::Rc::new(std::cell::Cell::new(false));
            pool.start(invocation("boom"), |_| async {
                tokio::task::yield_now().await;
                panic!("handler bug")
            });
            let done = other.clone();
            pool.start(invocation("fine"), move |n| async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                done.set(true);
                n + 7
            });
            while pool.busy() {
                pool.finished().await;
            }
            assert!(other.get(), "the other invocation was lost");
            let mut adapters: Vec<u32> = pool
                .slots
                .iter()
                .map(|s| match s {
                    Slot::Free(n) => *n,
                    _ => panic!("a slot is not free"),
                })
                .collect();
            adapters.sort();
            assert_eq!(adapters, [0, 7], "the panicked slot has a fresh clone");
        });
    }
}
