//! Runs the function process: starts the external extensions and then the function with
//! `AWS_LAMBDA_RUNTIME_API` set, replaces the function after a crash or a timeout, and at stop
//! runs Lambda's shutdown phase: the invocation in flight finishes, then SIGTERM to the runtime
//! only when an extension registered (300 ms for it, 500 ms with an internal extension; a plain
//! kill otherwise), SHUTDOWN to each external extension, SIGKILL to all after 2 s.

use std::ffi::OsString;
use std::future::Future;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use super::core::Sandbox;
use super::core::extensions::SHUTDOWN_LIMIT;
use super::core::telemetry;
use super::output;

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

/// What to run and how to stop it.
pub(crate) struct Setup<'a> {
    /// The function's program and arguments.
    pub command: &'a [OsString],
    pub env: &'a [(String, String)],
    /// External extensions to start first (every executable file in it, by name).
    pub extensions_dir: Option<&'a Path>,
    /// SIGTERM to the function at stop even when no extension registered.
    pub sigterm_always: bool,
}

/// Keeps one function process running until `stop` resolves; returns the exit code.
pub(crate) async fn supervise(
    name: &str,
    sandbox: Arc<Sandbox>,
    setup: &Setup<'_>,
    stop: impl Future<Output = ()>,
) -> i32 {
    let env = setup.env;
    let mut stop = std::pin::pin!(stop);
    let Some((program, args)) = setup.command.split_first() else {
        eprintln!("{name}: no function command to run");
        return 2;
    };
    let mut extensions = match setup.extensions_dir {
        Some(dir) => start_extensions(name, &sandbox, dir, env),
        None => Vec::new(),
    };
    let mut failed_starts = 0u32;
    loop {
        sandbox.runtime_starting();
        let mut child = match output::capture(
            Command::new(program)
                .args(args)
                .envs(env.iter().cloned())
                .kill_on_drop(true),
            &sandbox.extensions.telemetry,
            telemetry::FUNCTION,
        )
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
            () = stop.as_mut() => {
                return if setup.sigterm_always {
                    let code = shut_down(name, &sandbox, child).await;
                    stop_extensions(&sandbox, &mut extensions, Instant::now() + SHUTDOWN_LIMIT).await;
                    code
                } else {
                    lambda_shutdown(name, &sandbox, child, &mut extensions).await
                };
            }
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

/// Lambda's shutdown phase, once the invocation in flight (if any) has ended: SIGTERM and
/// the budget to the runtime when an extension registered, else SIGKILL at once; SHUTDOWN to
/// the external extensions; SIGKILL to whatever still runs after [`SHUTDOWN_LIMIT`].
async fn lambda_shutdown(
    name: &str,
    sandbox: &Sandbox,
    mut child: Child,
    extensions: &mut Vec<Child>,
) -> i32 {
    sandbox.stop();
    // Lambda never shuts an environment down mid-invocation: the one in flight ends first
    // (answered, or timed out by the sandbox's deadline).
    tokio::select! {
        () = sandbox.settled() => {}
        // Its deadline still holds: the caller gets `Sandbox.Timedout`.
        () = sandbox.overdue() => {}
        _ = child.wait() => {}
    }
    let limit = Instant::now() + SHUTDOWN_LIMIT;
    let budget = sandbox.extensions.shutdown_budget();
    let status = match budget {
        Some(budget) => {
            signal(&child, libc::SIGTERM);
            match tokio::time::timeout(budget, child.wait()).await {
                Ok(status) => status,
                Err(_) => {
                    eprintln!(
                        "{name}: the function did not exit within its {} ms shutdown budget: killed",
                        budget.as_millis()
                    );
                    kill(&mut child).await
                }
            }
        }
        None => kill(&mut child).await,
    };
    let how = describe(status);
    sandbox.runtime_exited(&how);
    let reason = match budget {
        Some(_) => "signalled",
        None => "killed without a signal: no extension registered",
    };
    eprintln!("{name}: stopped; the function process ended ({how}; {reason})");
    stop_extensions(sandbox, extensions, limit).await;
    0
}

/// Sends SHUTDOWN to the extensions registered for it and waits for the external ones until
/// `limit`, then kills those still running.
async fn stop_extensions(sandbox: &Sandbox, extensions: &mut Vec<Child>, limit: Instant) {
    let deadline_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
        + limit.saturating_duration_since(Instant::now()).as_millis() as u64;
    sandbox.extensions.shutdown("spindown", deadline_ms);
    for extension in extensions.iter_mut() {
        let left = limit.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left, extension.wait()).await.is_err() {
            let _ = kill(extension).await;
        }
    }
    extensions.clear();
}

/// Starts every executable file in `dir` (sorted by name) as an external extension, with the
/// function's environment; their names are the ones that register as external.
fn start_extensions(
    name: &str,
    sandbox: &Sandbox,
    dir: &Path,
    env: &[(String, String)],
) -> Vec<Child> {
    use std::os::unix::fs::PermissionsExt;
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                std::fs::metadata(p)
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })
            .collect(),
        Err(e) => {
            eprintln!(
                "{name}: cannot read the extensions directory {}: {e}",
                dir.display()
            );
            return Vec::new();
        }
    };
    files.sort();
    let names = files
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    if !files.is_empty() {
        sandbox.extensions.telemetry.capture_output();
    }
    sandbox.extensions.expect_external(names);
    files
        .iter()
        .filter_map(|path| {
            match output::capture(
                Command::new(path)
                    .envs(env.iter().cloned())
                    .kill_on_drop(true),
                &sandbox.extensions.telemetry,
                telemetry::EXTENSION,
            )
            .spawn()
            {
                Ok(child) => Some(child),
                Err(e) => {
                    eprintln!("{name}: cannot start the extension {}: {e}", path.display());
                    None
                }
            }
        })
        .collect()
}

fn signal(child: &Child, signal: i32) {
    if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        unsafe { libc::kill(pid, signal) };
    }
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
