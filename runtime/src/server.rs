//! The HTTP/1.1 server every listening port of the crate shares (today the emulator's invoke
//! endpoint and its Runtime API port; plain HTTP on `$PORT` next), with a production server's
//! defences: a connection cap (idle connections are evicted first), a time limit for a request
//! head that also closes idle keep-alive connections, a deadline for each body, bodies that are
//! whole or an error, a global budget for buffered bodies, a busy mark that a streamed answer
//! holds until it ends ([`Guarded`]), and a graceful drain on shutdown.
//!
//! It knows HTTP and nothing of what it serves: a handler turns a request into a [`Reply`],
//! and the two answers the server gives on its own (503 past the cap, 501 for a transfer
//! coding it does not implement) come from the caller's [`Refusals`]. Built from what the
//! binary already has (tokio's timers, `Notify`, atomics) rather than hyper's timer or tokio's
//! `JoinSet`: every byte ships in every image.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Either, Full};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::header::{CONNECTION, HeaderValue, TRANSFER_ENCODING};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use crate::protocol::MAX_PAYLOAD;

/// Bodies past this are cut off; up to it they are read and dropped so that the client, which
/// is still sending, reads our 413 (or 429) instead of a reset connection.
const DRAIN_LIMIT: usize = 16 * MAX_PAYLOAD;

/// A handler's answer: a whole body, or a streamed body `B` (which the server wraps in
/// [`Guarded`] so that the connection stays busy until the stream ends).
pub(crate) type Reply<B> = Response<Either<Full<Bytes>, B>>;

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

/// The answers the server gives on its own, in the served API's words.
#[derive(Clone, Copy)]
pub(crate) struct Refusals {
    /// The body (JSON) of the 503 a connection past the cap gets before it is closed.
    pub over_capacity: fn() -> Vec<u8>,
    /// The 501 for a `Transfer-Encoding` other than plain `chunked` (RFC 9112).
    pub unsupported_encoding: fn() -> Response<Full<Bytes>>,
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

/// The busy mark of a connection whose answer streams on after the handler returned: the
/// header-read watchdog and the cap's eviction leave the connection alone until it drops.
pub(crate) struct BusyMark {
    conn: Arc<Conn>,
    connections: Arc<Connections>,
}

impl BusyMark {
    fn new(conn: &Arc<Conn>, connections: &Arc<Connections>) -> Self {
        conn.busy.fetch_add(1, Ordering::SeqCst);
        Self {
            conn: Arc::clone(conn),
            connections: Arc::clone(connections),
        }
    }
}

impl Drop for BusyMark {
    fn drop(&mut self) {
        self.conn
            .idle_since_ms
            .store(self.connections.now_ms(), Ordering::Relaxed);
        self.conn.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A streamed answer's body with the connection's busy mark, released when the body is
/// dropped (ended, or the client went): a stream that outlives its handler keeps its
/// connection from being evicted or timed out, and only for as long as it streams.
pub(crate) struct Guarded<B> {
    body: B,
    _busy: BusyMark,
}

impl<B: Body + Unpin> Body for Guarded<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Serves HTTP/1.1 on `listener` with `handler`, one task per connection, until `stop` fires;
/// then stops accepting, lets every connection finish its request (up to the grace period)
/// and returns.
pub(crate) async fn serve<H, Fut, B>(
    listener: TcpListener,
    limits: PortLimits,
    refusals: Refusals,
    handler: H,
    stop: Arc<StopSignal>,
) where
    H: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Reply<B>> + Send + 'static,
    B: Body<Data = Bytes, Error = Infallible> + Unpin + Send + 'static,
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
                    serve_connection(stream, &conn, &connections, refusals, handler, &stop).await;
                    connections.remove(id);
                }
                None => refuse(stream, (refusals.over_capacity)()).await,
            }
        });
    }
    drop(listener);
    connections.drain(limits.grace).await;
}

/// Serves one connection (a TCP stream, or a socket pair under the fuzzer) until it ends, is
/// evicted or idles past the header timeout, or the server stops.
pub(crate) async fn serve_connection<S, H, Fut, B>(
    stream: S,
    conn: &Arc<Conn>,
    connections: &Arc<Connections>,
    refusals: Refusals,
    handler: H,
    stop: &StopSignal,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    H: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Reply<B>> + Send + 'static,
    B: Body<Data = Bytes, Error = Infallible> + Unpin + Send + 'static,
{
    let service_conn = Arc::clone(conn);
    let service_connections = Arc::clone(connections);
    let service = service_fn(move |request: Request<Incoming>| {
        let busy = BusyMark::new(&service_conn, &service_connections);
        let pending = match supported_encoding(&request) {
            false => Err((refusals.unsupported_encoding)()),
            true => Ok(handler(request)),
        };
        answer(pending, busy)
    });
    let connection = http1::Builder::new()
        .half_close(connections.limits.half_close)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let ended = tokio::select! {
        ended = connection.as_mut() => ended,
        () = conn.evict.notified() => return,
        () = stop.wait() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
        () = idle_past_header_timeout(conn, connections) => return,
    };
    if let Err(e) = ended {
        tracing::debug!("connection ended: {e}");
    }
}

/// One request's answer: the handler's, with the busy mark held while it runs and moved into
/// a streamed body, which keeps it until the stream ends.
async fn answer<Fut, B>(
    pending: Result<Fut, Response<Full<Bytes>>>,
    busy: BusyMark,
) -> Result<Response<Either<Full<Bytes>, Guarded<B>>>, Infallible>
where
    Fut: Future<Output = Reply<B>>,
{
    let reply = match pending {
        Err(refusal) => refusal.map(Either::Left),
        Ok(reply) => reply.await,
    };
    if reply.status().is_success() {
        busy.conn.proven.store(true, Ordering::Relaxed);
    }
    Ok(reply.map(|body| match body {
        Either::Left(whole) => Either::Left(whole),
        Either::Right(body) => Either::Right(Guarded {
            body,
            _busy: BusyMark::new(&busy.conn, &busy.connections),
        }),
    }))
}

/// Resolves once the connection has had no request in hand for the header timeout: no
/// complete request head in time (a slow or idle client). A busy connection never resolves it.
async fn idle_past_header_timeout(conn: &Conn, connections: &Connections) {
    let timeout = connections.limits.header_timeout;
    let mut deadline = tokio::time::Instant::now() + timeout;
    loop {
        tokio::time::sleep_until(deadline).await;
        let idle_since = Duration::from_millis(conn.idle_since_ms.load(Ordering::Relaxed));
        let idle_until = tokio::time::Instant::from_std(connections.started + idle_since) + timeout;
        if conn.busy.load(Ordering::SeqCst) > 0 {
            deadline = tokio::time::Instant::now() + timeout;
        } else if idle_until <= tokio::time::Instant::now() {
            return;
        } else {
            deadline = idle_until;
        }
    }
}

/// A connection over the cap with every other one busy: a 503 with `body`, then closed.
async fn refuse(stream: TcpStream, body: Vec<u8>) {
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

/// Whether the request's `Transfer-Encoding` is absent or plain `chunked`; anything else
/// (e.g. `gzip, chunked`) gets the caller's 501 and the connection is closed.
fn supported_encoding(request: &Request<Incoming>) -> bool {
    let codings = request.headers().get_all(TRANSFER_ENCODING);
    let mut iter = codings.iter();
    let Some(first) = iter.next() else {
        return true;
    };
    iter.next().is_none()
        && first
            .to_str()
            .is_ok_and(|v| v.trim().eq_ignore_ascii_case("chunked"))
}

/// Marks `reply` as the last on its connection.
pub(crate) fn closing<B>(mut reply: Response<B>) -> Response<B> {
    reply
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    reply
}

/// Why a body could not be read whole.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// More than [`MAX_PAYLOAD`] bytes.
    TooLarge,
    /// It ended before its declared length, or its chunked framing is broken.
    Broken(hyper::Error),
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
            let frame = frame.map_err(BodyError::Broken)?;
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
