//! Runs the function process: starts it with `AWS_LAMBDA_RUNTIME_API` set, replaces it after a
//! crash or a timeout, and passes SIGTERM on so the invocation in flight can finish.

use std::ffi::OsString;
use std::future::Future;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use super::core::Sandbox;

/// A process that dies sooner than this after starting counts as a failed start: the next one
/// waits longer, so a function that cannot start does not spin.
const HEALTHY_AFTER: Duration = Duration::from_secs(1);
const MAX_RESTART_DELAY: Duration = Duration::from_secs(5);
/// How long a stopping function has to exit on SIGTERM before its idle `/next` is answered
/// 410 (Lambda gives a runtime 300 to 500 ms at shutdown; a process of ours exits at once).
const STOP_GRACE: Duration = Duration::from_secs(1);
/// How long a function that exited cleanly by itself waits to be replaced, in case the stop
/// signal that made it exit is on its way to the emulator too.
const CLEAN_EXIT_PAUSE: Duration = Duration::from_millis(200);

/// Keeps one function process running until `stop` resolves; returns the exit code.
pub(crate) async fn supervise(
    name: &str,
    sandbox: Arc<Sandbox>,
    command: &[OsString],
    env: &[(String, String)],
    stop: impl Future<Output = ()>,
) -> i32 {
    let mut stop = std::pin::pin!(stop);
    let Some((program, args)) = command.split_first() else {
        eprintln!("{name}: no function command to run");
        return 2;
    };
    let mut failed_starts = 0u32;
    loop {
        let mut child = match Command::new(program)
            .args(args)
            .envs(env.iter().cloned())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(child) => child,
            Err(e) => {
                eprintln!(
                    "{name}: cannot start the function {}: {e}",
                    program.to_string_lossy()
                );
                sandbox.stop();
                return 127;
            }
        };
        sandbox.runtime_started(child.id());
        let started = Instant::now();
        let (status, timed_out) = tokio::select! {
            status = child.wait() => (status, false),
            () = sandbox.overdue() => {
                tracing::warn!("an invocation timed out: replacing the function process");
                (kill(&mut child).await, true)
            }
            () = stop.as_mut() => return shut_down(name, &sandbox, child).await,
        };
        let clean = matches!(&status, Ok(status) if status.success());
        let how = describe(status);
        // A function exits 0 when told to stop, and Ctrl-C reaches the whole process group:
        // the function may have seen it first. Wait a moment for ours before replacing it.
        if clean
            && tokio::time::timeout(CLEAN_EXIT_PAUSE, stop.as_mut())
                .await
                .is_ok()
        {
            sandbox.stop();
            sandbox.runtime_exited(&how);
            eprintln!("{name}: stopped; the function process ended ({how})");
            return 0;
        }
        let init_failed = sandbox.runtime_exited(&how);
        // A process the emulator killed for a timeout did not fail to start: replacing it
        // at once keeps the restart delay from outgrowing the queue's patience.
        failed_starts = if timed_out {
            0
        } else if init_failed || started.elapsed() < HEALTHY_AFTER {
            failed_starts + 1
        } else {
            0
        };
        let delay = if failed_starts == 0 {
            Duration::ZERO
        } else {
            (Duration::from_millis(50) * 2u32.saturating_pow(failed_starts.min(10)))
                .min(MAX_RESTART_DELAY)
        };
        eprintln!(
            "{name}: the function process ended ({how}); starting a new one in {} ms",
            delay.as_millis()
        );
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = stop.as_mut() => {
                sandbox.stop();
                return 0;
            }
        }
    }
}

/// Waiting callers get 503 at once; SIGTERM to the function, then up to the function timeout
/// for it to finish its invocation. Its idle `/next` stays unanswered while it exits, so a
/// normal stop is quiet on both sides; one that is still polling after [`STOP_GRACE`] hears
/// 410.
async fn shut_down(name: &str, sandbox: &Sandbox, mut child: Child) -> i32 {
    sandbox.stop();
    if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let status = match tokio::time::timeout(STOP_GRACE, child.wait()).await {
        Ok(status) => status,
        Err(_) => {
            sandbox.refuse_polls();
            let left = sandbox.timeout.saturating_sub(STOP_GRACE);
            match tokio::time::timeout(left, child.wait()).await {
                Ok(status) => status,
                Err(_) => kill(&mut child).await,
            }
        }
    };
    let how = describe(status);
    sandbox.runtime_exited(&how);
    eprintln!("{name}: stopped; the function process ended ({how})");
    0
}

async fn kill(child: &mut Child) -> std::io::Result<ExitStatus> {
    let _ = child.start_kill();
    child.wait().await
}

fn describe(status: std::io::Result<ExitStatus>) -> String {
    match status {
        Ok(status) => status.to_string(),
        Err(e) => format!("unknown status: {e}"),
    }
}
