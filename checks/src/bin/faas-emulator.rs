//! `faas-emulator`: AWS's runtime interface emulator in miniature, around any function command.
//!
//! ```text
//! faas-emulator [--api 127.0.0.1:9001] [--listen 127.0.0.1:8080] [--timeout SECONDS]
//!               [--max-connections N] [--header-timeout SECONDS] [--body-timeout SECONDS]
//!               [--max-stream-bytes N] [--http ADDR] [--extensions-dir DIR]
//!               [--max-concurrency N]
//!               -- COMMAND [ARGS...]
//! ```
//! The protocol code is `faas_runtime::emulator`, shared with the runtime's local mode; the
//! arguments are read with `lexopt`.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use faas_runtime::emulator::{self, Emulator};

const USAGE: &str = "usage: faas-emulator [OPTIONS] -- COMMAND [ARGS...]
  --api ADDR                Runtime API address (default 127.0.0.1:9001)
  --listen ADDR             invoke endpoint address (default 127.0.0.1:8080)
  --timeout SECONDS         function timeout (default AWS_LAMBDA_FUNCTION_TIMEOUT, else 300)
  --max-connections N       connections per port before idle ones are evicted (default 256;
                            the Runtime API port gets 32)
  --header-timeout SECONDS  time to send a request head, and idle keep-alive time (default 30)
  --body-timeout SECONDS    time for a request body to arrive whole (default 60)
  --max-stream-bytes N      largest streamed response (default 209715200, Lambda's 200 MiB)
  --http ADDR               also serve plain HTTP here for an HTTP function: each request
                            becomes a function URL event (curl http://ADDR/path)
  --extensions-dir DIR      external extensions to start before the function (default
                            FAAS_EMULATOR_EXTENSIONS_DIR, else /opt/extensions when it exists)
  --max-concurrency N       Lambda Managed Instances: up to N invocations at once, each on its
                            own /next; the function gets AWS_LAMBDA_MAX_CONCURRENCY=N (default
                            AWS_LAMBDA_MAX_CONCURRENCY, else 1: one at a time, classic Lambda)
Invoke with: curl -d '{}' http://127.0.0.1:8080/2015-03-31/functions/function/invocations
Stream with: curl -N -d '{}' http://127.0.0.1:8080/2021-11-15/functions/function/response-streaming-invocations";

fn main() -> ExitCode {
    let emulator = match parse(std::env::args_os().skip(1)) {
        Ok(Some(emulator)) => emulator,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
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

/// The emulator the arguments describe; `None` for `--help`.
fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Option<Emulator>, String> {
    use lexopt::prelude::*;

    let mut emulator = Emulator::new(Vec::new());
    emulator.timeout = emulator::timeout_from_env().map_err(|e| e.to_string())?;
    emulator.max_concurrency = emulator::max_concurrency_from_env().map_err(|e| e.to_string())?;
    if let Ok(name) = std::env::var("AWS_LAMBDA_FUNCTION_NAME") {
        emulator.function.function_name = name;
    }
    let mut parser = lexopt::Parser::from_args(args);
    let text = |parser: &mut lexopt::Parser, flag: &str| -> Result<String, String> {
        let value = parser.value().map_err(|e| e.to_string())?;
        value
            .into_string()
            .map_err(|v| format!("{flag} must be text, got {v:?}"))
    };
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("api") => emulator.api = address("--api", &text(&mut parser, "--api")?)?,
            Long("listen") => {
                emulator.listen = address("--listen", &text(&mut parser, "--listen")?)?;
            }
            Long("timeout") => {
                emulator.timeout = emulator::parse_timeout(&text(&mut parser, "--timeout")?)
                    .map_err(|e| format!("--timeout {e}"))?;
            }
            Long("max-connections") => {
                let n = count(
                    "--max-connections",
                    &text(&mut parser, "--max-connections")?,
                )?;
                emulator.limits.max_connections = n;
                emulator.limits.max_api_connections = n.min(32);
            }
            Long("header-timeout") => {
                emulator.limits.header_timeout =
                    seconds("--header-timeout", &text(&mut parser, "--header-timeout")?)?;
            }
            Long("body-timeout") => {
                emulator.limits.body_timeout =
                    seconds("--body-timeout", &text(&mut parser, "--body-timeout")?)?;
            }
            Long("max-stream-bytes") => {
                emulator.limits.max_stream_bytes = count(
                    "--max-stream-bytes",
                    &text(&mut parser, "--max-stream-bytes")?,
                )?;
            }
            Long("http") => {
                emulator.http = Some(address("--http", &text(&mut parser, "--http")?)?);
            }
            Long("extensions-dir") => {
                emulator.extensions_dir = Some(text(&mut parser, "--extensions-dir")?.into());
            }
            Long("max-concurrency") => {
                let text = text(&mut parser, "--max-concurrency")?;
                emulator.max_concurrency = emulator::parse_max_concurrency(&text)
                    .map_err(|e| format!("--max-concurrency {e}"))?;
            }
            Short('h') | Long("help") => return Ok(None),
            Value(first) => {
                emulator.command = std::iter::once(first)
                    .chain(parser.raw_args().map_err(|e| e.to_string())?)
                    .collect();
            }
            other => {
                return Err(format!(
                    "{} (put the function command after --)",
                    other.unexpected()
                ));
            }
        }
    }
    if emulator.command.is_empty() {
        return Err("no function command given after --".into());
    }
    Ok(Some(emulator))
}

fn address(flag: &str, text: &str) -> Result<std::net::SocketAddr, String> {
    text.parse()
        .map_err(|_| format!("{flag} must be IP:PORT, got {text:?}"))
}

fn count(flag: &str, text: &str) -> Result<usize, String> {
    match text.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "{flag} must be a whole number above 0, got {text:?}"
        )),
    }
}

fn seconds(flag: &str, text: &str) -> Result<Duration, String> {
    emulator::parse_timeout(text).map_err(|e| format!("{flag} {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn flags_and_the_function_command_are_read() {
        let e = parse(args(&[
            "--api",
            "127.0.0.1:0",
            "--listen=127.0.0.1:1",
            "--timeout",
            "3",
            "--max-connections",
            "10",
            "--http",
            "127.0.0.1:2",
            "--max-concurrency",
            "8",
            "--",
            "./f",
            "--listen",
            "x",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(e.api.port(), 0);
        assert_eq!(e.listen.port(), 1);
        assert_eq!(e.timeout, Duration::from_secs(3));
        assert_eq!(e.limits.max_connections, 10);
        assert_eq!(e.http.map(|a| a.port()), Some(2));
        assert_eq!(e.max_concurrency, 8);
        assert_eq!(e.command, args(&["./f", "--listen", "x"]));
    }

    #[test]
    fn mistakes_get_a_message() {
        assert!(
            parse(args(&["--api", "nope", "--", "f"]))
                .unwrap_err()
                .contains("--api")
        );
        assert!(
            parse(args(&["--bogus", "--", "f"]))
                .unwrap_err()
                .contains("--bogus")
        );
        assert!(parse(args(&["--timeout", "0", "--", "f"])).is_err());
        assert!(
            parse(args(&["--max-concurrency", "0", "--", "f"]))
                .unwrap_err()
                .contains("--max-concurrency must be a whole number from 1 to 256")
        );
        assert!(
            parse(args(&["--api", "127.0.0.1:0"]))
                .unwrap_err()
                .contains("no function")
        );
        assert!(parse(args(&["--help"])).unwrap().is_none());
    }
}
