//! HTTP plumbing shared by the emulator's two servers, with a production server's defences:
//! a connection cap (idle connections are evicted first), a time limit for a request head that
//! also closes idle keep-alive connections, a deadline for each body, bodies that are whole or
//! an error, a global budget for buffered bodies, and a graceful drain on shutdown.
//!
//! Built from what the binary already has (tokio's timers, `Notify`, atomics) rather than
//! hyper's timer or tokio's `JoinSet`: every byte ships in every image.

use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Either, Full};
use hyper::body::{Body, Bytes, Incoming};
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderValue, TRANSFER_ENCODING};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use super::event_stream::EventStream;
use crate::protocol::{self, MAX_PAYLOAD, error_type};

/// Bodies past this are cut off; up to it they are read and dropped so that the client, which
/// is still sending, reads our 413 (or 429) instead of a reset connection.
const DRAIN_LIMIT: usize = 16 * MAX_PAYLOAD;

/// The body type of every answer. A streamed response (issue 10) changes this one alias.
pub(crate) type Reply = Response<Either<Full<Bytes>, EventStream>>;

/// What one port tolerates from its clients.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PortLimits {
    /// Connections held at once; past it an idle one is evicted, or the newcomer gets 503.
    pub max_connections: usize,
    /// Time to send a request head, from connecting or from the previous answer: a connection
    /// with no request in hand is closed once it has been idle this long (checked at least
    /// this often, so it goes within twice this time).
    pub header_timeout: Duration,
    /// How long connections get to finish once the server stops.
    pub grace: Duration,
    /// Answer a request whose client stopped sending (half-closed) instead of dropping it.
    /// Off for the servers: a caller that hangs up must give its place back at once. On
    /// under the fuzzer, which half-closes after its bytes to get every answer.
    pub half_close: bool,
}

/// Tells a server to stop: set once, seen by every waiter, then and later.
#[derive(Default)]
pub(crate) struct StopSignal {
    stopped: AtomicBool,
    notify: Notify,
}

impl StopSignal {
    /// Stops the server(s) listening to this signal.
    pub(crate) fn fire(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Resolves once the signal has fired.
    pub(crate) async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.stopped.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }
}

/// One connection as the cap sees it.
pub(crate) struct Conn {
    id: u64,
    /// Requests being handled now; a busy connection is never evicted or timed out.
    busy: AtomicUsize,
    /// Milliseconds since the server started, when the connection last finished a request.
    idle_since_ms: AtomicU64,
    /// Got a 2xx answer once: a real client, evicted after those that never did.
    proven: AtomicBool,
    /// Chosen for eviction.
    evicted: AtomicBool,
    evict: Notify,
}

/// The live connections of one port.
pub(crate) struct Connections {
    limits: PortLimits,
    started: Instant,
    live: Mutex<Vec<Arc<Conn>>>,
    /// Wakes the drain when a connection ends.
    ended: Notify,
}

impl Connections {
    /// An empty set under `limits`.
    pub(crate) fn new(limits: PortLimits) -> Self {
        Self {
            limits,
            started: Instant::now(),
            live: Mutex::new(Vec::new()),
            ended: Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn live(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Conn>>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new connection, evicting an idle one at the cap; `None` when all are busy.
    pub(crate) fn admit(&self, id: u64) -> Option<Arc<Conn>> {
        let mut live = self.live();
        let counted = live
            .iter()
            .filter(|c| !c.evicted.load(Ordering::Relaxed))
            .count();
        if counted >= self.limits.max_connections {
            let victim = live
                .iter()
                .filter(|c| {
                    c.busy.load(Ordering::SeqCst) == 0 && !c.evicted.load(Ordering::Relaxed)
                })
                .min_by_key(|c| {
                    (
                        c.proven.load(Ordering::Relaxed),
                        c.idle_since_ms.load(Ordering::Relaxed),
                    )
                })?;
            victim.evicted.store(true, Ordering::Relaxed);
            victim.evict.notify_one();
        }
        let conn = Arc::new(Conn {
            id,
            busy: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(self.now_ms()),
            proven: AtomicBool::new(false),
            evicted: AtomicBool::new(false),
            evict: Notify::new(),
        });
        live.push(Arc::clone(&conn));
        Some(conn)
    }

    fn remove(&self, id: u64) {
        let mut live = self.live();
        if let Some(i) = live.iter().position(|c| c.id == id) {
            live.swap_remove(i);
        }
        drop(live);
        self.ended.notify_waiters();
    }

    /// Waits until every connection has ended, or `grace` has passed; then closes the rest.
    async fn drain(&self, grace: Duration) {
        let all_ended = async {
            loop {
                let ended = self.ended.notified();
                tokio::pin!(ended);
                ended.as_mut().enable();
                if self.live().is_empty() {
                    return;
                }
                ended.await;
            }
        };
        if tokio::time::timeout(grace, all_ended).await.is_err() {
            for conn in self.live().iter() {
                conn.evict.notify_one();
            }
        }
    }
}

/// Marks a connection busy while a request is handled, even if the handler is cancelled.
struct BusyGuard<'a> {
    conn: &'a Conn,
    connections: &'a Connections,
}

/// The busy mark of a connection whose answer streams on after the handler returned: the
/// header-read watchdog leaves the connection alone until the stream ends.
struct StreamingGuard {
    conn: Arc<Conn>,
    connections: Arc<Connections>,
}

impl Drop for StreamingGuard {
    fn drop(&mut self) {
        self.conn
            .idle_since_ms
            .store(self.connections.now_ms(), Ordering::Relaxed);
        self.conn.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.conn
            .idle_since_ms
            .store(self.connections.now_ms(), Ordering::Relaxed);
        self.conn.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves HTTP/1.1 on `listener` with `handler`, one task per connection, until `stop` fires;
/// then stops accepting, lets every connection finish its request (up to the grace period)
/// and returns.
pub(crate) async fn serve<H, Fut>(
    listener: TcpListener,
    limits: PortLimits,
    handler: H,
    stop: Arc<StopSignal>,
) where
    H: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    let connections = Arc::new(Connections::new(limits));
    let mut next_id = 0u64;
    let mut backoff = Duration::ZERO;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.wait() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                backoff = Duration::ZERO;
                stream
            }
            Err(e) => {
                // Out of file descriptors and the like: keep serving the connections we have,
                // and say so once per streak instead of on every retry.
                if backoff.is_zero() {
                    tracing::warn!("accept failed: {e}; retrying with backoff");
                }
                backoff = (backoff * 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        next_id += 1;
        let id = next_id;
        let conn = connections.admit(id);
        let handler = handler.clone();
        let connections = Arc::clone(&connections);
        let stop = Arc::clone(&stop);
        // One task type for both outcomes: every spawned type costs binary size.
        tokio::spawn(async move {
            match conn {
                Some(conn) => {
                    serve_connection(stream, &conn, &connections, handler, &stop).await;
                    connections.remove(id);
                }
                None => refuse(stream).await,
            }
        });
    }
    drop(listener);
    connections.drain(limits.grace).await;
}

/// Serves one connection (a TCP stream, or a socket pair under the fuzzer) until it ends, is
/// evicted or idles past the header timeout, or the server stops.
pub(crate) async fn serve_connection<S, H, Fut>(
    stream: S,
    conn: &Arc<Conn>,
    connections: &Arc<Connections>,
    handler: H,
    stop: &StopSignal,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    H: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    let service_conn = Arc::clone(conn);
    let service_connections = Arc::clone(connections);
    let service = service_fn(move |request: Request<Incoming>| {
        let conn = Arc::clone(&service_conn);
        let connections = Arc::clone(&service_connections);
        conn.busy.fetch_add(1, Ordering::SeqCst);
        let pending = match unsupported_encoding(&request) {
            Some(refusal) => Err(refusal),
            None => Ok(handler(request)),
        };
        async move {
            let _busy = BusyGuard {
                conn: &conn,
                connections: &connections,
            };
            let mut reply = match pending {
                Err(refusal) => refusal,
                Ok(reply) => reply.await,
            };
            if let Either::Right(stream) = reply.body_mut() {
                conn.busy.fetch_add(1, Ordering::SeqCst);
                stream.hold(Box::new(StreamingGuard {
                    conn: Arc::clone(&conn),
                    connections: Arc::clone(&connections),
                }));
            }
            if reply.status().is_success() {
                conn.proven.store(true, Ordering::Relaxed);
            }
            Ok::<_, Infallible>(reply)
        }
    });
    let connection = http1::Builder::new()
        .half_close(connections.limits.half_close)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let timeout = connections.limits.header_timeout;
    let mut deadline = tokio::time::Instant::now() + timeout;
    let ended = loop {
        tokio::select! {
            ended = connection.as_mut() => break ended,
            () = conn.evict.notified() => return,
            () = stop.wait() => {
                connection.as_mut().graceful_shutdown();
                break connection.await;
            }
            () = tokio::time::sleep_until(deadline) => {
                let idle_since = Duration::from_millis(conn.idle_since_ms.load(Ordering::Relaxed));
                let idle_until = tokio::time::Instant::from_std(connections.started + idle_since) + timeout;
                if conn.busy.load(Ordering::SeqCst) > 0 {
                    deadline = tokio::time::Instant::now() + timeout;
                } else if idle_until <= tokio::time::Instant::now() {
                    // No complete request head in time: a slow or idle client.
                    return;
                } else {
                    deadline = idle_until;
                }
            }
        }
    };
    if let Err(e) = ended {
        tracing::debug!("connection ended: {e}");
    }
}

/// A connection over the cap with every other one busy: a 503, then closed.
async fn refuse(stream: TcpStream) {
    let body = error_body(
        error_type::UNAVAILABLE,
        "too many connections: try again later",
    );
    let mut reply = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(&body);
    let write = async {
        let mut sent = 0;
        while sent < reply.len() {
            stream.writable().await?;
            match stream.try_write(&reply[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok::<_, std::io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}

/// `Transfer-Encoding` other than plain `chunked` (e.g. `gzip, chunked`): 501, as RFC 9112
/// asks of a server that does not implement a coding, and the connection is closed.
fn unsupported_encoding(request: &Request<Incoming>) -> Option<Reply> {
    let codings = request.headers().get_all(TRANSFER_ENCODING);
    let mut iter = codings.iter();
    let first = iter.next()?;
    let plain = iter.next().is_none()
        && first
            .to_str()
            .is_ok_and(|v| v.trim().eq_ignore_ascii_case("chunked"));
    if plain {
        return None;
    }
    let mut reply = error(
        StatusCode::NOT_IMPLEMENTED,
        error_type::UNSUPPORTED_ENCODING,
        "only `Transfer-Encoding: chunked` is supported",
    );
    reply
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    Some(reply)
}

/// Why a body could not be read whole.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// More than [`MAX_PAYLOAD`] bytes.
    TooLarge,
    /// It ended before its declared length, or its chunked framing is broken.
    Broken(String),
    /// It did not arrive within the deadline.
    TimedOut,
    /// The server stopped while the body waited for room in the buffer budget.
    Stopping,
}

/// A whole body, and its share of the buffer budget (released when dropped).
pub(crate) struct Buffered {
    pub bytes: Bytes,
    /// Held while the body is buffered; `None` when read without a budget.
    pub held: Option<OwnedSemaphorePermit>,
}

/// Reads a whole body of at most [`MAX_PAYLOAD`] bytes. With a `budget` (permits are bytes),
/// the body's size is taken from it before reading, so the bytes held across all requests
/// stay bounded; waiting for the budget is the server's doing, so `deadline` (for the client
/// to send the body) starts once it is granted. A body that does not arrive whole is an error.
pub(crate) async fn read_body(
    mut body: Incoming,
    budget: Option<&Arc<Semaphore>>,
    deadline: Duration,
) -> Result<Buffered, BodyError> {
    let hint = body.size_hint();
    if hint.lower() > MAX_PAYLOAD as u64 {
        drain_within(body, deadline).await;
        return Err(BodyError::TooLarge);
    }
    let expected = hint.exact().map_or(MAX_PAYLOAD, |n| n as usize);
    let mut held = match budget {
        Some(budget) if expected > 0 => Some(
            Arc::clone(budget)
                .acquire_many_owned(expected as u32)
                .await
                .map_err(|_| BodyError::Stopping)?,
        ),
        _ => None,
    };
    let read = async {
        let mut kept = Vec::with_capacity(expected.min(64 * 1024));
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| BodyError::Broken(e.to_string()))?;
            if let Ok(data) = frame.into_data() {
                if kept.len() + data.len() > MAX_PAYLOAD {
                    return Ok(None);
                }
                kept.extend_from_slice(&data);
            }
        }
        Ok(Some(kept))
    };
    let kept = match tokio::time::timeout(deadline, read).await {
        Err(_) => return Err(BodyError::TimedOut),
        Ok(Err(e)) => return Err(e),
        Ok(Ok(Some(kept))) => kept,
        Ok(Ok(None)) => {
            drop(held);
            drain_within(body, deadline).await;
            return Err(BodyError::TooLarge);
        }
    };
    // A chunked body took the whole allowance up front: give back what it did not use.
    if let Some(permit) = held.as_mut() {
        if kept.len() < permit.num_permits() {
            drop(permit.split(permit.num_permits() - kept.len()));
        }
    }
    Ok(Buffered {
        bytes: kept.into(),
        held,
    })
}

/// Reads and drops the rest of a body (up to [`DRAIN_LIMIT`]) so that the client hears the
/// answer; holds no memory.
pub(crate) async fn drain(mut body: Incoming) {
    let mut total = 0usize;
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            total += data.len();
            if total > DRAIN_LIMIT {
                break;
            }
        }
    }
}

/// [`drain`] within `deadline`.
pub(crate) async fn drain_within(body: Incoming, deadline: Duration) {
    let _ = tokio::time::timeout(deadline, drain(body)).await;
}

/// A JSON answer.
pub(crate) fn json(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    let mut reply = Response::new(Either::Left(Full::new(body.into())));
    *reply.status_mut() = status;
    reply.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(protocol::JSON_CONTENT_TYPE),
    );
    reply
}

/// `{"errorType": ..., "errorMessage": ...}`, the error body of AWS's APIs.
pub(crate) fn error(status: StatusCode, error_type: &str, message: &str) -> Reply {
    json(status, error_body(error_type, message))
}

/// The JSON of an error a caller sees, with Lambda's three fields.
pub(crate) fn error_body(error_type: &str, message: &str) -> Vec<u8> {
    crate::Error::new(error_type.to_owned(), message).to_json()
}

/// The answer to a body that could not be read whole, for either port.
pub(crate) fn body_error(e: &BodyError, too_large: impl FnOnce() -> Reply) -> Reply {
    let mut reply = match e {
        BodyError::TooLarge => return too_large(),
        BodyError::Broken(why) => error(
            StatusCode::BAD_REQUEST,
            error_type::INVALID_REQUEST,
            &format!("the request body is incomplete or malformed ({why})"),
        ),
        BodyError::TimedOut => error(
            StatusCode::REQUEST_TIMEOUT,
            error_type::REQUEST_TIMEOUT,
            "the request body did not arrive in time",
        ),
        BodyError::Stopping => error(
            StatusCode::SERVICE_UNAVAILABLE,
            error_type::UNAVAILABLE,
            super::sandbox::STOPPING,
        ),
    };
    reply
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    reply
}
