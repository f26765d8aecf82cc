//! N futures polled as one, each woken on its own: which of them were woken since the last
//! poll, and the waker of the task that polls them all.
//!
//! Why: the concurrent driver's workers (`driver::concurrent`) and plain HTTP mode's requests
//! at once (`http::pool`) cannot spawn a task per future (an adapter's futures need not be
//! `Send`, nor `'static`), and polling all N on every wake-up (what `join!` does) costs N polls
//! per event. With a waker per slot, a wake-up costs the poll of the one future it is for,
//! whatever N is.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Wake, Waker};

/// The wake-ups of N slots.
///
/// ```text
/// let wakeups = Wakeups::new(4);
/// wakeups.wake(2);                        // slot 2 has something new to poll
/// for slot in wakeups.take(cx) {          // in the poll of the whole: [2]
///     futures[slot].poll(&mut Context::from_waker(wakeups.waker(slot)));
/// }
/// ```
pub(crate) struct Wakeups {
    queue: Arc<Queue>,
    /// Each slot's waker, made once.
    slots: Vec<(Arc<Slot>, Waker)>,
}

/// The slots woken since the last [`Wakeups::take`], and who polls them.
#[derive(Default)]
struct Queue {
    woken: Mutex<Vec<usize>>,
    parent: Mutex<Option<Waker>>,
}

/// One slot's waker: queues the slot, then wakes the task that polls them all.
struct Slot {
    index: usize,
    /// Queued and not taken since: a second wake-up adds nothing.
    queued: AtomicBool,
    queue: Arc<Queue>,
}

impl Wake for Slot {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            lock(&self.queue.woken).push(self.index);
        }
        if let Some(parent) = lock(&self.queue.parent).as_ref() {
            parent.wake_by_ref();
        }
    }
}

impl Wakeups {
    /// `n` slots, none woken.
    pub(crate) fn new(n: usize) -> Self {
        let queue = Arc::new(Queue::default());
        let slots = (0..n)
            .map(|index| {
                let slot = Arc::new(Slot {
                    index,
                    queued: AtomicBool::new(false),
                    queue: Arc::clone(&queue),
                });
                (Arc::clone(&slot), Waker::from(slot))
            })
            .collect();
        Self { queue, slots }
    }

    /// The waker to poll slot `slot`'s future with.
    pub(crate) fn waker(&self, slot: usize) -> &Waker {
        &self.slots[slot].1
    }

    /// Queues `slot` as its waker would (a future that was never polled yet).
    pub(crate) fn wake(&self, slot: usize) {
        self.slots[slot].1.wake_by_ref();
    }

    /// The slots woken since the last call, in the order they were woken; from now on a
    /// wake-up wakes `cx`'s task. A slot woken again while it is polled is queued again.
    pub(crate) fn take(&self, cx: &Context<'_>) -> Vec<usize> {
        {
            let mut parent = lock(&self.queue.parent);
            if !parent.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *parent = Some(cx.waker().clone());
            }
        }
        let woken = std::mem::take(&mut *lock(&self.queue.woken));
        for &slot in &woken {
            self.slots[slot].0.queued.store(false, Ordering::Release);
        }
        woken
    }
}

/// A lock that a panic elsewhere does not poison for good.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn a_wake_up_queues_its_slot_once_and_wakes_the_parent() {
        let wakeups = Wakeups::new(3);
        let counted = Arc::new(Counter::default());
        let parent = Waker::from(Arc::clone(&counted));
        let cx = Context::from_waker(&parent);
        assert!(wakeups.take(&cx).is_empty(), "none woken at first");
        wakeups.waker(2).wake_by_ref();
        let owned = wakeups.waker(0).clone(); // woken by value, as a future may keep it
        owned.wake();
        wakeups.waker(2).wake_by_ref();
        assert_eq!(wakeups.take(&cx), [2, 0], "each once, in order");
        assert_eq!(counted.count(), 3, "every wake-up wakes the parent");
        wakeups.wake(1);
        assert_eq!(wakeups.take(&cx), [1]);
        assert!(wakeups.take(&cx).is_empty());
    }

    #[derive(Default)]
    struct Counter(std::sync::atomic::AtomicUsize);

    impl Counter {
        fn count(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}
