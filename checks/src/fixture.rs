//! Real processes for tests: a function under `faas-emulator` or in local mode, its output,
//! and the binaries cargo built; or the emulator in this process ([`Served`]) around a real
//! function process, with limits a test chooses. Addresses come from the emulator's ready
//! file ([`READY_FILE_VAR`]) or its listeners, never from the human banner.
//!
//! ```no_run
//! use faas_checks::fixture::{Function, example};
//!
//! let echo = Function::emulated(&example("echo"), &[], &[]);
//! let answer = echo.invoke(br#"{"a":1}"#);
//! assert_eq!(answer.body, br#"{"a":1}"#);
//! ```

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::http::{self, Response};

use faas_runtime::emulator::{Emulator, READY_FILE_VAR};
use faas_runtime::protocol::INVOKE_PATH;

/// Cargo's output directory for the running test binary's profile (`target/debug`).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let dir = exe.parent().expect("the test binary is in a directory");
    // Test binaries live in target/<profile>/deps.
    if dir.ends_with("deps") {
        dir.parent().unwrap_or(dir).to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// A binary of this workspace, e.g. `bootstrap` or `faas-emulator`.
pub fn binary(name: &str) -> PathBuf {
    existing(
        profile_dir().join(name),
        "cargo build --workspace --bins --examples",
    )
}

/// An example of the runtime crate, e.g. `echo`.
pub fn example(name: &str) -> PathBuf {
    existing(
        profile_dir().join("examples").join(name),
        "cargo build --workspace --bins --examples",
    )
}

fn existing(path: PathBuf, build: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing: build it first with `{build}`",
        path.display()
    );
    path
}

/// How long [`call`] waits for an answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// One request to the APIs a function's processes use (the Runtime, Extensions and Telemetry
/// APIs at `f.api_addr`), as a test plays one of those processes; waits up to 20 s. No answer
/// at all fails the test, with the processes' output.
///
/// ```no_run
/// use faas_checks::fixture::{Function, call, example};
///
/// let f = Function::emulated(&example("echo"), &[], &[]);
/// let r = call(&f, "GET", "/2020-01-01/extension/event/next", &[], b"");
/// assert_eq!(r.status, 403);
/// ```
pub fn call(
    f: &Function,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    http::request(&f.api_addr, method, path, headers, body, CALL_TIMEOUT)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", f.output()))
}

/// The `errorType` of an error answer (Lambda's `{"errorType": …, "errorMessage": …}`); empty
/// when the body is not JSON or has none.
///
/// ```
/// use faas_checks::fixture::error_type;
/// use faas_checks::http::Response;
///
/// let r = Response {
///     status: 403,
///     headers: vec![],
///     body: br#"{"errorType":"Extension.UnknownExtensionIdentifier"}"#.to_vec(),
/// };
/// assert_eq!(error_type(&r), "Extension.UnknownExtensionIdentifier");
/// ```
pub fn error_type(r: &Response) -> String {
    r.json()
        .and_then(|v| v["errorType"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Runs `call(0)` … `call(n - 1)` at once, each on a thread of its own (the callers of a
/// concurrency test); their results in that order. A caller's panic is the test's.
///
/// ```
/// let squares = faas_checks::fixture::together(3, |i| i * i);
/// assert_eq!(squares, [0, 1, 4]);
/// ```
pub fn together<T: Send>(n: usize, call: impl Fn(usize) -> T + Sync) -> Vec<T> {
    std::thread::scope(|s| {
        let call = &call;
        let callers: Vec<_> = (0..n).map(|i| s.spawn(move || call(i))).collect();
        callers
            .into_iter()
            .map(|c| c.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// Output collected from a child process, with a way to wait for a line.
#[derive(Default)]
struct Output {
    text: Mutex<String>,
    grew: Condvar,
}

impl Output {
    fn collect(self: &Arc<Self>, stream: impl Read + Send + 'static) {
        let output = Arc::clone(self);
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                let mut text = output.text.lock().unwrap_or_else(|p| p.into_inner());
                text.push_str(&line);
                text.push('\n');
                output.grew.notify_all();
            }
        });
    }

    fn wait_for(&self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let mut text = self.text.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(line) = text.lines().find(|l| l.contains(needle)) {
                return Some(line.to_owned());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            text = self
                .grew
                .wait_timeout(text, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// A fresh path for one emulator's ready file.
fn ready_file_path() -> PathBuf {
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("faas-ready-{}-{n}.json", std::process::id()))
}

/// Waits for the emulator's ready file; returns (invoke address, Runtime API address).
fn wait_ready(
    path: &Path,
    child: &mut Child,
    timeout: Duration,
) -> Result<(String, String), String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            let ready: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("{e}: {text:?}"))?;
            let field = |name: &str| {
                ready[name]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("no {name:?} in {text:?}"))
            };
            return Ok((field("invoke")?, field("api")?));
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("it exited first ({status})"));
        }
        if Instant::now() > deadline {
            return Err(format!("none after {timeout:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The emulator served in this process, on loopback listeners it binds itself, around a real
/// function process: for tests that set [`Emulator::limits`] or other fields directly. Stopped
/// (as by SIGTERM) when dropped.
///
/// ```no_run
/// use faas_checks::fixture::{Served, example};
/// use faas_runtime::emulator::Emulator;
///
/// let mut emulator = Emulator::new(vec![example("echo").into()]);
/// emulator.limits.max_connections = 8;
/// let served = Served::start(emulator);
/// assert_eq!(served.invoke(b"{}").status, 200);
/// ```
pub struct Served {
    /// `host:port` of the invoke endpoint.
    pub invoke_addr: String,
    /// `host:port` of the Runtime API.
    pub api_addr: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<i32>>,
}

impl Served {
    /// Serves `emulator` on free loopback ports from a thread of its own.
    pub fn start(emulator: Emulator) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, addresses) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime for the emulator");
            runtime.block_on(async move {
                let api = tokio::net::TcpListener::bind("127.0.0.1:0").await;
                let invoke = tokio::net::TcpListener::bind("127.0.0.1:0").await;
                let (Ok(api), Ok(invoke)) = (api, invoke) else {
                    return 1;
                };
                let (Ok(api_addr), Ok(invoke_addr)) = (api.local_addr(), invoke.local_addr())
                else {
                    return 1;
                };
                let _ = ready.send((invoke_addr.to_string(), api_addr.to_string()));
                let shutdown = async move {
                    let _ = stopped.await;
                };
                emulator.serve("emulator", api, invoke, shutdown).await
            })
        });
        let (invoke_addr, api_addr) = addresses
            .recv_timeout(Duration::from_secs(10))
            .expect("the emulator binds two loopback ports");
        Self {
            invoke_addr,
            api_addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Invokes with `event` and waits up to 60 s for the answer.
    pub fn invoke(&self, event: &[u8]) -> Response {
        http::request(
            &self.invoke_addr,
            "POST",
            INVOKE_PATH,
            &[],
            event,
            Duration::from_secs(60),
        )
        .unwrap_or_else(|e| panic!("invoke failed: {e}"))
    }

    /// Stops the emulator as SIGTERM would; returns its exit code.
    pub fn stop(mut self) -> i32 {
        self.stop_now().unwrap_or(-1)
    }

    fn stop_now(&mut self) -> Option<i32> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.thread.take()?.join().ok()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// A function process tree under test: stopped with SIGTERM (then SIGKILL) when dropped.
pub struct Function {
    child: Child,
    /// `host:port` of the invoke endpoint.
    pub invoke_addr: String,
    /// `host:port` of the Runtime API.
    pub api_addr: String,
    output: Arc<Output>,
}

impl Function {
    /// `command` under `faas-emulator` on free loopback ports; `args` go to the emulator.
    pub fn emulated(command: &Path, env: &[(&str, &str)], args: &[&str]) -> Self {
        Self::emulated_command(&[command.as_os_str()], env, args)
    }

    /// Like [`Function::emulated`] for a command with arguments.
    pub fn emulated_command(command: &[&OsStr], env: &[(&str, &str)], args: &[&str]) -> Self {
        Self::try_emulated_command(&binary("faas-emulator"), command, env, args)
            .unwrap_or_else(|message| panic!("{message}"))
    }

    /// Like [`Function::emulated_command`] under the emulator binary `emulator`, with an
    /// error instead of a panic when it does not come up (for the check programs).
    pub fn try_emulated_command(
        emulator: &Path,
        command: &[&OsStr],
        env: &[(&str, &str)],
        args: &[&str],
    ) -> Result<Self, String> {
        let mut cmd = Command::new(emulator);
        cmd.args(["--api", "127.0.0.1:0", "--listen", "127.0.0.1:0"])
            .args(args)
            .arg("--")
            .args(command);
        Self::try_start(cmd, env)
    }

    /// `binary` in local mode (no `AWS_LAMBDA_RUNTIME_API`) on a free loopback port.
    pub fn local(binary: &Path, env: &[(&str, &str)]) -> Self {
        Self::local_with_args(binary, env, &[])
    }

    /// Like [`Function::local`] with more of local mode's arguments (`--max-concurrency 8`).
    pub fn local_with_args(binary: &Path, env: &[(&str, &str)], args: &[&str]) -> Self {
        let mut cmd = Command::new(binary);
        cmd.args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("AWS_LAMBDA_RUNTIME_API");
        Self::try_start(cmd, env).unwrap_or_else(|message| panic!("{message}"))
    }

    fn try_start(mut cmd: Command, env: &[(&str, &str)]) -> Result<Self, String> {
        let ready_file = ready_file_path();
        let _ = std::fs::remove_file(&ready_file);
        cmd.envs(env.iter().copied())
            .env(READY_FILE_VAR, &ready_file)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
        let output = Arc::new(Output::default());
        output.collect(child.stdout.take().expect("stdout is piped"));
        output.collect(child.stderr.take().expect("stderr is piped"));
        let ready = wait_ready(&ready_file, &mut child, Duration::from_secs(10));
        let _ = std::fs::remove_file(&ready_file);
        let (invoke_addr, api_addr) = match ready {
            Ok(addresses) => addresses,
            Err(why) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{cmd:?} did not write its ready file ({why}); output:\n{}",
                    output.text.lock().unwrap_or_else(|p| p.into_inner())
                ));
            }
        };
        Ok(Self {
            child,
            invoke_addr,
            api_addr,
            output,
        })
    }

    /// Invokes the function with `event` and waits up to 60 s for the answer.
    pub fn invoke(&self, event: &[u8]) -> Response {
        self.invoke_with(&[], event)
    }

    /// Invokes with extra request headers.
    pub fn invoke_with(&self, headers: &[(&str, &str)], event: &[u8]) -> Response {
        http::request(
            &self.invoke_addr,
            "POST",
            INVOKE_PATH,
            headers,
            event,
            Duration::from_secs(60),
        )
        .unwrap_or_else(|e| panic!("invoke failed: {e}\noutput:\n{}", self.output()))
    }

    /// Everything the processes printed so far.
    pub fn output(&self) -> String {
        self.output
            .text
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits up to `timeout` for a line containing `needle`; returns it.
    pub fn wait_for_output(&self, needle: &str, timeout: Duration) -> Option<String> {
        self.output.wait_for(needle, timeout)
    }

    /// The emulator's (or local-mode process's) pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (e.g. `libc::SIGTERM`) to the emulator or local-mode process.
    pub fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).expect("pids fit in i32");
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(pid, signal) };
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.signal(libc::SIGTERM);
            if self.wait(Duration::from_secs(3)).is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }
}
