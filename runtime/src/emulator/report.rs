//! The `START` / `END` / `REPORT` lines Lambda prints around each invocation, and the peak
//! memory figure they carry: a subscriber of the core's lifecycle events.

use std::io::Write;
use std::time::Duration;

use super::core::lifecycle::{Lifecycle, Subscriber, error_type_of};

/// One line on stdout; a closed stdout must not take the emulator down.
fn print(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// The subscriber that prints Lambda's lines for each invocation's lifecycle events.
pub(crate) fn lines() -> Subscriber {
    Box::new(|event: &Lifecycle<'_>| match *event {
        Lifecycle::Start { request_id, .. } => start(request_id),
        Lifecycle::End {
            request_id,
            duration,
            memory_size_mb,
            pid,
            init,
            ..
        } => end(
            request_id,
            &Figures {
                duration,
                memory_size_mb,
                max_kib: pid.and_then(peak_memory_kib),
                init,
            },
        ),
        Lifecycle::InitDone {
            duration,
            error: Some(error),
        } => init_failed(duration, error),
        Lifecycle::InitStart | Lifecycle::InitDone { .. } | Lifecycle::RuntimeDone { .. } => {}
    })
}

/// `START RequestId: ... Version: $LATEST`.
fn start(id: &str) {
    print(format_args!("START RequestId: {id} Version: $LATEST"));
}

/// `INIT_REPORT Init Duration: ... ms\tPhase: init\tStatus: ...`: Lambda prints it only for an
/// init that failed (`Status: timeout` past the init limit, else `Status: error` and its
/// `Error Type`, e.g. `Extension.Crash`).
fn init_failed(duration: Duration, error: &[u8]) {
    let error_type = error_type_of(error);
    let status = if error_type == crate::protocol::error_type::TIMEOUT {
        "timeout".to_owned()
    } else {
        format!("error\tError Type: {error_type}")
    };
    print(format_args!(
        "INIT_REPORT Init Duration: {} ms\tPhase: init\tStatus: {status}",
        Millis(duration)
    ));
}

/// The figures of one finished invocation.
struct Figures {
    duration: Duration,
    memory_size_mb: u32,
    /// Peak RSS of the function process, in KiB, when it could be read.
    max_kib: Option<u64>,
    /// The process's init duration, reported with its first invocation only.
    init: Option<Duration>,
}

/// `END RequestId: ...` and the `REPORT` line.
fn end(id: &str, f: &Figures) {
    let ms = Millis(f.duration);
    let memory = f
        .max_kib
        .map_or_else(|| "-".to_owned(), |kib| kib.div_ceil(1024).to_string());
    let init = f.init.map_or_else(String::new, |d| {
        format!("\tInit Duration: {} ms", Millis(d))
    });
    print(format_args!("END RequestId: {id}"));
    print(format_args!(
        "REPORT RequestId: {id}\tDuration: {ms} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {memory} MB{init}",
        f.duration.as_micros().div_ceil(1000),
        f.memory_size_mb,
    ));
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

/// A duration as milliseconds with two decimals, without pulling float formatting into the binary.
struct Millis(Duration);

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let micros = self.0.as_micros();
        write!(f, "{}.{:02}", micros / 1000, micros % 1000 / 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_have_two_decimals() {
        assert_eq!(
            Millis(Duration::from_micros(1_234_567)).to_string(),
            "1234.56"
        );
        assert_eq!(Millis(Duration::from_micros(5)).to_string(), "0.00");
        assert_eq!(Millis(Duration::from_micros(20_050)).to_string(), "20.05");
    }
}
