//! Shutdown: SIGTERM is how Lambda (and `podman stop`) ends a function, SIGINT how a terminal
//! does. Both are caught so that the invocation in flight can finish first.
//!
//! A plain `sigaction` handler sets a flag and writes a byte to a socket pair that
//! [`Stop::recv`] awaits (local mode's emulator). tokio's signal driver does the same, but
//! builds a table for every signal on first use: a tenth of the function process's start-up
//! instructions and ~2 % of each invocation's (docs/performance.md).
//!
//! The Runtime API client waits for its next event in a blocking `read`: while it does, the
//! socket is registered here ([`Idle`]), and the handler shuts its reading side, which ends the
//! read at once (`shutdown(2)` is async-signal-safe). A signal during an invocation only sets
//! the flag, which the loop reads ([`requested`]) once the result is posted. While the client
//! posts a result, its socket is registered as busy ([`Busy`]): the handler gives it short
//! send and receive timeouts ([`STOP_TICK`]), so that a call the API never answers (or reads
//! at a trickle) returns to the client, which then bounds what is left of it.
//!
//! Under Managed Instances the workers are tasks on the tokio runtime, each with a connection
//! of its own: they await the stop signal as a future instead ([`Stopping`]).

use std::io;
use std::os::fd::IntoRawFd;
use std::os::unix::net::UnixStream;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Set by the first stop signal; never cleared (the process is ending).
static RECEIVED: AtomicBool = AtomicBool::new(false);
/// The write end of the wake-up pair, for the handler; -1 until installed.
static WAKE_WRITE: AtomicI32 = AtomicI32::new(-1);
/// The read end (every [`Stop`] waits on a duplicate of it), or why installing failed.
static WAKE_READ: OnceLock<Result<UnixStream, String>> = OnceLock::new();
/// The socket the client is blocked reading its next event from, or -1.
static IDLE_FD: AtomicI32 = AtomicI32::new(-1);
/// The socket the client is posting a result on, or -1.
static BUSY_FD: AtomicI32 = AtomicI32::new(-1);

/// After a stop signal, a busy socket's blocking calls return within this long (`SO_SNDTIMEO`,
/// `SO_RCVTIMEO`), so the client can check how long the call has left.
pub(crate) const STOP_TICK: std::time::Duration = std::time::Duration::from_millis(250);

/// Sets [`STOP_TICK`] as `fd`'s send and receive timeouts.
///
/// Only system calls: safe in the signal handler (setsockopt(2) is a plain system call in
/// musl and glibc). A blocking call already in progress is restarted by `SA_RESTART` and
/// takes the new timeout from then on.
fn bound(fd: libc::c_int) {
    let tick = libc::timeval {
        tv_sec: 0,
        tv_usec: STOP_TICK.as_micros() as _,
    };
    for option in [libc::SO_SNDTIMEO, libc::SO_RCVTIMEO] {
        // SAFETY: a valid timeval and its size; a closed or reused fd only makes it fail
        // (EBADF, ENOTSOCK) or give a socket of ours a timeout the client tolerates.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                option,
                (&raw const tick).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            );
        }
    }
}

extern "C" fn on_signal(_: libc::c_int) {
    RECEIVED.store(true, Ordering::SeqCst);
    let idle = IDLE_FD.load(Ordering::SeqCst);
    if idle >= 0 {
        // SAFETY: shutdown(2) is async-signal-safe; errno is restored around it.
        unsafe {
            let errno = *libc::__errno_location();
            libc::shutdown(idle, libc::SHUT_RD);
            *libc::__errno_location() = errno;
        }
    }
    let busy = BUSY_FD.load(Ordering::SeqCst);
    if busy >= 0 {
        // SAFETY: errno is restored around the system calls `bound` makes.
        unsafe {
            let errno = *libc::__errno_location();
            bound(busy);
            *libc::__errno_location() = errno;
        }
    }
    let fd = WAKE_WRITE.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: write(2) is async-signal-safe and errno is restored around it; a full
        // buffer (EAGAIN) means a wake-up is already pending.
        unsafe {
            let errno = *libc::__errno_location();
            libc::write(fd, [1u8].as_ptr().cast(), 1);
            *libc::__errno_location() = errno;
        }
    }
}

/// Creates the wake-up pair and installs the handler for SIGTERM and SIGINT, once per process.
fn install() -> Result<UnixStream, String> {
    let (read, write) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
    read.set_nonblocking(true)
        .and_then(|()| write.set_nonblocking(true))
        .map_err(|e| format!("setting the wake-up pair non-blocking: {e}"))?;
    // The write end lives as long as the process: the handler may run at any time.
    WAKE_WRITE.store(write.into_raw_fd(), Ordering::SeqCst);
    for signal in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: a zeroed sigaction with our handler, SA_RESTART and an empty mask is a
        // valid argument; the handler only touches atomics and write(2).
        let installed = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut())
        };
        if installed != 0 {
            return Err(format!("sigaction: {}", io::Error::last_os_error()));
        }
    }
    Ok(read)
}

/// Installs the handlers for SIGTERM and SIGINT (once per process), for [`requested`] and
/// [`Idle`]; the error says why they could not be.
pub(crate) fn watch() -> Result<(), String> {
    match WAKE_READ.get_or_init(install) {
        Ok(_) => Ok(()),
        Err(message) => Err(message.clone()),
    }
}

/// Whether a stop signal has arrived.
pub(crate) fn requested() -> bool {
    RECEIVED.load(Ordering::SeqCst)
}

/// Stops the process as a stop signal would (the concurrent driver, when one worker finds the
/// API unreachable: the others finish what they run and end their wait for `/next`).
pub(crate) fn request() {
    on_signal(0);
}

/// While alive, a stop signal shuts the reading side of the socket `fd`: a blocking read of it
/// returns at once. Check [`requested`] after creating it, before reading.
pub(crate) struct Idle(());

impl Idle {
    pub(crate) fn watch(fd: std::os::fd::RawFd) -> Self {
        IDLE_FD.store(fd, Ordering::SeqCst);
        Self(())
    }
}

impl Drop for Idle {
    fn drop(&mut self) {
        IDLE_FD.store(-1, Ordering::SeqCst);
    }
}

/// While alive, a stop signal gives the socket `fd` short timeouts ([`STOP_TICK`]), so that a
/// blocking write or read of it returns within that long; also at once if a signal came first.
pub(crate) struct Busy(());

impl Busy {
    pub(crate) fn watch(fd: std::os::fd::RawFd) -> Self {
        BUSY_FD.store(fd, Ordering::SeqCst);
        if requested() {
            bound(fd);
        }
        Self(())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY_FD.store(-1, Ordering::SeqCst);
    }
}

/// SIGTERM (Lambda's shutdown) and SIGINT (Ctrl-C in a terminal): stop after the invocation in flight.
pub(crate) struct Stop {
    wake: tokio::net::UnixStream,
}

impl Stop {
    /// Installs the handlers (once per process) and watches for them on the current tokio
    /// runtime.
    pub(crate) fn new() -> io::Result<Self> {
        let read = match WAKE_READ.get_or_init(install) {
            Ok(read) => read.try_clone()?,
            Err(message) => return Err(io::Error::other(message.clone())),
        };
        Ok(Self {
            wake: tokio::net::UnixStream::from_std(read)?,
        })
    }

    /// Waits for a stop signal (returns at once if one has arrived).
    pub(crate) async fn recv(&mut self) {
        while !RECEIVED.load(Ordering::SeqCst) {
            if self.wake.readable().await.is_err() {
                // The reactor is gone: nothing will wake this future any more.
                return std::future::pending().await;
            }
            let mut drain = [0u8; 16];
            while matches!(self.wake.try_read(&mut drain), Ok(n) if n > 0) {}
        }
    }
}

/// The stop signal as a future that any number of tasks await (the concurrent driver's
/// workers): one task relays [`Stop`] to every clone.
///
/// ```ignore
/// let mut stopping = Stopping::start()?; // inside the tokio runtime
/// tokio::select! {
///     event = next_event() => handle(event),
///     () = stopping.arrived() => return,
/// }
/// ```
#[derive(Clone)]
pub(crate) struct Stopping(tokio::sync::watch::Receiver<bool>);

impl Stopping {
    /// Installs the handlers (once per process) and relays them on the current tokio runtime.
    pub(crate) fn start() -> io::Result<Self> {
        let mut stop = Stop::new()?;
        let (relay, watch) = tokio::sync::watch::channel(requested());
        tokio::spawn(async move {
            stop.recv().await;
            let _ = relay.send(true);
        });
        Ok(Self(watch))
    }

    /// Whether a stop signal has arrived.
    pub(crate) fn arrived_already() -> bool {
        requested()
    }

    /// Waits for a stop signal (returns at once if one has arrived).
    pub(crate) async fn arrived(&mut self) {
        if self.0.wait_for(|stopped| *stopped).await.is_err() {
            // The relay is gone with the runtime: nothing will wake this future any more.
            std::future::pending::<()>().await;
        }
    }
}
