//! The `START` / `END` / `REPORT` lines Lambda prints around each invocation (and
//! `INIT_REPORT` for an init that failed): a subscriber of the core's lifecycle events, which
//! carry the figures ready-made (`core::lifecycle::Figures`, shared with the Telemetry API).

use std::io::Write;
use std::time::Duration;

use super::core::lifecycle::{Figures, Lifecycle, Millis, Phase, Subscriber, error_type_of};

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
            ref figures,
            ..
        } => end(request_id, figures),
        Lifecycle::InitDone {
            duration,
            error: Some(error),
            phase,
        } => init_failed(duration, error, phase),
        Lifecycle::InitStart { .. }
        | Lifecycle::InitDone { .. }
        | Lifecycle::RuntimeDone { .. } => {}
    })
}

/// `START RequestId: ... Version: $LATEST`.
fn start(id: &str) {
    print(format_args!("START RequestId: {id} Version: $LATEST"));
}

/// `INIT_REPORT Init Duration: ... ms\tPhase: init\tStatus: ...`: Lambda prints it only for an
/// init that failed (`Status: timeout` past the init limit, else `Status: error` and its
/// `Error Type`, e.g. `Extension.Crash`).
fn init_failed(duration: Duration, error: &[u8], phase: Phase) {
    let error_type = error_type_of(error);
    let status = if error_type == crate::protocol::error_type::TIMEOUT {
        "timeout".to_owned()
    } else {
        format!("error\tError Type: {error_type}")
    };
    print(format_args!(
        "INIT_REPORT Init Duration: {} ms\tPhase: {}\tStatus: {status}",
        Millis(duration),
        phase.as_str()
    ));
}

/// `END RequestId: ...` and the `REPORT` line.
fn end(id: &str, f: &Figures) {
    let memory = f
        .max_memory_mb
        .map_or_else(|| "-".to_owned(), |mb| mb.to_string());
    let init = f
        .init
        .map_or_else(String::new, |d| format!("\tInit Duration: {d} ms"));
    print(format_args!("END RequestId: {id}"));
    print(format_args!(
        "REPORT RequestId: {id}\tDuration: {} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {memory} MB{init}",
        f.duration, f.billed_ms, f.memory_size_mb,
    ));
}
