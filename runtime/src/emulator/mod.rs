//! An emulator of the Lambda service around one function: the Runtime API the function polls,
//! the invoke endpoint callers post to, and a supervisor for the function process.
//!
//! It is AWS's runtime interface emulator in miniature, with one implementation for two uses:
//! the standalone `faas-emulator` binary runs any function command under it, and *local mode*
//! (`bootstrap` started without `AWS_LAMBDA_RUNTIME_API`) runs its own binary under it. Either
//! way the function speaks the real protocol over loopback, and a crash, a panic or a timeout
//! replaces the function process while the endpoint stays up.
//!
//! ```no_run
//! use faas_runtime::emulator::Emulator;
//!
//! # async fn demo() {
//! let emulator = Emulator::new(vec!["./bootstrap".into()]);
//! let exit_code = emulator.run("faas-emulator").await;
//! # }
//! ```

mod http;
mod invoke;
mod rapi;
mod sandbox;
mod state;
mod supervisor;

use std::ffi::OsString;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::config::{Config, FunctionSettings};
use crate::log;
use crate::protocol::INVOKE_PATH;
use crate::shutdown::Stop;
use sandbox::Sandbox;

/// The function timeout when `AWS_LAMBDA_FUNCTION_TIMEOUT` is unset, as AWS's emulator.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

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
}

impl Emulator {
    /// The defaults of AWS's emulator: Runtime API on 127.0.0.1:9001, invoke endpoint on
    /// 127.0.0.1:8080, a 300 s timeout.
    pub fn new(command: Vec<OsString>) -> Self {
        Self {
            api: SocketAddr::from(([127, 0, 0, 1], 9001)),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            timeout: DEFAULT_TIMEOUT,
            function: FunctionSettings::default(),
            command,
        }
    }

    /// Serves until SIGTERM or SIGINT, which it passes on to the function; returns the exit
    /// code. `name` prefixes the one line that says where it listens.
    pub async fn run(self, name: &str) -> i32 {
        log::init(log::Format::Text, log::Level::INFO);
        let bind = |addr: SocketAddr, what: &'static str| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|e| format!("{name}: cannot listen on {addr} for the {what}: {e}"))
        };
        let listeners = match (
            bind(self.api, "Runtime API").await,
            bind(self.listen, "invoke endpoint").await,
        ) {
            (Ok(api), Ok(invoke)) => (api, invoke),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("{e}");
                return 1;
            }
        };
        let (api, invoke) = listeners;
        let (Ok(api_addr), Ok(listen_addr)) = (api.local_addr(), invoke.local_addr()) else {
            eprintln!("{name}: cannot read the listening addresses");
            return 1;
        };
        let mut stop = match Stop::new() {
            Ok(stop) => stop,
            Err(e) => {
                eprintln!("{name}: cannot listen for SIGTERM: {e}");
                return 1;
            }
        };
        let f = &self.function;
        let arn = format!(
            "arn:aws:lambda:us-east-1:012345678912:function:{}",
            f.function_name
        );
        let sandbox = Arc::new(Sandbox::new(self.timeout, arn, f.memory_size_mb));
        let rapi_sandbox = Arc::clone(&sandbox);
        tokio::spawn(http::serve(api, move |r| {
            rapi::handle(Arc::clone(&rapi_sandbox), r)
        }));
        let invoke_sandbox = Arc::clone(&sandbox);
        tokio::spawn(http::serve(invoke, move |r| {
            invoke::handle(Arc::clone(&invoke_sandbox), r)
        }));
        let env = function_env(api_addr, f);
        eprintln!(
            "{name}: invoke with POST http://{listen_addr}{INVOKE_PATH} (Runtime API on {api_addr})"
        );
        supervisor::supervise(name, sandbox, &self.command, &env, &mut stop).await
    }
}

/// `AWS_LAMBDA_FUNCTION_TIMEOUT` in seconds, or [`DEFAULT_TIMEOUT`].
pub fn timeout_from_env() -> Result<Duration, String> {
    match std::env::var("AWS_LAMBDA_FUNCTION_TIMEOUT") {
        Err(_) => Ok(DEFAULT_TIMEOUT),
        Ok(v) => parse_timeout(&v).map_err(|e| format!("AWS_LAMBDA_FUNCTION_TIMEOUT {e}")),
    }
}

/// A function timeout: whole seconds, at least 1, as Lambda's setting.
///
/// ```
/// use faas_runtime::emulator::parse_timeout;
/// assert_eq!(parse_timeout("3").unwrap().as_secs(), 3);
/// assert!(parse_timeout("0").is_err() && parse_timeout("1.5").is_err());
/// ```
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    match text.trim().parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err(format!(
            "must be a whole number of seconds (at least 1), got {text:?}"
        )),
    }
}

/// The environment a function process gets: the API address, and Lambda's function settings
/// where the caller did not set them.
fn function_env(api: SocketAddr, f: &FunctionSettings) -> Vec<(String, String)> {
    let mut env = vec![("AWS_LAMBDA_RUNTIME_API".to_owned(), api.to_string())];
    for (key, value) in [
        ("AWS_LAMBDA_FUNCTION_NAME", f.function_name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", f.version.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            f.memory_size_mb.to_string(),
        ),
        ("AWS_LAMBDA_LOG_GROUP_NAME", f.log_group_name.clone()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", f.log_stream_name.clone()),
    ] {
        if std::env::var_os(key).is_none() {
            env.push((key.to_owned(), value));
        }
    }
    env
}

/// Local mode: this very binary, run under the emulator.
pub(crate) async fn local_mode(config: &Config) -> i32 {
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
    let mut command = vec![exe];
    command.extend(std::env::args_os().skip(1));
    let emulator = Emulator {
        api: SocketAddr::from(([127, 0, 0, 1], 0)),
        listen: config.listen,
        timeout,
        function: (*config.function).clone(),
        command,
    };
    emulator
        .run("faas-runtime (local mode, AWS_LAMBDA_RUNTIME_API is unset)")
        .await
}
