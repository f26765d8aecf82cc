//! What happens to a function process and its invocations, as events: the sandbox emits them,
//! subscribers (the `START`/`END`/`REPORT` lines of `report`, the Telemetry API's records of
//! `core::telemetry`) turn them into output.
//!
//! Subscribers are called synchronously, under the sandbox's lock, in the order the events
//! happen: a `START` line is out before the runtime has its event, as on Lambda. A broadcast
//! channel would decouple them at the price of an allocation per event and a task per
//! subscriber; a plain function costs neither, so a subscriber must not block (telemetry only
//! queues its records).

use std::time::Duration;

/// One step in the life of the function process or of an invocation.
#[derive(Debug)]
pub(crate) enum Lifecycle<'a> {
    /// A function process started: its init phase begins.
    InitStart,
    /// The init phase ended: the runtime's first `/next` (`error: None`), or its process
    /// ended before it (`error`: the `/init/error` body or the emulator's, AWS's JSON error).
    InitDone {
        /// From the process's start to here.
        duration: Duration,
        /// The error body when init failed.
        error: Option<&'a [u8]>,
    },
    /// The runtime took the event (`/next` answered).
    Start {
        /// The invocation's request id.
        request_id: &'a str,
        /// Its `X-Amzn-Trace-Id` value.
        trace_id: &'a str,
    },
    /// The runtime answered the invocation (or it failed, timed out or its process died):
    /// Lambda's `platform.runtimeDone`. Its post-invoke phase may go on.
    RuntimeDone {
        /// The invocation's request id.
        request_id: &'a str,
        /// From dispatch to the answer.
        duration: Duration,
        /// AWS's JSON error body when it did not succeed (the function's error, a timeout, an
        /// exit); `None` for a response.
        error: Option<&'a [u8]>,
        /// The size of a buffered response.
        produced_bytes: Option<usize>,
    },
    /// The invocation ended: answered, and every extension registered for INVOKE called `next`
    /// again (Lambda's post-invoke phase), or its process died.
    End {
        /// The invocation's request id.
        request_id: &'a str,
        /// From dispatch to the end, the post-invoke phase included.
        duration: Duration,
        /// The configured memory, in MB.
        memory_size_mb: u32,
        /// The function process, while it still runs (for its peak memory).
        pid: Option<u32>,
        /// The process's init duration, with its first invocation only.
        init: Option<Duration>,
        /// The error body of [`Lifecycle::RuntimeDone`], if any.
        error: Option<&'a [u8]>,
    },
}

/// A function called with every event.
pub(crate) type Subscriber = Box<dyn Fn(&Lifecycle<'_>) + Send + Sync>;

/// The `errorType` of AWS's JSON error body, or `Unknown`: what `REPORT`, `INIT_REPORT` and the
/// Telemetry API's `status` show for a failure.
pub(crate) fn error_type_of(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["errorType"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "Unknown".to_owned())
}
