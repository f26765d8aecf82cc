//! `faas-emulator`: AWS's runtime interface emulator in miniature, around any function command.
//!
//! ```text
//! faas-emulator [--api 127.0.0.1:9001] [--listen 127.0.0.1:8080] [--timeout SECONDS] -- COMMAND [ARGS...]
//! ```
//! The protocol code is `faas_runtime::emulator`, shared with the runtime's local mode.

use std::ffi::OsString;
use std::process::ExitCode;

use faas_runtime::emulator::{self, Emulator};

const USAGE: &str =
    "usage: faas-emulator [--api ADDR] [--listen ADDR] [--timeout SECONDS] -- COMMAND [ARGS...]
  --api ADDR         Runtime API address (default 127.0.0.1:9001)
  --listen ADDR      invoke endpoint address (default 127.0.0.1:8080)
  --timeout SECONDS  function timeout (default AWS_LAMBDA_FUNCTION_TIMEOUT, else 300)
Invoke with: curl -d '{}' http://127.0.0.1:8080/2015-03-31/functions/function/invocations";

fn main() -> ExitCode {
    let emulator = match parse(std::env::args_os().skip(1)) {
        Ok(emulator) => emulator,
        Err(message) => {
            eprintln!("faas-emulator: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("faas-emulator: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(emulator.run("faas-emulator"));
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn parse(mut args: impl Iterator<Item = OsString>) -> Result<Emulator, String> {
    let mut emulator = Emulator::new(Vec::new());
    emulator.timeout = emulator::timeout_from_env()?;
    if let Ok(name) = std::env::var("AWS_LAMBDA_FUNCTION_NAME") {
        emulator.function.function_name = name;
    }
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        let mut value = |flag: &str| {
            args.next()
                .map(|v| v.to_string_lossy().into_owned())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match arg.as_str() {
            "--" => {
                emulator.command = args.collect();
                break;
            }
            "--api" => emulator.api = address("--api", &value("--api")?)?,
            "--listen" => emulator.listen = address("--listen", &value("--listen")?)?,
            "--timeout" => {
                emulator.timeout = emulator::parse_timeout(&value("--timeout")?)
                    .map_err(|e| format!("--timeout {e}"))?;
            }
            "-h" | "--help" => return Err("help".into()),
            other => {
                return Err(format!(
                    "unknown argument {other:?} (put the function command after --)"
                ));
            }
        }
    }
    if emulator.command.is_empty() {
        return Err("no function command given after --".into());
    }
    Ok(emulator)
}

fn address(flag: &str, text: &str) -> Result<std::net::SocketAddr, String> {
    text.parse()
        .map_err(|_| format!("{flag} must be IP:PORT, got {text:?}"))
}
