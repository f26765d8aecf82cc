//! The cold invocation as a user feels it: from spawning a function process to its first
//! response delivered to the Runtime API (init plus the first invocation), measured against
//! a fake Runtime API that serves one event. `bench` times every fresh start this way, so one
//! start gives both the init figure (to the first `GET /next`) and the cold invocation.
//!
//! The fake API answers the first `GET /next` with the event and the headers Lambda sends,
//! then waits for `POST .../{id}/response` on the same connection or a new one (a pooling
//! client may open another), reads its whole body (by length or in chunks) and stops the
//! clock. The process is killed after; nothing of it is waited for beyond that.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use faas_checks::fake_api::{
    Request, TIMED_TIMEOUT as TIMEOUT, TimedApi, event_head, read_request,
};
use faas_runtime::protocol::{
    INVOCATION_PREFIX, JSON_CONTENT_TYPE, NEXT_PATH, RESPONSE_SEGMENT, header,
};

use crate::procfs;
use crate::startup::Start;

/// The request id of the one invocation served.
const REQUEST_ID: &str = "cold-invocation-1";

/// What one fresh start cost, up to its first `GET /next` and up to its first response.
pub struct Cold {
    /// Spawn to the first `GET /next` (wall clock and the process's CPU by then).
    pub init: Start,
    /// Spawn to the first response's last byte received (wall clock and CPU by then).
    pub first_response: Start,
    /// The body of that response.
    pub body: Vec<u8>,
}

/// Starts `command` against a fake Runtime API, serves it `event` once, and measures it.
///
/// ```ignore
/// let cold = time_cold(&["target/bench/ours-jemalloc/echo".into()], br#"{"a":1}"#)?;
/// assert!(cold.first_response.wall_ms >= cold.init.wall_ms);
/// ```
pub fn time_cold(command: &[String], event: &[u8]) -> Result<Cold, String> {
    let mut api = TimedApi::bind()?;
    let mut child = api.spawn(command)?;
    let result = serve_one(&api, &mut child, event);
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn serve_one(
    api: &TimedApi,
    child: &mut std::process::Child,
    event: &[u8],
) -> Result<Cold, String> {
    let pid = child.id();
    let cpu_us = || {
        procfs::cpu_ns(pid)
            .map(|ns| ns as f64 / 1000.0)
            .ok_or("cannot read the process's schedstat")
    };
    let mut stream = api.accept_first(child)?;
    let mut pending = Vec::new();
    let next = read_request(&mut stream, &mut pending)?;
    let init = Start {
        wall_ms: ms_since(api.started),
        cpu_us: cpu_us()?,
    };
    if next.method != "GET" || next.path != NEXT_PATH {
        return Err(format!(
            "the first request was {} {}, not GET /next",
            next.method, next.path
        ));
    }
    stream
        .write_all(&next_answer(event))
        .map_err(|e| format!("answering GET /next: {e}"))?;
    let response = read_next_request(api, child, stream, pending)?;
    let first_response = Start {
        wall_ms: ms_since(api.started),
        cpu_us: cpu_us()?,
    };
    let expected = format!("{INVOCATION_PREFIX}{REQUEST_ID}/{RESPONSE_SEGMENT}");
    if response.method != "POST" || response.path != expected {
        return Err(format!(
            "after the event came {} {}, not POST {expected}: {}",
            response.method,
            response.path,
            String::from_utf8_lossy(&response.body[..response.body.len().min(300)])
        ));
    }
    Ok(Cold {
        init,
        first_response,
        body: response.body,
    })
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// The answer to `GET /next`: the event with Lambda's headers.
fn next_answer(event: &[u8]) -> Vec<u8> {
    let extra = format!(
        "content-type: {JSON_CONTENT_TYPE}\r\n\
         {}: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0\r\n\
         content-length: {}\r\n",
        header::TRACE_ID,
        event.len()
    );
    let mut answer = event_head(
        REQUEST_ID,
        "arn:aws:lambda:us-east-1:012345678912:function:startup",
        &extra,
    )
    .into_bytes();
    answer.extend_from_slice(event);
    answer
}

/// The request after the answer to `GET /next`: on `stream` (keep-alive), or on a new
/// connection if the function opens one or closes `stream`. Both are polled every 20 us.
fn read_next_request(
    api: &TimedApi,
    child: &mut std::process::Child,
    mut stream: TcpStream,
    mut pending: Vec<u8>,
) -> Result<Request, String> {
    let deadline = Instant::now() + TIMEOUT;
    let mut open = true;
    if pending.is_empty() {
        stream
            .set_nonblocking(true)
            .map_err(|e| format!("configuring the connection: {e}"))?;
        let mut byte = [0u8; 4096];
        loop {
            if open {
                match stream.read(&mut byte) {
                    Ok(0) => open = false,
                    Ok(n) => {
                        pending.extend_from_slice(&byte[..n]);
                        break;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => return Err(format!("reading the response: {e}")),
                }
            }
            match api.listener.accept() {
                Ok((new, _)) => {
                    stream = new;
                    pending.clear();
                    break;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("accepting: {e}")),
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("the function exited ({status}) before answering"));
            }
            if Instant::now() > deadline {
                return Err(format!("no response within {TIMEOUT:?}"));
            }
            std::thread::sleep(Duration::from_micros(20));
        }
        stream
            .set_nonblocking(false)
            .and_then(|_| stream.set_read_timeout(Some(TIMEOUT)))
            .map_err(|e| format!("configuring the connection: {e}"))?;
    }
    read_request(&mut stream, &mut pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_by_length_and_in_chunks() {
        let mut input: &[u8] = b"GET /next HTTP/1.1\r\nhost: x\r\n\r\n\
            POST /r HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloPOST /c HTTP/1.1\r\n\
            Transfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nt: 1\r\n\r\nrest";
        let mut pending = Vec::new();
        let get = read_request(&mut input, &mut pending).unwrap();
        assert_eq!((get.method.as_str(), get.path.as_str()), ("GET", "/next"));
        assert!(get.body.is_empty());
        let post = read_request(&mut input, &mut pending).unwrap();
        assert_eq!(
            (post.path.as_str(), post.body.as_slice()),
            ("/r", &b"hello"[..])
        );
        let chunked = read_request(&mut input, &mut pending).unwrap();
        assert_eq!(chunked.body, b"abcde");
        assert_eq!(pending, b"rest");
    }

    #[test]
    fn a_truncated_request_is_an_error() {
        let mut input: &[u8] = b"POST /r HTTP/1.1\r\nContent-Length: 9\r\n\r\nhel";
        let error = read_request(&mut input, &mut Vec::new()).unwrap_err();
        assert!(error.contains("closed"), "{error}");
        let mut input: &[u8] = b"POST /r HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        let error = read_request(&mut input, &mut Vec::new()).unwrap_err();
        assert!(error.contains("chunk size"), "{error}");
    }

    /// A real cold start over loopback: the echo example (built by `cargo build --workspace
    /// --examples`) gets the event and its response is read back whole.
    #[test]
    fn a_cold_start_of_the_echo_example() {
        let echo = faas_checks::fixture::example("echo");
        let event = br#"{"cold":true,"n":[1,2,3]}"#;
        let cold = time_cold(&[echo.display().to_string()], event).unwrap();
        let body: serde_json::Value = serde_json::from_slice(&cold.body).unwrap();
        assert_eq!(body, serde_json::json!({"cold": true, "n": [1, 2, 3]}));
        assert!(cold.init.wall_ms > 0.0 && cold.first_response.wall_ms >= cold.init.wall_ms);
        assert!(cold.first_response.cpu_us >= cold.init.cpu_us);
    }

    #[test]
    fn a_function_that_exits_is_an_error() {
        let error = time_cold(&["false".to_string()], b"{}").err().unwrap();
        assert!(error.contains("exited"), "{error}");
    }

    #[test]
    fn the_event_carries_lambdas_headers() {
        let answer = String::from_utf8(next_answer(br#"{"a":1}"#)).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"));
        for name in [
            header::REQUEST_ID,
            header::DEADLINE_MS,
            header::FUNCTION_ARN,
        ] {
            assert!(answer.contains(&format!("{name}: ")), "{name} in {answer}");
        }
        assert!(answer.ends_with("content-length: 7\r\n\r\n{\"a\":1}"));
    }
}
