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
    InitStart {
        /// `Invoke` for an init retried inside an invocation (Lambda's suppressed init).
        phase: Phase,
    },
    /// The init phase ended: the runtime's first `/next` (`error: None`), or its process
    /// ended before it (`error`: the `/init/error` body or the emulator's, AWS's JSON error).
    InitDone {
        /// From the process's start to here.
        duration: Duration,
        /// The error body when init failed.
        error: Option<&'a [u8]>,
        /// As in [`Lifecycle::InitStart`].
        phase: Phase,
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
        /// Its duration, billed duration, memory and init duration, computed once for every
        /// subscriber.
        figures: Figures,
        /// The error body of [`Lifecycle::RuntimeDone`], if any.
        error: Option<&'a [u8]>,
    },
}

/// Which phase an init belongs to, as Lambda's `INIT_REPORT` and telemetry records say: its
/// own (`init`), or, when the init limit was passed, the first invocation's (`invoke`, the
/// "suppressed init").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Init,
    Invoke,
}

impl Phase {
    /// `init` or `invoke`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Phase::Init => "init",
            Phase::Invoke => "invoke",
        }
    }
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

/// A duration as Lambda gives it: milliseconds with two decimals (`1234.56`), computed in
/// integers so the binary carries no float formatting; [`Millis::as_f64`] is the same figure
/// for JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Millis(pub Duration);

impl Millis {
    /// Hundredths of a millisecond, truncated.
    fn centis(self) -> u64 {
        (self.0.as_micros() / 10) as u64
    }

    /// The figure as a number (the Telemetry API's `durationMs`).
    pub(crate) fn as_f64(self) -> f64 {
        self.centis() as f64 / 100.0
    }
}

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let centis = self.centis();
        write!(f, "{}.{:02}", centis / 100, centis % 100)
    }
}

/// The figures of one finished invocation, as the `REPORT` line and the Telemetry API's
/// `platform.report` both give them: one computation, so the two never disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Figures {
    /// From dispatch (or a suppressed init's start) to the end, post-invoke phase included.
    pub duration: Millis,
    /// The duration rounded up to the millisecond.
    pub billed_ms: u64,
    /// The configured memory, in MB.
    pub memory_size_mb: u32,
    /// The function process's peak resident memory in MB (rounded up), when it could be read.
    pub max_memory_mb: Option<u64>,
    /// The process's init duration, with its first invocation only.
    pub init: Option<Millis>,
}

impl Figures {
    /// The figures of an invocation that lasted `duration`, with the function process's peak
    /// memory `max_kib` (KiB) if known.
    pub(crate) fn new(
        duration: Duration,
        memory_size_mb: u32,
        max_kib: Option<u64>,
        init: Option<Duration>,
    ) -> Self {
        Self {
            duration: Millis(duration),
            billed_ms: duration.as_micros().div_ceil(1000) as u64,
            memory_size_mb,
            max_memory_mb: max_kib.map(|kib| kib.div_ceil(1024)),
            init: init.map(Millis),
        }
    }
}

/// Peak resident memory (`VmHWM`) of process `pid`, in KiB; `None` without `/proc` or once
/// the process is gone.
///
/// ```
/// let me = std::process::id();
/// assert!(faas_runtime::emulator::peak_memory_kib(me).unwrap() > 0);
/// ```
pub fn peak_memory_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    vm_hwm_kib(&status)
}

/// The `VmHWM` figure (KiB) of a `/proc/PID/status` text.
///
/// ```
/// use faas_runtime::emulator::vm_hwm_kib;
/// assert_eq!(vm_hwm_kib("VmPeak:\t 9 kB\nVmHWM:\t    1536 kB\n"), Some(1536));
/// assert_eq!(vm_hwm_kib("Name: x\n"), None);
/// ```
pub fn vm_hwm_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line["VmHWM:".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_have_two_decimals_as_text_and_as_numbers() {
        for (micros, text, number) in [
            (1_234_567, "1234.56", 1234.56),
            (5, "0.00", 0.0),
            (20_050, "20.05", 20.05),
        ] {
            let millis = Millis(Duration::from_micros(micros));
            assert_eq!(millis.to_string(), text);
            assert_eq!(millis.as_f64(), number);
        }
    }

    #[test]
    fn figures_round_billing_and_memory_up() {
        let f = Figures::new(
            Duration::from_micros(1_234_567),
            128,
            Some(1537),
            Some(Duration::from_micros(20_050)),
        );
        assert_eq!(f.duration.to_string(), "1234.56");
        assert_eq!(f.billed_ms, 1235);
        assert_eq!(f.max_memory_mb, Some(2));
        assert_eq!(f.init.map(|i| i.to_string()).as_deref(), Some("20.05"));
        let exact = Figures::new(Duration::from_millis(3), 128, Some(1024), None);
        assert_eq!((exact.billed_ms, exact.max_memory_mb), (3, Some(1)));
        assert_eq!(
            Figures::new(Duration::ZERO, 128, None, None).max_memory_mb,
            None
        );
    }
}
