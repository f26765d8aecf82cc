//! The Runtime API client: one HTTP/1.1 keep-alive connection to `AWS_LAMBDA_RUNTIME_API`,
//! reused for every call and re-opened (with bounded backoff) only when it breaks.
//!
//! The transport is concrete (one TCP connection to one address, [`Endpoint`]) because the
//! runtime owns it: no connector generics, no connection pool.

use std::fmt;
use std::time::Duration;

use http_body_util::{BodyExt, Either, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue, TRAILER, TRANSFER_ENCODING};
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::Error;
use crate::endpoint::Endpoint;
use crate::protocol::{self, header};
use crate::stream::StreamBody;

/// Waits between attempts when the API cannot be reached: about 3 s in all, long enough to ride
/// out an API restart, short enough that a dead API ends the process quickly.
const BACKOFF_MS: [u64; 6] = [50, 100, 200, 400, 800, 1600];

/// An event as `/next` returned it: the context headers and the raw payload.
pub(crate) struct Event {
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The API could not be reached after every retry.
#[derive(Debug)]
pub(crate) struct Unreachable {
    addr: String,
    attempts: usize,
    last: String,
}

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot reach the Runtime API at {} (AWS_LAMBDA_RUNTIME_API) after {} attempts: {}",
            self.addr, self.attempts, self.last
        )
    }
}

/// A request body: whole (every call but one), or a streamed response.
type Body = Either<Full<Bytes>, StreamBody>;

/// A connection to the Runtime API.
pub(crate) struct Client {
    endpoint: Endpoint,
    /// `/next` under the endpoint's base path, built once.
    next_path: String,
    conn: Option<SendRequest<Body>>,
}

impl Client {
    /// A client for `endpoint`; it connects on first use.
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            next_path: endpoint.path(protocol::NEXT_PATH),
            endpoint,
            conn: None,
        }
    }

    /// Long-polls for the next event; there is deliberately no timeout.
    pub async fn next(&mut self) -> Result<Event, Unreachable> {
        let mut failures = 0;
        loop {
            let (status, headers, body) =
                self.call(Method::GET, self.next_path.clone(), None).await?;
            if status.is_success() {
                return Ok(Event { headers, body });
            }
            // A refusal is the API's problem, not the event's: log it, back off, and give up
            // like an unreachable API if it persists.
            tracing::error!(
                "{} answered {status}: {}",
                protocol::NEXT_PATH,
                String::from_utf8_lossy(&body)
            );
            if failures == BACKOFF_MS.len() {
                return Err(self.unreachable(
                    failures + 1,
                    format!("{} keeps answering {status}", protocol::NEXT_PATH),
                ));
            }
            tokio::time::sleep(Duration::from_millis(BACKOFF_MS[failures])).await;
            failures += 1;
        }
    }

    /// Posts the handler's response for `request_id`.
    pub async fn respond(&mut self, request_id: &str, body: Bytes) -> Result<(), Unreachable> {
        let path = self.invocation_path(request_id, "/response");
        self.post(path, body, None).await
    }

    /// Posts `body`, a streamed response for `request_id`, chunk by chunk as the handler
    /// writes it; the request starts with the handler's first piece (its content type, a
    /// chunk, or the end). Not retried: a stream cannot be replayed, so a broken connection
    /// ends it.
    pub async fn respond_streaming(
        &mut self,
        request_id: &str,
        mut body: StreamBody,
    ) -> Result<(), Unreachable> {
        let path = self.invocation_path(request_id, "/response");
        let content_type = body.content_type().await;
        let request = Request::post(path.as_str())
            .header(HOST, self.endpoint.authority().clone())
            .header(CONTENT_TYPE, content_type)
            .header(TRANSFER_ENCODING, "chunked")
            .header(header::FUNCTION_RESPONSE_MODE, header::STREAMING)
            .header(TRAILER, HeaderValue::from_static(header::STREAM_TRAILERS))
            .body(Either::Right(body));
        let Ok(request) = request else {
            return Err(self.unreachable(1, format!("cannot build a request for {path}")));
        };
        let sender = match self.connection().await {
            Ok(sender) => sender,
            Err(e) => return Err(self.unreachable(1, e)),
        };
        let answer = match sender.send_request(request).await {
            Ok(response) => {
                let (parts, incoming) = response.into_parts();
                incoming
                    .collect()
                    .await
                    .map(|c| (parts.status, c.to_bytes()))
                    .map_err(|e| format!("reading the answer to {path}: {e}"))
            }
            Err(e) => Err(format!("{path}: {e}")),
        };
        // Either way the invocation is over; a broken connection is re-opened by the next
        // call, which reports the API unreachable if it stays so.
        match answer {
            Ok((status, _)) if status.is_success() => {}
            Ok((status, body)) => {
                tracing::warn!(
                    "{path} answered {status}: {}",
                    String::from_utf8_lossy(&body)
                );
            }
            Err(e) => {
                tracing::warn!("the response stream broke: {e}");
                self.conn = None;
            }
        }
        Ok(())
    }

    /// Posts a failed invocation for `request_id`.
    pub async fn fail(&mut self, request_id: &str, error: &Error) -> Result<(), Unreachable> {
        let path = self.invocation_path(request_id, "/error");
        self.post(path, error.to_json().into(), Some(error.error_type()))
            .await
    }

    /// Posts a failure that happened before the first event.
    pub async fn init_error(&mut self, error: &Error) -> Result<(), Unreachable> {
        self.post(
            self.endpoint.path(protocol::INIT_ERROR_PATH),
            error.to_json().into(),
            Some(error.error_type()),
        )
        .await
    }

    /// A POST whose non-2xx answer is logged, not fatal: the invocation is over either way.
    async fn post(
        &mut self,
        path: String,
        body: Bytes,
        error_type: Option<&str>,
    ) -> Result<(), Unreachable> {
        let (status, _, answer) = self
            .call(Method::POST, path.clone(), Some((body, error_type)))
            .await?;
        if !status.is_success() {
            tracing::warn!(
                "{path} answered {status}: {}",
                String::from_utf8_lossy(&answer)
            );
        }
        Ok(())
    }

    /// One request, retried on connection failures with [`BACKOFF_MS`].
    async fn call(
        &mut self,
        method: Method,
        path: String,
        body: Option<(Bytes, Option<&str>)>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), Unreachable> {
        let mut last = String::new();
        for attempt in 0..=BACKOFF_MS.len() {
            if attempt > 0 {
                tracing::debug!("Runtime API call failed ({last}); retrying");
                tokio::time::sleep(Duration::from_millis(BACKOFF_MS[attempt - 1])).await;
            }
            let mut request = Request::builder()
                .method(method.clone())
                .uri(path.as_str())
                .header(HOST, self.endpoint.authority().clone());
            if let Some((_, Some(error_type))) = &body {
                if let Ok(value) = HeaderValue::from_str(error_type) {
                    request = request.header(header::FUNCTION_ERROR_TYPE, value);
                }
            }
            if body.is_some() {
                request = request.header(CONTENT_TYPE, protocol::JSON_CONTENT_TYPE);
            }
            let payload = body.as_ref().map(|(b, _)| b.clone()).unwrap_or_default();
            let Ok(request) = request.body(Either::Left(Full::new(payload))) else {
                last = format!("cannot build a request for {path}");
                break;
            };
            let sender = match self.connection().await {
                Ok(sender) => sender,
                Err(e) => {
                    last = e;
                    continue;
                }
            };
            match sender.send_request(request).await {
                Ok(response) => {
                    let (parts, incoming) = response.into_parts();
                    match incoming.collect().await {
                        Ok(collected) => {
                            return Ok((parts.status, parts.headers, collected.to_bytes()));
                        }
                        Err(e) => last = format!("reading the answer to {path}: {e}"),
                    }
                }
                Err(e) => last = format!("{path}: {e}"),
            }
            self.conn = None;
        }
        Err(self.unreachable(BACKOFF_MS.len() + 1, last))
    }

    /// The open connection, or a new one.
    async fn connection(&mut self) -> Result<&mut SendRequest<Body>, String> {
        let alive = match self.conn.as_mut() {
            Some(conn) => conn.ready().await.is_ok(),
            None => false,
        };
        if !alive {
            self.conn = Some(self.connect().await?);
        }
        self.conn.as_mut().ok_or_else(|| "no connection".to_owned())
    }

    async fn connect(&self) -> Result<SendRequest<Body>, String> {
        let stream = TcpStream::connect(self.endpoint.socket())
            .await
            .map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("Runtime API connection closed: {e}");
            }
        });
        Ok(sender)
    }

    /// `/invocation/{id}{what}` under the endpoint's base path.
    fn invocation_path(&self, request_id: &str, what: &str) -> String {
        let mut path = self.endpoint.path(protocol::INVOCATION_PREFIX);
        path.push_str(request_id);
        path.push_str(what);
        path
    }

    fn unreachable(&self, attempts: usize, last: String) -> Unreachable {
        Unreachable {
            addr: self.endpoint.to_string(),
            attempts,
            last,
        }
    }
}
