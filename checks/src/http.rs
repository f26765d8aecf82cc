//! A blocking HTTP/1.1 client for the checks and tests, over hyper's client: one request per
//! connection (`Connection: close`), the whole answer read before returning.
//!
//! [`raw`] is the exception, kept on purpose: tests of hostile and broken clients must send
//! bytes no well-behaved client would (a truncated body, a bad chunk size, half a header), so
//! they write to a socket themselves.

use std::cell::RefCell;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
pub use hyper::body::Bytes;
use hyper::header::{CONNECTION, CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A whole response.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Every header, in order (values that are not UTF-8 are shown lossily).
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as JSON, or a panic that shows it: for tests.
    pub fn expect_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body_excerpt()))
    }

    /// Asserts a failed invocation as Lambda's Invoke API answers it (200, `X-Amz-Function-Error:
    /// Unhandled`, the three error fields, `errorType` `error_type`); returns the body. For tests.
    pub fn expect_function_error(&self, error_type: &str) -> serde_json::Value {
        assert_eq!(self.status, 200, "{}", self.body_excerpt());
        assert_eq!(
            self.header("x-amz-function-error"),
            Some("Unhandled"),
            "{}",
            self.body_excerpt()
        );
        let body = self.expect_json();
        assert_eq!(body["errorType"], error_type, "{body}");
        assert!(body["errorMessage"].is_string(), "{body}");
        assert!(body["stackTrace"].is_array(), "{body}");
        body
    }

    /// The body for messages, shortened.
    pub fn body_excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        match text.char_indices().nth(160) {
            Some((i, _)) => format!("{}...", &text[..i]),
            None => text.into_owned(),
        }
    }
}

/// `http://host:port/path` → (`host:port`, `/path`); the path defaults to `/`.
pub fn split_url(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("`{url}`: only http:// URLs are supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(format!("`{url}` has no host"));
    }
    let authority = if authority.contains(':') && !authority.ends_with(']') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Ok((authority, path.to_string()))
}

/// POSTs `body` to `path` on `addr` (`host:port`) and reads the whole response.
pub fn post(addr: &str, path: &str, body: &[u8], timeout: Duration) -> Result<Response, String> {
    request(addr, "POST", path, &[], body, timeout)
}

thread_local! {
    /// One small runtime per calling thread, made at its first request.
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

/// Sends one request with extra `headers` (values may be any bytes a header allows, UTF-8
/// included) and reads the whole response within `timeout`.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<Response, String> {
    let body = Bytes::copy_from_slice(body);
    request_shared(addr, method, path, headers, body, timeout)
}

/// [`request`] with a body many threads can send without a copy each (large uploads).
pub fn request_shared(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Bytes,
    timeout: Duration,
) -> Result<Response, String> {
    let mut builder = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).map_err(|e| format!("{method}: {e}"))?)
        .uri(path)
        .header(HOST, addr)
        .header(CONTENT_TYPE, "application/json")
        .header(CONNECTION, "close");
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("{name}: {e}"))?;
        let value =
            HeaderValue::from_bytes(value.as_bytes()).map_err(|e| format!("{value:?}: {e}"))?;
        builder = builder.header(name, value);
    }
    let request = builder
        .body(Full::new(body))
        .map_err(|e| format!("building the request: {e}"))?;
    RUNTIME.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("starting a tokio runtime: {e}"))?;
            *cell = Some(runtime);
        }
        let runtime = cell.as_ref().expect("set above");
        runtime.block_on(async {
            tokio::time::timeout(timeout, send(addr, request))
                .await
                .unwrap_or_else(|_| Err(format!("no answer from {addr} within {timeout:?}")))
        })
    })
}

async fn send(addr: &str, request: Request<Full<Bytes>>) -> Result<Response, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("talking to {addr}: {e}"))?;
    let connection = tokio::spawn(connection);
    let answer = sender
        .send_request(request)
        .await
        .map_err(|e| format!("sending to {addr}: {e}"))?;
    let response = read_answer(addr, answer).await;
    drop(sender);
    let _ = connection.await;
    response
}

async fn read_answer(
    addr: &str,
    answer: hyper::Response<hyper::body::Incoming>,
) -> Result<Response, String> {
    let status = answer.status().as_u16();
    let headers = answer
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = answer
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading the response from {addr}: {e}"))?
        .to_bytes()
        .to_vec();
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// One keep-alive connection for many requests (reopened if the server closed it), as a
/// load generator or a long-lived caller would use.
///
/// ```no_run
/// use std::time::Duration;
/// use faas_checks::http::Session;
///
/// let mut session = Session::new("127.0.0.1:8080").unwrap();
/// let r = session.post("/2015-03-31/functions/function/invocations", b"{}", Duration::from_secs(5));
/// assert_eq!(r.unwrap().status, 200);
/// ```
pub struct Session {
    addr: String,
    runtime: tokio::runtime::Runtime,
    sender: Option<hyper::client::conn::http1::SendRequest<Full<Bytes>>>,
    /// Connections opened so far (1 while the server keeps the first one alive).
    pub connections: usize,
}

impl Session {
    /// A session with `addr` (`host:port`); connects at the first request.
    pub fn new(addr: &str) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting a tokio runtime: {e}"))?;
        Ok(Self {
            addr: addr.to_owned(),
            runtime,
            sender: None,
            connections: 0,
        })
    }

    /// POSTs `body` to `path` on the session's connection and reads the whole response.
    pub fn post(&mut self, path: &str, body: &[u8], timeout: Duration) -> Result<Response, String> {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(HOST, self.addr.as_str())
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::copy_from_slice(body)))
            .map_err(|e| format!("building the request: {e}"))?;
        let Self {
            addr,
            runtime,
            sender,
            connections,
        } = self;
        runtime.block_on(async {
            let exchange = async {
                if sender.as_ref().is_none_or(|s| s.is_closed()) {
                    let stream = TcpStream::connect(addr.as_str())
                        .await
                        .map_err(|e| format!("connecting to {addr}: {e}"))?;
                    let _ = stream.set_nodelay(true);
                    let (new, connection) =
                        hyper::client::conn::http1::handshake(TokioIo::new(stream))
                            .await
                            .map_err(|e| format!("talking to {addr}: {e}"))?;
                    tokio::spawn(connection);
                    *sender = Some(new);
                    *connections += 1;
                }
                let Some(open) = sender.as_mut() else {
                    return Err("no connection".to_owned());
                };
                open.ready().await.map_err(|e| format!("{addr}: {e}"))?;
                let answer = open
                    .send_request(request)
                    .await
                    .map_err(|e| format!("sending to {addr}: {e}"))?;
                read_answer(addr, answer).await
            };
            tokio::time::timeout(timeout, exchange)
                .await
                .unwrap_or_else(|_| Err(format!("no answer from {addr} within {timeout:?}")))
        })
    }
}

/// Raw bytes on a socket, for the tests that must misbehave.
pub mod raw {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpStream};
    use std::time::{Duration, Instant};

    /// Connects to `addr`, writes `bytes`, stops sending (a half-close, as a client that gives
    /// up mid-request) when `hang_up`, and returns everything the server sends until it closes
    /// the connection or `timeout` passes.
    pub fn exchange(
        addr: &str,
        bytes: &[u8],
        hang_up: bool,
        timeout: Duration,
    ) -> Result<Vec<u8>, String> {
        let mut stream =
            TcpStream::connect(addr).map_err(|e| format!("connecting to {addr}: {e}"))?;
        stream
            .write_all(bytes)
            .map_err(|e| format!("sending to {addr}: {e}"))?;
        if hang_up {
            let _ = stream.shutdown(Shutdown::Write);
        }
        read_until_closed(&mut stream, timeout)
    }

    /// Everything `stream` yields until the peer closes or `timeout` passes.
    pub fn read_until_closed(stream: &mut TcpStream, timeout: Duration) -> Result<Vec<u8>, String> {
        let deadline = Instant::now() + timeout;
        let mut answer = Vec::new();
        let mut buffer = [0u8; 8192];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(answer);
            }
            stream
                .set_read_timeout(Some(left))
                .map_err(|e| format!("setting a timeout: {e}"))?;
            match stream.read(&mut buffer) {
                Ok(0) => return Ok(answer),
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(answer),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(answer);
                }
                Err(e) => return Err(format!("reading: {e}")),
            }
        }
    }

    /// The status code of the first response in `answer` (`HTTP/1.1 400 ...`).
    ///
    /// ```
    /// use faas_checks::http::raw::status_of;
    /// assert_eq!(status_of(b"HTTP/1.1 400 Bad Request\r\n\r\n"), Some(400));
    /// assert_eq!(status_of(b""), None);
    /// ```
    pub fn status_of(answer: &[u8]) -> Option<u16> {
        let line = answer.split(|&b| b == b'\r').next()?;
        let text = std::str::from_utf8(line).ok()?;
        let mut parts = text.split(' ');
        parts
            .next()
            .filter(|v| v.starts_with("HTTP/1."))
            .and(parts.next())?
            .parse()
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_address_and_path() {
        assert_eq!(
            split_url("http://127.0.0.1:9000").unwrap(),
            ("127.0.0.1:9000".into(), "/".into())
        );
        assert_eq!(
            split_url("http://localhost/x/y").unwrap(),
            ("localhost:80".into(), "/x/y".into())
        );
        assert!(split_url("https://example.com").is_err());
        assert!(split_url("http:///x").is_err());
    }

    #[test]
    fn a_closed_port_is_an_error_with_the_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        drop(listener);
        let e = post(&addr, "/", b"{}", Duration::from_secs(5)).unwrap_err();
        assert!(e.contains(&addr), "{e}");
    }
}
