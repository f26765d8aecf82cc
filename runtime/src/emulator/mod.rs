//! An emulator of the Lambda service around one function: the Runtime API the function polls,
//! the invoke endpoint callers post to, and a supervisor for the function process.
//!
//! It is AWS's runtime interface emulator in miniature, with one implementation for two uses:
//! the standalone `faas-emulator` binary runs any function command under it, and *local mode*
//! (`bootstrap` started without `AWS_LAMBDA_RUNTIME_API`) runs its own binary under it. Either
//! way the function speaks the real protocol over loopback, and a crash, a panic or a timeout
//! replaces the function process while the endpoint stays up.
//!
//! It serves as a production server would against broken and hostile clients: bodies are
//! whole or an error, a caller is admitted to the queue before its body is read, connections
//! are capped and timed out, and every accepted caller gets an answer, down to shutdown
//! ([`Limits`]).
//!
//! ```no_run
//! use faas_runtime::emulator::Emulator;
//!
//! # async fn demo() {
//! let emulator = Emulator::new(vec!["./bootstrap".into()]);
//! let exit_code = emulator.run("faas-emulator").await;
//! # }
//! ```
//!
//! # Layout
//!
//! Layers, each importing only from those below it (no circle):
//!
//! 1. `wire`: formats with no I/O (AWS's JSON error body, the event-stream codec); `limits`:
//!    the service's numbers the emulator copies.
//! 2. `core`: the sandbox (one function process and the life of each invocation: queue
//!    place, turn, dispatch, deadline, answer), the RAPID-like state machine, and the
//!    lifecycle events observers subscribe to. No HTTP.
//! 3. `api`: the Runtime API (`rapi`) and the invoke endpoint (`invoke`), HTTP handlers for
//!    the crate's one server (`crate::server`) that map the core's enums to AWS's answers.
//! 4. `supervisor` (starts, resets and stops the execution environment: extensions and
//!    function process), `report` (the `START`/`END`/`REPORT` lines, a lifecycle subscriber),
//!    `child` (a process awaited through a pidfd, so no tokio `process`/`signal` feature),
//!    and this file's wiring.

mod api;
mod child;
mod core;
#[cfg(feature = "fuzzing")]
pub(crate) mod fuzzing;
mod limits;
mod output;
mod report;
mod supervisor;
mod wire;

use std::ffi::OsString;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::config::FunctionSettings;
use crate::log;
use crate::protocol::{INVOKE_PATH, env};
use crate::server::{self, PortLimits, StopSignal};
use crate::shutdown::Stop;
use core::Sandbox;
use limits::EMULATED_ARN_PREFIX;

pub use core::lifecycle::{peak_memory_kib, vm_hwm_kib};

/// The function timeout when `AWS_LAMBDA_FUNCTION_TIMEOUT` is unset, as AWS's emulator.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// When this variable names a file, the emulator writes its addresses there once it listens,
/// as one line of JSON: `{"invoke":"127.0.0.1:PORT","api":"127.0.0.1:PORT"}` (written to a
/// temporary file and renamed, so a reader never sees half of it). Test harnesses and scripts
/// read it instead of the human banner. The function process inherits the variable and
/// ignores it: only the emulator writes the file.
pub const READY_FILE_VAR: &str = "FAAS_EMULATOR_READY_FILE";

/// How long connections get to finish their answers once the emulator stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What the emulator tolerates from its clients before refusing them, as a production server
/// would; [`Limits::default`] states the defaults and why.
///
/// ```
/// use std::time::Duration;
/// use faas_runtime::emulator::Limits;
///
/// let mut limits = Limits::default();
/// limits.max_connections = 20;
/// limits.header_timeout = Duration::from_secs(1);
/// assert_eq!(limits.max_waiting, 64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Connections the invoke endpoint holds at once. A new one past the cap evicts the
    /// connection idle the longest (preferring ones that never got a 2xx answer); when all are
    /// busy, it gets 503 and is closed.
    pub max_connections: usize,
    /// The same cap for the Runtime API port, which only the function needs.
    pub max_api_connections: usize,
    /// Time a client has to send a complete request head, from connecting or from its previous
    /// answer (so it is the idle keep-alive timeout too). On the Runtime API port the function
    /// timeout is added, since the function's connection idles while its handler runs.
    pub header_timeout: Duration,
    /// Time a request body has to arrive whole (408 after it).
    pub body_timeout: Duration,
    /// Invocations that may wait for the one in flight; the next gets 429 at once.
    pub max_waiting: usize,
    /// Bytes of event bodies held in memory at once, across all callers (at least 6 MiB).
    /// A body is admitted to this budget before it is read; others wait (TCP backpressure).
    pub max_buffered: usize,
    /// Largest streamed response (Lambda's 200 MiB); past it the stream ends with
    /// `Function.ResponseSizeTooLarge`.
    pub max_stream_bytes: usize,
}

impl Default for Limits {
    /// 256 invoke and 32 Runtime API connections (far below a 1,024 file descriptor limit, so
    /// `accept` never runs out); 30 s for a request head (hyper's default; Lambda's front ends
    /// close idle connections too); 60 s for a body (6 MiB at 100 KiB/s); 64 waiting invokes;
    /// 64 MiB of buffered events (ten 6 MiB events).
    fn default() -> Self {
        Self {
            max_connections: 256,
            max_api_connections: 32,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
            max_waiting: 64,
            max_buffered: 64 * 1024 * 1024,
            max_stream_bytes: limits::MAX_STREAMED_RESPONSE,
        }
    }
}

/// What to emulate and where: start from [`Emulator::new`] and change what differs.
///
/// ```
/// use std::time::Duration;
/// use faas_runtime::emulator::Emulator;
///
/// let mut emulator = Emulator::new(vec!["./bootstrap".into()]);
/// emulator.timeout = Duration::from_secs(3);
/// emulator.function.function_name = "orders".into();
/// assert_eq!(emulator.listen.port(), 8080);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Emulator {
    /// The Runtime API address (port 0 picks a free one).
    pub api: SocketAddr,
    /// The invoke endpoint address.
    pub listen: SocketAddr,
    /// Invocations running longer fail with `Sandbox.Timedout` and the process is replaced.
    pub timeout: Duration,
    /// Passed to the function as `AWS_LAMBDA_FUNCTION_*` unless already set.
    pub function: FunctionSettings,
    /// The function's program and arguments.
    pub command: Vec<OsString>,
    /// Connection, time and memory limits for both ports.
    pub limits: Limits,
    /// Where to serve plain HTTP, each request a function URL event for the function
    /// (`faas-emulator --http`, feature `http`); `None`: no such port.
    #[cfg(feature = "http")]
    pub http: Option<SocketAddr>,
    /// Lambda Managed Instances: how many invocations run at once, each dispatched to its own
    /// `/next` and answered by its request id (`faas-emulator --max-concurrency N`, local
    /// mode's `--max-concurrency N`, or [`max_concurrency_from_env`]). The function process
    /// gets it as `AWS_LAMBDA_MAX_CONCURRENCY`. 1 (the default): classic Lambda, one at a time.
    pub max_concurrency: usize,
    /// Where external extensions are found and started from before the function, as Lambda
    /// does with `/opt/extensions` (the default when it exists; [`EXTENSIONS_DIR_VAR`]
    /// names another).
    pub extensions_dir: Option<PathBuf>,
    /// At stop, send SIGTERM to the function even when no extension registered (the emulator's
    /// behaviour before issue 17, for tests of a function's own SIGTERM handling). Lambda kills
    /// the function without a signal then, and so does the emulator by default; set with
    /// `FAAS_EMULATOR_SIGTERM=always`.
    pub sigterm_always: bool,
    /// Lambda's limit on the init phase (10 s, on-demand): an init still running past it is
    /// abandoned (`INIT_REPORT ... Status: timeout`) and retried inside the first invocation,
    /// under the function's timeout (the "suppressed init": that invocation's `REPORT` has no
    /// Init Duration, the init is in its Duration). Tests shorten it with
    /// [`INIT_LIMIT_VAR`]. Not applied under Managed Instances (`max_concurrency` > 1).
    pub init_limit: Duration,
}

/// Names a directory of external extensions to start instead of `/opt/extensions`.
pub const EXTENSIONS_DIR_VAR: &str = "FAAS_EMULATOR_EXTENSIONS_DIR";
/// `always`: SIGTERM to the function at stop even without an extension
/// ([`Emulator::sigterm_always`]).
pub const SIGTERM_VAR: &str = "FAAS_EMULATOR_SIGTERM";

/// Milliseconds: the init phase's limit instead of Lambda's 10 s ([`Emulator::init_limit`]), so
/// a test of the init timeout need not wait 10 s. Not a Lambda setting.
pub const INIT_LIMIT_VAR: &str = "FAAS_EMULATOR_INIT_LIMIT_MS";

/// [`INIT_LIMIT_VAR`] when it is a whole number of milliseconds above 0, else Lambda's 10 s
/// (with a line on stderr for a value it cannot use).
fn init_limit_from_env() -> Duration {
    let default = core::INIT_LIMIT;
    let Some(value) = std::env::var_os(INIT_LIMIT_VAR) else {
        return default;
    };
    match value.to_str().and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(ms) if ms > 0 => Duration::from_millis(ms),
        _ => {
            eprintln!(
                "{INIT_LIMIT_VAR} must be a whole number of milliseconds above 0, got {value:?}: using {} ms",
                default.as_millis()
            );
            default
        }
    }
}

/// The extensions directory from the environment, else `/opt/extensions` when it exists.
fn extensions_dir_from_env() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(EXTENSIONS_DIR_VAR) {
        return Some(dir.into());
    }
    let opt = Path::new("/opt/extensions");
    opt.is_dir().then(|| opt.to_path_buf())
}

fn sigterm_always_from_env() -> bool {
    std::env::var(SIGTERM_VAR).is_ok_and(|v| v == "always")
}

impl Emulator {
    /// The defaults of AWS's emulator: Runtime API on 127.0.0.1:9001, invoke endpoint on
    /// 127.0.0.1:8080, a 300 s timeout; [`Limits::default`].
    pub fn new(command: Vec<OsString>) -> Self {
        Self {
            api: SocketAddr::from(([127, 0, 0, 1], 9001)),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            timeout: DEFAULT_TIMEOUT,
            function: FunctionSettings::default(),
            command,
            limits: Limits::default(),
            #[cfg(feature = "http")]
            http: None,
            max_concurrency: 1,
            extensions_dir: extensions_dir_from_env(),
            sigterm_always: sigterm_always_from_env(),
            init_limit: init_limit_from_env(),
        }
    }

    /// Binds [`Emulator::api`] and [`Emulator::listen`] and serves until SIGTERM or SIGINT,
    /// which it passes on to the function; returns the exit code. `name` prefixes the line
    /// that says where it listens.
    pub async fn run(self, name: &str) -> i32 {
        log::init(log::Format::Text, log::Level::INFO);
        let bind = |addr: SocketAddr, what: &'static str| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|e| format!("{name}: cannot listen on {addr} for the {what}: {e}"))
        };
        let (api, invoke) = match (
            bind(self.api, "Runtime API").await,
            bind(self.listen, "invoke endpoint").await,
        ) {
            (Ok(api), Ok(invoke)) => (api, invoke),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("{e}");
                return 1;
            }
        };
        let mut stop = match Stop::new() {
            Ok(stop) => stop,
            Err(e) => {
                eprintln!("{name}: cannot listen for SIGTERM: {e}");
                return 1;
            }
        };
        self.serve(name, api, invoke, async move { stop.recv().await })
            .await
    }

    /// Serves on listeners the caller bound (`api` for the Runtime API, `invoke` for the invoke
    /// endpoint) until `shutdown` resolves, as mini-redis's `server::run`: waiting callers then
    /// get 503, the function gets SIGTERM and up to its timeout to finish the invocation in
    /// flight, and every connection its answer. Returns the exit code. [`Emulator::api`] and
    /// [`Emulator::listen`] are not used.
    ///
    /// ```no_run
    /// use faas_runtime::emulator::Emulator;
    /// use tokio::net::TcpListener;
    ///
    /// # async fn demo() -> std::io::Result<()> {
    /// let api = TcpListener::bind("127.0.0.1:0").await?;
    /// let invoke = TcpListener::bind("127.0.0.1:0").await?;
    /// let invoke_addr = invoke.local_addr()?; // POST here
    /// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    /// let emulator = Emulator::new(vec!["./bootstrap".into()]);
    /// let served = tokio::spawn(emulator.serve("test", api, invoke, async move {
    ///     let _ = stopped.await;
    /// }));
    /// // ... invoke, then:
    /// let _ = stop.send(());
    /// assert_eq!(served.await.unwrap(), 0);
    /// # Ok(()) }
    /// ```
    pub async fn serve(
        self,
        name: &str,
        api: TcpListener,
        invoke: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> i32 {
        let (Ok(api_addr), Ok(listen_addr)) = (api.local_addr(), invoke.local_addr()) else {
            eprintln!("{name}: cannot read the listening addresses");
            return 1;
        };
        let f = &self.function;
        let limits = self.limits;
        let arn = format!("{EMULATED_ARN_PREFIX}{}", f.function_name);
        let sandbox = Sandbox::new(
            self.timeout,
            arn,
            f.memory_size_mb,
            limits.max_waiting,
            limits.max_buffered,
        );
        let slots = self.max_concurrency.max(1);
        let mut sandbox = sandbox.concurrent(slots);
        sandbox.max_stream_bytes = limits.max_stream_bytes;
        sandbox.init_limit = self.init_limit;
        sandbox.subscribe(report::lines());
        sandbox.subscribe(core::telemetry::subscriber(Arc::clone(
            &sandbox.extensions.telemetry,
        )));
        let sandbox = Arc::new(sandbox);
        let stop_servers = Arc::new(StopSignal::default());
        let api_limits = PortLimits {
            // Each of N workers polls on its own connection; extensions need theirs too.
            max_connections: limits.max_api_connections.max(1).max(slots + 16),
            header_timeout: limits.header_timeout + self.timeout,
            grace: SHUTDOWN_GRACE,
            half_close: false,
        };
        let invoke_limits = PortLimits {
            max_connections: limits.max_connections.max(1),
            header_timeout: limits.header_timeout,
            grace: SHUTDOWN_GRACE,
            half_close: false,
        };
        let body_timeout = limits.body_timeout;
        let rapi_sandbox = Arc::clone(&sandbox);
        let api_server = tokio::spawn(server::serve(
            api,
            api_limits,
            api::REFUSALS,
            move |r| api::rapi::handle(Arc::clone(&rapi_sandbox), body_timeout, r),
            Arc::clone(&stop_servers),
        ));
        let invoke_sandbox = Arc::clone(&sandbox);
        let invoke_server = tokio::spawn(server::serve(
            invoke,
            invoke_limits,
            api::REFUSALS,
            move |r| api::invoke::handle(Arc::clone(&invoke_sandbox), body_timeout, r),
            Arc::clone(&stop_servers),
        ));
        #[cfg(feature = "http")]
        let http_front = match self.http {
            None => None,
            Some(addr) => match TcpListener::bind(addr).await {
                Ok(listener) => {
                    let local = listener.local_addr().unwrap_or(addr);
                    eprintln!(
                        "{name}: plain HTTP on http://{local} (each request a function URL event)"
                    );
                    let front_sandbox = Arc::clone(&sandbox);
                    Some(tokio::spawn(server::serve(
                        listener,
                        invoke_limits,
                        api::REFUSALS,
                        move |r| {
                            api::http_front::handle(Arc::clone(&front_sandbox), body_timeout, r)
                        },
                        Arc::clone(&stop_servers),
                    )))
                }
                Err(e) => {
                    eprintln!("{name}: cannot listen on {addr} for plain HTTP: {e}");
                    stop_servers.fire();
                    return 1;
                }
            },
        };
        let env = function_env(api_addr, f, slots);
        eprintln!(
            "{name}: invoke with POST http://{listen_addr}{INVOKE_PATH} (Runtime API on {api_addr})"
        );
        if let Some(path) = std::env::var_os(READY_FILE_VAR) {
            if let Err(e) = write_ready_file(Path::new(&path), listen_addr, api_addr) {
                eprintln!("{name}: cannot write {READY_FILE_VAR}: {e}");
            }
        }
        let setup = supervisor::Setup {
            command: &self.command,
            env: &env,
            extensions_dir: self.extensions_dir.as_deref(),
            sigterm_always: self.sigterm_always,
        };
        let telemetry = Arc::clone(&sandbox.extensions.telemetry);
        let code = supervisor::supervise(name, sandbox, &setup, shutdown).await;
        // The processes are gone: their last lines still in the pipes are copied out first.
        let _ =
            tokio::task::spawn_blocking(move || telemetry.copying.wait_idle(output::DRAIN_LIMIT))
                .await;
        stop_servers.fire();
        let _ = api_server.await;
        let _ = invoke_server.await;
        #[cfg(feature = "http")]
        if let Some(front) = http_front {
            let _ = front.await;
        }
        code
    }
}

fn write_ready_file(path: &Path, invoke: SocketAddr, api: SocketAddr) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    std::fs::write(
        &temporary,
        format!("{{\"invoke\":\"{invoke}\",\"api\":\"{api}\"}}\n"),
    )?;
    std::fs::rename(&temporary, path)
}

/// A function timeout that is not whole seconds of at least 1; it displays as
/// `must be a whole number of seconds (at least 1), got "1.5"`, after the variable's name when
/// it came from the environment.
///
/// ```
/// let e = faas_runtime::emulator::parse_timeout("0").unwrap_err();
/// assert!(e.to_string().starts_with("must be a whole number of seconds"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTimeout {
    /// The variable it was read from, if any.
    variable: Option<&'static str>,
    /// The text given.
    value: String,
}

impl std::fmt::Display for InvalidTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(variable) = self.variable {
            write!(f, "{variable} ")?;
        }
        write!(
            f,
            "must be a whole number of seconds (at least 1), got {:?}",
            self.value
        )
    }
}

impl std::error::Error for InvalidTimeout {}

/// `AWS_LAMBDA_FUNCTION_TIMEOUT` in seconds, or [`DEFAULT_TIMEOUT`]; an error names the
/// variable and the value.
///
/// ```
/// # // SAFETY: doctests run in their own process.
/// unsafe { std::env::remove_var("AWS_LAMBDA_FUNCTION_TIMEOUT") };
/// assert_eq!(faas_runtime::emulator::timeout_from_env().unwrap().as_secs(), 300);
/// ```
pub fn timeout_from_env() -> Result<Duration, InvalidTimeout> {
    match std::env::var(env::FUNCTION_TIMEOUT) {
        Err(_) => Ok(DEFAULT_TIMEOUT),
        Ok(v) => parse_timeout(&v).map_err(|e| InvalidTimeout {
            variable: Some(env::FUNCTION_TIMEOUT),
            ..e
        }),
    }
}

/// A function timeout: whole seconds, at least 1, as Lambda's setting.
///
/// ```
/// use faas_runtime::emulator::parse_timeout;
/// assert_eq!(parse_timeout("3").unwrap().as_secs(), 3);
/// assert!(parse_timeout("0").is_err() && parse_timeout("1.5").is_err());
/// ```
pub fn parse_timeout(text: &str) -> Result<Duration, InvalidTimeout> {
    match text.trim().parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err(InvalidTimeout {
            variable: None,
            value: text.to_owned(),
        }),
    }
}

/// A concurrency that is not a whole number from 1 to 256; it displays as
/// `must be a whole number from 1 to 256, got "0"`, after the variable's name when it came
/// from the environment.
///
/// ```
/// let e = faas_runtime::emulator::parse_max_concurrency("0").unwrap_err();
/// assert!(e.to_string().starts_with("must be a whole number from 1 to 256"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidConcurrency {
    /// The variable it was read from, if any.
    variable: Option<&'static str>,
    /// The text given.
    value: String,
}

impl std::fmt::Display for InvalidConcurrency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(variable) = self.variable {
            write!(f, "{variable} ")?;
        }
        write!(
            f,
            "must be a whole number from 1 to {}, got {:?}",
            crate::cli::MAX_CONCURRENCY,
            self.value
        )
    }
}

impl std::error::Error for InvalidConcurrency {}

/// `AWS_LAMBDA_MAX_CONCURRENCY` when set (Lambda Managed Instances), else 1: the emulator
/// reads the variable Lambda sets, as it reads the timeout. An error names the variable and
/// the value.
///
/// ```
/// # // SAFETY: doctests run in their own process.
/// unsafe { std::env::set_var("AWS_LAMBDA_MAX_CONCURRENCY", "8") };
/// assert_eq!(faas_runtime::emulator::max_concurrency_from_env(), Ok(8));
/// unsafe { std::env::set_var("AWS_LAMBDA_MAX_CONCURRENCY", "many") };
/// let e = faas_runtime::emulator::max_concurrency_from_env().unwrap_err();
/// assert!(e.to_string().starts_with("AWS_LAMBDA_MAX_CONCURRENCY must be"));
/// ```
pub fn max_concurrency_from_env() -> Result<usize, InvalidConcurrency> {
    match std::env::var(env::MAX_CONCURRENCY) {
        Err(_) => Ok(1),
        Ok(text) => parse_max_concurrency(&text).map_err(|e| InvalidConcurrency {
            variable: Some(env::MAX_CONCURRENCY),
            ..e
        }),
    }
}

/// A concurrency (`--max-concurrency`, `AWS_LAMBDA_MAX_CONCURRENCY`): a whole number from 1 to
/// 256, the most the Runtime API port holds connections for.
///
/// ```
/// use faas_runtime::emulator::parse_max_concurrency;
/// assert_eq!(parse_max_concurrency("64"), Ok(64));
/// assert!(parse_max_concurrency("0").is_err() && parse_max_concurrency("257").is_err());
/// ```
pub fn parse_max_concurrency(text: &str) -> Result<usize, InvalidConcurrency> {
    crate::cli::parse_concurrency(text).map_err(|_| InvalidConcurrency {
        variable: None,
        value: text.to_owned(),
    })
}

/// The environment a function process gets: the API address, the concurrency (when above 1,
/// or to override an inherited value), and Lambda's function settings where the caller did
/// not set them.
fn function_env(api: SocketAddr, f: &FunctionSettings, slots: usize) -> Vec<(String, String)> {
    let mut vars = vec![(env::RUNTIME_API.to_owned(), api.to_string())];
    if slots > 1 || std::env::var_os(env::MAX_CONCURRENCY).is_some() {
        vars.push((env::MAX_CONCURRENCY.to_owned(), slots.to_string()));
    }
    for (key, value) in [
        (env::FUNCTION_NAME, f.function_name.clone()),
        (env::FUNCTION_VERSION, f.version.clone()),
        (env::FUNCTION_MEMORY_SIZE, f.memory_size_mb.to_string()),
        (env::LOG_GROUP_NAME, f.log_group_name.clone()),
        (env::LOG_STREAM_NAME, f.log_stream_name.clone()),
    ] {
        if std::env::var_os(key).is_none() {
            vars.push((key.to_owned(), value));
        }
    }
    vars
}

/// Local mode: this very binary, run under the emulator (called by the crate's mode choice).
pub(crate) async fn local_mode(listen: SocketAddr, function: &FunctionSettings) -> i32 {
    // Without /proc (an empty chroot), argv[0] still names the binary.
    let exe = match std::env::current_exe() {
        Ok(exe) => exe.into_os_string(),
        Err(e) => match std::env::args_os().next() {
            Some(arg0) => arg0,
            None => {
                eprintln!("faas-runtime: local mode cannot find its own executable: {e}");
                return 1;
            }
        },
    };
    let timeout = match timeout_from_env() {
        Ok(timeout) => timeout,
        Err(e) => {
            eprintln!("faas-runtime: {e}");
            return 2;
        }
    };
    // `--max-concurrency` (already checked by the mode choice), else the variable.
    let flag = match crate::cli::parse(std::env::args().skip(1)) {
        Ok(crate::cli::Command::Serve {
            max_concurrency, ..
        }) => max_concurrency,
        _ => None,
    };
    let max_concurrency = match flag.map_or_else(max_concurrency_from_env, Ok) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("faas-runtime: {e}");
            return 2;
        }
    };
    let mut command = vec![exe];
    command.extend(std::env::args_os().skip(1));
    let emulator = Emulator {
        api: SocketAddr::from(([127, 0, 0, 1], 0)),
        listen,
        timeout,
        function: function.clone(),
        command,
        limits: Limits::default(),
        #[cfg(feature = "http")]
        http: None,
        max_concurrency,
        extensions_dir: extensions_dir_from_env(),
        sigterm_always: sigterm_always_from_env(),
        init_limit: init_limit_from_env(),
    };
    emulator
        .run("faas-runtime (local mode, AWS_LAMBDA_RUNTIME_API is unset)")
        .await
}
