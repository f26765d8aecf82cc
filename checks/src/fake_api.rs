//! The fake Runtime APIs of the checks, in two modes over one wire code (request heads,
//! chunked bodies, Lambda's event head):
//!
//! - [`FakeApi`], scriptable, for tests of the runtime's own client against an API that
//!   misbehaves: it answers, closes, stalls, reads at a rate or goes away exactly as a test's
//!   script says, and records every request it sees. The script is called once per request,
//!   with its head read; it chooses what to read of the body and what to send back. A
//!   [`Runtime`] is a function process pointed at it. The real emulator
//!   (`faas_runtime::emulator`) is a well-behaved API on purpose; this one is not.
//! - [`TimedApi`], for `faas-check startup` and the cold invocation of `faas-check bench`: a
//!   bare listener the measuring thread polls itself (no threads, no script, nothing recorded),
//!   so the clock stops close to the moment a request arrives and the fake adds no work to
//!   the measured path.
//!
//! ```no_run
//! use faas_checks::fake_api::{FakeApi, Runtime};
//! use faas_checks::fixture::example;
//!
//! let api = FakeApi::start(|ex| {
//!     if ex.is_next() && ex.index == 0 {
//!         ex.event("req-1", b"{}");
//!     } else if ex.is_next() {
//!         ex.stall(std::time::Duration::from_secs(30));
//!     } else {
//!         let _ = ex.body();
//!         ex.accepted();
//!     }
//! });
//! let runtime = Runtime::start(&example("echo"), &api, &[]);
//! api.wait_for(|seen| seen.len() >= 2, std::time::Duration::from_secs(10));
//! assert_eq!(api.seen()[1].path, "/2018-06-01/runtime/invocation/req-1/response");
//! drop(runtime);
//! ```

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::FromRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use faas_runtime::protocol::NEXT_PATH;

/// A request as the fake API saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Which connection (0, 1, ... in the order they were accepted).
    pub conn: usize,
    /// `GET` or `POST`.
    pub method: String,
    /// The request target.
    pub path: String,
    /// Every header, in order.
    pub headers: Vec<(String, String)>,
    /// What the script read of the body (decoded when chunked, then `[trailer LINE]` for
    /// each trailer).
    pub body: Vec<u8>,
}

impl Seen {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Script = dyn Fn(&mut Exchange<'_>) + Send + Sync;

struct Shared {
    seen: Mutex<Vec<Seen>>,
    stop: AtomicBool,
    /// Milliseconds to go away for (listener closed), set by a script; 0 for none.
    away_ms: AtomicU64,
    /// The accept loop stops accepting (the listener stays: its queue fills).
    deaf: AtomicBool,
    conns: AtomicUsize,
    script: Box<Script>,
}

/// A fake Runtime API on a loopback port, stopped when dropped.
pub struct FakeApi {
    /// `127.0.0.1:port`, for `AWS_LAMBDA_RUNTIME_API`.
    pub addr: String,
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeApi {
    /// Serves `script` for every request on a free loopback port.
    pub fn start(script: impl Fn(&mut Exchange<'_>) + Send + Sync + 'static) -> Self {
        Self::start_with_backlog(128, script)
    }

    /// Like [`FakeApi::start`] with a listen backlog of `backlog` (a full accept queue leaves
    /// a client's connect in SYN-SENT).
    pub fn start_with_backlog(
        backlog: i32,
        script: impl Fn(&mut Exchange<'_>) + Send + Sync + 'static,
    ) -> Self {
        let listener = listen("127.0.0.1:0".parse().expect("an address"), backlog);
        let addr = listener.local_addr().expect("a bound listener");
        let shared = Arc::new(Shared {
            seen: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            away_ms: AtomicU64::new(0),
            deaf: AtomicBool::new(false),
            conns: AtomicUsize::new(0),
            script: Box::new(script),
        });
        let accepting = Arc::clone(&shared);
        let thread = std::thread::spawn(move || accept_loop(listener, addr, backlog, accepting));
        Self {
            addr: addr.to_string(),
            shared,
            thread: Some(thread),
        }
    }

    /// Every request so far, in the order their heads arrived.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The requests so far for which `filter` holds.
    pub fn count(&self, filter: impl Fn(&Seen) -> bool) -> usize {
        self.seen().iter().filter(|s| filter(s)).count()
    }

    /// Waits up to `timeout` for `done` to hold of the requests seen; returns whether it did.
    pub fn wait_for(&self, done: impl Fn(&[Seen]) -> bool, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if done(&self.seen()) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops accepting connections from now on (the listener stays open).
    pub fn stop_accepting(&self) {
        self.shared.deaf.store(true, Ordering::SeqCst);
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A listener with the given backlog (std's `bind` chooses its own).
fn listen(addr: SocketAddr, backlog: i32) -> TcpListener {
    let SocketAddr::V4(v4) = addr else {
        panic!("IPv4 only");
    };
    // SAFETY: plain socket calls on a descriptor this function owns until it is wrapped.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let one: libc::c_int = 1;
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            (&raw const one).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
        let mut sin: libc::sockaddr_in = std::mem::zeroed();
        sin.sin_family = libc::AF_INET as libc::sa_family_t;
        sin.sin_port = v4.port().to_be();
        sin.sin_addr.s_addr = u32::from(*v4.ip()).to_be();
        let bound = libc::bind(
            fd,
            (&raw const sin).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        assert_eq!(bound, 0, "bind {addr}: {}", std::io::Error::last_os_error());
        assert_eq!(libc::listen(fd, backlog), 0, "listen");
        let listener = TcpListener::from_raw_fd(fd);
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        listener
    }
}

fn accept_loop(mut listener: TcpListener, addr: SocketAddr, backlog: i32, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        let away = shared.away_ms.swap(0, Ordering::SeqCst);
        if away > 0 {
            drop(listener);
            std::thread::sleep(Duration::from_millis(away));
            listener = listen(addr, backlog);
        }
        if shared.deaf.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        match listener.accept() {
            Ok((stream, _)) => {
                let conn = shared.conns.fetch_add(1, Ordering::SeqCst);
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, conn, &shared));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

/// Runs the script for every request on one connection, until it closes.
fn serve(mut stream: TcpStream, conn: usize, shared: &Shared) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut buffered = Vec::new();
    loop {
        let Some((method, path, headers)) = read_head(&mut stream, &mut buffered, shared) else {
            return;
        };
        let index = {
            let mut seen = shared.seen.lock().unwrap_or_else(|p| p.into_inner());
            seen.push(Seen {
                conn,
                method: method.clone(),
                path: path.clone(),
                headers: headers.clone(),
                body: Vec::new(),
            });
            seen.len() - 1
        };
        let mut ex = Exchange {
            index,
            conn,
            method,
            path,
            headers,
            stream: &mut stream,
            buffered: &mut buffered,
            shared,
            body_done: false,
            closed: false,
        };
        (shared.script)(&mut ex);
        if ex.closed {
            return;
        }
        if !ex.body_done {
            let _ = ex.body();
        }
    }
}

use wire::Head;

/// Reads a request head; `None` when the connection ends (or the fake stops) first.
fn read_head(stream: &mut TcpStream, buffered: &mut Vec<u8>, shared: &Shared) -> Option<Head> {
    let head = wire::read_head(buffered, &mut |buffered| {
        if fill(stream, buffered, shared) == Some(true) {
            Ok(())
        } else {
            Err(String::new())
        }
    });
    head.ok()
}

/// Reads more into `buffered`: `Some(false)` at the end of the stream, `None` when stopping.
fn fill(stream: &mut TcpStream, buffered: &mut Vec<u8>, shared: &Shared) -> Option<bool> {
    let mut chunk = [0u8; 64 * 1024];
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Some(false),
            Ok(n) => {
                buffered.extend_from_slice(&chunk[..n]);
                return Some(true);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Some(false),
        }
    }
}

/// One request, for the script: its head, and what to do with the rest.
pub struct Exchange<'a> {
    /// The request's place among all requests (0 for the first).
    pub index: usize,
    /// Its connection's number.
    pub conn: usize,
    /// `GET` or `POST`.
    pub method: String,
    /// The request target.
    pub path: String,
    /// Its headers.
    pub headers: Vec<(String, String)>,
    stream: &'a mut TcpStream,
    buffered: &'a mut Vec<u8>,
    shared: &'a Shared,
    body_done: bool,
    closed: bool,
}

impl Exchange<'_> {
    /// Whether this is `GET /next`.
    pub fn is_next(&self) -> bool {
        self.method == "GET" && self.path.ends_with(NEXT_PATH)
    }

    /// How many `GET /next` came before this request (this one excluded).
    pub fn nexts_before(&self) -> usize {
        let seen = self.shared.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen[..self.index]
            .iter()
            .filter(|s| s.method == "GET" && s.path.ends_with(NEXT_PATH))
            .count()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn record(&self, bytes: &[u8]) {
        let mut seen = self.shared.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen[self.index].body.extend_from_slice(bytes);
    }

    /// Reads the whole body (by length or chunked) and returns it.
    pub fn body(&mut self) -> Vec<u8> {
        self.body_done = true;
        let chunked = self
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        if chunked {
            return self.chunked_body();
        }
        let length: usize = self
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        self.read_exact_body(length, None)
    }

    /// Reads `limit` bytes of the body at most (all of it if shorter) and leaves the rest.
    pub fn body_up_to(&mut self, limit: usize) -> Vec<u8> {
        self.body_done = true;
        let length: usize = self
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        self.read_exact_body(length.min(limit), None)
    }

    /// Reads the whole (length-framed) body at about `per_second` bytes a second.
    pub fn body_at(&mut self, per_second: usize) -> Vec<u8> {
        self.body_done = true;
        let length: usize = self
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        self.read_exact_body(length, Some(per_second))
    }

    fn read_exact_body(&mut self, length: usize, rate: Option<usize>) -> Vec<u8> {
        let mut body = Vec::new();
        let started = Instant::now();
        while body.len() < length {
            if self.buffered.is_empty() {
                if let Some(rate) = rate {
                    // Read no faster than `rate`: wait until the next piece is due.
                    let due = Duration::from_secs_f64(body.len() as f64 / rate as f64);
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        std::thread::sleep(wait);
                    }
                    let mut piece = vec![0u8; (rate / 10).clamp(1, length - body.len())];
                    match self.stream.read(&mut piece) {
                        Ok(0) => break,
                        Ok(n) => self.buffered.extend_from_slice(&piece[..n]),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                        Err(e) if e.kind() == ErrorKind::TimedOut => {}
                        Err(_) => break,
                    }
                    if self.shared.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    continue;
                }
                if fill(self.stream, self.buffered, self.shared) != Some(true) {
                    break;
                }
            }
            let take = self.buffered.len().min(length - body.len());
            body.extend(self.buffered.drain(..take));
        }
        self.record(&body);
        body
    }

    fn chunked_body(&mut self) -> Vec<u8> {
        let (stream, shared, index) = (&mut *self.stream, self.shared, self.index);
        let record = |bytes: &[u8]| {
            let mut seen = shared.seen.lock().unwrap_or_else(|p| p.into_inner());
            seen[index].body.extend_from_slice(bytes);
        };
        let mut body = Vec::new();
        // A broken body or a closed connection ends it: the script sees what arrived.
        let _ = wire::read_chunked(
            self.buffered,
            &mut |buffered| {
                if fill(stream, buffered, shared) == Some(true) {
                    Ok(())
                } else {
                    Err(String::new())
                }
            },
            &mut |piece| match piece {
                wire::Piece::Data(data) => {
                    record(data);
                    body.extend_from_slice(data);
                }
                wire::Piece::Trailer(line) => record(format!("[trailer {line}]").as_bytes()),
            },
        );
        body
    }

    /// Sends `bytes` as they are (a write error is ignored: the client may be gone).
    pub fn send(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes);
    }

    /// Sends a whole answer with a `Content-Length`.
    pub fn answer(&mut self, status: u16, headers: &[(&str, &str)], body: &[u8]) {
        let mut head = format!("HTTP/1.1 {status} X\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut wire = head.into_bytes();
        wire.extend_from_slice(body);
        self.send(&wire);
    }

    /// The head of an event for request id `id` (a deadline a minute away), ending with
    /// `extra` header lines and the blank line; no body.
    pub fn event_head(id: &str, extra: &str) -> String {
        wire::event_head(id, "arn:aws:lambda:us-east-1:1:function:f", extra)
    }

    /// Answers `/next` with an event: request id `id`, body `body`.
    pub fn event(&mut self, id: &str, body: &[u8]) {
        let head = Self::event_head(id, &format!("Content-Length: {}\r\n", body.len()));
        let mut wire = head.into_bytes();
        wire.extend_from_slice(body);
        self.send(&wire);
    }

    /// Reads the body and answers `202 Accepted`, as the Runtime API does a result.
    pub fn accepted(&mut self) {
        if !self.body_done {
            let _ = self.body();
        }
        self.answer(202, &[], br#"{"status":"OK"}"#);
    }

    /// Closes the connection (after the script returns, nothing more is read or sent).
    pub fn close(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        self.closed = true;
    }

    /// Waits `time` (or until the fake stops), sending nothing.
    pub fn stall(&mut self, time: Duration) {
        let deadline = Instant::now() + time;
        while Instant::now() < deadline && !self.shared.stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Closes the listener for `time` (connecting is refused meanwhile), then listens again
    /// on the same port.
    pub fn go_away(&mut self, time: Duration) {
        let ms = u64::try_from(time.as_millis()).unwrap_or(u64::MAX).max(1);
        self.shared.away_ms.store(ms, Ordering::SeqCst);
    }
}

/// A function process pointed at a fake API (`AWS_LAMBDA_RUNTIME_API`), its stdout and
/// stderr in a file; killed when dropped.
pub struct Runtime {
    child: Child,
    log: PathBuf,
}

impl Runtime {
    /// Starts `binary` against `api` with extra environment `env`.
    pub fn start(binary: &Path, api: &FakeApi, env: &[(&str, &str)]) -> Self {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let log =
            std::env::temp_dir().join(format!("faas-fake-api-{}-{n}.log", std::process::id()));
        let file = std::fs::File::create(&log).expect("a log file in the temp dir");
        let err = file.try_clone().expect("a second handle on the log file");
        let child = Command::new(binary)
            .env("AWS_LAMBDA_RUNTIME_API", &api.addr)
            .env("AWS_LAMBDA_FUNCTION_NAME", "f")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        Self { child, log }
    }

    /// Everything the process printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits up to `timeout` for a line containing every one of `needles`; returns it.
    pub fn wait_for_line(&self, needles: &[&str], timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let output = self.output();
            if let Some(line) = output
                .lines()
                .find(|l| needles.iter().all(|n| l.contains(n)))
            {
                return Some(line.to_owned());
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends `signal` (e.g. `libc::SIGTERM`).
    pub fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).expect("pids fit in i32");
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(pid, signal) };
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// CPU time the process has used so far (user + system, summed over its threads).
    pub fn cpu_time(&self) -> Duration {
        let dir = format!("/proc/{}/task", self.child.id());
        let mut ns = 0u64;
        for task in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
            ns += stat
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
        Duration::from_nanos(ns)
    }

    /// The peak resident set (`VmHWM`) in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A bare loopback listener standing in for the Runtime API while a function's start is timed
/// (`faas-check startup`, the cold invocation of `faas-check bench`), and the moment the
/// function was spawned against it. Unlike [`FakeApi`] it runs no thread and no script: the
/// measuring thread polls it, so nothing but the function's own work lies in the measured path.
///
/// ```no_run
/// use faas_checks::fake_api::TimedApi;
///
/// let mut api = TimedApi::bind()?;
/// let mut child = api.spawn(&["target/release/bootstrap".to_string()])?;
/// let stream = api.accept_first(&mut child)?;
/// println!("connected after {:?}", api.started.elapsed());
/// # drop(stream);
/// # Ok::<(), String>(())
/// ```
pub struct TimedApi {
    /// The listener, non-blocking: [`TimedApi::accept_first`] polls it.
    pub listener: TcpListener,
    /// Set by [`TimedApi::spawn`] just before the process is spawned.
    pub started: Instant,
}

/// How long a timed function may take to connect, or to send a request once it has begun.
pub const TIMED_TIMEOUT: Duration = Duration::from_secs(10);

impl TimedApi {
    /// Binds a loopback port.
    pub fn bind() -> Result<TimedApi, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("binding a loopback port: {e}"))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("setting the listener non-blocking: {e}"))?;
        Ok(TimedApi {
            listener,
            started: Instant::now(),
        })
    }

    /// Spawns `command` with `AWS_LAMBDA_RUNTIME_API` pointing at this listener and a
    /// Lambda-like environment, output discarded; the clock starts here.
    pub fn spawn(&mut self, command: &[String]) -> Result<Child, String> {
        let (program, args) = command.split_first().ok_or("an empty command")?;
        let api = self
            .listener
            .local_addr()
            .map_err(|e| format!("reading the bound address: {e}"))?;
        self.started = Instant::now();
        Command::new(program)
            .args(args)
            .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "startup")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/startup")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "startup")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting {program}: {e}"))
    }

    /// Accepts the function's first connection, polling every 20 us so that the clock stops
    /// close to the moment it arrives; the stream is blocking, with a read timeout.
    pub fn accept_first(&self, child: &mut Child) -> Result<TcpStream, String> {
        let stream = loop {
            match self.listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if let Ok(Some(status)) = child.try_wait() {
                        return Err(format!(
                            "the bootstrap exited ({status}) before asking for an event"
                        ));
                    }
                    if self.started.elapsed() > TIMED_TIMEOUT {
                        return Err(format!("no connection within {TIMED_TIMEOUT:?}"));
                    }
                    std::thread::sleep(Duration::from_micros(20));
                }
                Err(e) => return Err(format!("accepting: {e}")),
            }
        };
        stream
            .set_nonblocking(false)
            .and_then(|_| stream.set_read_timeout(Some(TIMED_TIMEOUT)))
            .map_err(|e| format!("configuring the connection: {e}"))?;
        Ok(stream)
    }
}

/// One whole request, as [`read_request`] reads it.
#[derive(Debug, PartialEq)]
pub struct Request {
    /// `GET` or `POST`.
    pub method: String,
    /// The request target.
    pub path: String,
    /// The body, decoded when chunked (trailers dropped).
    pub body: Vec<u8>,
}

/// Reads one whole request from `stream` (blocking), starting with the bytes already in
/// `pending`; bytes past its end stay in `pending`. The end of the stream mid-request is an
/// error.
///
/// ```
/// let mut input: &[u8] = b"POST /r HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET";
/// let mut pending = Vec::new();
/// let request = faas_checks::fake_api::read_request(&mut input, &mut pending).unwrap();
/// assert_eq!((request.path.as_str(), request.body.as_slice()), ("/r", &b"hi"[..]));
/// assert_eq!(pending, b"GET");
/// ```
pub fn read_request(stream: &mut impl Read, pending: &mut Vec<u8>) -> Result<Request, String> {
    let mut more = |pending: &mut Vec<u8>| {
        let mut buf = [0u8; 64 * 1024];
        match stream.read(&mut buf) {
            Ok(0) => Err("the connection closed in the middle of a request".to_string()),
            Ok(n) => {
                pending.extend_from_slice(&buf[..n]);
                Ok(())
            }
            Err(e) => Err(format!("reading a request: {e}")),
        }
    };
    let (method, path, headers) = wire::read_head(pending, &mut more)?;
    let mut length = None;
    let mut chunked = false;
    for (name, value) in &headers {
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| format!("a bad content-length: {value}"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        }
    }
    let body = if chunked {
        let mut body = Vec::new();
        wire::read_chunked(pending, &mut more, &mut |piece| {
            if let wire::Piece::Data(data) = piece {
                body.extend_from_slice(data);
            }
        })?;
        body
    } else {
        let length = length.unwrap_or(0);
        while pending.len() < length {
            more(pending)?;
        }
        pending.drain(..length).collect()
    };
    Ok(Request { method, path, body })
}

/// The head of an answer to `GET /next` with the headers every event has: request id `id`, a
/// deadline a minute away, function ARN `arn`; then `extra` header lines and the blank line.
///
/// ```
/// let head = faas_checks::fake_api::event_head("req-1", "arn:aws:lambda:us-east-1:1:function:f", "");
/// assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.ends_with("\r\n\r\n"));
/// ```
pub fn event_head(id: &str, arn: &str, extra: &str) -> String {
    wire::event_head(id, arn, extra)
}

/// The wire code both fakes share: request heads, chunked bodies, the event head. Bytes come
/// in through `more`, which reads further into the buffer or says why it cannot.
mod wire {
    use faas_runtime::protocol::header;

    /// A request's method, target and headers (names and values trimmed).
    pub(super) type Head = (String, String, Vec<(String, String)>);

    /// Reads more bytes into the buffer, or says why there are none.
    pub(super) type More<'a> = dyn FnMut(&mut Vec<u8>) -> Result<(), String> + 'a;

    /// Reads a request head out of `pending` (calling `more` until it is whole); the bytes
    /// after it stay in `pending`.
    pub(super) fn read_head(pending: &mut Vec<u8>, more: &mut More<'_>) -> Result<Head, String> {
        let end = loop {
            if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            more(pending)?;
        };
        let head = String::from_utf8_lossy(&pending[..end]).into_owned();
        pending.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or_default().split(' ');
        let (Some(method), Some(path)) = (first.next(), first.next()) else {
            return Err(format!(
                "a request line without a method and a target: {head:?}"
            ));
        };
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Ok((method.to_owned(), path.to_owned(), headers))
    }

    /// A piece of a chunked body: a chunk's data, or a trailer line.
    pub(super) enum Piece<'a> {
        Data(&'a [u8]),
        Trailer(&'a str),
    }

    /// Decodes a chunked body (`SIZE[;ext]\r\nDATA\r\n`... `0\r\n`, trailers, `\r\n`) out of
    /// `pending`, handing each chunk (once it is whole) and trailer line to `piece`; the bytes
    /// after it stay in `pending`. A bad chunk size, or `more` failing, ends it with an error
    /// after the pieces before.
    pub(super) fn read_chunked(
        pending: &mut Vec<u8>,
        more: &mut More<'_>,
        piece: &mut dyn FnMut(Piece<'_>),
    ) -> Result<(), String> {
        loop {
            let size_line = line(pending, more)?;
            let size_text = size_line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| format!("a bad chunk size: {size_text}"))?;
            if size == 0 {
                loop {
                    let trailer = line(pending, more)?;
                    if trailer.is_empty() {
                        return Ok(());
                    }
                    piece(Piece::Trailer(&trailer));
                }
            }
            while pending.len() < size + 2 {
                more(pending)?;
            }
            piece(Piece::Data(&pending[..size]));
            pending.drain(..size + 2);
        }
    }

    /// The next CRLF-terminated line of `pending`, without its CRLF.
    fn line(pending: &mut Vec<u8>, more: &mut More<'_>) -> Result<String, String> {
        loop {
            if let Some(end) = pending.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&pending[..end]).into_owned();
                pending.drain(..end + 2);
                return Ok(line);
            }
            more(pending)?;
        }
    }

    /// See [`super::event_head`].
    pub(super) fn event_head(id: &str, arn: &str, extra: &str) -> String {
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() + 60_000)
            .unwrap_or_default();
        format!(
            "HTTP/1.1 200 OK\r\n{}: {id}\r\n{}: {deadline}\r\n{}: {arn}\r\n{extra}\r\n",
            header::REQUEST_ID,
            header::DEADLINE_MS,
            header::FUNCTION_ARN
        )
    }
}
