//! Shutdown: SIGTERM is how Lambda (and `podman stop`) ends a function, SIGINT how a terminal
//! does. Both are caught so that the invocation in flight can finish first.

use std::task::{Poll, Waker};

use tokio::signal::unix::{Signal, SignalKind, signal};

/// SIGTERM (Lambda's shutdown) and SIGINT (Ctrl-C in a terminal): stop after the invocation in flight.
pub(crate) struct Stop {
    term: Signal,
    int: Signal,
}

impl Stop {
    pub(crate) fn new() -> std::io::Result<Self> {
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for the next stop signal.
    pub(crate) async fn recv(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }

    /// Whether a stop signal arrived since the last check, without waiting.
    pub(crate) fn pending(&mut self) -> bool {
        let mut cx = std::task::Context::from_waker(Waker::noop());
        matches!(self.term.poll_recv(&mut cx), Poll::Ready(_))
            || matches!(self.int.poll_recv(&mut cx), Poll::Ready(_))
    }
}
