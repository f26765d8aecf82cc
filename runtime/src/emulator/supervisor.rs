//! Runs the execution environment: starts the external extensions and then the function with
//! `AWS_LAMBDA_RUNTIME_API` set, and resets the whole environment (extensions included) when
//! the function crashes or times out or an extension exits (`Extension.Crash`), as Lambda
//! does; after a crash or a timeout the new environment initializes inside the next
//! invocation, as on Lambda (no Init Duration; the invocation's Duration includes the init). At stop it runs Lambda's shutdown phase: the invocation in flight finishes, then SIGTERM to the runtime
//! only when an extension registered (300 ms for it, 500 ms with an internal extension; a plain
//! kill otherwise), SHUTDOWN to each external extension, SIGKILL to all after 2 s.

use std::ffi::OsString;
use std::future::Future;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::process::Command;

use super::child::Child;
use super::core::Sandbox;
use super::core::extensions::SHUTDOWN_LIMIT;
use super::core::telemetry;
use super::limits::{EXTENSION_CRASH, EXTENSION_LAUNCH_ERROR};
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

/// One external extension process, named after its file (the name it registers under).
struct Extension {
    name: String,
    child: Child,
}

/// How an execution environment ended before the emulator was told to stop.
enum Ended {
    /// The function process exited by itself.
    Runtime(std::io::Result<ExitStatus>),
    /// The external extension at this index exited (Lambda: `Extension.Crash`).
    Extension(usize, std::io::Result<ExitStatus>),
    /// An invocation timed out: classic Lambda replaces the environment.
    Timeout,
    /// The init phase passed its limit: it is abandoned and retried with the first invocation.
    InitTimeout,
    /// This extension could not be started (why): the init fails with
    /// `Extension.LaunchError`.
    Launch(String, String),
}

/// Keeps one execution environment running until `stop` resolves; returns the exit code. An
/// environment is the external extensions and the function process, started in that order
/// for each init; when either fails (the runtime crashes or times out, an extension exits,
/// the init fails) Lambda resets the whole environment, and so does this: SHUTDOWN to the
/// extensions registered for it (`failure` or `timeout`), the others killed, then a new
/// environment whose extensions register again.
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
    let mut failed_starts = 0u32;
    loop {
        sandbox.runtime_starting();
        let (mut extensions, launch_failed) = match setup.extensions_dir {
            Some(dir) => start_extensions(name, &sandbox, dir, env),
            None => (Vec::new(), None),
        };
        let mut child = match Child::spawn(output::capture(
            Command::new(program).args(args).envs(env.iter().cloned()),
            &sandbox.extensions.telemetry,
            telemetry::FUNCTION,
        )) {
            Ok(child) => child,
            Err(e) => {
                eprintln!(
                    "{name}: cannot start the function {}: {e}",
                    program.to_string_lossy()
                );
                sandbox.stop();
                for extension in &mut extensions {
                    let _ = kill(&mut extension.child).await;
                }
                return 127;
            }
        };
        sandbox.runtime_started(child.id());
        let started = Instant::now();
        let ended = if let Some((extension, why)) = launch_failed {
            Ended::Launch(extension, why)
        } else {
            tokio::select! {
            status = child.wait() => Ended::Runtime(status),
            (index, status) = first_exit(&mut extensions) => Ended::Extension(index, status),
            () = sandbox.overdue() => Ended::Timeout,
            () = sandbox.init_expired() => Ended::InitTimeout,
            () = stop.as_mut() => {
                return if setup.sigterm_always {
                    let code = shut_down(name, &sandbox, child).await;
                    stop_extensions(&sandbox, &mut extensions, "spindown", Instant::now() + SHUTDOWN_LIMIT).await;
                    code
                } else {
                    lambda_shutdown(name, &sandbox, child, &mut extensions).await
                };
            }
            }
        };
        let (init_failed, reason, what) = match ended {
            Ended::Runtime(status) => {
                let clean = matches!(&status, Ok(status) if status.success());
                let how = describe(status);
                // A function exits 0 when told to stop, and Ctrl-C reaches the whole process
                // group: the function may have seen it first. Wait a moment for ours before
                // replacing it.
                if clean
                    && tokio::time::timeout(CLEAN_EXIT_PAUSE, stop.as_mut())
                        .await
                        .is_ok()
                {
                    sandbox.stop();
                    sandbox.runtime_exited(&how);
                    let limit = Instant::now() + SHUTDOWN_LIMIT;
                    stop_extensions(&sandbox, &mut extensions, "spindown", limit).await;
                    eprintln!("{name}: stopped; the function process ended ({how})");
                    return 0;
                }
                let failed = sandbox.runtime_exited(&how);
                if !failed {
                    sandbox.init_with_next_invoke();
                }
                (
                    failed,
                    "failure",
                    format!("the function process ended ({how})"),
                )
            }
            Ended::Launch(extension, why) => {
                sandbox.extension_failed(EXTENSION_LAUNCH_ERROR, &extension, &why);
                let _ = kill(&mut child).await;
                let what = format!(
                    "the extension {extension} could not be started ({why}): {EXTENSION_LAUNCH_ERROR}"
                );
                (true, "failure", what)
            }
            Ended::Extension(index, status) => {
                let extension = extensions.swap_remove(index);
                let how = describe(status);
                let failed = sandbox.extension_failed(EXTENSION_CRASH, &extension.name, &how);
                let _ = kill(&mut child).await;
                let phase = if failed { "during init" } else { "after init" };
                let what = format!(
                    "the extension {} exited {phase} ({how}): {EXTENSION_CRASH}",
                    extension.name
                );
                (failed, "failure", what)
            }
            Ended::Timeout => {
                tracing::warn!("an invocation timed out: replacing the function process");
                let how = describe(kill(&mut child).await);
                sandbox.runtime_exited(&how);
                sandbox.init_with_next_invoke();
                (
                    false,
                    "timeout",
                    format!("the function process was killed ({how})"),
                )
            }
            Ended::InitTimeout => {
                sandbox.init_timed_out();
                let how = describe(kill(&mut child).await);
                let what = format!(
                    "the init phase passed its {} ms limit, the function process was killed \
                     ({how}); the init is retried inside the first invocation",
                    sandbox.init_limit.as_millis()
                );
                (false, "timeout", what)
            }
        };
        // A process killed for a timeout did not fail to start: it is replaced at once, so the
        // restart delay does not outgrow the queue's patience.
        failed_starts = if reason == "timeout" {
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
        if sandbox.retries_init() {
            eprintln!("{name}: {what}; a new environment starts with the next invocation");
        } else {
            eprintln!(
                "{name}: {what}; starting a new environment in {} ms",
                delay.as_millis()
            );
        }
        // Lambda resets the whole environment: the extensions go too, and the next init starts
        // them again (they register again).
        stop_extensions(
            &sandbox,
            &mut extensions,
            reason,
            Instant::now() + SHUTDOWN_LIMIT,
        )
        .await;
        sandbox.extensions.reset();
        // Lambda retries a timed-out init with the first invocation, and re-initializes an
        // environment reset by a crash or a timeout inside the next one: wait for one.
        let wait = async {
            tokio::time::sleep(delay).await;
            if sandbox.retries_init() {
                sandbox.wanted().await;
            }
        };
        tokio::select! {
            () = wait => {}
            () = stop.as_mut() => {
                sandbox.stop();
                return 0;
            }
        }
    }
}

/// The first of `extensions` to exit: its index and status. Never resolves without any.
async fn first_exit(extensions: &mut [Extension]) -> (usize, std::io::Result<ExitStatus>) {
    if extensions.is_empty() {
        return std::future::pending().await;
    }
    let mut waits: Vec<_> = extensions
        .iter_mut()
        .map(|e| Box::pin(e.child.wait()))
        .collect();
    std::future::poll_fn(|cx| {
        for (index, wait) in waits.iter_mut().enumerate() {
            if let std::task::Poll::Ready(status) = wait.as_mut().poll(cx) {
                return std::task::Poll::Ready((index, status));
            }
        }
        std::task::Poll::Pending
    })
    .await
}

/// Waiting callers get 503 at once; SIGTERM to the function, then up to the function timeout
/// for it to finish its invocation. Its idle `/next` stays unanswered while it exits, so a
/// normal stop is quiet on both sides; one that is still polling after [`STOP_GRACE`] hears
/// 410.
async fn shut_down(name: &str, sandbox: &Sandbox, mut child: Child) -> i32 {
    sandbox.stop();
    child.signal(libc::SIGTERM);
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
    extensions: &mut Vec<Extension>,
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
            child.signal(libc::SIGTERM);
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
    stop_extensions(sandbox, extensions, "spindown", limit).await;
    0
}

/// Sends SHUTDOWN (`reason`: `spindown`, `failure` or `timeout`) to the extensions registered
/// for it and waits for those until `limit`, then kills what still runs; the others are killed
/// at once, as AWS's RAPID does (`shutdownAgents`: SIGKILL to an agent not subscribed to
/// SHUTDOWN).
async fn stop_extensions(
    sandbox: &Sandbox,
    extensions: &mut Vec<Extension>,
    reason: &str,
    limit: Instant,
) {
    let deadline_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
        + limit.saturating_duration_since(Instant::now()).as_millis() as u64;
    let subscribers = sandbox.extensions.shutdown_subscribers();
    sandbox.extensions.shutdown(reason, deadline_ms);
    for extension in extensions.iter_mut() {
        if !subscribers.contains(&extension.name) {
            let _ = kill(&mut extension.child).await;
        }
    }
    for extension in extensions.iter_mut() {
        let left = limit.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left, extension.child.wait())
            .await
            .is_err()
        {
            let _ = kill(&mut extension.child).await;
        }
    }
    extensions.clear();
}

/// The extensions started, and the first one that could not be (its name and why).
type Started = (Vec<Extension>, Option<(String, String)>);

/// Starts every executable file in `dir` (sorted by name) as an external extension, with the
/// function's environment; their names are the ones that register as external.
fn start_extensions(
    name: &str,
    sandbox: &Sandbox,
    dir: &Path,
    env: &[(String, String)],
) -> Started {
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
            return (Vec::new(), None);
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
    let mut failed = None;
    let started = files
        .iter()
        .filter_map(|path| {
            let file_name = path.file_name()?.to_string_lossy().into_owned();
            match Child::spawn(output::capture(
                Command::new(path).envs(env.iter().cloned()),
                &sandbox.extensions.telemetry,
                telemetry::EXTENSION,
            )) {
                Ok(child) => Some(Extension {
                    name: file_name,
                    child,
                }),
                Err(e) => {
                    eprintln!("{name}: cannot start the extension {}: {e}", path.display());
                    failed.get_or_insert((file_name, e.to_string()));
                    None
                }
            }
        })
        .collect();
    (started, failed)
}

async fn kill(child: &mut Child) -> std::io::Result<ExitStatus> {
    child.kill().await
}

fn describe(status: std::io::Result<ExitStatus>) -> String {
    match status {
        Ok(status) => status.to_string(),
        Err(e) => format!("unknown status: {e}"),
    }
}
