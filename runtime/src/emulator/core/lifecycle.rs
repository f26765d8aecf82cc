//! What happens to an invocation, as events: the sandbox emits them, subscribers (the
//! `START`/`END`/`REPORT` lines of `report`, and later telemetry) turn them into output.
//!
//! Subscribers are called synchronously, under the sandbox's lock, in the order the events
//! happen: a `START` line is out before the runtime has its event, as on Lambda. A broadcast
//! channel would decouple them at the price of an allocation per event and a task per
//! subscriber; a plain function costs neither.

use std::time::Duration;

/// One step in an invocation's life.
#[derive(Debug)]
pub(crate) enum Lifecycle<'a> {
    /// The runtime took the event (`/next` answered).
    Start {
        /// The invocation's request id.
        request_id: &'a str,
    },
    /// The invocation ended (answered, failed, timed out or its process died).
    End {
        /// The invocation's request id.
        request_id: &'a str,
        /// From dispatch to the end.
        duration: Duration,
        /// The configured memory, in MB.
        memory_size_mb: u32,
        /// The function process, while it still runs (for its peak memory).
        pid: Option<u32>,
        /// The process's init duration, with its first invocation only.
        init: Option<Duration>,
    },
}

/// A function called with every event.
pub(crate) type Subscriber = Box<dyn Fn(&Lifecycle<'_>) + Send + Sync>;
