//! Running containers through the engine's CLI (`podman` unless `FAAS_ENGINE` says
//! otherwise) and waiting for a local-mode endpoint to answer.

use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use faas_checks::http::{self, Response};

pub use faas_runtime::protocol::INVOKE_PATH;

/// The container engine CLI.
pub fn engine() -> String {
    std::env::var("FAAS_ENGINE").unwrap_or_else(|_| "podman".into())
}

/// Runs the engine with `args` and returns its trimmed stdout, or an error with stderr.
pub fn engine_output(args: &[&str]) -> Result<String, String> {
    let engine = engine();
    let out = Command::new(&engine)
        .args(args)
        .output()
        .map_err(|e| format!("running `{engine}`: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{engine} {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

/// A detached container, force-removed when dropped (not started with `--rm`, so its
/// logs survive a crash for the error message).
pub struct Container {
    pub id: String,
}

impl Container {
    /// `ENGINE run -d ARGS... IMAGE`.
    pub fn run(image: &str, args: &[&str]) -> Result<Container, String> {
        let mut argv = vec!["run", "-d"];
        argv.extend_from_slice(args);
        argv.push(image);
        let id = engine_output(&argv)?;
        if id.is_empty() {
            return Err(format!("`{} run` printed no container id", engine()));
        }
        Ok(Container { id })
    }

    /// The container's main process id on the host.
    pub fn host_pid(&self) -> Result<u32, String> {
        let pid = engine_output(&["inspect", "--format", "{{.State.Pid}}", &self.id])?;
        pid.parse()
            .map_err(|_| format!("`inspect` gave `{pid}` for the container's pid"))
    }

    /// The container's logs, for error messages.
    pub fn logs(&self) -> String {
        engine_output(&["logs", &self.id]).unwrap_or_else(|e| e)
    }

    fn running(&self) -> bool {
        engine_output(&["inspect", "--format", "{{.State.Running}}", &self.id])
            .is_ok_and(|r| r == "true")
    }

    /// Like the free function `wait_answer`, but gives up early when the container has exited. The
    /// engine is only asked after a second without an answer (and then twice a
    /// second), so a normal start is timed without `inspect` competing for the CPU.
    pub fn wait_answer(
        &self,
        addr: &str,
        body: &[u8],
        timeout: Duration,
    ) -> Result<Response, String> {
        let start = Instant::now();
        let mut next_check = Duration::from_secs(1);
        loop {
            let left = timeout.saturating_sub(start.elapsed());
            let slice = left.min(Duration::from_millis(500));
            match wait_answer(addr, body, slice) {
                Ok(response) => return Ok(response),
                Err(e) if left <= slice => {
                    return Err(format!("{e}; container logs: {}", self.logs()));
                }
                Err(_) if start.elapsed() >= next_check => {
                    if !self.running() {
                        return Err(format!(
                            "the container exited without answering; logs: {}",
                            self.logs()
                        ));
                    }
                    next_check += Duration::from_millis(500);
                }
                Err(_) => {}
            }
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = engine_output(&["rm", "-f", "-t", "0", &self.id]);
    }
}

/// Invokes `addr` until it answers (any complete HTTP response) or `timeout` passes.
/// Connection errors and resets while the container starts are retried every 2 ms.
pub fn wait_answer(addr: &str, body: &[u8], timeout: Duration) -> Result<Response, String> {
    let deadline = Instant::now() + timeout;
    loop {
        match http::post(addr, INVOKE_PATH, body, Duration::from_secs(10)) {
            Ok(response) => return Ok(response),
            Err(e) if Instant::now() >= deadline => {
                return Err(format!("no answer from {addr} within {timeout:?}: {e}"));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}
