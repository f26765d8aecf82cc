//! A child process the emulator can await, without tokio's `process` feature.
//!
//! tokio's `process` feature turns on its `signal` feature, and a runtime built with
//! `enable_all()` while `signal` is compiled in builds tokio's signal table at start: about
//! 54,000 instructions, a fifth of a function process's start under Lambda, paid by every
//! binary with local mode even though only the emulator spawns processes. So the emulator
//! spawns with `std::process` and learns of an exit from a pidfd (`pidfd_open(2)`) registered
//! with tokio's reactor, or, where pidfds are refused (kernels before 5.3, seccomp filters),
//! from a small thread blocked in `waitid(WNOWAIT)`. Either way the process is only reaped
//! here, by `try_wait`, so its pid stays ours (a zombie at worst) for as long as it may be
//! signalled.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, ExitStatus};

use tokio::io::unix::AsyncFd;
use tokio::sync::oneshot;

/// A spawned process whose exit can be awaited; killed (and reaped by a thread) if dropped
/// while it still runs, like tokio's `kill_on_drop(true)`.
///
/// ```ignore
/// let mut child = Child::spawn(&mut std::process::Command::new("true"))?;
/// assert!(child.wait().await?.success());
/// ```
pub(crate) struct Child {
    process: std::process::Child,
    /// Set once reaped: the pid is no longer ours to signal.
    status: Option<ExitStatus>,
    exit: Exit,
}

/// How the exit is learned.
enum Exit {
    /// Readable once the process has exited.
    Pidfd(AsyncFd<OwnedFd>),
    /// Resolves once the process has exited (a thread in `waitid(WNOWAIT)`); `None` once it
    /// has resolved.
    Watcher(Option<oneshot::Receiver<()>>),
}

impl Child {
    /// Spawns `command`; must run inside a tokio runtime with I/O enabled.
    pub(crate) fn spawn(command: &mut Command) -> io::Result<Child> {
        Self::spawn_watched(command, true)
    }

    /// Spawns `command`, with a pidfd when `pidfd` is true and the kernel gives one, else
    /// with a watcher thread.
    fn spawn_watched(command: &mut Command, pidfd: bool) -> io::Result<Child> {
        let process = command.spawn()?;
        let exit = match pidfd.then(|| open_pidfd(process.id())).and_then(Result::ok) {
            Some(fd) => Exit::Pidfd(fd),
            None => Exit::Watcher(Some(watch(process.id()))),
        };
        Ok(Child {
            process,
            status: None,
            exit,
        })
    }

    /// The process id, until the process has been reaped.
    pub(crate) fn id(&self) -> Option<u32> {
        self.status.is_none().then(|| self.process.id())
    }

    /// Sends `signal` to the process unless it has been reaped.
    pub(crate) fn signal(&self, signal: i32) {
        if let Some(pid) = self.id().and_then(|pid| i32::try_from(pid).ok()) {
            // SAFETY: kill(2) on our own unreaped child's pid; no memory is involved.
            unsafe { libc::kill(pid, signal) };
        }
    }

    /// Waits for the process to exit and reaps it; cancel-safe, and once reaped it returns
    /// the same status again.
    pub(crate) async fn wait(&mut self) -> io::Result<ExitStatus> {
        loop {
            if let Some(status) = self.status {
                return Ok(status);
            }
            if let Some(status) = self.process.try_wait()? {
                self.status = Some(status);
                return Ok(status);
            }
            match &mut self.exit {
                Exit::Pidfd(fd) => fd.readable().await?.clear_ready(),
                Exit::Watcher(Some(exited)) => {
                    let _ = exited.await;
                    self.exit = Exit::Watcher(None);
                }
                // The watcher ended but the process had not exited (no thread could be
                // started, or a stray wake-up): watch again, unhurried.
                Exit::Watcher(None) => {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    self.exit = Exit::Watcher(Some(watch(self.process.id())));
                }
            }
        }
    }

    /// SIGKILL, then the exit status.
    pub(crate) async fn kill(&mut self) -> io::Result<ExitStatus> {
        self.signal(libc::SIGKILL);
        self.wait().await
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.status.is_some() || matches!(self.process.try_wait(), Ok(Some(_))) {
            return;
        }
        self.signal(libc::SIGKILL);
        let pid = self.process.id() as libc::pid_t;
        if matches!(self.process.try_wait(), Ok(None)) {
            // Reaped off the async path, so no zombie is left behind.
            let _ = std::thread::Builder::new()
                .name("reap".into())
                .stack_size(64 * 1024)
                .spawn(move || {
                    // SAFETY: waitpid on our own child; a null status pointer is allowed.
                    unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
                });
        }
    }
}

fn open_pidfd(pid: u32) -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).map_err(|_| io::Error::other("pidfd out of range"))?;
    // SAFETY: the descriptor was just created and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // pidfd_open's descriptor is close-on-exec already. `with_interest` is deprecated from
    // tokio 1.54 for types that could hand out their descriptor to be closed; an `OwnedFd`
    // moved in here cannot, and the workspace allows tokio 1.48, which lacks the replacement.
    #[allow(deprecated)]
    AsyncFd::with_interest(fd, tokio::io::Interest::READABLE)
}

/// A thread that waits for `pid` to exit without reaping it, then resolves the receiver
/// (also when the wait fails, e.g. the pid was reaped already: `try_wait` then tells).
fn watch(pid: u32) -> oneshot::Receiver<()> {
    let (exited, receiver) = oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("child-exit".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            loop {
                // SAFETY: siginfo_t is plain data; all-zero is a valid value for waitid to fill.
                let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
                // SAFETY: waitid on our own child with a valid siginfo pointer; WNOWAIT
                // leaves it to be reaped by `Child::wait`.
                let r = unsafe {
                    libc::waitid(
                        libc::P_PID,
                        pid as libc::id_t,
                        &mut info,
                        libc::WEXITED | libc::WNOWAIT,
                    )
                };
                if r == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                    break;
                }
            }
            let _ = exited.send(());
        });
    // No thread: the sender is dropped with the closure, so the receiver resolves at once
    // and `wait` polls again; better than never learning of the exit.
    drop(spawned);
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::time::Duration;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    fn sh(script: &str) -> Command {
        let mut command = Command::new("/bin/sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn the_exit_status_arrives_by_either_path() {
        for pidfd in [true, false] {
            rt().block_on(async {
                let mut child = Child::spawn_watched(&mut sh("sleep 0.1; exit 7"), pidfd).unwrap();
                assert!(child.id().is_some());
                let status = child.wait().await.unwrap();
                assert_eq!(status.code(), Some(7), "pidfd={pidfd}");
                assert_eq!(child.id(), None, "reaped: no pid to signal");
                assert_eq!(child.wait().await.unwrap().code(), Some(7));
            });
        }
    }

    #[test]
    fn the_fallback_is_used_when_asked_and_the_pidfd_otherwise() {
        rt().block_on(async {
            let mut forced = Child::spawn_watched(&mut sh("exit 0"), false).unwrap();
            assert!(matches!(forced.exit, Exit::Watcher(Some(_))));
            assert!(forced.wait().await.unwrap().success());
            let mut normal = Child::spawn(&mut sh("exit 0")).unwrap();
            // A kernel without pidfds (or a seccomp filter) takes the fallback: both are right.
            let has_pidfd = matches!(normal.exit, Exit::Pidfd(_));
            eprintln!("pidfd available: {has_pidfd}");
            assert!(normal.wait().await.unwrap().success());
        });
    }

    #[test]
    fn kill_ends_a_process_that_would_run_on_and_reports_the_signal() {
        for pidfd in [true, false] {
            rt().block_on(async {
                let mut child = Child::spawn_watched(&mut sh("exec sleep 30"), pidfd).unwrap();
                let waited = tokio::time::timeout(Duration::from_millis(100), child.wait()).await;
                assert!(
                    waited.is_err(),
                    "still running, and the wait is cancel-safe"
                );
                let status = tokio::time::timeout(Duration::from_secs(10), child.kill())
                    .await
                    .expect("killed within 10 s")
                    .unwrap();
                assert_eq!(status.signal(), Some(libc::SIGKILL), "pidfd={pidfd}");
            });
        }
    }

    #[test]
    fn a_signal_reaches_the_process() {
        rt().block_on(async {
            let mut child =
                Child::spawn(&mut sh("trap 'exit 3' TERM; while :; do sleep 0.05; done")).unwrap();
            // Give the shell time to install its trap.
            tokio::time::sleep(Duration::from_millis(200)).await;
            child.signal(libc::SIGTERM);
            let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
                .await
                .expect("exited within 10 s")
                .unwrap();
            assert_eq!(status.code(), Some(3));
        });
    }

    #[test]
    fn a_dropped_child_is_killed_and_reaped() {
        let pid = rt().block_on(async {
            let child = Child::spawn(&mut sh("exec sleep 30")).unwrap();
            child.id().unwrap() as libc::pid_t
        });
        // Dropped inside block_on: killed, then reaped by a thread. Once reaped, the pid is no
        // longer our child: waitpid says ECHILD.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            // SAFETY: kill with signal 0 only checks the pid exists.
            let alive = unsafe { libc::kill(pid, 0) } == 0;
            if !alive {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the dropped child {pid} is still there (alive or a zombie)"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
